"""Killing mutants: does the expectation suite notice when the query changes?

A mutant is killed when its run reports a violation or a broken budget that the
original's run does not: the suite's verdict changes. Alert counts moving inside a
cell that a ``known-gap`` or ``known-noise`` entry excuses do not kill; such a survivor
names the cells, so a reviewer can tighten the expectation.

Two suites may judge a mutant: the scenario catalogue (the documents given) and the
scenarios derived from the original query (a witness of the original that a mutant
misses, a near miss it alerts on). The report scores each alone and both together.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.eql.ast import Query
from harness.eql.matcher import Matcher, compile_query, compile_statement, parse_statement
from harness.eql.search import Searcher
from harness.mutation.operators import Mutant, generate_mutants
from harness.rules import Rule
from harness.validation.derived import DerivedResult, DerivedSuite, judge_derived
from harness.validation.expectations import Expectations
from harness.validation.runner import ValidationResult, alert_summary, run_validation
from harness.validation.scope import RuleScope
from harness.validation.sequences import in_sequence, run_sequence_validation

Compiled = Matcher | Searcher

__all__ = ["CATALOGUE", "DERIVED", "CellChange", "MutantResult", "MutationReport", "mutation_test"]

CATALOGUE = "catalogue"
DERIVED = "derived"


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
    # "key / source: kind" of derived cases the mutant gets wrong and the original does not.
    derived_violations: tuple[str, ...] = ()
    suites: tuple[str, ...] = (CATALOGUE,)  # which suites judged it

    @property
    def killed_by_catalogue(self) -> bool:
        return bool(self.new_violations or self.broken_budgets)

    @property
    def killed_by_derived(self) -> bool:
        return bool(self.derived_violations)

    @property
    def killed(self) -> bool:
        return self.killed_by_catalogue or self.killed_by_derived

    @property
    def killed_by(self) -> list[str]:
        return [
            suite
            for suite, killed in ((CATALOGUE, self.killed_by_catalogue), (DERIVED, self.killed_by_derived))
            if killed
        ]

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
            return "; ".join(
                (
                    *self.new_violations,
                    *(f"budget broken: {b}" for b in self.broken_budgets),
                    *_first(tuple(f"derived {v}" for v in self.derived_violations)),
                )
            )
        if self.changed_cells:
            cells = ", ".join(f"{c.scenario} / {c.source} ({c.status})" for c in self.changed_cells)
            return f"expectation too loose: alert counts change in {cells} and no expectation objects"
        if self.other_differences:
            return "changes alerts only on events that are not judged (chain context or unlabelled)"
        if self.suites == (DERIVED,):
            return "equivalent on the derived scenarios: no witness or near miss distinguishes it"
        if DERIVED in self.suites:
            return (
                "equivalent on this corpus: no scenario in the catalogue distinguishes it, "
                "nor any derived witness or near miss"
            )
        return "equivalent on this corpus: no scenario in the catalogue distinguishes it"

    def as_dict(self) -> dict[str, Any]:
        return {
            "operator": self.mutant.operator,
            "description": self.description,
            "query": self.query,
            "killed": self.killed,
            "killed_by": self.killed_by,
            "reason": self.reason,
            "new_violations": list(self.new_violations),
            "broken_budgets": list(self.broken_budgets),
            "changed_cells": [change.as_dict() for change in self.changed_cells],
            "other_differences": [dict(row) for row in self.other_differences],
            "derived_violations": list(self.derived_violations),
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
    suites: tuple[str, ...] = (CATALOGUE,)  # what judged the mutants: the catalogue, derived scenarios

    @property
    def killed(self) -> list[MutantResult]:
        return [r for r in self.results if r.killed]

    @property
    def survivors(self) -> list[MutantResult]:
        return [r for r in self.results if not r.killed]

    @property
    def score(self) -> float:
        """Killed share of the distinct mutants, by every suite that ran; 1.0 when there are none."""
        return len(self.killed) / len(self.results) if self.results else 1.0

    def scores(self) -> dict[str, tuple[int, float]]:
        """Mutants killed and the score per suite alone, and for both when both ran."""
        total = len(self.results)
        found = {}
        for suite in self.suites:
            killed = sum(1 for r in self.results if suite in r.killed_by)
            found[suite] = (killed, killed / total if total else 1.0)
        if len(self.suites) > 1:
            found["both"] = (len(self.killed), self.score)
        return found

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
            "suites": list(self.suites),
            "scores": {
                name: {"killed": killed, "score": score} for name, (killed, score) in self.scores().items()
            },
            "survivors": [r.as_dict() for r in self.survivors],
            "killed_mutants": [r.as_dict() for r in self.killed],
        }


def _first(items: tuple[str, ...], shown: int = 5) -> tuple[str, ...]:
    """A few of ``items``, and how many more there are: a reason is read, not searched."""
    if len(items) <= shown:
        return items
    return (*items[:shown], f"{len(items) - shown} more")


def mutation_test(
    rule: Rule,
    expectations: Expectations,
    documents: Iterable[Mapping[str, Any]] | None,
    *,
    engine: str = "compiled",
    scope: RuleScope | None = None,
    derived: DerivedSuite | None = None,
) -> MutationReport:
    """Run the expectation suite on every mutant of ``rule``'s query over ``documents``.

    ``documents`` (the catalogue's, None for none) is read once into memory (the
    scenarios corpus is a few hundred events); each mutant is compiled with ``engine``
    and judged on all of them, and on ``derived``'s witnesses and near misses when given.
    """
    started = time.perf_counter()
    suites = tuple(
        s for s, given in ((CATALOGUE, documents is not None), (DERIVED, derived is not None)) if given
    )
    if not suites:
        raise ValueError("mutation testing needs the catalogue's documents, derived scenarios, or both")
    corpus: Sequence[Mapping[str, Any]] = list(documents or ())
    generated = generate_mutants(rule.query)
    original_matcher = _compile(rule.query, engine)
    original = _validate(original_matcher, corpus, expectations, rule, scope)
    original_hits = _hits(original_matcher, corpus, scope)
    original_derived = _derived(original_matcher, derived, expectations)
    report = MutationReport(
        rule.name, rule.version, generated.original, invalid=generated.invalid, suites=suites
    )
    report.original_passed = (documents is None or original.passed) and (
        original_derived is None or original_derived.passed
    )
    for mutant in generated.mutants:
        matcher = _compile(mutant.query, engine)
        result = _validate(matcher, corpus, expectations, rule, scope)
        judged = _judge(mutant, original, result, _hits(matcher, corpus, scope), corpus, original_hits)
        report.results.append(
            dataclasses.replace(
                judged,
                derived_violations=_new_derived(original_derived, _derived(matcher, derived, expectations)),
                suites=suites,
            )
        )
    report.seconds = time.perf_counter() - started
    return report


def _compile(text: str, engine: str) -> Compiled:
    """A single-event query as a Matcher; a sequence, sample or piped one as a Searcher."""
    if isinstance(parse_statement(text), Query):
        return compile_query(text, engine=engine)
    return compile_statement(text, engine=engine)


def _hits(matcher: Compiled, corpus: Sequence[Mapping[str, Any]], scope: RuleScope | None) -> list[bool]:
    """Each document's verdict: it alerts, or it is in a sequence the search finds."""
    judge = in_sequence(matcher, corpus, scope or RuleScope()) if isinstance(matcher, Searcher) else matcher
    return [judge.matches(doc) for doc in corpus]


def _derived(
    matcher: Compiled, suite: DerivedSuite | None, expectations: Expectations
) -> DerivedResult | None:
    return None if suite is None else judge_derived(matcher, suite, expectations, explain=False)


def _new_derived(original: DerivedResult | None, mutated: DerivedResult | None) -> tuple[str, ...]:
    """Derived cases the mutant gets wrong and the original does not, as "key / source: kind"."""
    if original is None or mutated is None:
        return ()
    before = {(o.case.id, o.source) for o in original.violations}
    return tuple(
        f"{o.case.key} / {o.source}: {'witness silent' if o.case.kind == 'witness' else 'near miss alerts'}"
        for o in mutated.violations
        if (o.case.id, o.source) not in before
    )


def _validate(
    matcher: Compiled,
    corpus: Sequence[Mapping[str, Any]],
    expectations: Expectations,
    rule: Rule,
    scope: RuleScope | None,
) -> ValidationResult:
    if isinstance(matcher, Searcher):
        return run_sequence_validation(
            matcher, corpus, expectations, rule_name=rule.name, rule_version=rule.version, scope=scope
        )
    return run_validation(
        matcher, corpus, expectations, rule_name=rule.name, rule_version=rule.version, scope=scope
    )


def _judge(
    mutant: Mutant,
    original: ValidationResult,
    result: ValidationResult,
    hits: Sequence[bool],
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
        others = tuple(_other_differences(hits, corpus, original_hits))
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
    hits: Sequence[bool], corpus: Sequence[Mapping[str, Any]], original_hits: Sequence[bool], limit: int = 3
) -> Iterable[dict[str, str]]:
    """Up to ``limit`` documents the mutant and the original judge differently, summarized."""
    found = 0
    for doc, hit, was in zip(corpus, hits, original_hits, strict=True):
        if hit != was:
            labels = doc.get("labels")
            row = alert_summary(doc)
            if isinstance(labels, Mapping):
                row["labels"] = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
            yield row
            found += 1
            if found == limit:
                return
