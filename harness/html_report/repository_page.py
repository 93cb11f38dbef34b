"""The repository page: a summary row per rule linking to its drill-down, then the drill-downs.

Pure and deterministic like the version page (``page.py``), whose sections each drill-down
reuses. The summary's cells are :func:`harness.validation.reports.many.summary_row`'s, the
text and Markdown summaries' own. ``extra`` sections (a title and their HTML, already
escaped) go between the summary and the drill-downs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from pathlib import Path

from harness.html_report.page import CSS, heatmap_legend, version_sections
from harness.html_report.repository import RepositoryReport, RuleGroup
from harness.validation.reports.many import SUMMARY_COLUMNS, RuleReport, summary_row
from harness.validation.reports.markdown import to_markdown

__all__ = ["anchors", "render_repository_html"]

_EXTRA_CSS = """
.summary td { white-space: nowrap; }
.summary tr.failed td, .summary tr.error td { background: #fde8e6; }
.summary td.result { font-weight: 600; }
tr.failed td.result, tr.error td.result { color: #b00020; }
tr.passed td.result { color: #1a7f37; }
section.rule { border-top: 2px solid #555; margin-top: 32px; }
details pre { font-size: 12px; white-space: pre-wrap; background: #f6f6f6; padding: 8px; }
"""


def render_repository_html(data: RepositoryReport, extra: Sequence[tuple[str, str]] = ()) -> str:
    """The page; ``extra`` adds ``(title, html)`` sections after the summary (a plot, say)."""
    ids = anchors(data.reports)
    title = f"Detection report: {len(data.reports)} rules"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8">',
            f"<title>{escape(title)}</title>",
            f"<style>{CSS}{_EXTRA_CSS}</style></head>",
            "<body>",
            f"<h1>{escape(title)}</h1>",
            _header(data),
            "<h2>Summary</h2>",
            _summary(data.reports, ids, data.timings),
            *(f"<h2>{escape(name)}</h2>\n{body}" for name, body in extra),
            "<h2>Rules</h2>",
            heatmap_legend(),
            *(_drill_down(group, ids) for group in data.groups),
            "</body>",
            "</html>",
            "",
        ]
    )


def anchors(reports: Sequence[RuleReport]) -> dict[str, str]:
    """Each rule's ``id`` on the page, from its path: readable in a link, and unique."""
    found: dict[str, str] = {}
    taken: set[str] = set()
    for report in sorted(reports, key=lambda r: r.path):
        base = "rule-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", Path(report.path).as_posix()).strip("-") or "x")
        anchor, count = base, 1
        while anchor in taken:
            count += 1
            anchor = f"{base}-{count}"
        taken.add(anchor)
        found[report.path] = anchor
    return found


def _header(data: RepositoryReport) -> str:
    counts = {
        status: sum(1 for r in data.reports if r.status == status) for status in ("passed", "failed", "error")
    }
    generated = data.generated_at if data.generated_at is not None else "not given"
    mutations = "run for each rule" if data.mutations else "not run (--no-mutations)"
    items = [
        f"corpus: {data.corpus}",
        f"seed: {data.seed}",
        f"generated: {generated}",
        f"mutation testing: {mutations}",
        ", ".join(f"{count} {status}" for status, count in counts.items()),
    ]
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"


_TIME = SUMMARY_COLUMNS.index("time")


def _summary(reports: Sequence[RuleReport], ids: dict[str, str], timings: bool) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in SUMMARY_COLUMNS)
    rows = []
    for report in reports:
        row = list(summary_row(report))
        if not timings:  # a clock's reading: only when asked for, so that the page stays reproducible
            row[_TIME] = "-"
        rule, *cells, result = row
        link = f'<a href="#{ids[report.path]}"><code>{escape(rule)}</code></a>'
        rows.append(
            f'<tr class="{report.status}" data-path="{escape(report.path)}">'
            f"<td>{link}</td>"
            + "".join(f"<td>{escape(cell)}</td>" for cell in cells)
            + f'<td class="result">{escape(result)}</td></tr>'
        )
    return (
        f'<table class="summary metrics"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _drill_down(group: RuleGroup, ids: dict[str, str]) -> str:
    members = "".join(
        f'<tr id="{ids[r.path]}" class="{r.status}"><td><code>{escape(r.path)}</code></td>'
        f"<td>{escape(r.status)}</td><td>{escape(r.error or '')}</td></tr>"
        for r in group.reports
    )
    parts = [
        f'<section class="rule"><h3>{escape(group.title)}</h3>',
        '<table class="members"><thead><tr><th>file</th><th>result</th><th>error</th></tr></thead>'
        f"<tbody>{members}</tbody></table>",
    ]
    if group.versions is not None:
        corpus = ("the corpus", "the corpus")
        parts += version_sections(group.versions, level=4, corpora=corpus)
    parts += [_full_report(report) for report in group.reports if report.result is not None]
    parts.append("</section>")
    return "\n".join(parts)


def _full_report(report: RuleReport) -> str:
    """The rule's own report as ``validate --format markdown`` writes it: violations, budgets, derived."""
    assert report.result is not None
    opened = " open" if report.status != "passed" else ""
    return (
        f"<details{opened}><summary>{escape(report.path)}: the rule's full report</summary>"
        f"<pre>{escape(to_markdown(report.result))}</pre></details>"
    )
