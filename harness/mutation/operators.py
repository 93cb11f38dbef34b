"""Mutants of a query: each one small change to the syntax tree, printed back as EQL.

The operators are the mistakes a rule author makes or a reviewer should catch: a
condition left out, ``:`` where ``==`` was meant (or the reverse), a wildcard too few,
a constant in the wrong case, a test inverted, ``and`` written for ``or``. A sequence or
sample takes those inside each stage, and its own: a stage left out or two swapped, a join
key left out, ``maxspan`` halved, doubled or gone, ``until`` gone, ``runs`` one off, a
missing event ``![...]`` gone or made an event the sequence needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from harness.eql.ast import (
    And,
    Arithmetic,
    Comparison,
    Expr,
    FunctionCall,
    InSet,
    Literal,
    Match,
    MaxSpan,
    Negate,
    Not,
    Or,
    Piped,
    Query,
    Sample,
    Sequence,
    Stage,
    Statement,
    children,
    format_expr,
    format_literal,
    format_query,
)
from harness.eql.matcher import parse_statement
from harness.errors import EqlError

__all__ = ["OPERATORS", "Mutant", "MutantSet", "generate_mutants", "mutants"]

# Every kind of change, in the order a report lists them.
OPERATORS = (
    "drop-conjunct",
    "drop-branch",
    "match-to-equals",
    "equals-to-match",
    "drop-wildcard",
    "upper-case",
    "negate",
    "swap-and-or",
    "drop-stage",
    "swap-stages",
    "drop-key",
    "drop-stage-key",
    "halve-maxspan",
    "double-maxspan",
    "drop-maxspan",
    "drop-until",
    "runs-plus-one",
    "runs-minus-one",
    "drop-missing",
    "missing-to-positive",
)

# Pattern operators whose `*` is a wildcard (regex has its own syntax and is left alone).
_WILDCARD_OPS = (":", "like", "like~")
# `:` and the `~` forms ignore case, so upper-casing their patterns could never change an answer.
_CASE_SENSITIVE_OPS = ("like", "regex")


@dataclass(frozen=True)
class Mutant:
    """One small change to a query: its operator, what changed, and the whole statement printed.

    ``query`` is the mutant's EQL text, a sequence's or sample's too (``compile_statement`` runs
    those); ``stage`` is the 1-based stage a change inside a stage was made in (0 for ``until``),
    None for a change to the statement as a whole or to a single-event query.
    """

    operator: str
    description: str
    query: str
    stage: int | None = None


@dataclass(frozen=True)
class MutantSet:
    """The distinct mutants of a query, and how many changes did not make a valid query."""

    original: str
    mutants: tuple[Mutant, ...]
    invalid: int


def mutants(query_text: str) -> list[Mutant]:
    """The distinct, valid mutants of ``query_text``, in tree order.

    >>> [m.query for m in mutants('process where a : "x*"')][:2]
    ['process where a == "x*"', 'process where a : "x"']
    """
    return list(generate_mutants(query_text).mutants)


def generate_mutants(query_text: str) -> MutantSet:
    """Every mutant of ``query_text`` (any statement): those printing as the original or as an
    earlier mutant are dropped, those the parser or checker rejects are counted in ``invalid``."""
    statement = parse_statement(query_text)
    original = format_query(statement)
    seen = {original}
    kept: list[Mutant] = []
    invalid = 0
    for changed, operator, description, stage in _statement_variants(statement):
        text = format_query(changed)
        if text in seen:
            continue
        seen.add(text)
        try:
            parse_statement(text)
        except EqlError:
            invalid += 1
            continue
        kept.append(Mutant(operator, description, text, stage))
    return MutantSet(original, tuple(kept), invalid)


Variant = tuple[Statement, str, str, int | None]


def _statement_variants(statement: Statement) -> Iterator[Variant]:
    """``statement`` with one change: (new statement, operator, description, stage)."""
    match statement:
        case Query():
            for query, operator, description in _query_variants(statement):
                yield query, operator, description, None
        case Piped(query=inner, pipes=pipes):
            for mutated, operator, description, stage in _statement_variants(inner):
                assert not isinstance(mutated, Piped)
                yield Piped(mutated, pipes), operator, description, stage
        case Sequence() | Sample():
            yield from _in_stages(statement)
            yield from _joined_variants(statement)


def _in_stages(statement: Sequence | Sample) -> Iterator[Variant]:
    """The condition mutants of each stage's query (and of ``until``), named by the stage."""
    stages = statement.stages
    for index, stage in enumerate(stages):
        for query, operator, description in _query_variants(stage.query):
            rebuilt = (*stages[:index], replace(stage, query=query), *stages[index + 1 :])
            yield replace(statement, stages=rebuilt), operator, f"stage {index + 1}: {description}", index + 1
    if isinstance(statement, Sequence) and statement.until is not None:
        until = statement.until
        for query, operator, description in _query_variants(until.query):
            yield replace(statement, until=replace(until, query=query)), operator, f"until: {description}", 0


def _query_variants(query: Query) -> Iterator[tuple[Query, str, str]]:
    for condition, operator, description in _variants(query.condition, boolean=True):
        yield Query(query.category, condition), operator, description


def _joined_variants(statement: Sequence | Sample) -> Iterator[Variant]:
    """The changes to the statement's own structure: stages, keys, maxspan, until, runs, missing events."""
    stages = statement.stages
    positive = [index for index, stage in enumerate(stages) if not stage.missing]
    for index, stage in enumerate(stages):
        rest = (*stages[:index], *stages[index + 1 :])
        if stage.missing:
            yield (
                replace(statement, stages=rest),
                "drop-missing",
                f"drop missing event ![...] {index + 1}",
                None,
            )
            made = (*stages[:index], replace(stage, missing=False), *stages[index + 1 :])
            yield replace(statement, stages=made), "missing-to-positive", f"![...] {index + 1} to [...]", None
        elif len(positive) - 1 >= 2:  # a sequence or sample is two or more queries
            yield replace(statement, stages=rest), "drop-stage", f"drop stage {index + 1}", None
    for index in range(len(stages) - 1):
        swapped = (*stages[:index], stages[index + 1], stages[index], *stages[index + 2 :])
        yield (
            replace(statement, stages=swapped),
            "swap-stages",
            f"swap stages {index + 1} and {index + 2}",
            None,
        )
    for index, key in enumerate(statement.keys):
        keys = (*statement.keys[:index], *statement.keys[index + 1 :])
        yield replace(statement, keys=keys), "drop-key", f"drop join key {format_expr(key)}", None
    yield from _stage_key_variants(statement)
    if isinstance(statement, Sequence):
        yield from _sequence_variants(statement)


def _stage_key_variants(statement: Sequence | Sample) -> Iterator[Variant]:
    """Each stage's ``by`` key at one place dropped from every stage (and ``until``): Elasticsearch
    wants as many keys in each (``LogicalPlanBuilder.visitJoinKeys``), so dropping it from one
    stage alone is never a valid query."""
    widths = {len(stage.keys) for stage in statement.stages}
    if len(widths) != 1:
        return
    for place in range(widths.pop()):
        named = ", ".join(dict.fromkeys(format_expr(stage.keys[place]) for stage in statement.stages))

        def without(stage: Stage, place: int = place) -> Stage:
            return replace(stage, keys=(*stage.keys[:place], *stage.keys[place + 1 :]))

        changed = replace(statement, stages=tuple(without(stage) for stage in statement.stages))
        if isinstance(changed, Sequence) and changed.until is not None:
            changed = replace(changed, until=without(changed.until))
        yield changed, "drop-stage-key", f"drop each stage's join key {named}", None


def _sequence_variants(sequence: Sequence) -> Iterator[Variant]:
    span = sequence.maxspan
    millis = None if span is None else span.millis
    if millis is not None:
        halves = [("halve-maxspan", millis // 2)] if millis % 2 == 0 else []
        for operator, scaled in (*halves, ("double-maxspan", millis * 2)):
            changed = _maxspan_of(scaled)
            yield (
                replace(sequence, maxspan=changed),
                operator,
                f"maxspan to {changed.value}{changed.unit}",
                None,
            )
    if span is not None:
        yield replace(sequence, maxspan=None), "drop-maxspan", "drop with maxspan", None
    if sequence.until is not None:
        yield replace(sequence, until=None), "drop-until", "drop until", None
    stages = sequence.stages
    for index, stage in enumerate(stages):
        if stage.runs is None or isinstance(stage.runs, float):
            continue
        for operator, runs in (("runs-plus-one", stage.runs + 1), ("runs-minus-one", stage.runs - 1)):
            repeated = (*stages[:index], replace(stage, runs=runs), *stages[index + 1 :])
            described = f"stage {index + 1}: runs={stage.runs} to runs={runs}"
            yield replace(sequence, stages=repeated), operator, described, index + 1


def _maxspan_of(millis: int) -> MaxSpan:
    """``millis`` in the largest unit that divides it: ``30s``, not ``30000ms``."""
    for unit, factor in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis % factor == 0:
            return MaxSpan(millis // factor, unit)
    return MaxSpan(millis, "ms")


def _variants(node: Expr, *, boolean: bool) -> Iterator[tuple[Expr, str, str]]:
    """``node`` with one change at it or anywhere below it: (new node, operator, description)."""
    yield from _local(node, boolean=boolean)
    kids = children(node)
    kids_boolean = isinstance(node, (And, Or, Not))
    for index, child in enumerate(kids):
        for changed, operator, description in _variants(child, boolean=kids_boolean):
            rebuilt = (*kids[:index], changed, *kids[index + 1 :])
            yield _with_children(node, rebuilt), operator, description


def _local(node: Expr, *, boolean: bool) -> Iterator[tuple[Expr, str, str]]:
    """The changes made at ``node`` itself."""
    match node:
        case And(operands=operands) | Or(operands=operands):
            kind, word = ("drop-conjunct", "conjunct") if isinstance(node, And) else ("drop-branch", "branch")
            for index, operand in enumerate(operands):
                rest = (*operands[:index], *operands[index + 1 :])
                smaller = rest[0] if len(rest) == 1 else replace(node, operands=rest)
                yield smaller, kind, f"drop {word} {format_expr(operand)}"
            swapped: Expr = Or(operands) if isinstance(node, And) else And(operands)
            before, after = ("and", "or") if isinstance(node, And) else ("or", "and")
            yield swapped, "swap-and-or", f"{before} to {after} in {_short(node)}"
        case Match():
            yield from _match_changes(node)
        case Comparison(op="==", left=left, right=Literal(value=str(value)) as right):
            yield Match(":", left, (right,)), "equals-to-match", f'"==" to ":" in {format_expr(node)}'
            if value.upper() != value:
                upper = replace(node, right=Literal(value.upper()))
                yield upper, "upper-case", f"upper-case {format_literal(value)} in {format_expr(node)}"
        case Literal(value=str(value)) if value.upper() != value:
            yield Literal(value.upper()), "upper-case", f"upper-case {format_literal(value)}"
    if boolean and isinstance(node, (Comparison, Match, InSet, FunctionCall)):
        yield Not(node), "negate", f"negate {format_expr(node)}"


def _match_changes(node: Match) -> Iterator[tuple[Expr, str, str]]:
    shown = format_expr(node)
    if node.op == ":":
        if len(node.patterns) == 1:
            equals: Expr = Comparison("==", node.subject, node.patterns[0])
            yield equals, "match-to-equals", f'":" to "==" in {shown}'
        else:
            # `==` takes one value; with a list, `in` is the exact-match counterpart of `:`.
            exact = InSet(node.subject, node.patterns)
            yield exact, "match-to-equals", f'":" to "in" in {shown}'
    for index, pattern in enumerate(node.patterns):
        if not isinstance(pattern.value, str):
            continue
        text = pattern.value
        if node.op in _WILDCARD_OPS:
            for position, char in enumerate(text):
                if char == "*":
                    fewer = Literal(text[:position] + text[position + 1 :])
                    yield (
                        _with_pattern(node, index, fewer),
                        "drop-wildcard",
                        f"drop the * at {position} of {format_literal(text)} in {_short(node)}",
                    )
        if node.op in _CASE_SENSITIVE_OPS and text.upper() != text:
            upper = Literal(text.upper())
            yield (
                _with_pattern(node, index, upper),
                "upper-case",
                f"upper-case {format_literal(text)} in {_short(node)}",
            )


def _with_pattern(node: Match, index: int, pattern: Literal) -> Match:
    patterns = (*node.patterns[:index], pattern, *node.patterns[index + 1 :])
    return replace(node, patterns=patterns)


def _with_children(node: Expr, kids: tuple[Expr, ...]) -> Expr:
    """``node`` with its direct sub-expressions replaced, in the order ``children`` gives them."""
    match node:
        case FunctionCall():
            return replace(node, args=kids)
        case Arithmetic() | Comparison():
            return replace(node, left=kids[0], right=kids[1])
        case Negate() | Not():
            return replace(node, operand=kids[0])
        case Match():
            return replace(node, subject=kids[0])
        case InSet():
            return replace(node, subject=kids[0], values=kids[1:])
        case And() | Or():
            return replace(node, operands=kids)
    raise TypeError(f"{type(node).__name__} has no sub-expressions to replace")


def _short(node: Expr, limit: int = 60) -> str:
    """``node`` printed, cut to ``limit`` characters: enough to find it in the query."""
    text = format_expr(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."
