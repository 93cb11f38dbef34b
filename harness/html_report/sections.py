"""The page's tables: summary metrics, noise, schedule simulation and mutation testing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

from harness.html_report.data import ReportData, VersionReport
from harness.html_report.svg import SERIES_COLOURS, grouped_bars
from harness.schedule import Simulation
from harness.schedule.search_result import SequenceSimulation

__all__ = ["render_mutations", "render_noise", "render_schedule", "render_summary"]


def render_summary(versions: Sequence[VersionReport]) -> str:
    rows: list[tuple[str, Callable[[VersionReport], str]]] = [
        ("detection rate (in-scope malicious)", lambda v: _percent(v.scenarios.detection_rate)),
        ("precision", lambda v: _percent(v.scenarios.precision)),
        ("violations", lambda v: f"{len(v.scenarios.violations):,}"),
        (
            "malicious events alerted",
            lambda v: (
                f"{v.scenarios.true_positives:,} of "
                f"{v.scenarios.true_positives + v.scenarios.false_negatives:,}"
            ),
        ),
        (
            "benign events alerted",
            lambda v: f"{v.scenarios.false_positives:,} of {v.scenarios.benign_events:,}",
        ),
    ]
    return _metric_table(versions, rows)


def render_noise(data: ReportData) -> str:
    series = {version.label: version.noise.alerts_per_day for version in data.versions}
    chart = grouped_bars(data.fleet_days, series, title=f"Alerts per UTC day, {data.fleet_corpus}")
    legend = "".join(
        f'<span class="key"><span class="swatch" style="background:{_series_colour(i)}"></span>'
        f"{escape(name)}</span>"
        for i, name in enumerate(series)
    )
    table = _metric_table(
        data.versions,
        [
            ("alerts (matching events)", lambda v: f"{v.noise.alerts:,}"),
            ("false positives per million benign", lambda v: _number(v.noise.false_positives_per_million)),
        ],
    )
    return f'<p class="legend">{legend}</p>\n{chart}\n{table}'


def render_schedule(versions: Sequence[VersionReport]) -> str:
    def on(read: Callable[[AnySimulation], str]) -> Callable[[VersionReport], str]:
        return lambda v: "no schedule" if v.simulation is None else read(v.simulation)

    rows: list[tuple[str, Callable[[VersionReport], str]]] = [
        ("interval / look-back", on(lambda s: f"{s.interval_s:,} s / {s.lookback_s:,} s")),
        ("max_signals", on(lambda s: f"{s.max_signals:,}")),
        ("executions", on(lambda s: f"{len(s.executions):,}")),
        ("alerts", on(_alerts)),
        ("executions at the cap", on(lambda s: f"{s.capped_executions:,}")),
        ("matching events (sequences) never alerted (cap, gaps, before the first run)", on(_lost)),
        ("alerts per day", on(lambda s: _number(_per_day(s)[0]))),
        ("alerts per 1,000 hosts per day", on(lambda s: _number(_per_day(s)[1]))),
        (
            "malicious events alerted / missed",
            on(lambda s: f"{s.malicious_delays.alerted:,} / {s.malicious_delays.missed:,}"),
        ),
        ("delay to alert: min / median / max", on(_delays)),
        ("events no window covers: in gaps / before the first run", on(_uncovered)),
        ("events without a usable timestamp (left out)", on(lambda s: f"{s.untimed_events:,}")),
        ("alert suppression (the rule's alert_suppression)", on(_suppression)),
        ("alerts before / after suppression", on(_suppressed_counts)),
        ("suppressed alerts (docs_count) / lost to the cap", on(_suppressed_docs)),
    ]
    details = "".join(_suppression_details(v) for v in versions)
    return _metric_table(versions, rows) + details


def render_mutations(versions: Sequence[VersionReport]) -> str:
    return "\n".join(_mutation(version) for version in versions)


def _mutation(version: VersionReport) -> str:
    title = f"<h3>{escape(version.label)}</h3>"
    result = version.mutation
    if result is None:
        return f'{title}<p class="muted">Mutation testing: not run.</p>'
    if "not_run" in result:  # asked for, but the rule cannot be mutation-tested: say why
        return f'{title}<p class="muted">Mutation testing: not run ({escape(str(result["not_run"]))}).</p>'
    # Read leniently: the producer may add keys, or leave some out.
    score = result.get("score")
    summary = (
        f"<p>score {escape(_percent(score) if isinstance(score, int | float) else str(score))}: "
        f"{escape(str(result.get('killed', '?')))} of {escape(str(result.get('total', '?')))} "
        "mutants killed</p>"
    )
    survivors = result.get("survivors") or []
    if not survivors:
        return f"{title}{summary}<p>No mutant survived.</p>"
    rows = "".join(
        f"<tr><td>{escape(_text(s, 'description'))}</td><td><code>{escape(_text(s, 'query'))}</code></td>"
        f"<td>{escape(_text(s, 'note'))}</td></tr>"
        for s in survivors
    )
    left_out = result.get("survivors_left_out") or 0
    more = f'<p class="muted">{left_out:,} more: harness mutate lists every one.</p>' if left_out else ""
    return (
        f'{title}{summary}<table class="survivors"><thead><tr><th>surviving mutant</th><th>query</th>'
        f"<th>note</th></tr></thead><tbody>{rows}</tbody></table>{more}"
    )


def _metric_table(
    versions: Sequence[VersionReport], rows: Sequence[tuple[str, Callable[[VersionReport], str]]]
) -> str:
    head = "".join(f"<th>{escape(version.label)}</th>" for version in versions)
    body = "".join(
        f"<tr><th>{escape(name)}</th>" + "".join(f"<td>{escape(read(v))}</td>" for v in versions) + "</tr>"
        for name, read in rows
    )
    return f'<table class="metrics"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>'


def _series_colour(index: int) -> str:
    return SERIES_COLOURS[index % len(SERIES_COLOURS)]


AnySimulation = Simulation | SequenceSimulation


def _alerts(sim: AnySimulation) -> str:
    """Alerts; a sequence rule's as its sequences (one shell alert each) and their building blocks."""
    if isinstance(sim, Simulation):
        return f"{sim.alerts:,}"
    return f"{sim.sequence_alerts:,} sequences, {sim.building_block_alerts:,} building blocks"


def _lost(sim: AnySimulation) -> str:
    return f"{sim.lost_alerts:,}" if isinstance(sim, Simulation) else f"{sim.never_alerted:,} sequences"


def _per_day(sim: AnySimulation) -> tuple[float | None, float | None]:
    if isinstance(sim, Simulation):
        return sim.alerts_per_day, sim.alerts_per_1000_hosts_per_day
    return sim.sequence_alerts_per_day, sim.sequence_alerts_per_1000_hosts_per_day


def _delays(simulation: AnySimulation) -> str:
    d = simulation.malicious_delays
    return " / ".join(_seconds(value) for value in (d.minimum_s, d.median_s, d.maximum_s))


def _text(entry: Any, key: str) -> str:
    value = entry.get(key, "") if isinstance(entry, Mapping) else entry if key == "description" else ""
    return "" if value is None else str(value)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} s"


def _suppression(sim: AnySimulation) -> str:
    if sim.suppression is None:
        return "none"
    settings = sim.suppression.settings
    window = f"within {settings.duration}" if settings.duration else "per rule execution"
    return f"by {', '.join(settings.group_by)} {window}, missing fields {settings.missing_fields_strategy}"


def _suppressed_counts(sim: AnySimulation) -> str:
    supp = sim.suppression
    return "-" if supp is None else f"{supp.alerts_before:,} / {supp.alerts_after:,}"


def _suppressed_docs(sim: AnySimulation) -> str:
    supp = sim.suppression
    return "-" if supp is None else f"{supp.suppressed_docs:,} / {supp.lost_to_cap:,}"


_LISTED_HOSTS = 20  # the busiest hosts; the JSON of harness simulate lists every one


def _suppression_details(version: VersionReport) -> str:
    """A suppressed version's alerts before and after, per day of the execution and per host."""
    supp = None if version.simulation is None else version.simulation.suppression
    if supp is None:
        return ""
    days = "".join(
        f"<tr><td>{escape(day)}</td><td>{before:,}</td><td>{after:,}</td></tr>"
        for day, before, after in supp.per_day
    )
    busiest = sorted(supp.per_host, key=lambda row: (-row[1], row[0] is None, row[0] or ""))
    hosts = "".join(
        f"<tr><td>{escape(host or '(no host.name)')}</td><td>{before:,}</td><td>{after:,}</td>"
        f"<td>{docs:,}</td></tr>"
        for host, before, after, docs in busiest[:_LISTED_HOSTS]
    )
    more = len(supp.per_host) - _LISTED_HOSTS
    note = (
        f'<p class="muted">{more:,} more hosts: harness simulate --json lists every one.</p>'
        if more > 0
        else ""
    )
    return (
        f"<h3>{escape(version.label)}: alerts before and after suppression</h3>"
        '<table class="suppression-days"><thead><tr><th>day (UTC)</th><th>before</th><th>after</th></tr>'
        f"</thead><tbody>{days}</tbody></table>"
        '<table class="suppression-hosts"><thead><tr><th>host.name</th><th>before</th><th>after</th>'
        f"<th>suppressed</th></tr></thead><tbody>{hosts}</tbody></table>{note}"
    )


def _uncovered(sim: AnySimulation) -> str:
    before = sim.before_first_window.events if sim.before_first_window is not None else 0
    return f"{sim.uncovered_gaps.events:,} / {before:,}"
