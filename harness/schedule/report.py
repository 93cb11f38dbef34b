"""A terminal rendering of a :class:`~harness.schedule.result.Simulation` with rich."""

from __future__ import annotations

from itertools import islice

from rich.console import Console
from rich.table import Table

from harness.schedule.executions import SequenceExecution
from harness.schedule.result import Delays, Simulation
from harness.schedule.search_result import SequenceSimulation
from harness.schedule.suppression import Suppression

__all__ = ["print_simulation"]


def print_simulation(sim: Simulation | SequenceSimulation, console: Console, *, max_rows: int = 20) -> None:
    """A summary, then the executions that saw matches (at most ``max_rows``), then the gaps."""
    if isinstance(sim, SequenceSimulation):
        _print_search_simulation(sim, console, max_rows)
        return
    summary = Table(title="Schedule simulation", show_header=False)
    summary.add_column("what")
    summary.add_column("value", justify="right")
    summary.add_row(
        "schedule", f"every {sim.interval_s}s, look-back {sim.lookback_s}s, cap {sim.max_signals}"
    )
    summary.add_row("events / matching / hosts", f"{sim.events:,} / {sim.matching_events:,} / {sim.hosts:,}")
    summary.add_row("executions (capped)", f"{len(sim.executions):,} ({sim.capped_executions:,})")
    summary.add_row("alerts / never alerted", f"{sim.alerts:,} / {sim.lost_alerts:,}")
    summary.add_row("alerts per day", _number(sim.alerts_per_day))
    summary.add_row("alerts per 1,000 hosts per day", _number(sim.alerts_per_1000_hosts_per_day))
    _add_delays(summary, sim.malicious_delays, "malicious")
    _add_uncovered(summary, sim, "matching")
    console.print(summary)

    busy = sim.executions.count_with_matches()
    if busy:
        table = Table(title=f"Executions with matches ({busy:,})")
        for heading in ("time (UTC)", "window start", "matches", "alerts", "duplicates", "lost to cap"):
            table.add_column(heading, justify="right" if heading[0] in "madl" else "left")
        for e in islice(sim.executions.with_matches(), max_rows):
            style = "red" if e.capped else None
            table.add_row(
                f"{e.time:%Y-%m-%d %H:%M:%S}",
                f"{e.window_start:%H:%M:%S}",
                str(e.matches),
                str(e.alerts),
                str(e.duplicates),
                str(e.lost_to_cap),
                style=style,
            )
        console.print(table)
    _print_gaps(sim, console, max_rows)
    _print_suppression(sim.suppression, console, max_rows, "alerts")


def _print_search_simulation(sim: SequenceSimulation, console: Console, max_rows: int) -> None:
    """A sequence, sample or piped rule: sequence alerts and building-block alerts apart."""
    what = {"sequences": "sequence", "samples": "sample", "events": "hit"}[sim.kind]
    summary = Table(
        title=f"Schedule simulation ({sim.kind}: one EQL search per execution)", show_header=False
    )
    summary.add_column("what")
    summary.add_column("value", justify="right")
    summary.add_row(
        "schedule", f"every {sim.interval_s}s, look-back {sim.lookback_s}s, size {sim.max_signals}"
    )
    summary.add_row(
        "events / matching a stage / hosts", f"{sim.events:,} / {sim.candidate_events:,} / {sim.hosts:,}"
    )
    summary.add_row(f"{what}s in the whole corpus (one search)", f"{sim.sequences_in_corpus:,}")
    summary.add_row("executions (capped)", f"{len(sim.executions):,} ({sim.capped_executions:,})")
    summary.add_row(
        f"{what} alerts / building-block alerts", f"{sim.sequence_alerts:,} / {sim.building_block_alerts:,}"
    )
    summary.add_row("events in alerted sequences", f"{sim.events_in_alerts:,}")
    summary.add_row(
        f"{what}s never alerted: of the corpus's / held by a window, cut by the cap",
        f"{sim.never_alerted:,} / {sim.lost_to_cap:,}",
    )
    summary.add_row(f"{what} alerts per day", _number(sim.sequence_alerts_per_day))
    summary.add_row(
        f"{what} alerts per 1,000 hosts per day", _number(sim.sequence_alerts_per_1000_hosts_per_day)
    )
    _add_delays(summary, sim.malicious_delays, f"malicious {what}s")
    _add_uncovered(summary, sim, "matching a stage")
    console.print(summary)

    busy = sim.executions.count_with_matches()
    if busy:
        table = Table(title=f"Executions whose window holds {what}s ({busy:,})")
        for heading in (
            "time (UTC)",
            "window start",
            what + "s",
            "alerts",
            "building blocks",
            "duplicates",
            "lost to cap",
        ):
            table.add_column(heading, justify="left" if heading[0] in "tw" else "right")
        for e in islice(sim.executions.with_matches(), max_rows):
            blocks = e.building_block_alerts if isinstance(e, SequenceExecution) else 0
            table.add_row(
                f"{e.time:%Y-%m-%d %H:%M:%S}",
                f"{e.window_start:%H:%M:%S}",
                str(e.matches),
                str(e.alerts),
                str(blocks),
                str(e.duplicates),
                str(e.lost_to_cap),
                style="red" if e.capped else None,
            )
        console.print(table)
    _print_gaps(sim, console, max_rows)
    _print_suppression(sim.suppression, console, max_rows, f"{what} alerts")


def _print_suppression(supp: Suppression | None, console: Console, max_rows: int, what: str) -> None:
    """Alerts before and after suppression: in total, per day of the execution, per host."""
    if supp is None:
        return
    settings = supp.settings
    window = f"within {settings.duration}" if settings.duration else "per rule execution"
    summary = Table(
        title=f"Alert suppression by {', '.join(settings.group_by)} {window} "
        f"(missing fields: {settings.missing_fields_strategy})",
        show_header=False,
    )
    summary.add_column("what")
    summary.add_column("value", justify="right")
    summary.add_row(f"{what} before / after", f"{supp.alerts_before:,} / {supp.alerts_after:,}")
    summary.add_row("suppressed (docs_count on the alerts)", f"{supp.suppressed_docs:,}")
    summary.add_row(
        "lost to the cap / suppressed by an earlier execution",
        f"{supp.lost_to_cap:,} / {supp.already_suppressed:,}",
    )
    summary.add_row(
        "executions truncated (max_signals, or 5 x max_signals with suppressed)",
        f"{supp.truncated_executions:,}",
    )
    console.print(summary)
    days = Table(title=f"{what} per day (UTC), before and after suppression")
    for heading in ("day", "before", "after"):
        days.add_column(heading, justify="left" if heading == "day" else "right")
    for day, before, after in supp.per_day[:max_rows]:
        days.add_row(day, f"{before:,}", f"{after:,}")
    console.print(days)
    hosts = Table(title=f"{what} per host, before and after suppression ({len(supp.per_host):,} hosts)")
    for heading in ("host.name", "before", "after", "suppressed"):
        hosts.add_column(heading, justify="left" if heading == "host.name" else "right")
    busiest = sorted(supp.per_host, key=lambda row: (-row[1], row[0] is None, row[0] or ""))
    for host, before, after, docs in busiest[:max_rows]:
        hosts.add_row(host or "(no host.name)", f"{before:,}", f"{after:,}", f"{docs:,}")
    console.print(hosts)


def _print_gaps(sim: Simulation | SequenceSimulation, console: Console, max_rows: int) -> None:
    lossy = list(sim.uncovered_gaps.with_events)
    if sim.before_first_window is not None:
        lossy.insert(0, sim.before_first_window)
    if lossy:
        gaps = Table(title=f"Uncovered time with events ({len(lossy):,} ranges)")
        for heading in ("after", "before", "events", "matching"):
            gaps.add_column(heading)
        for g in lossy[:max_rows]:
            gaps.add_row(
                f"{g.start:%Y-%m-%d %H:%M:%S.%f}"[:-3],
                f"{g.end:%Y-%m-%d %H:%M:%S.%f}"[:-3],
                str(g.events),
                str(g.matching_events),
            )
        console.print(gaps)


def _add_delays(summary: Table, delays: Delays, what: str) -> None:
    summary.add_row(f"{what}: alerted / missed", f"{delays.alerted:,} / {delays.missed:,}")
    summary.add_row(
        "delay min / median / max (s)",
        " / ".join(_number(value) for value in (delays.minimum_s, delays.median_s, delays.maximum_s)),
    )


def _add_uncovered(summary: Table, sim: Simulation | SequenceSimulation, matching: str) -> None:
    gaps = sim.uncovered_gaps
    summary.add_row(f"uncovered gaps: events / {matching}", f"{gaps.events:,} / {gaps.matching_events:,}")
    before = sim.before_first_window
    if before is not None and before.events:
        summary.add_row(
            f"before the first execution: events / {matching}",
            f"{before.events:,} / {before.matching_events:,}",
        )
    if sim.untimed_events:
        summary.add_row("[red]events without a usable timestamp (left out)[/red]", f"{sim.untimed_events:,}")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
