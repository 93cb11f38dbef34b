"""Mutants of a query: each one small change to the syntax tree, printed back as EQL.

The operators are the mistakes a rule author makes or a reviewer should catch: a
condition left out, ``:`` where ``==`` was meant (or the reverse), a wildcard too few,
a constant in the wrong case, a test inverted, ``and`` written for ``or``.
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
    Negate,
    Not,
    Or,
    Query,
    children,
    format_expr,
    format_literal,
    format_query,
)
from harness.eql.matcher import parse_query
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
)

# Pattern operators whose `*` is a wildcard (regex has its own syntax and is left alone).
_WILDCARD_OPS = (":", "like", "like~")
# `:` and the `~` forms ignore case, so upper-casing their patterns could never change an answer.
_CASE_SENSITIVE_OPS = ("like", "regex")


@dataclass(frozen=True)
class Mutant:
    """One small change to a query: its operator, what changed, and the whole query printed."""

    operator: str
    description: str
    query: str


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
    """Every mutant of ``query_text``: those printing as the original or as an earlier
    mutant are dropped, those the parser or checker rejects are counted in ``invalid``."""
    query = parse_query(query_text)
    original = format_query(query)
    seen = {original}
    kept: list[Mutant] = []
    invalid = 0
    for condition, operator, description in _variants(query.condition, boolean=True):
        text = format_query(Query(query.category, condition))
        if text in seen:
            continue
        seen.add(text)
        try:
            parse_query(text)
        except EqlError:
            invalid += 1
            continue
        kept.append(Mutant(operator, description, text))
    return MutantSet(original, tuple(kept), invalid)


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
