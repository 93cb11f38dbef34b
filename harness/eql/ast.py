"""The typed syntax tree of an EQL statement, and its printer.

A single-event query is a :class:`Query`; sequences, samples and pipes are the
statement nodes (:class:`Sequence`, :class:`Sample`, :class:`Piped`) built from it,
shaped as Elasticsearch's grammar (``EqlBase.g4``: ``statement : query pipe*``) has them.

Nodes are frozen dataclasses so that a parsed tree can be compared with ``==``
against one built by hand. Every node carries the ``span`` (start and end offsets
in the query text) it came from; spans are left out of equality and repr, so a
hand-built tree without positions still equals the parsed one.

The printer lives here, as :func:`ast.unparse` does in Python's own ``ast``: it
writes a tree back as normalized EQL that parses to the same tree, and
``str(query)`` is that text, so the tree and its printed form need no import
circle between two modules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeAlias

from harness.eql.lexer import KEYWORDS

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
    "MaxSpan",
    "Negate",
    "Not",
    "Or",
    "Pipe",
    "Piped",
    "Query",
    "Sample",
    "Sequence",
    "Span",
    "Stage",
    "Statement",
    "Value",
    "children",
    "format_expr",
    "format_literal",
    "format_query",
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
        return format_query(self)


@dataclass(frozen=True)
class MaxSpan:
    """``with maxspan=VALUE UNIT``, kept as written (``timeUnit : number unit=IDENTIFIER?``).

    The grammar takes any number and any identifier; the verifier checks what
    Elasticsearch's ``LogicalPlanBuilder.visitSequenceParams`` checks (a positive integer,
    a unit among ms, s, m, h, d).
    """

    value: int | float
    unit: str | None
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)

    @property
    def millis(self) -> int | None:
        """The span in milliseconds, or None when the value or unit is not one Elasticsearch takes."""
        factor = _UNIT_MILLIS.get(self.unit or "")
        if factor is None or isinstance(self.value, float) or self.value <= 0:
            return None
        return self.value * factor


# LogicalPlanBuilder.visitSequenceParams: the units of a maxspan, case-sensitive.
_UNIT_MILLIS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


@dataclass(frozen=True)
class Stage:
    """One bracketed query of a sequence or sample: ``[query] by keys with runs=N``.

    ``missing`` is the missing-event form ``![query]``; ``keys`` are the stage's own join
    keys (the sequence's shared ``by`` keys are on the :class:`Sequence`); ``runs`` is
    None when no ``with runs`` is written. ``span`` covers the brackets.
    """

    query: Query
    keys: tuple[Field, ...] = ()
    runs: int | float | None = None
    missing: bool = False
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Sequence:
    """``sequence [by keys] [with maxspan=N] stage stage... [until stage]``.

    ``span`` is where the ``sequence`` keyword stands, so errors can name it.
    """

    stages: tuple[Stage, ...]
    keys: tuple[Field, ...] = ()
    maxspan: MaxSpan | None = None
    until: Stage | None = None
    source: str = field(default="", compare=False, repr=False)
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)

    def __str__(self) -> str:
        return format_query(self)


@dataclass(frozen=True)
class Sample:
    """``sample [by keys] stage stage...``: no maxspan, runs or until in the grammar."""

    stages: tuple[Stage, ...]
    keys: tuple[Field, ...] = ()
    source: str = field(default="", compare=False, repr=False)
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)

    def __str__(self) -> str:
        return format_query(self)


@dataclass(frozen=True)
class Pipe:
    """``| name arg, ...`` (``pipe : PIPE kind=IDENTIFIER (booleanExpression (COMMA ...)*)?``)."""

    name: str
    args: tuple[Expr, ...] = ()
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Piped:
    """A query of any kind followed by its pipes, in order."""

    query: Query | Sequence | Sample
    pipes: tuple[Pipe, ...]
    source: str = field(default="", compare=False, repr=False)

    def __str__(self) -> str:
        return format_query(self)


Statement: TypeAlias = Query | Sequence | Sample | Piped
"""Anything Elasticsearch's ``singleStatement`` accepts and runs."""


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


_IDENT = re.compile(r"[A-Za-z_@][A-Za-z0-9_]*\Z")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}

# Binding strength: a child printed where a stronger one is required gets parentheses.
# `:`, like, regex and in bind to a primary (EqlBase.g4: primaryExpression predicate?),
# so they print at the unary level and their subject must be a primary.
_OR, _AND, _NOT, _PREDICATE, _ADD, _MUL, _UNARY, _PRIMARY = range(1, 9)


def format_query(query: Statement) -> str:
    """``query`` as normalized EQL on one line: what ``str(query)`` gives, and parses back to ``query``."""
    match query:
        case Query(category=category, condition=condition):
            shown = "any" if category is None else _category(category)
            return f"{shown} where {format_expr(condition)}"
        case Sequence(stages=stages, keys=keys, maxspan=maxspan, until=until):
            parts = ["sequence", *_by(keys)]
            if maxspan is not None:
                parts.append(f"with maxspan={_number(maxspan.value)}{maxspan.unit or ''}")
            parts.extend(_stage(stage) for stage in stages)
            if until is not None:
                parts.append("until " + _stage(until))
            return " ".join(parts)
        case Sample(stages=stages, keys=keys):
            return " ".join(["sample", *_by(keys), *(_stage(stage) for stage in stages)])
        case Piped(query=inner, pipes=pipes):
            return " ".join([format_query(inner), *(_pipe(pipe) for pipe in pipes)])
    raise TypeError(f"not an EQL statement: {query!r}")


def _by(keys: tuple[Field, ...]) -> list[str]:
    return ["by " + ", ".join(format_expr(key) for key in keys)] if keys else []


def _stage(stage: Stage) -> str:
    text = ("![" if stage.missing else "[") + format_query(stage.query) + "]"
    text = " ".join([text, *_by(stage.keys)])
    if stage.runs is not None:
        text += f" with runs={_number(stage.runs)}"
    return text


def _pipe(pipe: Pipe) -> str:
    args = ", ".join(format_expr(arg) for arg in pipe.args)
    return f"| {pipe.name} {args}" if args else f"| {pipe.name}"


def _number(value: int | float) -> str:
    return repr(value)


def format_expr(node: Expr, required: int = _OR) -> str:
    """``node`` as EQL, in parentheses where it binds looser than ``required`` (a binding level)."""
    text, strength = _format(node)
    return f"({text})" if strength < required else text


def format_literal(value: Value) -> str:
    """A constant as EQL writes it: ``null``, ``true``, a double-quoted escaped string, a number."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return '"' + "".join(_escape(ch) for ch in value) + '"'
    return repr(value)


def _format(node: Expr) -> tuple[str, int]:
    match node:
        case Literal(value=value):
            # A negative number is written with a unary minus, which binds looser than a primary.
            negative = (
                isinstance(value, (int, float)) and not isinstance(value, bool) and str(value)[0] == "-"
            )
            return format_literal(value), _UNARY if negative else _PRIMARY
        case Field():
            return ("?" if node.optional else "") + _field_name(node.path), _PRIMARY
        case FunctionCall(name=name, args=args, insensitive=insensitive):
            inner = ", ".join(format_expr(arg) for arg in args)
            return f"{name}{'~' if insensitive else ''}({inner})", _PRIMARY
        case Negate(operand=operand):
            # A unary operand needs no parentheses: "- -x" nests as deep as it reads.
            return "-" + format_expr(operand, _UNARY), _UNARY
        case Arithmetic(op=op, left=left, right=right):
            level = _ADD if op in "+-" else _MUL
            return f"{format_expr(left, level)} {op} {format_expr(right, level + 1)}", level
        case Comparison(op=op, left=left, right=right):
            return f"{format_expr(left, _ADD)} {op} {format_expr(right, _ADD)}", _PREDICATE
        case Match(op=op, subject=subject, patterns=patterns):
            if len(patterns) == 1:
                rhs = format_literal(patterns[0].value)
            else:
                rhs = "(" + ", ".join(format_literal(p.value) for p in patterns) + ")"
            return f"{format_expr(subject, _PRIMARY)} {op} {rhs}", _UNARY
        case InSet(subject=subject, values=values, insensitive=insensitive, negated=negated):
            op = ("not in" if negated else "in") + ("~" if insensitive else "")
            items = ", ".join(format_expr(v) for v in values)
            return f"{format_expr(subject, _PRIMARY)} {op} ({items})", _UNARY
        case Not(operand=operand):
            return "not " + format_expr(operand, _NOT), _NOT
        case And(operands=operands):
            return " and ".join(format_expr(o, _NOT) for o in operands), _AND
        case Or(operands=operands):
            return " or ".join(format_expr(o, _AND) for o in operands), _OR
    raise TypeError(f"cannot print node {node!r}")


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"\\u{{{ord(ch):02X}}}"
    return ch


def _field_name(path: tuple[str, ...]) -> str:
    if all(_IDENT.match(part) and part not in KEYWORDS for part in path):
        return ".".join(path)
    return "`" + ".".join(path).replace("`", "``") + "`"


def _category(name: str) -> str:
    if _IDENT.match(name) and name not in KEYWORDS:
        return name
    return format_literal(name)
