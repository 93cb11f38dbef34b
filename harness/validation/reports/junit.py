"""JUnit XML: a test case per scenario and source, and per budget; a failure per violation."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import orjson

from harness.validation.exception_effect import exception_effect
from harness.validation.reports.common import percent, source_rows
from harness.validation.reports.derived import derived_junit
from harness.validation.reports.exceptions import effect_findings
from harness.validation.runner import ValidationResult

__all__ = ["to_junit"]


def to_junit(result: ValidationResult) -> str:
    suite_name = (
        f"{result.rule_name} (version {result.rule_version})"
        if result.rule_version is not None
        else result.rule_name
    )
    suites = ET.Element("testsuites", name="harness validate")
    cases = failures = 0
    if result.corpus_run:
        cases, failures = _corpus_suite(suites, result, suite_name)
    if result.derived is not None:
        derived_cases, derived_failures = derived_junit(suites, result.derived, suite_name)
        cases, failures = cases + derived_cases, failures + derived_failures
    suites.set("tests", str(cases))
    suites.set("failures", str(failures))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _corpus_suite(suites: ET.Element, result: ValidationResult, suite_name: str) -> tuple[int, int]:
    """The corpus's scenarios: a test case per scenario and source, and per budget."""
    suite = ET.SubElement(suites, "testsuite", name=suite_name)
    if result.sources:
        # Which sources the rule's indices read: shown by CI servers beside the suite, not as tests.
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="indices", value=str(result.scope.indices))
        for name, index, read, events in source_rows(result):
            ET.SubElement(
                properties, "property", name=f"source {name}", value=f"{read}: {index}, {events} events"
            )
    violations = {(v.scenario, v.source): v for v in result.violations}
    failures = 0
    cases = 0
    for cell in sorted(result.cells.values(), key=lambda c: (c.scenario, c.source)):
        cases += 1
        case = ET.SubElement(suite, "testcase", classname=cell.scenario, name=cell.source)
        violation = violations.get((cell.scenario, cell.source))
        if violation is not None:
            failures += 1
            wrong = f"{violation.wrong} of {violation.events}"
            message = f"{violation.kind}: expected {violation.expected} on {wrong}"
            failure = ET.SubElement(case, "failure", message=message, type=violation.kind)
            failure.text = orjson.dumps(violation.example, option=orjson.OPT_INDENT_2).decode()
        elif cell.expectation.status != "expected":
            skipped = ET.SubElement(
                case, "skipped", message=f"{cell.expectation.status}: {cell.expectation.reason}"
            )
            skipped.text = f"{cell.alerts} of {cell.events} alerted"
    effect = exception_effect(result)
    if effect is not None:
        # One test case for the exceptions: it fails when they hide a detection nothing accepts.
        cases += 1
        case = ET.SubElement(suite, "testcase", classname="exceptions", name="hide no detection")
        if effect.hides_detections:
            failures += 1
            message = f"{effect.detections_lost} malicious alerts removed"
            failure = ET.SubElement(case, "failure", message=message, type="exceptions")
            failure.text = "\n".join(effect_findings(effect))
    for check in result.budget_checks:
        cases += 1
        case = ET.SubElement(suite, "testcase", classname="budgets", name=check.name)
        if check.skipped:
            ET.SubElement(case, "skipped", message=check.skipped)
        elif not check.passed and check.actual is not None:
            failures += 1
            shown = percent(check.actual) if "rate" in check.name else f"{check.actual:,.1f}"
            ET.SubElement(case, "failure", message=f"{shown} against a limit of {check.limit}", type="budget")
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    return cases, failures
