"""The columnar engine: a query translated to one SQL condition that DuckDB runs over Arrow or Parquet.

The translation keeps the reference's semantics where SQL can:

* a field's type comes from the table's schema; a ``LIST`` column is judged element by
  element (``list_filter``), any element satisfying the predicate being enough;
* a value of another type than the constant's never matches (JSON's types, as the
  reference takes them without a mapping);
* case-insensitive patterns are regular expressions with ``[aA]`` classes for ASCII
  letters and every other character written as ``\\x{...}``, so DuckDB's RE2 folds
  exactly what Elasticsearch folds (never ``lower()``, whose Unicode folding differs);
* ``not``, ``!=`` and ``not in`` negate a predicate that is never NULL (missing fields
  are false before the negation, as in the reference).

What a single SQL condition cannot express the same way is refused with
:class:`~harness.errors.EqlUnsupportedError` naming the construct: functions that run
as scripts (``length``, ``concat``...), arithmetic, ``cidrMatch``, and lists of lists.
The differential tests hold the rest to the reference's answers.
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

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
from harness.eql.lucene_regex import lucene_to_python
from harness.eql.optimizer import optimize
from harness.errors import EqlUnsupportedError

__all__ = ["ColumnarMatcher", "prune", "translate"]

_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_SQL_ORDER = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}
_NEVER = r"[^\x{0}-\x{10FFFF}]"


def translate(query: Query, schema: pa.Schema, *, category_field: str = "event.category") -> str:
    """The SQL condition (over a table with ``schema``) that selects what ``query`` matches."""
    return _Translator(query, schema).condition(category_field)


def prune(table: pa.Table, paths: set[tuple[str, ...]]) -> pa.Table:
    """``table`` with only the columns, and struct children, that ``paths`` reach.

    DuckDB converts every child of a struct column it scans from Arrow; an event has
    some 140 leaves and a rule reads a handful, so cutting the rest first (zero-copy)
    makes the scan several times faster.
    """
    names = [name for name in table.column_names if any(p[0] == name for p in paths)]
    if not names:
        return table  # a condition on no column: DuckDB still needs the rows
    columns = []
    for name in names:
        below = [p[1:] for p in paths if p[0] == name]
        chunks = [_prune_array(chunk, below) for chunk in table.column(name).chunks]
        columns.append(pa.chunked_array(chunks) if chunks else table.column(name))
    return pa.table(columns, names=names)


def _prune_array(array: pa.Array, paths: list[tuple[str, ...]]) -> pa.Array:
    if () in paths or not pa.types.is_struct(array.type):
        return array
    kept = [
        (child.name, _prune_array(array.field(i), [p[1:] for p in paths if p[0] == child.name]))
        for i, child in enumerate(array.type)
        if any(p[0] == child.name for p in paths)
    ]
    return pa.StructArray.from_arrays([a for _, a in kept], names=[n for n, _ in kept], mask=array.is_null())


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _char(ch: str, insensitive: bool) -> str:
    if "a" <= ch <= "z" or "A" <= ch <= "Z":
        return f"[{ch.lower()}{ch.upper()}]" if insensitive else ch
    if "0" <= ch <= "9":
        return ch
    return f"\\x{{{ord(ch):x}}}"


def _wildcard_re2(pattern: str, insensitive: bool, lucene: bool = False) -> str:
    """The RE2 form of ``patterns.eql_wildcard`` (or ``lucene_wildcard``), whole-value."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if lucene and ch == "\\" and i + 1 < len(pattern):
            out.append(_char(pattern[i + 1], False))  # escaped: matched as itself, case and all
            i += 2
            continue
        out.append(".*" if ch == "*" else "." if ch == "?" else _char(ch, insensitive))
        i += 1
    return "(?s)" + "".join(out)


def _lucene_re2(pattern: str, insensitive: bool) -> str:
    """The RE2 form of a Lucene regular expression, from the Python form the reference uses."""
    python = lucene_to_python(pattern, insensitive)
    python = re.sub(r"\\U([0-9a-f]{8})", lambda m: f"\\x{{{int(m.group(1), 16):x}}}", python)
    python = python.replace("(?!)", _NEVER)
    # re.escape output outside classes: backslash before a non-alphanumeric ASCII character,
    # which RE2 reads the same way; a literal character never appears unescaped.
    return "(?s)" + python


class _Translator:
    def __init__(self, query: Query, schema: pa.Schema) -> None:
        self.query = query
        self.schema = schema
        self.paths: set[tuple[str, ...]] = set()  # the columns the condition reads

    def unsupported(self, what: str, node: Expr) -> EqlUnsupportedError:
        start, end = getattr(node, "span", (0, 0))
        return EqlUnsupportedError(
            f"{what} cannot run in the columnar engine; use --engine compiled",
            source=self.query.source,
            offset=start,
            width=max(1, end - start),
        )

    def condition(self, category_field: str) -> str:
        body = self.predicate(optimize(self.query.condition))
        if self.query.category is None:
            return body
        category = Field(tuple(category_field.split(".")))
        return f"({self.equals(category, self.query.category)}) AND ({body})"

    # -- fields ----------------------------------------------------------------------

    def column(self, field: Field) -> tuple[str, pa.DataType | None]:
        """The SQL expression for ``field`` and its Arrow type (None: no such column, always null)."""
        dtype: pa.DataType | None = None
        expression = ""
        fields = self.schema
        for depth, part in enumerate(field.path):
            index = fields.get_field_index(part) if fields is not None else -1
            if index < 0:
                return "NULL", None
            child = fields.field(index)
            expression = f'"{part}"' if depth == 0 else f"struct_extract({expression}, {_quote(part)})"
            dtype = child.type
            fields = dtype if pa.types.is_struct(dtype) else None
            if fields is None and depth < len(field.path) - 1:
                return "NULL", None
        self.paths.add(field.path)
        return expression, dtype

    def any_value(self, field: Field, test: Any, node: Expr) -> str:
        """SQL true when some value of ``field`` passes ``test(x_sql, element_type) -> sql | None``."""
        expression, dtype = self.column(field)
        if dtype is None:
            return "FALSE"
        if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
            element = dtype.value_type
            if pa.types.is_list(element) or pa.types.is_struct(element):
                raise self.unsupported(f"{field.name} holds lists of lists or of objects, which", node)
            check = test("x", element)
            if check is None:
                return "FALSE"
            return f"coalesce(len(list_filter({expression}, lambda x: {check})) > 0, FALSE)"
        if pa.types.is_struct(dtype):
            return "FALSE"  # an object is not a value of the field
        check = test(expression, dtype)
        return "FALSE" if check is None else f"coalesce({check}, FALSE)"

    def missing(self, field: Field) -> str:
        expression, dtype = self.column(field)
        if dtype is None:
            return "TRUE"
        if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
            return f"coalesce(len(list_filter({expression}, lambda x: x IS NOT NULL)), 0) = 0"
        if pa.types.is_struct(dtype):
            return "TRUE"
        return f"{expression} IS NULL"

    # -- predicates -------------------------------------------------------------------

    def predicate(self, node: Expr) -> str:
        match node:
            case And(operands=operands):
                return "(" + " AND ".join(self.predicate(o) for o in operands) + ")"
            case Or(operands=operands):
                return "(" + " OR ".join(self.predicate(o) for o in operands) + ")"
            case Not(operand=operand):
                return f"(NOT {self.predicate(operand)})"
            case Literal(value=value):
                return "TRUE" if value is True else "FALSE"
            case Field():
                return self.any_value(
                    node, lambda x, t: f"{x} = TRUE" if pa.types.is_boolean(t) else None, node
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
                parts = [
                    self.in_value(field, v, node)
                    for v in values
                    if isinstance(v, Literal) and v.value is not None
                ]
                positive = "(" + " OR ".join(parts) + ")" if parts else "FALSE"
                return f"(NOT {positive})" if node.negated else positive
            case FunctionCall(args=(Field() as field, Literal(value=str() as text))) if node.name.lower() in (
                "startswith",
                "endswith",
                "stringcontains",
            ):
                name = node.name.lower()
                if name == "startswith":
                    pattern = "(?s)" + "".join(_char(ch, node.insensitive) for ch in text) + ".*"
                else:
                    wildcard = "*" + text + ("*" if name == "stringcontains" else "")
                    pattern = _wildcard_re2(wildcard, node.insensitive, lucene=True)
                return self.regex(field, pattern, node)
        raise self.unsupported(f"{type(node).__name__.lower()} {self.text(node)!r}", node)

    def text(self, node: Expr) -> str:
        start, end = getattr(node, "span", (0, 0))
        return self.query.source[start:end] if end > start else type(node).__name__

    def equals(self, field: Field, value: Any) -> str:
        expression, dtype = self.column(field)
        if dtype is not None and (pa.types.is_list(dtype) or pa.types.is_large_list(dtype)):
            check = _equal("x", dtype.value_type, value)
            if (
                check is not None
                and not pa.types.is_list(dtype.value_type)
                and not pa.types.is_struct(dtype.value_type)
            ):
                literal = check.split(" = ", 1)[1]
                return f"coalesce(list_contains({expression}, {literal}), FALSE)"
        return self.any_value(field, lambda x, t: _equal(x, t, value), field)

    def comparison(self, field: Field, op: str, value: Any, node: Expr) -> str:
        if value is None:
            if op == "==":
                return f"({self.missing(field)})"
            if op == "!=":
                return f"(NOT {self.missing(field)})"
            return "FALSE"
        if op == "==":
            return self.equals(field, value)
        if op == "!=":
            return f"(NOT {self.equals(field, value)})"
        sql_op = _SQL_ORDER[op]
        return self.any_value(field, lambda x, t: _ordered(x, t, sql_op, value), node)

    def match(self, field: Field, node: Match) -> str:
        patterns = [p.value for p in node.patterns]
        parts = []
        if node.op == ":" and None in patterns:
            parts.append(f"({self.missing(field)})")
        if node.op.startswith("regex"):
            joined = "|".join(str(p) for p in patterns)
            parts.append(self.regex(field, _lucene_re2(joined, node.op.endswith("~")), node))
        else:
            insensitive = node.op != "like"
            parts += [
                self.regex(field, _wildcard_re2(str(p), insensitive), node) for p in patterns if p is not None
            ]
        return "(" + " OR ".join(parts) + ")" if parts else "FALSE"

    def regex(self, field: Field, pattern: str, node: Expr) -> str:
        return self.any_value(
            field, lambda x, t: f"regexp_full_match({x}, {_quote(pattern)})" if _is_text(t) else None, node
        )

    def in_value(self, field: Field, literal: Literal, node: InSet) -> str:
        if node.insensitive and isinstance(literal.value, str):
            exact = "(?s)" + "".join(_char(ch, True) for ch in literal.value)
            return self.regex(field, exact, node)
        return self.equals(field, literal.value)


def _fast_pattern(pattern: str, insensitive: bool) -> Any:
    """SQL without a regular expression for exact, ``prefix*`` and ``*suffix`` ASCII patterns, or None.

    Exact under ASCII-only folding: an ASCII pattern can only match ASCII characters, so
    the compared characters are first checked to be ASCII (as many bytes as characters)
    before ``lower`` (whose Unicode folding would otherwise turn a Kelvin sign into k).
    """
    if not pattern.isascii() or "?" in pattern or pattern.count("*") > 1:
        return None
    core = pattern.strip("*")
    if "*" not in pattern:
        if not insensitive:
            return lambda x: f"{x} = {_quote(pattern)}"
        return lambda x: (
            f"(strlen({x}) = {len(core)} AND length({x}) = {len(core)} AND lower({x}) = {_quote(core.lower())})"
        )
    if pattern == "*":
        return lambda x: "TRUE"
    side = "left" if pattern.endswith("*") else "right"
    if not insensitive:
        test = "starts_with" if side == "left" else "ends_with"
        return lambda x: f"{test}({x}, {_quote(core)})"
    n = len(core)
    return lambda x: (
        f"(strlen({side}({x}, {n})) = {n} AND length({x}) >= {n} AND lower({side}({x}, {n})) = {_quote(core.lower())})"
    )


def _is_text(dtype: pa.DataType) -> bool:
    return bool(pa.types.is_string(dtype) or pa.types.is_large_string(dtype))


def _is_number(dtype: pa.DataType) -> bool:
    return bool(pa.types.is_integer(dtype) or pa.types.is_floating(dtype))


def _equal(x: str, dtype: pa.DataType, value: Any) -> str | None:
    if isinstance(value, bool):
        return f"{x} = {'TRUE' if value else 'FALSE'}" if pa.types.is_boolean(dtype) else None
    if isinstance(value, (int, float)):
        return f"{x} = {value!r}" if _is_number(dtype) else None
    if isinstance(value, str):
        return f"{x} = {_quote(value)}" if _is_text(dtype) else None
    return None


def _ordered(x: str, dtype: pa.DataType, op: str, value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return f"{x} {op} {value!r}" if _is_number(dtype) else None
    if isinstance(value, str):
        # VARCHAR compares as UTF-8 bytes: code point order, as Elasticsearch's ranges.
        return f"{x} {op} {_quote(value)}" if _is_text(dtype) else None
    return None


class ColumnarMatcher:
    """A query run by DuckDB over Arrow tables or Parquet files, with the reference's answers."""

    def __init__(self, query: Query, schema: pa.Schema, *, category_field: str = "event.category") -> None:
        import duckdb

        self.query = query
        self.schema = schema
        translator = _Translator(query, schema)
        self.condition = translator.condition(category_field)
        self.paths = translator.paths
        self.connection = duckdb.connect()
        # Rows come back in table order: verdicts line up with the events.
        self.connection.execute("SET preserve_insertion_order = true")

    def verdicts(self, table: pa.Table) -> list[bool]:
        """One verdict per row of ``table``, in order."""
        self.connection.register("events", prune(table, self.paths))
        try:
            # One NumPy column back, not a Python tuple per row.
            column = self.connection.execute(f"SELECT {self.condition} AS verdict FROM events").fetchnumpy()
        finally:
            self.connection.unregister("events")
        return [bool(v) for v in column["verdict"].tolist()]

    def count_matching(self, table: pa.Table) -> int:
        """How many rows of ``table`` match: the verdicts summed inside DuckDB."""
        self.connection.register("events", prune(table, self.paths))
        try:
            rows = self.connection.execute(f"SELECT count(*) FROM events WHERE {self.condition}").fetchall()
        finally:
            self.connection.unregister("events")
        return int(rows[0][0])

    def count(self, source: str) -> int:
        """Matching rows of a Parquet file or directory (``read_parquet`` pattern)."""
        rows = self.connection.execute(
            f"SELECT count(*) FROM read_parquet({_quote(source)}) WHERE {self.condition}"
        ).fetchall()
        return int(rows[0][0])
