"""A terminal rendering of a :class:`~harness.schedule.result.Simulation` with rich."""

from __future__ import annotations

from itertools import islice

from rich.console import Console
from rich.table import Table

from harness.schedule.result import Simulation

__all__ = ["print_simulation"]


def print_simulation(sim: Simulation, console: Console, *, max_rows: int = 20) -> None:
    """A summary, then the executions that saw matches (at most ``max_rows``), then the gaps."""
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
    delays = sim.malicious_delays
    summary.add_row("malicious: alerted / missed", f"{delays.alerted:,} / {delays.missed:,}")
    summary.add_row(
        "delay min / median / max (s)",
        " / ".join(_number(value) for value in (delays.minimum_s, delays.median_s, delays.maximum_s)),
    )
    summary.add_row(
        "uncovered gaps: events / matching", f"{sim.uncovered_events:,} / {sim.uncovered_matches:,}"
    )
    before = sim.before_first_window
    if before is not None and before.events:
        summary.add_row(
            "before the first execution: events / matching", f"{before.events:,} / {before.matching_events:,}"
        )
    if sim.untimed_events:
        summary.add_row("[red]events without a usable timestamp (left out)[/red]", f"{sim.untimed_events:,}")
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


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
