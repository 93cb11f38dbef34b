"""The detection heatmap: scenarios by intent down, rule versions (and their sources) across.

A cell's colour says how far the rate is from harmless: for an attack, green as more of it alerts;
for benign activity, red as more of it alerts; out-of-scope attacks, which a rule may catch or
not, in blue. Its marker says whether that was expected, a known gap or noise, or a violation.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from harness.html_report.data import VersionReport
from harness.validation.runner import Cell

__all__ = ["STATUS_MARKERS", "render_heatmap"]

INTENTS = ("malicious", "benign", "out-of-scope")
STATUS_MARKERS = {"expected": "✓", "known-gap": "gap", "known-noise": "noise", "violation": "✗"}
# Worst first: a scenario's overall status is the worst of its sources.
_SEVERITY = ("violation", "known-gap", "known-noise", "expected")
_FULL = {"malicious": (0x1A, 0x98, 0x50), "benign": (0xD7, 0x30, 0x27), "out-of-scope": (0x45, 0x75, 0xB4)}
_EMPTY = (0xF7, 0xF7, 0xF7)


def render_heatmap(versions: Sequence[VersionReport]) -> str:
    sources = sorted({source for version in versions for (_, source) in version.scenarios.cells})
    intents = {c.scenario: c.intent for version in versions for c in version.scenarios.cells.values()}
    rows = [
        '<table class="heatmap">',
        '<thead><tr><th rowspan="2">scenario</th>',
        *(f'<th colspan="{len(sources) + 1}" class="version">{escape(v.label)}</th>' for v in versions),
        "</tr><tr>",
        *(_source_headers(sources) for _ in versions),
        "</tr></thead>",
    ]
    ordered = [intent for intent in INTENTS if intent in intents.values()]
    ordered += sorted(set(intents.values()) - set(INTENTS))  # labels the catalogue may grow
    for intent in ordered:
        rows.append(f'<tbody><tr class="intent"><th colspan="{1 + len(versions) * (len(sources) + 1)}">')
        rows.append(f"{escape(intent)}</th></tr>")
        for scenario in sorted(name for name, its in intents.items() if its == intent):
            rows.append(f'<tr><th class="scenario">{escape(scenario)}</th>')
            for version in versions:
                cells = [version.scenarios.cells.get((scenario, source)) for source in sources]
                present = [cell for cell in cells if cell is not None]
                rows.append(_cell(version.label, scenario, "all", intent, present, overall=True))
                rows.extend(
                    _cell(version.label, scenario, source, intent, [] if cell is None else [cell])
                    for source, cell in zip(sources, cells, strict=True)
                )
            rows.append("</tr>")
        rows.append("</tbody>")
    rows.append("</table>")
    return "\n".join(rows)


def status_of(cell: Cell) -> str:
    if cell.wrong and cell.expectation.status == "expected":
        return "violation"
    return "expected" if not cell.wrong and cell.expectation.status == "expected" else cell.expectation.status


def _source_headers(sources: Sequence[str]) -> str:
    heads = ['<th class="source all">all</th>']
    heads += [f'<th class="source"><span>{escape(source)}</span></th>' for source in sources]
    return "".join(heads)


def _cell(
    label: str, scenario: str, source: str, intent: str, cells: Sequence[Cell], overall: bool = False
) -> str:
    kind = "cell all" if overall else "cell"
    if not cells:
        where = f'data-version="{escape(label)}" data-source="{escape(source)}"'
        return f'<td class="{kind} none" {where}>&ndash;</td>'
    events = sum(cell.events for cell in cells)
    alerts = sum(cell.alerts for cell in cells)
    status = min((status_of(cell) for cell in cells), key=_SEVERITY.index)
    rate = alerts / events if events else 0.0
    tip = f"{scenario} / {source} / {label}: {alerts} of {events} alerted, {status}"
    reasons = sorted({cell.expectation.reason for cell in cells if cell.expectation.reason})
    if reasons:
        tip += " (" + "; ".join(reasons) + ")"
    # Dark backgrounds need light text to stay readable.
    ink = "#fff" if rate > 0.6 else "#111"
    return (
        f'<td class="{kind} {escape(status)}" style="background:{_colour(intent, rate)};color:{ink}" '
        f'data-scenario="{escape(scenario)}" data-version="{escape(label)}" data-source="{escape(source)}" '
        f'data-alerts="{alerts}" data-events="{events}" data-status="{escape(status)}" title="{escape(tip)}">'
        f'{alerts}/{events}<span class="marker">{escape(STATUS_MARKERS.get(status, status))}</span></td>'
    )


def _colour(intent: str, rate: float) -> str:
    full = _FULL.get(intent, _FULL["out-of-scope"])
    mixed = (round(empty + (end - empty) * rate) for empty, end in zip(_EMPTY, full, strict=True))
    return "#" + "".join(f"{channel:02x}" for channel in mixed)
