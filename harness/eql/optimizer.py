"""The rewrites of Elasticsearch's EQL optimizer that change what a query returns.

Elasticsearch rewrites the condition before it builds any query. Most of its rules
(constant folding, regex-to-term, wildcard-to-like) only change the form, but two
change the outcome on some events, so the reference evaluator applies them too:

* ``LiteralsOnTheRight``: ``5 < x`` becomes ``x > 5``;
* ``SimplifyComparisonsArithmetics``: ``x + 2 > 5`` becomes ``x > 3``, ``x * 4 > 8``
  becomes ``x > 2`` (when exact), ``-x > 5`` becomes ``x < -5``. The rewritten form
  is a range query, so an ``x`` whose arithmetic would overflow a long no longer
  fails the search.

Not applied, because Elasticsearch removed them from EQL in 7.15 (they are wrong on
multi-valued fields): merging ranges, propagating equalities, pushing negations down.
"""

from __future__ import annotations

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
)

__all__ = ["optimize"]

_REVERSED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def optimize(node: Expr) -> Expr:
    """``node`` rewritten bottom-up until no rule applies."""
    match node:
        case And(operands=operands):
            return And(tuple(optimize(o) for o in operands), node.span)
        case Or(operands=operands):
            return Or(tuple(optimize(o) for o in operands), node.span)
        case Not(operand=operand):
            return Not(optimize(operand), node.span)
        case Comparison():
            return _comparison(node)
        case Match() | InSet() | FunctionCall() | Arithmetic() | Negate() | Literal():
            return node
    return node


def _comparison(node: Comparison) -> Expr:
    if isinstance(node.left, Literal) and not isinstance(node.right, Literal):
        node = Comparison(_REVERSED[node.op], node.right, node.left, node.span)
    while True:
        simpler = _simplify_arithmetic(node)
        if simpler is None:
            return node
        node = simpler


def _integer(node: Expr) -> int | None:
    if isinstance(node, Literal) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    return None


def _simplify_arithmetic(node: Comparison) -> Comparison | None:
    """One step of ``SimplifyComparisonsArithmetics``, for fixed-point literals only."""
    bound = _integer(node.right)
    if bound is None:
        return None
    left = node.left
    if isinstance(left, Negate):
        folded = -bound
        return (
            Comparison(_REVERSED[node.op], left.operand, Literal(folded), node.span)
            if _fits(folded)
            else None
        )
    if not isinstance(left, Arithmetic) or isinstance(left.left, Literal):
        return None
    operand = _integer(left.right)
    if operand is None:
        return None
    if left.op == "+":
        folded = bound - operand
    elif left.op == "-":
        folded = bound + operand
    elif left.op == "*":
        # The inverse is a division: only when it stays exact, never by zero.
        if operand == 0 or bound % operand != 0:
            return None
        folded = abs(bound) // abs(operand) * (1 if (bound >= 0) == (operand > 0) else -1)
    else:
        return None  # integer division and modulo are never simplified
    if not _fits(folded):
        return None
    op = _REVERSED[node.op] if left.op == "*" and operand < 0 else node.op
    return Comparison(op, left.left, Literal(folded), node.span)


def _fits(value: int) -> bool:
    return _LONG_MIN <= value <= _LONG_MAX
