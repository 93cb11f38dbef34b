"""Killing mutants: does the expectation suite notice when the query changes?

A mutant is killed when its run reports a violation or a broken budget that the
original's run does not: the suite's verdict changes. Alert counts moving inside a
cell that a ``known-gap`` or ``known-noise`` entry excuses do not kill; such a survivor
names the cells, so a reviewer can tighten the expectation.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.eql.matcher import Matcher, compile_query
from harness.mutation.operators import Mutant, generate_mutants
from harness.rules import Rule
from harness.validation.expectations import Expectations
from harness.validation.runner import ValidationResult, alert_summary, run_validation
from harness.validation.scope import RuleScope

__all__ = ["CellChange", "MutantResult", "MutationReport", "mutation_test"]


@dataclass(frozen=True)
class CellChange:
    """A scenario x source cell whose alert count the mutant changes."""

    scenario: str
    source: str
    events: int
    original_alerts: int
    mutant_alerts: int
    expected: str
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "source": self.source,
            "events": self.events,
            "original_alerts": self.original_alerts,
            "mutant_alerts": self.mutant_alerts,
            "expected": self.expected,
            "status": self.status,
        }


@dataclass(frozen=True)
class MutantResult:
    """What the suite said about one mutant."""

    mutant: Mutant
    new_violations: tuple[str, ...]  # "scenario / source: kind", absent from the original's run
    broken_budgets: tuple[str, ...]  # budgets the mutant breaks and the original keeps
    changed_cells: tuple[CellChange, ...]
    # Documents outside the judged cells (chain context, unlabelled) on which the two disagree.
    other_differences: tuple[dict[str, str], ...] = ()

    @property
    def killed(self) -> bool:
        return bool(self.new_violations or self.broken_budgets)

    @property
    def description(self) -> str:
        return self.mutant.description

    @property
    def query(self) -> str:
        return self.mutant.query

    @property
    def reason(self) -> str:
        """Why the mutant was killed, or why it survived."""
        if self.killed:
            return "; ".join((*self.new_violations, *(f"budget broken: {b}" for b in self.broken_budgets)))
        if self.changed_cells:
            cells = ", ".join(f"{c.scenario} / {c.source} ({c.status})" for c in self.changed_cells)
            return f"expectation too loose: alert counts change in {cells} and no expectation objects"
        if self.other_differences:
            return "changes alerts only on events that are not judged (chain context or unlabelled)"
        return "equivalent on this corpus: no scenario in the catalogue distinguishes it"

    def as_dict(self) -> dict[str, Any]:
        return {
            "operator": self.mutant.operator,
            "description": self.description,
            "query": self.query,
            "killed": self.killed,
            "reason": self.reason,
            "new_violations": list(self.new_violations),
            "broken_budgets": list(self.broken_budgets),
            "changed_cells": [change.as_dict() for change in self.changed_cells],
            "other_differences": [dict(row) for row in self.other_differences],
        }


@dataclass
class MutationReport:
    rule_name: str
    rule_version: int | None
    query: str
    results: list[MutantResult] = field(default_factory=list)
    invalid: int = 0  # changes that did not make a valid query, left out of the score
    original_passed: bool = True
    seconds: float = 0.0

    @property
    def killed(self) -> list[MutantResult]:
        return [r for r in self.results if r.killed]

    @property
    def survivors(self) -> list[MutantResult]:
        return [r for r in self.results if not r.killed]

    @property
    def score(self) -> float:
        """Killed share of the distinct mutants; 1.0 when there are none."""
        return len(self.killed) / len(self.results) if self.results else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_name,
            "version": self.rule_version,
            "query": self.query,
            "mutants": len(self.results),
            "killed": len(self.killed),
            "invalid": self.invalid,
            "score": self.score,
            "original_passed": self.original_passed,
            "seconds": self.seconds,
            "survivors": [r.as_dict() for r in self.survivors],
            "killed_mutants": [r.as_dict() for r in self.killed],
        }


def mutation_test(
    rule: Rule,
    expectations: Expectations,
    documents: Iterable[Mapping[str, Any]],
    *,
    engine: str = "compiled",
    scope: RuleScope | None = None,
) -> MutationReport:
    """Run the expectation suite on every mutant of ``rule``'s query over ``documents``.

    ``documents`` is read once into memory (the scenarios corpus is a few hundred
    events); each mutant is compiled with ``engine`` and judged on all of them.
    """
    started = time.perf_counter()
    corpus: Sequence[Mapping[str, Any]] = list(documents)
    generated = generate_mutants(rule.query)
    original_matcher = compile_query(rule.query, engine=engine)
    original = _validate(original_matcher, corpus, expectations, rule, scope)
    original_hits = [original_matcher.matches(doc) for doc in corpus]
    report = MutationReport(rule.name, rule.version, generated.original, invalid=generated.invalid)
    report.original_passed = original.passed
    for mutant in generated.mutants:
        matcher = compile_query(mutant.query, engine=engine)
        result = _validate(matcher, corpus, expectations, rule, scope)
        report.results.append(_judge(mutant, original, result, matcher, corpus, original_hits))
    report.seconds = time.perf_counter() - started
    return report


def _validate(
    matcher: Matcher,
    corpus: Sequence[Mapping[str, Any]],
    expectations: Expectations,
    rule: Rule,
    scope: RuleScope | None,
) -> ValidationResult:
    return run_validation(
        matcher, corpus, expectations, rule_name=rule.name, rule_version=rule.version, scope=scope
    )


def _judge(
    mutant: Mutant,
    original: ValidationResult,
    result: ValidationResult,
    matcher: Matcher,
    corpus: Sequence[Mapping[str, Any]],
    original_hits: Sequence[bool],
) -> MutantResult:
    before = {(v.scenario, v.source, v.kind) for v in original.violations}
    new_violations = tuple(
        f"{v.scenario} / {v.source}: {v.kind} ({v.wrong} of {v.events})"
        for v in result.violations
        if (v.scenario, v.source, v.kind) not in before
    )
    kept = {check.name for check in original.budget_checks if check.passed}
    broken = tuple(check.name for check in result.budget_checks if not check.passed and check.name in kept)
    changes = tuple(_changed_cells(original, result))
    others: tuple[dict[str, str], ...] = ()
    if not changes and not new_violations and not broken:
        others = tuple(_other_differences(matcher, corpus, original_hits))
    return MutantResult(mutant, new_violations, broken, changes, others)


def _changed_cells(original: ValidationResult, result: ValidationResult) -> Iterable[CellChange]:
    for key in sorted(original.cells):
        cell, mutated = original.cells[key], result.cells[key]
        if cell.alerts != mutated.alerts:
            expectation = cell.expectation
            yield CellChange(
                cell.scenario,
                cell.source,
                cell.events,
                cell.alerts,
                mutated.alerts,
                expectation.verdict,
                expectation.status,
            )


def _other_differences(
    matcher: Matcher, corpus: Sequence[Mapping[str, Any]], original_hits: Sequence[bool], limit: int = 3
) -> Iterable[dict[str, str]]:
    """Up to ``limit`` documents the mutant and the original judge differently, summarized."""
    found = 0
    for doc, hit in zip(corpus, original_hits, strict=True):
        if matcher.matches(doc) != hit:
            labels = doc.get("labels")
            row = alert_summary(doc)
            if isinstance(labels, Mapping):
                row["labels"] = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
            yield row
            found += 1
            if found == limit:
                return
