"""The terminal report of a mutation run: the score, then one row per surviving mutant."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from harness.mutation.killing import CATALOGUE, DERIVED, MutationReport

__all__ = ["print_mutation_report"]


# How each suite is named in the report.
_SUITES = {CATALOGUE: "the catalogue", DERIVED: "the derived scenarios", "both": "both"}


def _print_suites(report: MutationReport, console: Console) -> None:
    """The score of each suite alone and of both, and what each kills that the other does not."""
    scores = report.scores()
    if report.suites == (CATALOGUE,):
        return  # the catalogue alone: the headline is its score
    total = len(report.results)
    console.print(
        "; ".join(
            f"{_SUITES[name]}: {killed} of {total} ({score:.0%})" for name, (killed, score) in scores.items()
        )
    )
    if len(report.suites) < 2:
        return
    for suite in report.suites:
        only = [r.description for r in report.results if r.killed_by == [suite]]
        if only:
            console.print(f"killed by {_SUITES[suite]} only: {'; '.join(only)}")


def print_mutation_report(report: MutationReport, console: Console | None = None) -> None:
    console = console or Console()
    version = f" v{report.rule_version}" if report.rule_version is not None else ""
    console.print(
        f"{report.rule_name}{version}: {len(report.killed)} of {len(report.results)} mutants killed, "
        f"score {report.score:.0%} ({report.invalid} invalid left out, {report.seconds:.1f} s)"
    )
    _print_suites(report, console)
    if not report.original_passed:
        console.print("[yellow]the original query already fails its expectations[/yellow]")
    if not report.survivors:
        return
    table = Table(title="Surviving mutants")
    table.add_column("change")
    table.add_column("why it survives")
    table.add_column("cells whose alert count changes")
    for survivor in report.survivors:
        cells = "\n".join(
            f"{c.scenario} / {c.source}: {c.original_alerts} -> {c.mutant_alerts} of {c.events} ({c.status})"
            for c in survivor.changed_cells
        )
        table.add_row(survivor.description, survivor.reason, cells or "-")
    console.print(table)
