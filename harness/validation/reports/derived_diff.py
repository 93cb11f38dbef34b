"""Reports for the derived part of ``harness diff``: a terminal table, JSON and Markdown.

Each change is one row: an example event (the fields that matter, in one line), how
many variants of it were found, why the versions disagree on it, how many of its
events cross in each data source, and, for a loss, which ``[diff.lost]`` entry of
NEW's expectations accepts it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.validation.derived_diff import (
    GAINED,
    DerivedChange,
    DerivedDiff,
    DerivedEvent,
    DerivedVersion,
    SourceCount,
)
from harness.validation.reports.table import SHORT, console_for_reports

__all__ = ["derived_dict", "derived_markdown", "print_derived"]


def _verdict(change: DerivedChange) -> str:
    """``gained``, or how NEW's expectations take a loss: the entries and their status."""
    if change.direction == GAINED:
        return "gained"
    entries = ", ".join(f"{e.status}: {e.name}" for e in change.entries)
    if change.verdict == "accepted":
        return f"accepted ({entries})"
    missing = f"{change.unaccepted} not accepted"
    return f"{missing}; accepted ({entries})" if entries else missing


def _counts(version: DerivedVersion) -> dict[str, SourceCount]:
    return {count.name: count for count in version.sources}


def _cell(count: SourceCount | None, alerting: bool) -> str:
    """``alerting/witnesses`` or ``silent/near misses``, with the blind spots; "-" where not read."""
    if count is None:
        return "-"
    if not alerting:
        return f"{count.near_misses_silent}/{count.near_misses}"
    blind = f" ({count.blind_spots} blind)" if count.blind_spots else ""
    return f"{count.witnesses_alerting}/{count.witnesses}{blind}"


def _totals(derived: DerivedDiff) -> str:
    lost, gained = derived.lost, derived.gained
    return (
        f"{len(lost)} lost ({sum(len(c.events) for c in lost)} events), "
        f"{len(gained)} gained ({sum(len(c.events) for c in gained)} events); "
        f"{derived.lost_not_accepted} losses not accepted by the new expectations"
    )


def _notes(derived: DerivedDiff) -> list[str]:
    notes = [
        f"{version.name}: {kind}: {message}"
        for version in (derived.old, derived.new)
        for kind, message in version.findings
    ]
    if derived.unsolved:
        notes.append(
            f"{len(derived.unsolved)} branches of the search for lost and gained events left unsolved, "
            "perhaps unsatisfiable: a change there would not show (--format json lists them)"
        )
    notes += [f"{e.origin} accepts no loss of this diff" for e in derived.unused]
    return notes


def print_derived(derived: DerivedDiff, console: Console | None = None) -> None:
    console = console or console_for_reports()
    old, new = derived.old, derived.new
    olds, news = _counts(old), _counts(new)
    per_source = Table(
        "source",
        f"{old.name} witnesses alerting",
        f"{old.name} near misses silent",
        f"{new.name} witnesses alerting",
        f"{new.name} near misses silent",
        title=f"{old.name} -> {new.name}: events derived from the queries\n"
        f"{old.name}: {old.branches} branches, {old.witnesses} witnesses, {old.near_misses} near misses; "
        f"{new.name}: {new.branches} branches, {new.witnesses} witnesses, {new.near_misses} near misses",
    )
    for source in derived.sources:
        per_source.add_row(
            source.name,
            _cell(olds.get(source.name), True),
            _cell(olds.get(source.name), False),
            _cell(news.get(source.name), True),
            _cell(news.get(source.name), False),
        )
    console.print(per_source)
    names = [s.name for s in derived.sources]
    changes = Table("change", title=f"what {new.name} alerts on differently: events per source")
    changes.add_column("example event (why)", min_width=48)
    changes.add_column("variants")
    for name in names:
        changes.add_column(SHORT.get(name, name))
    changes.add_column("verdict", max_width=30)
    for change in derived.changes:
        counts = change.per_source()
        failing = change.unaccepted > 0
        verdict = escape(_verdict(change))
        changes.add_row(
            change.direction,
            f"{escape(change.example.summary)}\n[dim]{escape(change.why)}[/dim]",
            str(change.variants),
            *(str(counts.get(n, 0)) for n in names),
            f"[red]{verdict}[/red]" if failing else verdict,
        )
    if derived.changes:
        console.print(changes)
    else:
        console.print(f"no derived event tells {old.name} and {new.name} apart")
    for entry in {e.name: e for c in derived.changes for e in c.entries}.values():
        console.print(f"{escape(entry.origin)} ({entry.status}): {escape(entry.reason)}")
    for note in _notes(derived):
        console.print(escape(note))
    console.print(_totals(derived))


def _event_dict(event: DerivedEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "variant": event.variant,
        "summary": event.summary,
        "values": dict(event.values),
        "sources": list(event.sources),
        "accepted_by": {source: entry.name for source, entry in event.accepted.items()},
    }


def _version_dict(version: DerivedVersion) -> dict[str, Any]:
    return {
        "name": version.name,
        "branches": version.branches,
        "witnesses": version.witnesses,
        "near_misses": version.near_misses,
        "findings": [{"kind": kind, "message": message} for kind, message in version.findings],
        "sources": [asdict(count) for count in version.sources],
    }


def derived_dict(derived: DerivedDiff) -> dict[str, Any]:
    return {
        "passed": derived.passed,
        "lost_not_accepted": derived.lost_not_accepted,
        "sources": [asdict(source) for source in derived.sources],
        "versions": [_version_dict(derived.old), _version_dict(derived.new)],
        "changes": [
            {
                "direction": c.direction,
                "verdict": c.verdict,
                "why": c.why,
                "example": _event_dict(c.example),
                "variants": c.variants,
                "per_source": c.per_source(),
                "not_accepted": c.unaccepted,
                "accepted_by": [
                    {"entry": e.origin, "status": e.status, "reason": e.reason} for e in c.entries
                ],
                "events": [_event_dict(e) for e in c.events],
            }
            for c in derived.changes
        ],
        "unsolved": list(derived.unsolved),
        "unused_entries": [e.origin for e in derived.unused],
    }


def _in_cell(text: str) -> str:
    """``text`` in a Markdown table cell: a pipe would end the cell."""
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    """``text`` as inline code in a table cell, fenced past any backtick it holds."""
    fence, pad = ("``", " ") if "`" in text else ("`", "")
    return _in_cell(f"{fence}{pad}{text}{pad}{fence}")


def derived_markdown(derived: DerivedDiff) -> str:
    old, new = derived.old, derived.new
    olds, news = _counts(old), _counts(new)
    lines = [
        f"### {old.name} -> {new.name}: events derived from the queries",
        "",
        f"| | {old.name} | {new.name} |",
        "| --- | --- | --- |",
        f"| branches | {old.branches} | {new.branches} |",
        f"| witnesses | {old.witnesses} | {new.witnesses} |",
        f"| near misses | {old.near_misses} | {new.near_misses} |",
        "",
        f"| source | {old.name} witnesses alerting | {old.name} near misses silent | "
        f"{new.name} witnesses alerting | {new.name} near misses silent |",
        "| --- | --- | --- | --- | --- |",
    ]
    for source in derived.sources:
        o, n = olds.get(source.name), news.get(source.name)
        lines.append(
            f"| {source.name} | {_cell(o, True)} | {_cell(o, False)} | {_cell(n, True)} | {_cell(n, False)} |"
        )
    names = [s.name for s in derived.sources]
    lines += [""]
    if derived.changes:
        lines += [
            "| change | example event | variants | why | "
            + " | ".join(SHORT.get(n, n) for n in names)
            + " | verdict |",
            "| --- | --- | --- | --- | " + " | ".join("---" for _ in names) + " | --- |",
        ]
        for c in derived.changes:
            counts = c.per_source()
            lines.append(
                f"| {c.direction} | {_code(c.example.summary)} | {c.variants} | {_in_cell(c.why)} | "
                + " | ".join(str(counts.get(n, 0)) for n in names)
                + f" | {_verdict(c)} |"
            )
    else:
        lines.append(f"No derived event tells {old.name} and {new.name} apart.")
    entries = {e.name: e for c in derived.changes for e in c.entries}
    notes = [f"`{e.origin}` ({e.status}): {e.reason}" for e in entries.values()] + _notes(derived)
    if notes:
        lines += [""] + [f"- {note}" for note in notes]
    lines += ["", _totals(derived) + "."]
    return "\n".join(lines) + "\n"
