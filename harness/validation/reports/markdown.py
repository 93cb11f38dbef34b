"""Markdown, for pull requests."""

from __future__ import annotations

from harness.validation.reports.common import percent, rate, source_rows, summary_rows, unread_note
from harness.validation.reports.derived import derived_markdown
from harness.validation.reports.exceptions import exceptions_markdown
from harness.validation.runner import ValidationResult

__all__ = ["to_markdown"]


def to_markdown(result: ValidationResult) -> str:
    title = f"{result.rule_name}" + (
        f" (version {result.rule_version})" if result.rule_version is not None else ""
    )
    lines = [f"### {title}: {'passed' if result.passed else 'FAILED'}"]
    if result.corpus_run:
        lines += _corpus_lines(result)
    else:
        lines += ["", "No scenario catalogue covers this rule: judged on its derived scenarios."]
    if result.derived is not None:
        lines += derived_markdown(result.derived)
    return "\n".join(lines) + "\n"


def _corpus_lines(result: ValidationResult) -> list[str]:
    lines = ["", f"Corpus: {result.corpus}", ""]
    lines += ["| metric | value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in summary_rows(result)]
    if result.sources:
        lines += ["", f"Indices: `{result.scope.indices}`", ""]
        lines += ["| source | index | read | events |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {name} | `{index}` | {read} | {events} |" for name, index, read, events in source_rows(result)
        ]
        if note := unread_note(result):
            lines += ["", note]
    alerted = "in a found sequence" if result.sequences is not None else "alerted"
    lines += [
        "",
        f"| scenario | intent | expected | {alerted} | detection |",
        "| --- | --- | --- | --- | --- |",
    ]
    for scenario, (intent, events, alerts) in sorted(result.scenario_rates().items()):
        expected = sorted(
            {
                c.expectation.verdict
                + ("" if c.expectation.status == "expected" else f" ({c.expectation.status})")
                for c in result.cells.values()
                if c.scenario == scenario
            }
        )
        lines.append(
            f"| `{scenario}` | {intent} | {', '.join(expected)} | {alerts:,} / {events:,} | "
            f"{percent(alerts / events if events else None)} |"
        )
    if result.budget_checks:
        lines += ["", "| budget | limit | actual | |", "| --- | --- | --- | --- |"]
        for check in result.budget_checks:
            verdict = (
                f"not judged: {check.skipped}" if check.skipped else ("ok" if check.passed else "FAILED")
            )
            lines.append(f"| {check.name} | {check.limit} | {rate(check.actual, 3)} | {verdict} |")
    lines += exceptions_markdown(result)
    if result.sequences is not None and result.sequences.examples:
        lines += _found_lines(result)
    if result.violations:
        lines += ["", "Violations:", ""]
        lines += [
            f"- {v.kind}: `{v.scenario}` in `{v.source}`: {v.wrong} of {v.events} (expected {v.expected})"
            for v in result.violations
        ]
    return lines


FOUND_SHOWN = 5


def _found_lines(result: ValidationResult) -> list[str]:
    """The first sequences found, each as its events: what a reviewer opens first."""
    tally = result.sequences
    assert tally is not None
    lines = ["", f"First {min(FOUND_SHOWN, tally.found)} of {tally.found:,} found:", ""]
    for number, example in enumerate(tally.examples[:FOUND_SHOWN], 1):
        keys = ", ".join(f"`{key}`" for key in example.join_keys)
        lines.append(f"{number}. {example.attribution}" + (f", joined on {keys}" if keys else ""))
        for event in example.events:
            shown = " ".join(f"{value}" for value in event.values() if value) if event else "(missing event)"
            lines.append(f"   - {shown}")
    return lines
