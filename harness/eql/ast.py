"""The typed syntax tree of a single-event EQL query.

Nodes are frozen dataclasses so that a parsed tree can be compared with ``==``
against one built by hand. Every node carries the ``span`` (start and end offsets
in the query text) it came from; spans are left out of equality and repr, so a
hand-built tree without positions still equals the parsed one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeAlias

__all__ = [
    "And",
    "Arithmetic",
    "Comparison",
    "Expr",
    "Field",
    "FunctionCall",
    "InSet",
    "Literal",
    "Match",
    "Negate",
    "Not",
    "Or",
    "Query",
    "Span",
    "Value",
    "children",
    "walk",
]

Span: TypeAlias = tuple[int, int]
Value: TypeAlias = str | int | float | bool | None

_NO_SPAN: Span = (0, 0)


@dataclass(frozen=True, eq=False)
class Literal:
    """A constant: string, integer, decimal, boolean or null.

    Equality also compares the type, so ``Literal(1)`` differs from ``Literal(True)``
    and ``Literal(1.0)`` (Python alone would call them equal).
    """

    value: Value
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Literal):
            return NotImplemented
        return type(self.value) is type(other.value) and self.value == other.value

    def __hash__(self) -> int:
        return hash((type(self.value), self.value))


@dataclass(frozen=True)
class Field:
    """A field reference such as ``process.pe.original_file_name``; ``?field`` is optional."""

    path: tuple[str, ...]
    optional: bool = False
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class FunctionCall:
    """``name(args...)``; ``insensitive`` is the ``~`` suffix (``startsWith~``)."""

    name: str
    args: tuple[Expr, ...]
    insensitive: bool = False
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Arithmetic:
    """``left op right`` with ``op`` one of ``+ - * / %``."""

    op: str
    left: Expr
    right: Expr
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Negate:
    """Unary minus."""

    operand: Expr
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Comparison:
    """``left op right`` with ``op`` one of ``== != < <= > >=``."""

    op: str
    left: Expr
    right: Expr
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Match:
    """Pattern operators: ``:`` ``like`` ``like~`` ``regex`` ``regex~`` with one or more patterns."""

    op: str
    subject: Expr
    patterns: tuple[Literal, ...]
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class InSet:
    """``subject in (...)``, ``in~``, and their ``not`` forms."""

    subject: Expr
    values: tuple[Expr, ...]
    insensitive: bool = False
    negated: bool = False
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Not:
    operand: Expr
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


Expr: TypeAlias = (
    Literal | Field | FunctionCall | Arithmetic | Negate | Comparison | Match | InSet | Not | And | Or
)


@dataclass(frozen=True)
class Query:
    """``CATEGORY where CONDITION``; ``category`` is None for ``any where``."""

    category: str | None
    condition: Expr
    source: str = field(default="", compare=False, repr=False)

    def __str__(self) -> str:
        from harness.eql.printer import format_query

        return format_query(self)


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``node``, left to right (patterns are not expressions)."""
    match node:
        case Literal() | Field():
            return ()
        case FunctionCall(args=args):
            return args
        case Arithmetic(left=left, right=right) | Comparison(left=left, right=right):
            return (left, right)
        case Negate(operand=operand) | Not(operand=operand):
            return (operand,)
        case Match(subject=subject):
            return (subject,)
        case InSet(subject=subject, values=values):
            return (subject, *values)
        case And(operands=operands) | Or(operands=operands):
            return operands
    raise TypeError(f"not an EQL expression: {node!r}")


def walk(node: Expr) -> Iterator[Expr]:
    """``node`` and every expression below it, depth first, left to right."""
    yield node
    for child in children(node):
        yield from walk(child)
