"""The exceptions' SQL condition against ``ExceptionSet.excludes``, row by row, on a generated fleet table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import harness.exceptions as exc
from harness.errors import EqlUnsupportedError
from harness.exceptions import exceptions_condition
from harness.exceptions.model import OPERATORS, Entry, Operator

from bundled import APPCMD

# Keyword, wildcard-typed, list, long and boolean columns, and a lowercase-normalized multi-field.
FIELDS = [
    "process.name",
    "process.args",
    "process.parent.name",
    "process.command_line",
    "user.name",
    "host.os.type",
    "host.os.name.caseless",
    "process.name.caseless",
    "event.category",
    "process.pid",
    "process.code_signature.trusted",
    "process.nope",
]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    import pyarrow.parquet as pq

    from generators.corpus import write_corpus
    from generators.profiles import CorpusOptions

    path = Path(tmp_path_factory.mktemp("fleet")) / "fleet.parquet"
    write_corpus(CorpusOptions("mixed", events=2_000, seed=8, catalogue=APPCMD), path)
    return pq.read_table(path)


@pytest.fixture(scope="module")
def documents(fleet: pa.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = fleet.to_pylist()
    return rows


def _seen(table: pa.Table, field: str) -> list[str]:
    """Values the table holds for ``field`` (its parent's for a multi-field), as strings, a few per field."""
    column: Any = table
    for part in field.removesuffix(".caseless").split("."):
        if part not in column.type.names if hasattr(column, "type") else part not in column.column_names:
            return ["x"]
        column = column.field(part) if hasattr(column, "type") else column.column(part).combine_chunks()
    values = pa.compute.list_flatten(column) if pa.types.is_list(column.type) else column
    distinct = sorted(
        {str(v).lower() if isinstance(v, bool) else str(v) for v in values.to_pylist() if v is not None}
    )
    return distinct[:12] or ["x"]


def _variants(value: str) -> list[str]:
    # Case changes, prefixes and suffixes as wildcards, an escaped wildcard, a non-ASCII fold (K).
    return [
        value,
        value.upper(),
        value[:3] + "*",
        "*" + value[-3:],
        value.replace("e", "?"),
        "\\" + value,
        "\u212a*",
    ]


@st.composite
def entries(draw: st.DrawFn, table: pa.Table) -> Entry:
    field = draw(st.sampled_from(FIELDS))
    operator: Operator = draw(st.sampled_from(OPERATORS))
    seen = _seen(table, field)
    value = draw(st.sampled_from(seen))
    kind = draw(st.sampled_from(["match", "match_any", "wildcard", "exists", "list"]))
    numeric = field in ("process.pid", "process.code_signature.trusted")
    if kind == "exists":
        return exc.Exists(field, operator)
    if kind == "match_any":
        return exc.MatchAny(
            field, tuple(draw(st.lists(st.sampled_from(seen), min_size=1, max_size=3))), operator
        )
    if kind == "wildcard" and not numeric:
        return exc.Wildcard(field, draw(st.sampled_from(_variants(value))), operator)
    if kind == "list" and not numeric:
        return exc.ListEntry(field, "names.txt", "keyword", operator)
    return exc.Match(field, value if numeric else draw(st.sampled_from([value, value.upper()])), operator)


@st.composite
def exception_sets(draw: st.DrawFn, table: pa.Table) -> exc.ExceptionSet:
    items = []
    for index in range(draw(st.integers(1, 3))):
        items.append(
            exc.ExceptionItem(
                item_id=f"i{index}",
                list_id="l",
                name=f"item {index}",
                description="",
                entries=tuple(draw(st.lists(entries(table), min_size=1, max_size=3))),
                os_types=tuple(draw(st.lists(st.sampled_from(["windows", "linux"]), max_size=1))),
            )
        )
    names = tuple(_seen(table, "user.name")[:3] + _seen(table, "process.name")[:3])
    return exc.ExceptionSet(
        items=tuple(items), value_lists={"names.txt": exc.ValueList("names.txt", "keyword", names)}
    )


def _duckdb_verdicts(table: pa.Table, condition: str) -> list[bool]:
    import duckdb

    connection = duckdb.connect()
    connection.register("t", table)
    return [bool(row[0]) for row in connection.execute(f"SELECT {condition} FROM t").fetchall()]


@given(data=st.data())
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_duckdb_agrees_with_excludes_on_the_fleet(
    fleet: pa.Table, documents: list[dict[str, Any]], data: st.DataObject
) -> None:
    exceptions = data.draw(exception_sets(fleet))
    expected = [exceptions.excludes(row) for row in documents]
    condition = exceptions_condition(exceptions, fleet.schema, "duckdb")
    # why: every row judged by the SQL condition as the document semantics judge it
    assert _duckdb_verdicts(fleet, condition) == expected, condition


@pytest.mark.spark
def test_spark_agrees_with_excludes_on_the_fleet(
    spark: Any, fleet: pa.Table, documents: list[dict[str, Any]]
) -> None:
    exceptions = exc.ExceptionSet(
        items=(
            exc.ExceptionItem(
                "a", "l", "monitoring", "", (exc.Match("process.args", "/text:name"),), os_types=("windows",)
            ),
            exc.ExceptionItem(
                "b",
                "l",
                "caseless",
                "",
                (exc.Wildcard("process.name.caseless", "APP*"), exc.Exists("user.name")),
            ),
            exc.ExceptionItem("c", "l", "excluded", "", (exc.Match("user.name", "nobody", "excluded"),)),
        )
    )
    numbered = fleet.append_column("__row", pa.array(range(fleet.num_rows), pa.int64()))
    frame = spark.createDataFrame(numbered)
    condition = exceptions_condition(exceptions, fleet.schema, "spark")
    rows = sorted(frame.selectExpr("__row", f"{condition} AS v").collect(), key=lambda row: row[0])
    assert [bool(row[1]) for row in rows] == [exceptions.excludes(row) for row in documents]


@pytest.mark.parametrize(
    ("entry", "construct"),
    [
        (exc.Nested("dll", (exc.Match("name", "a.dll"),)), "nested entry"),
        (exc.Match("source.ip", "10.0.0.1"), "ip field"),
        (exc.Match("message", "password"), "match_only_text field"),
        (exc.Match("process.pid", "abc"), "fails the search"),
    ],
)
def test_what_sql_cannot_say_is_refused_by_name(fleet: pa.Table, entry: Entry, construct: str) -> None:
    exceptions = exc.ExceptionSet(items=(exc.ExceptionItem("a", "l", "refused", "", (entry,)),))
    with pytest.raises(EqlUnsupportedError, match=construct):
        exceptions_condition(exceptions, fleet.schema, "duckdb")


def test_no_items_is_false(fleet: pa.Table) -> None:
    assert exceptions_condition(exc.ExceptionSet(items=()), fleet.schema, "duckdb") == "FALSE"
