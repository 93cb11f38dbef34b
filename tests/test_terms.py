"""Patterns decided on a field's distinct values (``harness.sql.terms``) give each row the answer the
regular expression on the row gives, and the reference's.

The rows and queries are the columnar differential tests' (scalars, lists with null elements, null
and empty lists, case folding, quotes and backslashes); a scan's queries are built with the table's
term ids, as the many-rule count scan builds them, and judged row by row on the joined relation.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_columnar import ROW, SCHEMA, condition

from harness import compile_query, parse_query
from harness.errors import HarnessError
from harness.sql import TermIds, condition_sql, terms

_POSITION = "__position"


def _connection(rows: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.register("rows", pa.Table.from_pylist(rows, schema=SCHEMA))
    connection.execute(f"CREATE TABLE events AS SELECT *, row_number() OVER () AS {_POSITION} FROM rows")
    return connection


def _conditions(texts: list[str], ids: TermIds | None) -> list[str]:
    return [
        condition_sql(parse_query(text), SCHEMA, engine="duckdb", as_value=True, terms=ids) for text in texts
    ]


def _verdicts(
    connection: duckdb.DuckDBPyConnection, relation: str, conditions: list[str]
) -> list[list[bool]]:
    columns = ", ".join(conditions)
    found = connection.execute(f"SELECT {columns} FROM {relation} ORDER BY {_POSITION}").fetchall()
    return [[row[k] for row in found] for k in range(len(conditions))]


def _learned(connection: duckdb.DuckDBPyConnection, texts: list[str]) -> tuple[TermIds, list[str]]:
    ids = TermIds(connection, "events", SCHEMA)
    _conditions(texts, ids)
    ids.learn()
    return ids, _conditions(texts, ids)


@given(
    queries=st.lists(condition(), min_size=2, max_size=5),
    rows=st.lists(ROW, min_size=1, max_size=12),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_term_ids_give_the_reference_answers(queries: list[str], rows: list[dict[str, Any]]) -> None:
    texts = [f"any where {query}" for query in queries]
    try:
        _conditions(texts, None)
    except HarnessError:
        return
    connection = _connection(rows)
    ids, conditions = _learned(connection, texts)
    got = _verdicts(connection, ids.joined("events", conditions), conditions)
    documents = pa.Table.from_pylist(rows, schema=SCHEMA).to_pylist()
    expected = [[compile_query(text).matches(document) for document in documents] for text in texts]
    assert got == expected, conditions


ROWS = [
    {"process": {"name": name, "args": args}, "event": {"type": "start"}}
    for name, args in [
        ("appcmd.exe", ["list", "/text:*"]),
        ("AppCmd.EXE", ["list", None]),
        (None, None),
        ("cmd.exe", []),
        ("it's", ["a\\b", "it's"]),
    ]
]
MANY = [
    'any where process.name : "appcmd.exe" and process.args : "/text*"',
    'any where process.name : ("cmd.exe", "it*") or process.args : "list"',
    'any where process.args : "a\\\\b" and process.name : "nothing*"',
]


def test_patterns_on_a_field_with_ids_read_no_regular_expression_per_row() -> None:
    connection = _connection(ROWS)
    ids, conditions = _learned(connection, MANY)
    rendered = " ".join(conditions)
    assert "regexp_full_match" not in rendered
    assert "get_bit" in rendered  # process.args: lists, decided by their ids
    assert "IN ('AppCmd.EXE', 'appcmd.exe')" in rendered  # a few names: an IN, no join
    assert conditions[2] == "FALSE" or "FALSE" in conditions[2]  # no name matches nothing*
    relation = ids.joined("events", conditions)
    assert _verdicts(connection, relation, conditions) == [
        [True, False, False, False, False],
        [True, True, False, True, True],
        [False, False, False, False, False],
    ]


def test_a_field_with_one_pattern_keeps_its_regular_expression() -> None:
    connection = _connection(ROWS)
    texts = ['any where process.name : "app*"', 'any where event.type : "st*"']
    ids, conditions = _learned(connection, texts)
    assert all("regexp_full_match" in condition for condition in conditions)
    assert ids.joined("events", conditions) == "events"


def test_a_field_with_too_many_values_keeps_its_regular_expression(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terms, "MOST_VALUES", 3)  # process.name has 4 distinct values, args 4 lists
    connection = _connection(ROWS)
    ids, conditions = _learned(connection, MANY)
    assert all("get_bit" not in condition and " IN " not in condition for condition in conditions)
    relation = ids.joined("events", conditions)
    assert relation == "events"
    assert _verdicts(connection, relation, conditions)[1] == [True, True, False, True, True]


def test_patterns_asked_by_a_later_scan_are_judged_on_the_values_read() -> None:
    connection = _connection(ROWS)
    ids, _ = _learned(connection, MANY)
    later = ['any where process.args : "it*"', 'any where process.args : "*t:*"']
    assert all("regexp_full_match" in text for text in _conditions(later, ids))  # not yet judged
    assert ids.learn()
    conditions = _conditions(later, ids)
    assert all("get_bit" in text for text in conditions)
    relation = ids.joined("events", conditions)
    assert _verdicts(connection, relation, conditions) == [
        [False, False, False, False, True],
        [True, False, False, False, False],
    ]
