"""A query as one SQL condition tree (sqlglot) that renders to DuckDB and to Spark SQL.

The tree keeps the reference's semantics where SQL can:

* a field's type comes from the table's schema (Arrow types; Spark's are converted);
  a ``LIST`` column is judged element by element, any element satisfying the
  predicate being enough (:class:`AnyElement`: ``list_filter`` in DuckDB, ``exists``
  in Spark);
* a value of another type than the constant's never matches (JSON's types, as the
  reference takes them without a mapping);
* patterns are whole-value regular expressions (:class:`FullMatch`) with ``[aA]``
  classes for ASCII letters and every other character written as ``\\x{...}``, a
  syntax RE2 (DuckDB) and ``java.util.regex`` (Spark) read the same way, so both fold
  exactly what Elasticsearch folds (never ``lower()``, whose Unicode folding differs);
* ``not``, ``!=`` and ``not in`` negate a predicate that is never NULL (missing fields
  are false before the negation, as in the reference).

What one SQL condition cannot express the same way is refused with
:class:`~harness.errors.EqlUnsupportedError` naming the construct: functions that run
as scripts (``length``, ``concat``...), arithmetic, ``cidrMatch``, lists of lists.
The differential tests hold the rest to the reference's answers, on both engines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import pyarrow as pa
from sqlglot import exp

from harness.eql.ast import (
    And,
    Comparison,
    Expr,
    Field,
    FunctionCall,
    InSet,
    Literal,
    Match,
    Not,
    Or,
    Query,
)
from harness.eql.lucene_regex import RegexError, compile_lucene_regex
from harness.eql.optimizer import optimize
from harness.errors import EqlUnsupportedError
from harness.sql.sqlregex import (
    RE2_MAX_REPEAT,
    any_of,
    counts_past,
    lucene_regex,
    regex_char,
    repeats_a_group,
    wildcard_regex,
)

__all__ = [
    "AnyElement",
    "Element",
    "FieldPath",
    "FullMatch",
    "SqlCondition",
    "TermBit",
    "Terms",
    "build_condition",
    "field_column",
]

_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ORDER: dict[str, type[exp.Binary]] = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}


class FieldPath(exp.Expression):
    """A column and the struct children below it (``expressions``: names, outermost first)."""

    arg_types: ClassVar[dict[str, bool]] = {"expressions": True}


class Element(exp.Expression):
    """The list element an :class:`AnyElement` predicate is judged on."""

    arg_types: ClassVar[dict[str, bool]] = {}


class AnyElement(exp.Expression):
    """True when some element of the list ``this`` satisfies ``expression`` (over :class:`Element`)."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}


class FullMatch(exp.Expression):
    """``this`` matches the regular expression ``expression`` (a string literal) as a whole."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}


class TermBit(exp.Expression):
    """The bit of the string of bits ``expression`` (a literal of 0s and 1s, leftmost bit 0) at the
    term id ``this`` (a column; NULL: no term, false): a pattern judged on a field's distinct values."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}


class Terms(Protocol):
    """What a scan knows of its fields' values: a pattern's verdict on a field as a predicate
    already decided per distinct value (:class:`harness.sql.terms.TermIds`), or None."""

    def predicate(self, path: tuple[str, ...], pattern: str) -> exp.Expr | None: ...


class SqlCondition:
    """The condition tree, the field paths it reads (to prune the rest before a scan), and what
    one engine alone cannot run (``refusals`` by engine: a pattern its regex library rejects
    or may never finish)."""

    def __init__(
        self,
        tree: exp.Expr,
        paths: set[tuple[str, ...]],
        refusals: dict[str, list[EqlUnsupportedError]] | None = None,
    ) -> None:
        self.tree = tree
        self.paths = paths
        self.refusals = refusals or {}


def field_column(schema: pa.Schema, path: tuple[str, ...]) -> tuple[FieldPath | None, pa.DataType | None]:
    """The column (and struct children) at ``path`` and its Arrow type; (None, None) if absent."""
    dtype: pa.DataType | None = None
    fields: Any = schema
    for part in path:
        index = fields.get_field_index(part) if fields is not None else -1
        if index < 0:
            return None, None
        dtype = fields.field(index).type
        fields = dtype if pa.types.is_struct(dtype) else None
    return FieldPath(expressions=[exp.to_identifier(p, quoted=True) for p in path]), dtype


def build_condition(
    query: Query, schema: pa.Schema, *, category_field: str = "event.category", terms: Terms | None = None
) -> SqlCondition:
    """The SQL condition over a table with ``schema`` that selects what ``query`` matches; with
    ``terms``, a pattern on a text field is its verdict there when it has one."""
    builder = _Builder(query, schema, terms)
    body = builder.predicate(optimize(query.condition))
    if query.category is not None:
        category = Field(tuple(category_field.split(".")))
        body = exp.and_(builder.equals(category, query.category), body, copy=False)
    return SqlCondition(body, builder.paths, builder.refusals)


def _string(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _is_list(dtype: pa.DataType) -> bool:
    return bool(pa.types.is_list(dtype) or pa.types.is_large_list(dtype))


def _is_text(dtype: pa.DataType) -> bool:
    return bool(pa.types.is_string(dtype) or pa.types.is_large_string(dtype))


def _is_number(dtype: pa.DataType) -> bool:
    return bool(pa.types.is_integer(dtype) or pa.types.is_floating(dtype))


def _int_range(dtype: pa.DataType) -> tuple[int, int] | None:
    if not pa.types.is_integer(dtype):
        return None
    bits = dtype.bit_width
    if pa.types.is_signed_integer(dtype):
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def _constant(value: Any, dtype: pa.DataType) -> exp.Expr | None:
    """``value`` as a SQL literal comparable with a ``dtype`` value, or None (never equal)."""
    if isinstance(value, bool):
        return exp.Boolean(this=value) if pa.types.is_boolean(dtype) else None
    if isinstance(value, int) and (bounds := _int_range(dtype)) is not None:
        # Outside the column's range no value equals it; the literal itself could overflow
        # the engine's decimal type (Spark: 38 digits) or be folded away.
        return exp.Literal.number(repr(value)) if bounds[0] <= value <= bounds[1] else None
    if isinstance(value, int) and pa.types.is_floating(dtype) and abs(value) >= 1 << 63:
        return exp.Literal.number(repr(float(value)))
    if isinstance(value, (int, float)):
        return exp.Literal.number(repr(value)) if _is_number(dtype) else None
    if isinstance(value, str):
        return _string(value) if _is_text(dtype) else None
    return None


def _ordered(x: exp.Expr, dtype: pa.DataType, op: str, value: Any) -> exp.Expr | None:
    bounds = _int_range(dtype)
    if isinstance(value, int) and not isinstance(value, bool) and bounds is not None:
        below, above = value < bounds[0], value > bounds[1]
        if below or above:
            # Decided here: every value of the column is on one side (Spark would fold the
            # comparison to TRUE even for NULL, which must stay false).
            always = above if op in ("<", "<=") else below
            return exp.not_(exp.Is(this=x, expression=exp.null())) if always else None
    # Strings compare as UTF-8 bytes in both engines: code point order, as Elasticsearch's ranges.
    literal = None if isinstance(value, bool) else _constant(value, dtype)
    return None if literal is None else _ORDER[op](this=x, expression=literal)


_Test = Callable[[exp.Expr, pa.DataType], exp.Expr | None]


class _Builder:
    def __init__(self, query: Query, schema: pa.Schema, terms: Terms | None = None) -> None:
        self.query = query
        self.schema = schema
        self.terms = terms
        self.paths: set[tuple[str, ...]] = set()
        self.refusals: dict[str, list[EqlUnsupportedError]] = {"duckdb": [], "spark": []}

    def unsupported(self, what: str, node: Expr) -> EqlUnsupportedError:
        start, end = getattr(node, "span", (0, 0))
        return EqlUnsupportedError(
            f"{what} cannot run in the columnar engine; use --engine compiled",
            source=self.query.source,
            offset=start,
            width=max(1, end - start),
        )

    def refuse_what_lucene_refuses(self, pattern: str, node: Match) -> None:
        """A pattern the row engines refuse (past Lucene's automaton limit) is refused here too."""
        try:
            compile_lucene_regex(pattern, node.op.endswith("~"))
        except RegexError as error:
            start, end = node.patterns[0].span[0], node.patterns[-1].span[1]  # where the row engines point
            raise EqlUnsupportedError(
                f"regular expression: {error.message}",
                source=self.query.source,
                offset=start,
                width=max(1, end - start),
            ) from error

    def text(self, node: Expr) -> str:
        start, end = getattr(node, "span", (0, 0))
        return self.query.source[start:end] if end > start else type(node).__name__

    # -- fields ----------------------------------------------------------------------

    def column(self, field: Field) -> tuple[exp.Expr, pa.DataType | None]:
        """The SQL expression for ``field`` and its Arrow type (None: no such column, always null)."""
        column, dtype = field_column(self.schema, field.path)
        if column is None:
            return exp.null(), None
        self.paths.add(field.path)
        return column, dtype

    def any_value(self, field: Field, test: _Test, node: Expr) -> exp.Expr:
        """True when some value of ``field`` passes ``test(value, type)`` (None: the type never does)."""
        expression, dtype = self.column(field)
        if dtype is None or pa.types.is_struct(dtype):
            return exp.false()  # missing, or an object: not a value of the field
        if pa.types.is_temporal(dtype) or (_is_list(dtype) and pa.types.is_temporal(dtype.value_type)):
            # Elasticsearch compares a date field through date parsing, the reference compares the
            # JSON string: a typed date column matches neither without a conversion nobody asked for.
            raise self.unsupported(f"{field.name} is a date/time column; comparing it", node)
        if _is_list(dtype):
            element = dtype.value_type
            if _is_list(element) or pa.types.is_struct(element):
                raise self.unsupported(f"{field.name} holds lists of lists or of objects, which", node)
            check = test(Element(), element)
            if check is None:
                return exp.false()
            return exp.Coalesce(this=AnyElement(this=expression, expression=check), expressions=[exp.false()])
        check = test(expression, dtype)
        return exp.false() if check is None else exp.Coalesce(this=check, expressions=[exp.false()])

    def missing(self, field: Field) -> exp.Expr:
        expression, dtype = self.column(field)
        if dtype is None or pa.types.is_struct(dtype):
            return exp.true()
        if _is_list(dtype):
            some = AnyElement(
                this=expression, expression=exp.Not(this=exp.Is(this=Element(), expression=exp.null()))
            )
            return exp.not_(exp.Coalesce(this=some, expressions=[exp.false()]))
        return exp.Is(this=expression, expression=exp.null())

    # -- predicates -------------------------------------------------------------------

    def predicate(self, node: Expr) -> exp.Expr:
        match node:
            case And(operands=operands):
                return exp.Paren(this=exp.and_(*(self.predicate(o) for o in operands), copy=False))
            case Or(operands=operands):
                return exp.Paren(this=exp.or_(*(self.predicate(o) for o in operands), copy=False))
            case Not(operand=operand):
                return exp.not_(self.predicate(operand))
            case Literal(value=value):
                return exp.true() if value is True else exp.false()
            case Field():
                return self.any_value(
                    node,
                    lambda x, t: exp.EQ(this=x, expression=exp.true()) if pa.types.is_boolean(t) else None,
                    node,
                )
            case Comparison(op=op, left=Field() as field, right=Literal(value=value)):
                return self.comparison(field, op, value, node)
            case Comparison(op=op, left=Literal(value=value), right=Field() as field):
                return self.comparison(field, _FLIPPED[op], value, node)
            case Match(subject=Field() as field):
                return self.match(field, node)
            case InSet(subject=Field() as field, values=values) if all(
                isinstance(v, Literal) for v in values
            ):
                parts = self.in_values(field, [v.value for v in values if isinstance(v, Literal)], node)
                positive = exp.Paren(this=exp.or_(*parts, copy=False)) if parts else exp.false()
                return exp.not_(positive) if node.negated else positive
            case FunctionCall(args=(Field() as field, Literal(value=str() as text))) if node.name.lower() in (
                "startswith",
                "endswith",
                "stringcontains",
            ):
                name = node.name.lower()
                if name == "startswith":
                    pattern = "(?s)" + "".join(regex_char(ch, node.insensitive) for ch in text) + ".*"
                else:
                    wildcard = "*" + text + ("*" if name == "stringcontains" else "")
                    pattern = wildcard_regex(wildcard, node.insensitive, lucene=True)
                return self.regex(field, pattern, node)
        raise self.unsupported(f"{type(node).__name__.lower()} {self.text(node)!r}", node)

    def equals(self, field: Field, value: Any) -> exp.Expr:
        expression, dtype = self.column(field)
        if dtype is not None and _is_list(dtype):
            element = dtype.value_type
            literal = _constant(value, element)
            if literal is not None and not _is_list(element) and not pa.types.is_struct(element):
                contains = exp.ArrayContains(this=expression, expression=literal)
                return exp.Coalesce(this=contains, expressions=[exp.false()])
        return self.any_value(
            field,
            lambda x, t: None if (c := _constant(value, t)) is None else exp.EQ(this=x, expression=c),
            field,
        )

    def comparison(self, field: Field, op: str, value: Any, node: Expr) -> exp.Expr:
        if value is None:
            if op == "==":
                return exp.Paren(this=self.missing(field))
            if op == "!=":
                return exp.not_(self.missing(field))
            return exp.false()
        if op == "==":
            return self.equals(field, value)
        if op == "!=":
            return exp.not_(self.equals(field, value))
        return self.any_value(field, lambda x, t: _ordered(x, t, op, value), node)

    def match(self, field: Field, node: Match) -> exp.Expr:
        patterns = [p.value for p in node.patterns]
        parts: list[exp.Expr] = []
        if node.op == ":" and None in patterns:
            parts.append(exp.Paren(this=self.missing(field)))
        if node.op.startswith("regex"):
            joined = "|".join(str(p) for p in patterns)
            self.refuse_what_lucene_refuses(joined, node)
            regex = lucene_regex(joined, node.op.endswith("~"))
            if repeats_a_group(regex):
                # java.util.regex recurses once per repetition of a group (a stack overflow on a
                # long value) and backtracks exponentially on nested ones; RE2 and Lucene do not.
                self.refusals["spark"].append(
                    self.unsupported(
                        f"the regular expression {joined!r} repeats a group, which Spark's backtracking "
                        "matcher may not finish on long values; it",
                        node,
                    )
                )
            if counts_past(regex, RE2_MAX_REPEAT):
                self.refusals["duckdb"].append(
                    self.unsupported(
                        f"the regular expression {joined!r} counts past {RE2_MAX_REPEAT} repetitions, "
                        "RE2's limit; it",
                        node,
                    )
                )
            parts.append(self.regex(field, regex, node))
        else:
            insensitive = node.op != "like"
            wildcards = [wildcard_regex(str(p), insensitive) for p in patterns if p is not None]
            if wildcards:
                parts.append(self.regex(field, any_of(wildcards), node))
        return exp.Paren(this=exp.or_(*parts, copy=False)) if parts else exp.false()

    def regex(self, field: Field, pattern: str, node: Expr) -> exp.Expr:
        if self.terms is not None:
            _, dtype = self.column(field)
            text = dtype is not None and (_is_text(dtype) or (_is_list(dtype) and _is_text(dtype.value_type)))
            decided = self.terms.predicate(field.path, pattern) if text else None
            if decided is not None:
                return decided
        return self.any_value(
            field,
            lambda x, t: FullMatch(this=x, expression=_string(pattern)) if _is_text(t) else None,
            node,
        )

    def in_values(self, field: Field, values: list[Any], node: InSet) -> list[exp.Expr]:
        """One test per value of ``field in (...)``; ``in~``'s strings as one pattern (``any_of``)."""
        texts = [value for value in values if node.insensitive and isinstance(value, str)]
        parts = [self.equals(field, value) for value in values if value is not None and value not in texts]
        if texts:
            exact = [f"(?s){''.join(regex_char(ch, True) for ch in text)}" for text in texts]
            parts.append(self.regex(field, any_of(exact), node))
        return parts
