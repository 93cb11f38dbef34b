"""Candidate rule changes read off the rule's own known gaps, each measured before anyone writes it.

A known gap is a malicious scenario the rule misses on purpose-or-not. Where the miss is
an argument flag the rule's pattern list does not cover (``-text:*`` where the rule asks
for ``/text*``), widening that pattern list is the obvious fix, and its price is the noise
the wider pattern brings. Each proposal is run over the labelled catalogue (detection)
and over fleet background (noise), so the trade-off is a number, not a guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from harness.eql import compile_query, parse_query
from harness.eql.ast import And, Expr, Field, Literal, Match, Not, Or, Query, format_expr, format_query
from harness.eql.fields import field_values
from harness.validation import Expectations, run_validation
from harness.validation.runner import ValidationResult
from harness.validation.scope import RuleScope

__all__ = ["Proposal", "propose"]


@dataclass(frozen=True)
class Proposal:
    """One candidate query and what it would do, next to the rule as it is."""

    description: str
    query: str
    detection_rate: float | None
    precision: float | None
    false_positives_per_million: float | None
    newly_detected: tuple[str, ...]  # malicious scenarios missed before, with how many sources
    new_noise: tuple[str, ...]  # benign scenarios silent before, with how many sources

    def as_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "query": self.query,
            "detection_rate": self.detection_rate,
            "precision": self.precision,
            "false_positives_per_million": self.false_positives_per_million,
            "newly_detected": list(self.newly_detected),
            "new_noise": list(self.new_noise),
        }


def propose(
    query_text: str,
    expectations: Expectations,
    catalogue: Sequence[Mapping[str, Any]],
    fleet: Sequence[Mapping[str, Any]],
    *,
    scope: RuleScope | None = None,
) -> list[Proposal]:
    """The rule as it is first, then one proposal per uncovered flag, then all of them together."""
    query = parse_query(query_text)
    measure = partial(_measure, expectations=expectations, catalogue=catalogue, fleet=fleet, scope=scope)
    baseline = measure("the rule as it is", query, None, None)
    proposals = [baseline]
    widenings: list[tuple[Match, str]] = []
    for match in _flag_matches(query.condition):
        for flag in _uncovered_flags(match, baseline[1], catalogue):
            widenings.append((match, flag))
    for match, pattern in widenings:
        variant = _widen(query, {id(match): (pattern,)})
        description = f"add {pattern!r} to {format_expr(match)}"
        proposals.append(measure(description, variant, *baseline[1:]))
    if len(widenings) > 1:
        grouped: dict[int, tuple[str, ...]] = {}
        for match, pattern in widenings:
            grouped[id(match)] = (*grouped.get(id(match), ()), pattern)
        variant = _widen(query, grouped)
        every = ", ".join(repr(p) for _, p in widenings)
        proposals.append(measure(f"add all of {every}", variant, *baseline[1:]))
    return [p if isinstance(p, Proposal) else p[0] for p in proposals]


def _measure(
    description: str,
    query: Query,
    base_catalogue: ValidationResult | None,
    base_fleet: ValidationResult | None,
    *,
    expectations: Expectations,
    catalogue: Sequence[Mapping[str, Any]],
    fleet: Sequence[Mapping[str, Any]],
    scope: RuleScope | None,
) -> Any:
    text = format_query(query)
    matcher = compile_query(text, engine="compiled")
    on_catalogue = run_validation(matcher, catalogue, expectations, rule_name=description, scope=scope)
    on_fleet = run_validation(matcher, fleet, expectations, rule_name=description, scope=scope)
    newly, noise = _changes(base_catalogue, on_catalogue)
    proposal = Proposal(
        description,
        text,
        on_catalogue.detection_rate,
        on_catalogue.precision,
        on_fleet.false_positives_per_million,
        newly,
        noise,
    )
    if base_catalogue is None:
        return proposal, on_catalogue, on_fleet
    return proposal


def _changes(
    before: ValidationResult | None, after: ValidationResult
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if before is None:
        return (), ()
    newly: dict[str, int] = {}
    noise: dict[str, int] = {}
    for key, cell in after.cells.items():
        old = before.cells.get(key)
        if old is None or cell.alerts <= old.alerts:
            continue
        if cell.intent == "malicious":
            newly[cell.scenario] = newly.get(cell.scenario, 0) + 1
        elif cell.intent == "benign":
            noise[cell.scenario] = noise.get(cell.scenario, 0) + 1
    return _by_scenario(newly), _by_scenario(noise)


def _by_scenario(sources: Mapping[str, int]) -> tuple[str, ...]:
    """``scenario (N sources)``: one line a scenario, however many sources it changed in."""
    return tuple(f"{s} ({n} source{'s' if n > 1 else ''})" for s, n in sorted(sources.items()))


def _is_flag(text: object) -> bool:
    return isinstance(text, str) and text[:1] in ("/", "-")


def _flag_matches(condition: Expr, negated: bool = False) -> list[Match]:
    """``field : ("/flag*", ...)`` predicates a new flag spelling would widen; never one under ``not``,
    where a wider pattern would exclude more, not detect more."""
    if isinstance(condition, Not):
        return _flag_matches(condition.operand, not negated)
    if isinstance(condition, And | Or):
        return [m for operand in condition.operands for m in _flag_matches(operand, negated)]
    if (
        not negated
        and isinstance(condition, Match)
        and condition.op == ":"
        and isinstance(condition.subject, Field)
        and any(_is_flag(p.value) for p in condition.patterns)
    ):
        return [condition]
    return []


def _uncovered_flags(
    match: Match, baseline: ValidationResult, catalogue: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Flag patterns (``-text*`` from ``-text:*``) of the known-gap misses this predicate does not cover."""
    assert isinstance(match.subject, Field)
    path = match.subject.path
    probe = compile_query(f"any where {format_expr(match)}")
    gaps = {
        key
        for key, cell in baseline.cells.items()
        if cell.intent == "malicious" and cell.expectation.status == "known-gap" and cell.alerts < cell.events
    }
    found: list[str] = []
    for doc in catalogue:
        labels = doc.get("labels")
        if not isinstance(labels, Mapping) or (labels.get("scenario"), labels.get("source")) not in gaps:
            continue
        for value in field_values(doc, path):
            if not _is_flag(value) or probe.matches(_nested(path, [value])):
                continue
            # ':' folds ASCII case, so one lower-case spelling stands for every casing.
            found.append(str(value).split(":", 1)[0].lower() + "*")
    return _without_subsumed(found)


def _without_subsumed(patterns: list[str]) -> list[str]:
    """Drop a ``prefix*`` pattern another, shorter one already covers (``/@text*`` under ``/@t*``)."""
    kept: list[str] = []
    for pattern in sorted(set(patterns), key=lambda p: (len(p), p)):
        if not any(pattern.startswith(k[:-1]) for k in kept):
            kept.append(pattern)
    return sorted(kept, key=patterns.index)


def _nested(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc: Any = value
    for key in reversed(path):
        doc = {key: doc}
    return dict(doc)


def _widen(query: Query, additions: Mapping[int, tuple[str, ...]]) -> Query:
    """``query`` with the patterns in ``additions`` appended to the Match nodes they name (by id)."""

    def rebuild(node: Expr) -> Expr:
        if isinstance(node, Match) and id(node) in additions:
            extra = tuple(Literal(p) for p in additions[id(node)])
            return replace(node, patterns=node.patterns + extra)
        if isinstance(node, And | Or):
            return replace(node, operands=tuple(rebuild(o) for o in node.operands))
        if isinstance(node, Not):
            return replace(node, operand=rebuild(node.operand))
        return node

    return replace(query, condition=rebuild(query.condition))
