"""Reports on many rules at once: a summary row per rule, a JSON array, JUnit with a suite per rule.

Each rule's own report is the single-rule one (``result_dict``, the JUnit suites of
``to_junit``, ``to_markdown``); these handlers put them side by side. A rule that could
not be run has no result, only its error.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from harness.validation.exception_effect import exception_effect
from harness.validation.reports.common import percent, rate
from harness.validation.reports.json import result_dict
from harness.validation.reports.junit import to_junit
from harness.validation.reports.markdown import to_markdown
from harness.validation.runner import ValidationResult

__all__ = [
    "SUMMARY_COLUMNS",
    "RuleReport",
    "many_to_json",
    "many_to_junit",
    "many_to_markdown",
    "print_summary",
    "summary_row",
]

SUMMARY_COLUMNS = (
    "rule",
    "version",
    "sources read",
    "detection",
    "precision",
    "FP/M",
    "exceptions",
    "violations",
    "time",
    "result",
)


@dataclass(frozen=True)
class RuleReport:
    """One rule of a run as the reports see it: its result, or the error that stopped it."""

    path: str
    result: ValidationResult | None
    error: str | None
    seconds: float

    @property
    def status(self) -> str:
        if self.result is None:
            return "error"
        return "passed" if self.result.passed else "failed"


def violation_count(result: ValidationResult) -> int:
    """Corpus violations, broken budgets and derived violations: everything that fails the rule."""
    broken = sum(1 for check in result.budget_checks if not check.passed) if result.corpus_run else 0
    corpus = len(result.violations) if result.corpus_run else 0
    return corpus + broken + (0 if result.derived is None else len(result.derived.violations))


def summary_row(report: RuleReport) -> tuple[str, ...]:
    """The row of :data:`SUMMARY_COLUMNS` for one rule."""
    seconds = f"{report.seconds:.2f}s"
    result = report.result
    if result is None:
        return (report.path, "", "", "", "", "", "", "", seconds, f"error: {report.error}")
    version = "" if result.rule_version is None else str(result.rule_version)
    if not result.corpus_run:
        metrics = ("(derived scenarios only)", "n/a", "n/a", "n/a")
    else:
        names = {seen.name for seen in result.sources.values()}
        read = {seen.name for seen in result.sources.values() if seen.read}
        metrics = (
            f"{len(read)} of {len(names)}",  # which ones: the rule's own report (--detail)
            percent(result.detection_rate),
            percent(result.precision),
            # Per million of a fleet's everyday activity: a scenarios corpus holds look-alikes only.
            rate(result.false_positives_per_million) if result.background_events else "no fleet",
        )
    effects = exceptions_cell(result)
    return (report.path, version, *metrics, effects, str(violation_count(result)), seconds, report.status)


def exceptions_cell(result: ValidationResult) -> str:
    """What the rule's exceptions did, in a few words: false positives removed, detections lost."""
    effect = exception_effect(result)
    if effect is None:
        return ""
    text = f"-{effect.false_positives_removed:,} FP, {effect.detections_lost:,} detections lost"
    return text + (" (hides detections)" if effect.hides_detections else "")


def print_summary(reports: Sequence[RuleReport], console: Console) -> None:
    table = Table(title=f"{len(reports)} rules")
    rows = [summary_row(report) for report in reports]
    # The exceptions column only when a rule applies any: a terminal's width is the rules' names'.
    shown = [
        i for i, column in enumerate(SUMMARY_COLUMNS) if column != "exceptions" or any(r[i] for r in rows)
    ]
    for i in shown:
        table.add_column(SUMMARY_COLUMNS[i], overflow="fold")
    for report, full in zip(reports, rows, strict=True):
        row = [full[i] for i in shown]
        style = {"passed": "green", "failed": "red", "error": "red"}[report.status]
        table.add_row(*row[:-1], f"[{style}]{row[-1]}[/{style}]")
    console.print(table)
    counts = {
        status: sum(1 for r in reports if r.status == status) for status in ("passed", "failed", "error")
    }
    console.print(", ".join(f"{count} {status}" for status, count in counts.items()))


def _rule_dict(report: RuleReport) -> dict[str, Any]:
    return {
        "path": report.path,
        "status": report.status,
        "seconds": round(report.seconds, 3),
        "error": report.error,
        "result": None if report.result is None else result_dict(report.result),
    }


def many_to_json(reports: Sequence[RuleReport]) -> str:
    """A JSON array, one object per rule: path, status, seconds, error, and the single-rule report."""
    return orjson.dumps([_rule_dict(r) for r in reports], option=orjson.OPT_INDENT_2).decode() + "\n"


def many_to_junit(reports: Sequence[RuleReport]) -> str:
    """One ``testsuites`` with one ``testsuite`` per rule (as CI servers group them).

    A rule's suite holds the test cases of its single-rule report: its corpus's, then its
    derived scenarios'.

    A rule that could not run is a suite of one test case with an ``error`` element, as
    JUnit reports a test that could not run (rather than one that failed).
    """
    suites = ET.Element("testsuites", name="harness validate")
    tests = failures = errors = 0
    for report in reports:
        if report.result is None:
            suite = ET.SubElement(suites, "testsuite", name=report.path, tests="1", failures="0", errors="1")
            case = ET.SubElement(suite, "testcase", name="load and run", classname=report.path)
            ET.SubElement(case, "error", message=report.error or "").text = report.error
            tests, errors = tests + 1, errors + 1
            continue
        single = ET.fromstring(to_junit(report.result))
        suite = ET.SubElement(suites, "testsuite", name=_suite_name(report.result), file=report.path)
        properties = ET.SubElement(suite, "properties")  # JUnit allows one, before the cases
        for part in single.findall("testsuite"):  # the corpus's suite, the derived scenarios' suite
            for child in part:
                if child.tag == "properties":
                    properties.extend(child)
                else:
                    suite.append(child)
        if not len(properties):
            suite.remove(properties)
        suite.set("tests", single.get("tests", "0"))
        suite.set("failures", single.get("failures", "0"))
        suite.set("errors", "0")
        tests += int(single.get("tests", "0"))
        failures += int(single.get("failures", "0"))
    suites.set("tests", str(tests))
    suites.set("failures", str(failures))
    suites.set("errors", str(errors))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _suite_name(result: ValidationResult) -> str:
    version = "" if result.rule_version is None else f" (version {result.rule_version})"
    return result.rule_name + version


def many_to_markdown(reports: Sequence[RuleReport]) -> str:
    """The summary table, then each rule's report: failing rules (and errors) first."""
    order = sorted(reports, key=lambda r: (r.status == "passed", r.path))
    lines = [
        "# Rule validation",
        "",
        "| " + " | ".join(SUMMARY_COLUMNS) + " |",
        "|" + " --- |" * len(SUMMARY_COLUMNS),
    ]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in summary_row(r)) + " |" for r in order]
    for report in order:
        lines += ["", f"## {report.path}", ""]
        if report.result is None:
            lines.append(f"error: {report.error}")
        else:
            lines.append(to_markdown(report.result).rstrip("\n"))
    return "\n".join(lines) + "\n"
