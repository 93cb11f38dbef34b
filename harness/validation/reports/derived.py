"""The derived scenarios in every report format, kept apart from the corpus's scenarios.

Per source: witnesses alerting of those the source can write, blind spots (with their
reasons, grouped), near misses alerting; then the findings on the query and each violation
with the reason the derivation gives (which field, and how the source wrote it). A sequence
or sample rule's cases are chains, shown as their events: stage by stage, the time and the
key values each joins on; its canonical chains are the column ``query``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from generators.sources import SOURCES
from harness.validation.derived import (
    DerivedCase,
    DerivedEvent,
    DerivedOutcome,
    DerivedResult,
    DerivedSourceRow,
)

__all__ = ["derived_dict", "derived_junit", "derived_markdown", "print_derived"]

# A rule with many branches repeats each kind of finding per branch: a report shows a few of each.
FINDINGS_SHOWN = 3
MESSAGE_WIDTH = 240


def headline(derived: DerivedResult) -> str:
    suite = derived.suite
    where = (
        f"in the {_count(len(suite.sources), 'source')} the rule reads" if suite.sources else "in no source"
    )
    counts = ", ".join(
        (
            _count(suite.branches, "branch", "branches")
            if suite.kind == "query"
            else _count(suite.branches, f"{suite.kind} chain"),
            _count(len(suite.witnesses), "witness", "witnesses"),
            _count(len(suite.near_misses), "near miss", "near misses"),
        )
    )
    return f"derived from the query ({suite.name}): {counts}, {where}"


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def _source_cells(row: DerivedSourceRow) -> tuple[str, str, str, str]:
    near = f"{row.near_misses_alerting} / {row.near_misses}"
    if row.near_misses_unwritable:
        near += f" ({row.near_misses_unwritable} not writable)"
    return row.source, f"{row.witnesses_alerting} / {row.witnesses}", str(row.blind_spots), near


def _short(text: str, width: int = MESSAGE_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _finding_lines(derived: DerivedResult) -> list[str]:
    lines = []
    for kind, findings in derived.findings_by_kind().items():
        branches = sorted(
            {f.branch for f in derived.suite.findings if f.kind == kind and f.branch is not None}
        )
        where = f" ({len(branches)} branches)" if len(branches) > 1 else ""
        for finding in findings[:FINDINGS_SHOWN]:
            lines.append(f"{kind}{where}: {_short(finding.message)}")
        if len(findings) > FINDINGS_SHOWN:
            lines.append(
                f"{kind}: {len(findings) - FINDINGS_SHOWN} more (the JSON report lists every finding)"
            )
    return lines


def _violation_lines(derived: DerivedResult) -> list[str]:
    """One line per kind, source and explanation, naming every case it holds for."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for outcome in derived.violations:
        what = "witness stays silent" if outcome.case.kind == "witness" else "near miss alerts"
        grouped.setdefault((what, outcome.source, outcome.explanation()), []).append(outcome.case.key)
    return [
        f"derived {what}: {', '.join(keys)} in {source}: {_short(explanation)}"
        for (what, source, explanation), keys in grouped.items()
    ]


def _chain_lines(case: DerivedCase) -> list[str]:
    """A chain case's events, one line each: which stage, when, what it joins on."""
    lines = []
    for event in case.events:
        keys = ", ".join(f"{name}={value!r}" for name, value in event.keys)
        category = event.category or "any"
        lines.append(f"{event.label} ({category}) at {event.timestamp}" + (f": {keys}" if keys else ""))
    return lines


def _accepted_line(outcome: DerivedOutcome) -> str:
    expectation = outcome.expectation
    where = f"{outcome.case.key} in {outcome.source}"
    return f"{where}: {expectation.status} ({expectation.origin}): {expectation.reason}"


def print_derived(derived: DerivedResult, console: Console) -> None:
    console.print(headline(derived))
    rows = derived.source_rows()
    if rows:
        table = Table(
            "source", "witnesses alerting", "blind spots", "near misses alerting", title="derived, per source"
        )
        for row in rows:
            table.add_row(*_source_cells(row))
        console.print(table)
    suite = derived.suite
    if suite.witnesses and suite.sources:
        grid = Table("witness", "exercises", *(_heading(s) for s in suite.sources), title="derived witnesses")
        for case in suite.witnesses:
            cells = []
            for source in suite.sources:
                outcome = derived.outcome(case, source)
                cells.append("" if outcome is None else _mark(outcome))
            grid.add_row(case.key, case.summary, *cells)
        console.print(grid)
    for case in suite.cases:
        if case.events:
            console.print(f"{case.kind} {case.key}: {case.summary}")
            for line in _chain_lines(case):
                console.print(f"  {line}")
    for reason, keys in derived.blind_spots().items():
        console.print(f"blind spot: {reason}: {', '.join(keys)}")
    for line in _finding_lines(derived):
        console.print(f"finding {line}")
    for outcome in derived.accepted:
        console.print(f"accepted: {_accepted_line(outcome)}")
    for line in _violation_lines(derived):
        console.print(f"[red]violation[/red] {line}")


def _heading(source: str) -> str:
    known = SOURCES.get(source)
    return known.label if known is not None else source


def _mark(outcome: DerivedOutcome) -> str:
    if outcome.blind_spot:
        return "blind"
    text = "alert" if outcome.alerted else "silent"
    if outcome.violation:
        return f"[red]{text}[/red]"
    return text + (" (gap)" if outcome.accepted else "")


def derived_dict(derived: DerivedResult) -> dict[str, Any]:
    suite = derived.suite
    return {
        "name": suite.name,
        "branches": suite.branches,
        "truncated": suite.truncated,
        "passed": derived.passed,
        "sources": [
            {
                "name": row.source,
                "witnesses": row.witnesses,
                "witnesses_alerting": row.witnesses_alerting,
                "blind_spots": row.blind_spots,
                "near_misses": row.near_misses,
                "near_misses_alerting": row.near_misses_alerting,
                "near_misses_unwritable": row.near_misses_unwritable,
            }
            for row in derived.source_rows()
        ],
        "cases": [
            {
                "id": case.id,
                "key": case.key,
                "kind": case.kind,
                "branch": case.branch,
                "summary": case.summary,
                **({"events": [_event_dict(e) for e in case.events]} if case.events else {}),
                "outcomes": [
                    {
                        "source": o.source,
                        "status": o.status,
                        "expected": o.expectation.verdict,
                        "expectation": o.expectation.status,
                        "decided_by": o.expectation.origin,
                        "reason": o.reason,
                    }
                    for o in derived.outcomes
                    if o.case is case
                ],
            }
            for case in suite.cases
        ],
        "findings": [{"kind": f.kind, "branch": f.branch, "message": f.message} for f in suite.findings],
        "violations": [
            {
                "kind": "witness silent" if o.case.kind == "witness" else "near miss alerts",
                "case": o.case.id,
                "key": o.case.key,
                "source": o.source,
                "reason": o.explanation(),
                "example": o.document,
            }
            for o in derived.violations
        ],
    }


def _event_dict(event: DerivedEvent) -> dict[str, Any]:
    return {
        "label": event.label,
        "category": event.category,
        "timestamp": event.timestamp,
        "keys": {name: value for name, value in event.keys},
    }


def derived_markdown(derived: DerivedResult) -> list[str]:
    lines = ["", f"Derived scenarios: {headline(derived)}", ""]
    rows = derived.source_rows()
    if rows:
        lines += [
            "| source | witnesses alerting | blind spots | near misses alerting |",
            "| --- | --- | --- | --- |",
        ]
        lines += ["| " + " | ".join(_source_cells(row)) + " |" for row in rows]
    chains = [case for case in derived.suite.cases if case.events]
    if chains:
        lines += ["", "Derived chains (canonical events; the `query` column judges them as written):", ""]
        for case in chains:
            lines.append(f"- {case.kind} `{case.key}`: {case.summary}")
            lines += [f"  - {line}" for line in _chain_lines(case)]
    blind = derived.blind_spots()
    if blind:
        lines += ["", "Blind spots (not violations):", ""]
        lines += [f"- {reason}: {', '.join(keys)}" for reason, keys in blind.items()]
    findings = _finding_lines(derived)
    if findings:
        lines += ["", "Findings on the query:", ""]
        lines += [f"- {line}" for line in findings]
    if derived.accepted:
        lines += ["", "Accepted by `[derived]`:", ""]
        lines += [f"- {_accepted_line(o)}" for o in derived.accepted]
    if derived.violations:
        lines += ["", "Derived violations:", ""]
        lines += [f"- {line}" for line in _violation_lines(derived)]
    return lines


def derived_junit(suites: ET.Element, derived: DerivedResult, suite_name: str) -> tuple[int, int]:
    """A test suite of its own: a case per derived case and source. Returns (cases, failures)."""
    suite = ET.SubElement(suites, "testsuite", name=f"{suite_name}: derived scenarios")
    if derived.suite.findings:
        properties = ET.SubElement(suite, "properties")
        for number, finding in enumerate(derived.suite.findings):
            ET.SubElement(
                properties, "property", name=f"finding {number} {finding.kind}", value=finding.message
            )
    cases = failures = 0
    for outcome in derived.outcomes:
        cases += 1
        case = ET.SubElement(suite, "testcase", classname=outcome.case.id, name=outcome.source)
        if outcome.violation:
            failures += 1
            kind = "witness silent" if outcome.case.kind == "witness" else "near miss alerts"
            failure = ET.SubElement(case, "failure", message=_short(outcome.explanation()), type=kind)
            failure.text = orjson.dumps(outcome.document, option=orjson.OPT_INDENT_2).decode()
        elif outcome.blind_spot:
            ET.SubElement(case, "skipped", message=f"blind spot: {outcome.reason}")
        elif outcome.accepted:
            expectation = outcome.expectation
            ET.SubElement(case, "skipped", message=f"{expectation.status}: {expectation.reason}")
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    return cases, failures
