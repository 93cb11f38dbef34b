"""`harness diff --changed-since`: one report of changed rules' diffs, added rules, removed ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import orjson
from rich.console import Console

from harness.validation.derived_diff import DerivedDiff
from harness.validation.diff import DiffResult
from harness.validation.reports.derived_diff import derived_dict
from harness.validation.reports.diff import diff_dict, print_report, report_markdown
from harness.validation.reports.many import RuleReport, _rule_dict, many_to_markdown, print_summary

__all__ = [
    "ChangedReport",
    "RuleDiffReport",
    "changed_json",
    "changed_junit",
    "changed_markdown",
    "print_changed",
]


@dataclass(frozen=True)
class RuleDiffReport:
    """A changed rule: its paths, its corpus and derived diffs, whether it passed, or its error."""

    path: str
    old_path: str
    result: DiffResult | None
    derived: DerivedDiff | None
    passed: bool
    error: str | None

    @property
    def status(self) -> str:
        return "error" if self.error is not None else "passed" if self.passed else "regressed"


@dataclass(frozen=True)
class ChangedReport:
    """Everything ``--changed-since REF`` found, as the handlers read it."""

    ref: str
    commit: str
    changed: Sequence[RuleDiffReport]
    added: Sequence[RuleReport]
    removed: Sequence[str]


def _title(report: ChangedReport) -> str:
    return (
        f"since {report.ref} ({report.commit[:12]}): {len(report.changed)} changed, "
        f"{len(report.added)} added, {len(report.removed)} removed"
    )


def print_changed(report: ChangedReport, console: Console) -> None:
    console.print(_title(report))
    for rule in report.changed:
        moved = "" if rule.old_path == rule.path else f" (was {rule.old_path})"
        console.print(f"\n[bold]changed[/bold] {rule.path}{moved}: {rule.status}")
        if rule.error is not None:
            console.print(f"error: {rule.error}")
        else:
            print_report(rule.result, rule.derived, console)
    if report.added:
        console.print("\n[bold]added[/bold]")
        print_summary(report.added, console)
    for path in report.removed:
        console.print(f"\n[bold]removed[/bold] {path}")


def _diff_dict(rule: RuleDiffReport) -> dict[str, Any]:
    return {
        "path": rule.path,
        "old_path": rule.old_path,
        "status": rule.status,
        "error": rule.error,
        "corpus": None if rule.result is None else diff_dict(rule.result),
        "derived": None if rule.derived is None else derived_dict(rule.derived),
    }


def changed_json(report: ChangedReport) -> str:
    """An object: ref, commit, changed (one diff each), added (as the many-rule JSON), removed (paths)."""
    value = {
        "ref": report.ref,
        "commit": report.commit,
        "changed": [_diff_dict(rule) for rule in report.changed],
        "added": [_rule_dict(rule) for rule in report.added],
        "removed": list(report.removed),
    }
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n"


def changed_markdown(report: ChangedReport) -> str:
    parts = [f"# {_title(report)}\n"]
    for rule in report.changed:
        parts.append(f"## changed `{rule.path}`: {rule.status}\n")
        parts.append(f"error: {rule.error}\n" if rule.error else report_markdown(rule.result, rule.derived))
    if report.added:
        parts += ["## added\n", many_to_markdown(report.added)]
    if report.removed:
        parts += ["## removed\n", "".join(f"- `{path}`\n" for path in report.removed)]
    return "\n".join(parts)


def changed_junit(report: ChangedReport) -> str:
    """One ``testsuite``: a test case per changed, added and removed rule (removed ones skipped)."""
    cases = []
    for rule in report.changed:
        body = ""
        if rule.error is not None:
            body = f"<error message={quoteattr(rule.error)}/>"
        elif not rule.passed:
            body = '<failure message="regression the expectations do not accept"/>'
        cases.append(f'<testcase classname="changed" name={quoteattr(rule.path)}>{body}</testcase>')
    for added in report.added:
        body = "" if added.status == "passed" else f"<failure message={quoteattr(added.status)}/>"
        cases.append(f'<testcase classname="added" name={quoteattr(added.path)}>{body}</testcase>')
    for path in report.removed:
        cases.append(f'<testcase classname="removed" name={quoteattr(path)}><skipped/></testcase>')
    failures = sum(1 for c in cases if "<failure" in c)
    errors = sum(1 for c in cases if "<error" in c)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<testsuite name={quoteattr(escape(_title(report)))} tests="{len(cases)}" '
        f'failures="{failures}" errors="{errors}">\n' + "\n".join(cases) + "\n</testsuite>\n"
    )
