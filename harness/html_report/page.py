"""The whole page: header, then one section each for detection, noise, schedule and mutations.

Pure and deterministic: nothing here reads a clock or the file system, so the same ``ReportData``
always gives the same bytes. Every piece of text from a rule or corpus goes through ``html.escape``.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from harness.html_report.data import ReportData
from harness.html_report.exceptions_section import has_exceptions, render_exceptions
from harness.html_report.heatmap import STATUS_MARKERS, render_heatmap
from harness.html_report.sections import render_mutations, render_noise, render_schedule, render_summary
from harness.rules import Rule

__all__ = ["CSS", "heatmap_legend", "render_html", "version_sections"]

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #111; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 32px; } h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; }
.metrics td { text-align: right; font-variant-numeric: tabular-nums; }
.heatmap td { text-align: center; font-size: 12px; min-width: 44px; white-space: nowrap; }
.heatmap td.all { border-left: 2px solid #555; font-weight: 600; }
.heatmap th.version { text-align: center; border-left: 2px solid #555; }
.heatmap th.source { font-size: 11px; font-weight: normal; }
.heatmap th.scenario { font-weight: normal; white-space: nowrap; }
.heatmap th.scenario { font-family: ui-monospace, monospace; font-size: 12px; }
.heatmap tr.intent th { background: #eee; text-transform: uppercase; font-size: 12px; }
.heatmap td.none { color: #bbb; }
.marker { display: inline-block; margin-left: 4px; font-size: 10px; }
td.violation { outline: 2px solid #000; outline-offset: -2px; }
.muted { color: #666; }
.legend .key { margin-right: 16px; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: middle; }
.chart .axis { font-size: 11px; fill: #444; }
code { font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; }
"""


def render_html(data: ReportData) -> str:
    names = sorted({version.rule.name for version in data.versions})
    title = "Detection report: " + ", ".join(names)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8">',
            f"<title>{escape(title)}</title>",
            f"<style>{CSS}</style></head>",
            "<body>",
            f"<h1>{escape(title)}</h1>",
            _header(data),
            *version_sections(data),
            "</body>",
            "</html>",
            "",
        ]
    )


def version_sections(
    data: ReportData, *, level: int = 2, corpora: tuple[str, str] | None = None
) -> list[str]:
    """Detection, noise, schedule and mutations of ``data``'s versions, side by side.

    ``level`` is the headings' (``h2`` on the version page, deeper in a drill-down); ``corpora``
    names the detection and the noise corpus in the headings (default: the scenarios and the
    fleet corpus, the version page's two), and the heatmap's legend comes with the default only.
    """
    h = f"h{level}"
    detection, noise = corpora or ("the scenarios corpus", "the fleet corpus")
    return [
        *(conversion_html(v.label, v.rule) for v in data.versions if v.rule.conversion is not None),
        f"<{h}>Detection on {escape(detection)}</{h}>",
        render_summary(data.versions),
        *([heatmap_legend()] if corpora is None else []),
        render_heatmap(data.versions),
        f"<{h}>Noise on {escape(noise)}</{h}>",
        f"<p>{escape(data.fleet_corpus)}: matching events per UTC day.</p>",
        render_noise(data),
        f"<{h}>Schedule simulation on {escape(noise)}</{h}>",
        "<p>Each version run on its own interval, look-back and max_signals, as the detection engine "
        "would.</p>",
        render_schedule(data.versions),
        *(
            [f"<{h}>Exceptions</{h}>", render_exceptions(data.versions, detection, noise)]
            if has_exceptions(data.versions)
            else []
        ),
        f"<{h}>Mutation testing</{h}>",
        render_mutations(data.versions),
    ]


def _header(data: ReportData) -> str:
    rows = "".join(
        f"<tr><td>{escape(v.label)}</td><td>{escape(v.rule.name)}</td>"
        f"<td>{'-' if v.rule.version is None else v.rule.version}</td>"
        f"<td><code>{escape(Path(v.rule.path).name)}</code></td></tr>"
        for v in data.versions
    )
    generated = data.generated_at if data.generated_at is not None else "not given"
    return (
        '<table class="rules"><thead><tr><th></th><th>rule</th><th>version</th><th>file</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        "<ul>"
        f"<li>scenarios corpus: {escape(data.scenario_corpus)}</li>"
        f"<li>fleet corpus: {escape(data.fleet_corpus)}</li>"
        f"<li>seed: {data.seed}</li>"
        f"<li>generated: {escape(generated)}</li>"
        "</ul>"
    )


def conversion_html(label: str, rule: Rule) -> str:
    """A converted rule's origin and notes: what the harness models differently is said, not hidden."""
    conversion = rule.conversion
    if conversion is None:
        return ""
    notes = "".join(
        f"<li><b>{escape(note.severity)}</b> [{escape(note.code)}] {escape(note.message)}</li>"
        for note in conversion.notes
    )
    return (
        f"<p>{escape(label)} is written in {escape(conversion.language)}, converted by "
        f"{escape(conversion.converter)} with {escape(conversion.pipeline)} to "
        f"<code>{escape(rule.query)}</code></p>" + (f"<ul>{notes}</ul>" if notes else "")
    )


def heatmap_legend() -> str:
    meanings = {
        "expected": "as the expectations say",
        "known-gap": "missed, and accepted as a known gap",
        "known-noise": "alerts, and accepted as known noise",
        "violation": "contradicts an expectation",
    }
    items = "".join(
        f"<li><b>{escape(STATUS_MARKERS[status])}</b> {escape(status)}: {escape(text)}</li>"
        for status, text in meanings.items()
    )
    return (
        "<p>Each cell: alerted / target events. Malicious rows turn green as more is detected, benign rows "
        "red as more alerts, out-of-scope rows blue. <i>all</i> adds up every source.</p>"
        f'<ul class="legend">{items}</ul>'
    )
