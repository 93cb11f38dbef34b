"""``harness propose --exceptions``: the proposed items and the refused ones as a rich table."""

from __future__ import annotations

from harness.app.analysis import ExceptionProposals
from harness.exception_proposals import ItemMeasure, losses_by_scenario

__all__ = ["print_exception_proposals"]


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _losses(measure: ItemMeasure, shown: int = 3) -> str:
    """The total, then the first few scenarios: the table shows the size, ``--json`` every cell."""
    if not measure.lost:
        return "0"
    lines = losses_by_scenario(measure.lost)
    total = sum(loss.events for loss in measure.lost)
    more = [f"... and {len(lines) - shown} more scenarios"] if len(lines) > shown else []
    return "\n".join([f"{total} events in {len(lines)} scenarios", *lines[:shown], *more])


def print_exception_proposals(run: ExceptionProposals) -> None:
    from rich.table import Table

    from harness.validation.reports.table import console_for_reports

    rule, proposal = run.setup.rule, run.proposal
    guarded = ", ".join(f"{n} {origin}" for origin, n in proposal.guarded.items()) or "none"
    table = Table(
        "item",
        "verdict",
        "false positives removed",
        "look-alikes removed",
        "FP per million after",
        "detections lost",
        title=f"{rule.name} (version {rule.version}): exceptions proposed on {run.corpus}",
        caption=(
            f"{proposal.false_positives} false positives ({_rate(proposal.before)} per million benign "
            f"events) -> {proposal.false_positives - proposal.removed} ({_rate(proposal.after)}); "
            f"guarded alerts: {guarded}; look-alikes: the catalogue's {proposal.look_alikes} benign alerts"
        ),
    )

    def row(measure: ItemMeasure, verdict: str) -> None:
        left = proposal.false_positives - measure.false_positives_removed
        table.add_row(
            measure.item.name,
            verdict,
            str(measure.false_positives_removed),
            str(measure.look_alikes_removed),
            _rate(proposal.per_million(left)),
            _losses(measure),
        )

    for measure in proposal.accepted:
        row(measure, "proposed")
    for measure in proposal.refused:
        row(measure, "refused: hides detections")
    console = console_for_reports()
    console.print(table)
    if not proposal.false_positives:
        console.print("no false positives on this corpus: no exception proposed")
    for left in proposal.left:
        console.print(f"no safe item removes the false positive of {left}")
