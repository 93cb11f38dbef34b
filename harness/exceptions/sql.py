"""The exceptions as one SQL condition, so a columnar engine runs ``rule AND NOT (exceptions)`` in one scan.

The condition is true on a row some item matches, with ``match.py``'s semantics: a list column
is judged element by element (:class:`~harness.sql.sqltree.AnyElement`), a missing column has
no value, an ``excluded`` entry is the negation of a predicate that is never NULL, and a
lowercase-normalized field (``*.caseless``, read from its parent column as the multi-field
indexes it) is a whole-value regular expression (:class:`~harness.sql.sqltree.FullMatch`) whose
every character is the class of the code points Lucene's LowerCaseFilter maps onto it, never
SQL's ``lower()``. What SQL cannot say the same way raises ``EqlUnsupportedError`` naming the
entry: nested entries, ip and date fields, ``ip``/``ip_range`` value lists, text fields, and a
column whose type is not the mapped one. Keyword limits (``ignore_above``) are compared as SQL's
``length``, in code points: a value over the limit only by characters outside the BMP (two
UTF-16 units each in Java) is the one place the two can differ.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import lru_cache

import pyarrow as pa
from sqlglot import exp

from harness.eql.mapping import query_constant
from harness.errors import EqlUnsupportedError
from harness.exceptions.match import entry_kind, java_lower, lowercases, mapped_kind
from harness.exceptions.model import (
    Entry,
    ExceptionItem,
    ExceptionSet,
    Exists,
    ListEntry,
    Match,
    MatchAny,
    Wildcard,
)
from harness.sql.dialects import render
from harness.sql.sqltree import AnyElement, Element, FullMatch, field_column

__all__ = ["exceptions_condition"]

_STRINGS = frozenset({"keyword", "constant_keyword", "wildcard"})
_Test = Callable[[exp.Expr], exp.Expr]


def exceptions_condition(exceptions: ExceptionSet, schema: pa.Schema, engine: str) -> str:
    """A SQL boolean for ``engine`` (``duckdb``, ``spark``): true on the rows some item matches.

    Expiry is the caller's: pass ``exceptions.active_at(start)``. No item gives ``FALSE``.
    """
    builder = _Builder(exceptions, schema)
    items = [builder.item(item) for item in exceptions.items]
    tree = exp.Paren(this=exp.or_(*items, copy=False)) if items else exp.false()
    return render(tree, engine)


class _Builder:
    def __init__(self, exceptions: ExceptionSet, schema: pa.Schema) -> None:
        self.exceptions = exceptions
        self.schema = schema

    def item(self, item: ExceptionItem) -> exp.Expr:
        parts = [self.entry(entry, item) for entry in item.entries]
        if item.os_types:
            # transformOsType: host.os.type: os, or host.os.name.caseless: os, per OS.
            systems = [
                self.entry(Match(name, os), item)
                for os in item.os_types
                for name in ("host.os.type", "host.os.name.caseless")
            ]
            parts.insert(0, exp.Paren(this=exp.or_(*systems, copy=False)))
        return exp.Paren(this=exp.and_(*parts, copy=False))

    def entry(self, entry: Entry, item: ExceptionItem) -> exp.Expr:
        if not isinstance(entry, (Match, MatchAny, Wildcard, Exists, ListEntry)):
            raise self.refuse(entry, item, "a nested entry (objects within an array)")
        kind = mapped_kind(self.exceptions.mapping, entry.field)
        included = self.included(entry, kind, item)
        return exp.not_(included) if entry.operator == "excluded" else included

    def refuse(self, entry: Entry, item: ExceptionItem, what: str) -> EqlUnsupportedError:
        text = f"{entry_kind(entry)} on {entry.field}"
        return EqlUnsupportedError(
            f"{what} has no SQL condition with the same answers (item {item.name!r})",
            source=text,
            offset=0,
            width=len(text),
            hint="the row engines judge these exceptions",
        )

    def included(
        self, entry: Match | MatchAny | Wildcard | Exists | ListEntry, kind: str, item: ExceptionItem
    ) -> exp.Expr:
        if kind not in _STRINGS and not _is_number_kind(kind) and kind != "boolean":
            raise self.refuse(entry, item, f"a {kind} field")
        read = entry.field.removesuffix(".caseless") if lowercases(entry.field) else entry.field
        column, dtype = field_column(self.schema, tuple(read.split(".")))
        if column is None or dtype is None or pa.types.is_struct(dtype):
            return exp.false()  # no column: the field has no value in any row
        element = dtype.value_type if pa.types.is_list(dtype) or pa.types.is_large_list(dtype) else dtype
        if not _fits(kind, element):
            raise self.refuse(entry, item, f"a {kind} field stored as an Arrow {element} column")
        limit = self.exceptions.mapping.limit(entry.field) if kind in _STRINGS else None

        def indexed(test: exp.Expr, value: exp.Expr) -> exp.Expr:
            # A keyword value longer than ignore_above was not indexed: no query sees it.
            if limit is None:
                return test
            return exp.and_(exp.LTE(this=exp.Length(this=value), expression=exp.Literal.number(limit)), test)

        if isinstance(entry, Exists):
            return self.any_value(
                column, dtype, lambda x: indexed(exp.not_(exp.Is(this=x, expression=exp.null())), x)
            )
        if isinstance(entry, Wildcard):
            pattern = _wildcard_regex(entry.value, lowercases(entry.field))
            return self.any_value(
                column, dtype, lambda x: indexed(FullMatch(this=x, expression=exp.Literal.string(pattern)), x)
            )
        if isinstance(entry, ListEntry):
            values_list = self.exceptions.value_lists.get(entry.list_id)
            if values_list is None:
                raise self.refuse(entry, item, f"value list {entry.list_id!r}, not loaded,")
            if kind not in _STRINGS:
                raise self.refuse(entry, item, f"a {values_list.type} value list on a {kind} field")
            values = list(values_list.values)
        else:
            values = [entry.value] if isinstance(entry, Match) else list(entry.values)
        tests = [self.phrase(value, kind, entry, item) for value in values]
        kept = [test for test in tests if test is not None]
        if not kept:
            return exp.false()
        return self.any_value(column, dtype, lambda x: indexed(exp.or_(*(t(x) for t in kept), copy=False), x))

    def phrase(self, value: str, kind: str, entry: Entry, item: ExceptionItem) -> _Test | None:
        """The test of one ``match_phrase`` value on a column value (None: nothing can equal it)."""
        if kind in _STRINGS:
            if lowercases(entry.field):
                pattern = "(?s)" + "".join(_folded(ch) for ch in java_lower(value))
                return lambda x: FullMatch(this=x, expression=exp.Literal.string(pattern))
            return lambda x: exp.EQ(this=x, expression=exp.Literal.string(value))
        if kind == "boolean":
            truth = {"true": True, "false": False}.get(value)
            if truth is None:
                raise self.refuse(
                    entry, item, f"{value!r} on a boolean field (Elasticsearch fails the search)"
                )
            return lambda x: exp.EQ(this=x, expression=exp.true() if truth else exp.false())
        number = query_constant(kind, value)
        if number is None:
            raise self.refuse(entry, item, f"{value!r} on a {kind} field (Elasticsearch fails the search)")
        if isinstance(number, float) and kind in _INTEGERS:
            return None  # a decimal part: no long equals it
        return lambda x: exp.EQ(this=x, expression=exp.Literal.number(number))

    def any_value(self, column: exp.Expr, dtype: pa.DataType, test: _Test) -> exp.Expr:
        if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
            found: exp.Expr = AnyElement(this=column, expression=test(Element()))
        else:
            found = test(column)
        return exp.Coalesce(this=found, expressions=[exp.false()])


_INTEGERS = frozenset({"long", "integer", "short", "byte", "unsigned_long"})


def _is_number_kind(kind: str) -> bool:
    return kind in _INTEGERS or kind in ("double", "float", "half_float", "scaled_float")


def _fits(kind: str, element: pa.DataType) -> bool:
    if kind in _STRINGS:
        return bool(pa.types.is_string(element) or pa.types.is_large_string(element))
    if kind == "boolean":
        return bool(pa.types.is_boolean(element))
    if kind in _INTEGERS:
        return bool(pa.types.is_integer(element))
    return bool(pa.types.is_floating(element) or pa.types.is_integer(element))


def _code(ch: str) -> str:
    return f"\\x{{{ord(ch):x}}}"


@lru_cache(maxsize=1)
def _preimages() -> dict[str, list[str]]:
    """Per lowercase code point, every code point LowerCaseFilter maps onto it (itself first)."""
    out: dict[str, list[str]] = {}
    for point in range(sys.maxunicode + 1):
        if 0xD800 <= point <= 0xDFFF:
            continue
        ch = chr(point)
        low = java_lower(ch)
        if low != ch:
            out.setdefault(low, [low]).append(ch)
    return out


def _folded(ch: str) -> str:
    """A regex class of every code point whose lowercase is ``ch`` (``ch`` itself when none other is)."""
    points = _preimages().get(ch, [ch])
    return _code(ch) if len(points) == 1 else "[" + "".join(_code(p) for p in points) + "]"


def _wildcard_regex(pattern: str, lowercase: bool) -> str:
    """Lucene's WildcardQuery as a whole-value regex: ``*``, ``?``, ``\\`` escaping the next character.

    On a lowercase-normalized field the pattern is lowercased and each literal matches every
    code point that lowercases onto it.
    """
    if lowercase:
        pattern = java_lower(pattern)
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            ch = pattern[i + 1]
            i += 1
        elif ch in "*?":
            out.append(".*" if ch == "*" else ".")
            i += 1
            continue
        out.append(_folded(ch) if lowercase else _code(ch))
        i += 1
    return "(?s)" + "".join(out)
