"""Reports for ``harness diff``: a terminal table, JSON and Markdown.

The corpus part (``print_diff``, ``diff_dict``, ``diff_markdown``) is unchanged; the
``report_*`` functions add the derived part (``derived_diff``) after it, and give it
alone when no corpus was compared.
"""

from __future__ import annotations

from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from harness.validation.derived_diff import DerivedDiff
from harness.validation.diff import Change, DiffResult
from harness.validation.reports.derived_diff import derived_dict, derived_markdown, print_derived
from harness.validation.reports.table import console_for_reports

__all__ = [
    "diff_dict",
    "diff_json",
    "diff_markdown",
    "print_diff",
    "print_report",
    "report_json",
    "report_markdown",
]


def _label(change: Change) -> str:
    if change.regressions:
        return change.kind + (" (accepted)" if change.accepted else "")
    return change.kind


def print_diff(result: DiffResult, console: Console | None = None) -> None:
    console = console or console_for_reports()
    table = Table(
        "scenario",
        "source",
        "intent",
        result.old_name,
        result.new_name,
        "change",
        title=f"{result.old_name} -> {result.new_name}\n{result.corpus}",
    )
    for change in result.changed:
        style = (
            "red" if change.regressions and not change.accepted else "green" if change.improvements else ""
        )
        text = _label(change)
        table.add_row(
            change.scenario,
            change.source,
            change.intent,
            f"{change.old_alerts}/{change.events}",
            f"{change.new_alerts}/{change.events}",
            f"[{style}]{text}[/{style}]" if style else text,
        )
    console.print(table)
    regressions = result.unaccepted_regressions
    console.print(
        f"{len(result.improvements)} improvements, {len(result.regressions)} regressions "
        f"({len(regressions)} not accepted by the new expectations)"
    )


def diff_dict(result: DiffResult) -> dict[str, Any]:
    return {
        "old": result.old_name,
        "new": result.new_name,
        "corpus": result.corpus,
        "sources": [
            {"name": name, "index": index, "events": events, "read_by_old": old, "read_by_new": new}
            for (name, index), (events, old, new) in sorted(
                result.sources.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
            )
        ],
        "regressions_not_accepted": len(result.unaccepted_regressions),
        "changes": [
            {
                "scenario": c.scenario,
                "source": c.source,
                "intent": c.intent,
                "events": c.events,
                "old_alerts": c.old_alerts,
                "new_alerts": c.new_alerts,
                "change": c.kind,
                "accepted": c.accepted,
                "example": c.example_newly_silent if c.intent == "malicious" else c.example_newly_alerting,
            }
            for c in result.changed
        ],
    }


def diff_json(result: DiffResult) -> str:
    return orjson.dumps(diff_dict(result), option=orjson.OPT_INDENT_2).decode()


def diff_markdown(result: DiffResult) -> str:
    lines = [
        f"### {result.old_name} -> {result.new_name}",
        "",
        f"Corpus: {result.corpus}",
        "",
        "| scenario | source | intent | old | new | change |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in result.changed:
        lines.append(
            f"| `{c.scenario}` | {c.source} | {c.intent} | {c.old_alerts}/{c.events} | "
            f"{c.new_alerts}/{c.events} | {_label(c)} |"
        )
    lines += [
        "",
        f"{len(result.improvements)} improvements, {len(result.regressions)} regressions, "
        f"{len(result.unaccepted_regressions)} not accepted.",
    ]
    return "\n".join(lines) + "\n"


def print_report(
    result: DiffResult | None, derived: DerivedDiff | None, console: Console | None = None
) -> None:
    """The corpus diff's table, then the derived diff's."""
    console = console or console_for_reports()
    if result is not None:
        print_diff(result, console)
    if derived is not None:
        if result is not None:
            console.print()
        print_derived(derived, console)


def report_json(result: DiffResult | None, derived: DerivedDiff | None, old_name: str, new_name: str) -> str:
    """The corpus diff's JSON with a ``derived`` key; without a corpus, ``corpus`` is null."""
    report: dict[str, Any] = (
        diff_dict(result) if result is not None else {"old": old_name, "new": new_name, "corpus": None}
    )
    if derived is not None:
        report["derived"] = derived_dict(derived)
    return orjson.dumps(report, option=orjson.OPT_INDENT_2).decode()


def report_markdown(result: DiffResult | None, derived: DerivedDiff | None) -> str:
    parts = [diff_markdown(result)] if result is not None else []
    if derived is not None:
        parts.append(derived_markdown(derived))
    return "\n".join(parts)
