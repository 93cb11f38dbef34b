"""Patterns judged once per distinct value of a field, not once per row, for a scan of many rules.

Lucene does not run a wildcard or regexp query on each document: ``AutomatonQuery`` intersects
the pattern's automaton with the field's terms dictionary and collects the documents of the
terms it accepts. A DuckDB table has no terms dictionary, so :class:`TermIds` makes one per
text field many patterns read: a table of the field's distinct values, each with an id. Every
pattern on the field is judged once on that table (by the same ``regexp_full_match`` a row's
value would be), and a row's verdict becomes a bit of a constant: ``get_bit(bits, id)``, the
id joined to the row once for all the scan's patterns. A list field (``process.args``) is
judged the same way on its distinct lists, a list's bit set when any element matches.

A pattern no value matches is ``FALSE`` for every row, and one a few values match is an
``IN`` of them, with no join. The 155 single-event rules among 200 copies of Elastic's sample
counted in one scan of 2M events: 16.2 s with a regular expression per row and pattern, 3.0 s
with ids (1.2 s of it reading and judging the values of 12 fields).

A field with too many distinct values for that to pay (a command line with a GUID in every
event) keeps the regular expression per row: :data:`MOST_VALUES`, guessed from the first rows
before the whole column is read, then checked.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from sqlglot import exp

from harness.sql.dialects import render
from harness.sql.sqltree import FieldPath, TermBit, field_column

__all__ = ["MOST_VALUES", "PATTERNS_TO_JOIN", "TermIds"]

MOST_VALUES = 16_384
"""Distinct values (or lists) a field may have for its patterns to be judged on them: a pattern's
bits are a literal of that many characters in every statement that tests it."""

PATTERNS_TO_JOIN = 2
"""Distinct patterns a field needs before its ids are joined to the rows: one pattern's regular
expression costs about what the join costs, so one alone is left to run per row."""

_FEW = 4  # at most this many matching values: an IN of them, no join (DuckDB's IN is a linear scan)
_SAMPLE = 65_536  # the first rows counted before a column is read whole
_SPARSE = 8  # a sample with more than 1/_SPARSE distinct values marks a field as too varied
_ID = "__harness_term_id"
_VALUE = "__harness_term_value"

Path = tuple[str, ...]


class TermIds:
    """The distinct values of the text fields a scan's patterns read, in temporary tables of
    ``connection``, read from ``relation`` (a table with ``schema``).

    Used in two passes: conditions are built with :meth:`predicate` answering None for what it
    has not seen (and noting it), :meth:`learn` reads what was noted, and the conditions are
    built again; :meth:`joined` is then the relation their ``TermBit`` columns come from.
    """

    def __init__(self, connection: Any, relation: str, schema: pa.Schema) -> None:
        self.connection = connection
        self.relation = relation
        self.schema = schema
        self.seconds = 0.0  # spent reading values and judging patterns
        self._wanted: dict[Path, set[str]] = defaultdict(set)  # asked about, not yet learned
        self._tables: dict[Path, tuple[str, int] | None] = {}  # path -> (table, values); None: too varied
        self._verdicts: dict[tuple[Path, str], exp.Expr | None] = {}

    def predicate(self, path: Path, pattern: str) -> exp.Expr | None:
        """A never-NULL predicate saying whether ``path``'s value (a list: an element) matches
        ``pattern`` as a whole, from the learned values; None to test the pattern on each row."""
        key = (path, pattern)
        if key in self._verdicts:
            return self._verdicts[key]
        if self._tables.get(path, ()) is not None:  # not known to be too varied
            self._wanted[path].add(pattern)
        return None

    def learn(self) -> bool:
        """Read the values of the fields asked about since the last call and judge their patterns
        (a field with fewer than :data:`PATTERNS_TO_JOIN` patterns is left to the rows until it has
        more); whether any predicate changed, so that conditions built before are worth building again."""
        started = time.perf_counter()
        wanted, self._wanted = self._wanted, defaultdict(set)
        fresh = [path for path, patterns in wanted.items() if path not in self._tables]
        self._read([path for path in fresh if len(wanted[path]) >= PATTERNS_TO_JOIN])
        changed = False
        for path, patterns in wanted.items():
            if path not in self._tables:  # a later scan may ask for more of its patterns
                self._wanted[path] |= patterns
                continue
            for pattern, verdict in self._judged(path, sorted(patterns)).items():
                self._verdicts[(path, pattern)] = verdict
                changed = changed or verdict is not None
        self.seconds += time.perf_counter() - started
        return changed

    def joined(self, relation: str, conditions: Iterable[str]) -> str:
        """``relation`` with the id columns ``conditions`` read, as a relation of the same name."""
        text = " ".join(conditions)
        used = [
            (path, table)
            for path, known in self._tables.items()
            if known is not None and _column(table := known[0]) in text
        ]
        if not used:
            return relation
        ids = ", ".join(f'"{table}"."{_ID}" AS "{_column(table)}"' for _, table in used)
        joins = " ".join(
            f'LEFT JOIN "{table}" ON "{table}"."{_VALUE}" IS NOT DISTINCT FROM {self._sql(path, "__rows")}'
            for path, table in used
        )
        return f"(SELECT __rows.*, {ids} FROM {relation} AS __rows {joins}) AS {_alias(relation)}"

    # -- reading -----------------------------------------------------------------------

    def _sql(self, path: Path, alias: str | None = None) -> str:
        column, _ = field_column(self.schema, path)
        assert column is not None  # only paths of text columns are asked about
        text = render(column, "duckdb")
        return text if alias is None else text.replace(f'"{path[0]}"', f'{alias}."{path[0]}"', 1)

    def _read(self, paths: list[Path]) -> None:
        """Each path's distinct values in a table of its own, when the first rows promise few."""
        if not paths:
            return
        texts = [self._sql(path) for path in paths]
        counted = ", ".join(f"count(DISTINCT c{k}), count(c{k})" for k in range(len(paths)))
        listed = ", ".join(f"{text} AS c{k}" for k, text in enumerate(texts))
        sample = self.connection.execute(
            f"SELECT count(*), {counted} FROM (SELECT {listed} FROM {self.relation} LIMIT {_SAMPLE})"
        ).fetchall()[0]
        whole = sample[0] < _SAMPLE  # the sample is the whole table
        for k, (path, text) in enumerate(zip(paths, texts, strict=True)):
            distinct, present = sample[1 + 2 * k], sample[2 + 2 * k]
            if distinct > MOST_VALUES or (not whole and distinct * _SPARSE > max(present, 1)):
                self._tables[path] = None
                continue
            table = f"__harness_terms_{len(self._tables)}"
            self.connection.execute(
                f'CREATE OR REPLACE TEMP TABLE "{table}" AS SELECT {_VALUE}, '
                f"CAST(row_number() OVER () - 1 AS INTEGER) AS {_ID} FROM "
                f"(SELECT DISTINCT {text} AS {_VALUE} FROM {self.relation} WHERE {text} IS NOT NULL)"
            )
            (count,) = self.connection.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0]
            if count > MOST_VALUES:  # the first rows were not the rest: judged per row after all
                self.connection.execute(f'DROP TABLE "{table}"')
                self._tables[path] = None
                continue
            self._tables[path] = (table, count)

    def _judged(self, path: Path, patterns: list[str]) -> dict[str, exp.Expr | None]:
        known = self._tables[path]
        if known is None:
            return dict.fromkeys(patterns)
        table, count = known
        is_list = _is_list(field_column(self.schema, path)[1])
        tests = [
            f"(len(list_filter({_VALUE}, lambda x: regexp_full_match(x, {_quoted(p)}))) > 0)"
            if is_list
            else f"regexp_full_match({_VALUE}, {_quoted(p)})"
            for p in patterns
        ]
        # One string of 0s and 1s per pattern, in id order, and the values of the few that match.
        columns = ", ".join(
            f"string_agg(CASE WHEN {test} THEN '1' ELSE '0' END, '' ORDER BY {_ID}), "
            f"list({_VALUE} ORDER BY {_ID}) FILTER (WHERE {test})"
            for test in tests
        )
        row = self.connection.execute(f'SELECT {columns} FROM "{table}"').fetchall()[0]
        verdicts: dict[str, exp.Expr | None] = {}
        for k, pattern in enumerate(patterns):
            bits, matching = row[2 * k], row[2 * k + 1] or []
            verdicts[pattern] = self._verdict(path, table, is_list, bits or "0" * count, matching)
        return verdicts

    def _verdict(self, path: Path, table: str, is_list: bool, bits: str, matching: list[Any]) -> exp.Expr:
        if not matching:
            return exp.false()
        column, _ = field_column(self.schema, path)
        assert isinstance(column, FieldPath)
        if not is_list and len(matching) <= _FEW and all("\x00" not in value for value in matching):
            listed = [exp.Literal.string(value) for value in matching]
            return exp.Coalesce(this=exp.In(this=column, expressions=listed), expressions=[exp.false()])
        term = exp.to_identifier(_column(table), quoted=True)
        return TermBit(this=term, expression=exp.Literal.string(bits))


def _column(table: str) -> str:
    return f"{table}_id"


def _alias(relation: str) -> str:
    """The name the joined relation goes by: the table's own, or the alias ending ``relation``."""
    words = relation.split()
    return words[-1] if len(words) > 1 else relation.strip('"')


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _is_list(dtype: pa.DataType | None) -> bool:
    return dtype is not None and bool(pa.types.is_list(dtype) or pa.types.is_large_list(dtype))
