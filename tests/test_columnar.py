"""Differential tests: DuckDB's and Spark's answers through the SQL condition tree equal the reference's.

Rows follow a fixed Arrow schema (a Parquet column has one type), with every field
missing in some rows; queries cover every operator the translation accepts.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import compile_query, load_rule, parse_query
from harness.errors import EqlUnsupportedError, HarnessError
from harness.sql import ColumnarMatcher, prune, translate

from bundled import APPCMD

SCHEMA = pa.schema(
    [
        ("event", pa.struct([("category", pa.list_(pa.string())), ("type", pa.string())])),
        (
            "process",
            pa.struct(
                [
                    ("name", pa.string()),
                    ("args", pa.list_(pa.string())),
                    ("pid", pa.int64()),
                    ("ratio", pa.float64()),
                    ("flag", pa.bool_()),
                ]
            ),
        ),
    ]
)
TEXT = st.sampled_from(
    [
        "list",
        "LIST",
        "LİST",
        "/text:*",
        "/TEXT:x",
        "appcmd.exe",
        "AppCmd.EXE",
        "é",
        "É",
        "a\\b",
        "",
        "x*y",
        "line\nbreak",
        "K",
        "\u212a",
        " list",
    ]
)
ROW = st.fixed_dictionaries(
    {
        "event": st.fixed_dictionaries(
            {
                "category": st.one_of(
                    st.none(), st.lists(st.sampled_from(["process", "file", "PROCESS"]), max_size=2)
                ),
                "type": st.one_of(st.none(), st.sampled_from(["start", "end"])),
            }
        ),
        "process": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {
                    "name": st.one_of(st.none(), TEXT),
                    "args": st.one_of(st.none(), st.lists(st.one_of(st.none(), TEXT), max_size=4)),
                    "pid": st.one_of(st.none(), st.integers(-3, 50)),
                    "ratio": st.one_of(st.none(), st.sampled_from([0.5, 2.0, -1.5])),
                    "flag": st.one_of(st.none(), st.booleans()),
                }
            ),
        ),
    }
)
PATTERNS = [
    '"list"',
    '"/text*"',
    '"*exe"',
    '"a\\\\b"',
    '"x?y"',
    '"*"',
    '""',
    '"é"',
    '"k"',
    '"LIST"',
    '"*break"',
]
REGEXES = [
    '"l.st"',
    '"[a-z]+"',
    '"/text:.*"',
    '".*exe"',
    '"a\\\\\\\\b"',
    '"<1-50>"',
    '"(LIST|list)"',
    '"l[^x]st"',
    '"(li|LI)+st"',  # a repeated group: DuckDB runs it, Spark refuses it (java.util.regex recursion)
]
# Past the columns' ranges and past Spark's 38-digit decimals: decided without the engine's literal.
BIG = ["9223372036854775808", "-9223372036854775809", "99999999999999999999999", "1" + "0" * 40]


@st.composite
def predicate(draw: st.DrawFn) -> str:
    text_field = draw(
        st.sampled_from(["process.name", "process.args", "event.type", "event.category", "process.nope"])
    )
    number_field = draw(st.sampled_from(["process.pid", "process.ratio", "process.name"]))
    pattern = draw(st.sampled_from(PATTERNS))
    return draw(
        st.sampled_from(
            [
                f"{text_field} == {pattern}",
                f"{text_field} != {pattern}",
                f"{text_field} : {pattern}",
                f'{text_field} : ({pattern}, "list")',
                f"{text_field} like {pattern}",
                f"{text_field} like~ {pattern}",
                f"{text_field} regex {draw(st.sampled_from(REGEXES))}",
                f"{text_field} regex~ {draw(st.sampled_from(REGEXES))}",
                f'{text_field} in ({pattern}, "end")',
                f'{text_field} in~ ({pattern}, "END")',
                f"{text_field} not in ({pattern})",
                f"{text_field} not in~ ({pattern})",
                f"{text_field} == null",
                f"{text_field} != null",
                f"{text_field} : null",
                f'{text_field} < "m"',
                f"{number_field} > {draw(st.sampled_from(['0', '10', '0.5', '-2', *BIG]))}",
                f"{number_field} <= {draw(st.sampled_from(['10', *BIG]))}",
                f"{number_field} == {draw(st.sampled_from(['2', *BIG]))}",
                f"process.flag == {draw(st.sampled_from(['true', 'false']))}",
                "process.flag",
                f"startsWith{draw(st.sampled_from(['', '~']))}({text_field}, {pattern})",
                f"endsWith{draw(st.sampled_from(['', '~']))}({text_field}, {pattern})",
                f"stringContains{draw(st.sampled_from(['', '~']))}({text_field}, {pattern})",
            ]
        )
    )


@st.composite
def condition(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 2 or draw(st.booleans()):
        return draw(predicate())
    glue = draw(st.sampled_from(["and", "or"]))
    text = f"({draw(condition(depth + 1))}) {glue} ({draw(condition(depth + 1))})"
    return f"not ({text})" if draw(st.booleans()) else text


@given(
    query=condition(),
    rows=st.lists(ROW, min_size=1, max_size=12),
    category=st.sampled_from(["process", "any"]),
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_duckdb_equals_reference(query: str, rows: list[dict[str, Any]], category: str) -> None:
    text = f"{category} where {query}"
    try:
        parsed = parse_query(text)
        columnar = ColumnarMatcher(parsed, SCHEMA)
    except HarnessError:
        return
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    reference = compile_query(text)
    expected = [reference.matches(row) for row in table.to_pylist()]
    assert columnar.verdicts(table) == expected, (text, columnar.condition)


@given(
    query=condition(),
    rows=st.lists(ROW, min_size=1, max_size=12),
    category=st.sampled_from(["process", "any"]),
)
# A Spark job per example costs some 70 ms: a smaller budget than DuckDB's, same grammar.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.spark
def test_spark_equals_reference(spark: Any, query: str, rows: list[dict[str, Any]], category: str) -> None:
    from harness.spark import spark_verdicts

    text = f"{category} where {query}"
    try:
        parsed = parse_query(text)
        translate(parsed, SCHEMA, engine="spark")  # DuckDB's refusals, and regexes Java may not finish
    except HarnessError:
        return
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    reference = compile_query(text)
    expected = [reference.matches(row) for row in table.to_pylist()]
    assert spark_verdicts(spark, parsed, table) == expected, (text, translate(parsed, SCHEMA, engine="spark"))


@pytest.mark.parametrize("version", [214, 220])
def test_shipped_rules_on_a_generated_parquet_corpus(tmp_path: Any, version: int) -> None:
    import pyarrow.parquet as pq

    from generators.corpus import write_corpus
    from generators.profiles import CorpusOptions

    path = tmp_path / "mixed.parquet"
    write_corpus(CorpusOptions("mixed", events=4_000, seed=8, catalogue=APPCMD), path)
    table = pq.read_table(path)
    query = parse_query(load_rule(f"rules/iis_appcmd_password_dumped_v{version}.toml").query)
    columnar = ColumnarMatcher(query, table.schema)
    reference = compile_query(str(query))
    assert columnar.verdicts(table) == [reference.matches(row) for row in table.to_pylist()]
    assert columnar.count(str(path)) == sum(columnar.verdicts(table)) > 0


@pytest.mark.parametrize(
    ("query", "construct"),
    [
        ("process where length(process.name) > 3", "comparison"),
        ('process where cidrMatch(process.name, "10.0.0.0/8")', "functioncall"),
        ("process where process.pid * 3 > 4", "comparison"),  # not exact: stays arithmetic
    ],
)
def test_what_sql_cannot_say_is_refused_by_name(query: str, construct: str) -> None:
    with pytest.raises(EqlUnsupportedError, match=f"{construct} .* cannot run in the columnar engine"):
        ColumnarMatcher(parse_query(query), SCHEMA)


def test_pruning_keeps_rows_nulls_and_answers() -> None:
    events: list[dict[str, Any]] = [
        {"process": {"name": "appcmd.exe", "args": ["list", "/text:*"], "pid": 1}, "host": {"name": "a"}},
        {"process": None, "host": {"name": "b"}},
        {"host": {"name": "c"}},
        {"process": {"name": "APPCMD.EXE", "args": ["LIST", "/TEXT:x"], "pid": 2}, "host": None},
        {"process": {"name": "cmd.exe", "args": None, "pid": 3}, "host": {"name": "e"}},
    ]
    # A slice has an offset into its buffers: the pruned children must follow it.
    table = pa.Table.from_pylist(events).slice(1)
    query = 'any where process.name : "appcmd.exe" and process.args : "list" and process.args : "/text*"'
    matcher = ColumnarMatcher(parse_query(query), table.schema)
    assert matcher.paths == {("process", "name"), ("process", "args")}
    pruned = prune(table, matcher.paths)
    assert pruned.column_names == ["process"]
    assert pruned.num_rows == table.num_rows
    assert pruned.column("process").to_pylist() == [
        None if p is None else {"name": p["name"], "args": p["args"]}
        for p in table.column("process").to_pylist()
    ]
    reference = compile_query(query)
    assert (
        matcher.verdicts(table) == [reference.matches(e) for e in events[1:]] == [False, False, True, False]
    )
    assert matcher.count_matching(table) == 1


def test_a_condition_on_no_column_still_sees_every_row() -> None:
    table = pa.Table.from_pylist([{"a": 1}, {"a": 2}])
    matcher = ColumnarMatcher(parse_query("any where missing.field == null"), table.schema)
    assert matcher.count_matching(table) == 2


@pytest.mark.spark
@pytest.mark.parametrize("version", [214, 220])
def test_shipped_rules_on_spark_equal_the_reference(spark: Any, tmp_path: Any, version: int) -> None:
    import pyarrow.parquet as pq

    from generators.corpus import write_corpus
    from generators.profiles import CorpusOptions
    from harness.spark import SparkTable, spark_verdicts

    path = tmp_path / "mixed.parquet"
    write_corpus(CorpusOptions("mixed", events=3_000, seed=9, catalogue=APPCMD), path)
    table = pq.read_table(path)
    query = parse_query(load_rule(f"rules/iis_appcmd_password_dumped_v{version}.toml").query)
    reference = compile_query(str(query))
    expected = [reference.matches(row) for row in table.to_pylist()]
    assert spark_verdicts(spark, query, table) == expected
    condition = translate(query, SparkTable(str(path), session=spark).schema, engine="spark")
    spark_table = SparkTable(str(path), session=spark)
    assert spark_table.rows(f"SELECT count_if({condition}) FROM {spark_table.name}") == [(sum(expected),)]
    assert sum(expected) > 0


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        ("duckdb", "struct_extract(struct_extract(\"process\", 'pe'), 'original_file_name')"),
        ("spark", "`process`.`pe`.`original_file_name`"),
    ],
)
def test_one_tree_renders_each_engines_field_access(engine: str, expected: str) -> None:
    schema = pa.schema([("process", pa.struct([("pe", pa.struct([("original_file_name", pa.string())]))]))])
    condition = translate(
        parse_query('any where process.pe.original_file_name == "a"'), schema, engine=engine
    )
    assert expected in condition


def test_spark_patterns_are_anchored_java_regexes_over_the_same_text() -> None:
    query = parse_query('any where process.name : "app*.exe"')
    duckdb, spark = (translate(query, SCHEMA, engine=e) for e in ("duckdb", "spark"))
    assert "regexp_full_match(" in duckdb and "(?s)[aA][pP][pP].*\\x{2e}[eE][xX][eE]" in duckdb
    # RLIKE searches; \A and \z make it whole-value (Java's $ also matches before a final newline).
    # Spark reads backslashes in string literals as escapes: each is doubled.
    assert "RLIKE '\\\\A(?:(?s)[aA][pP][pP].*\\\\x{2e}[eE][xX][eE])\\\\z'" in spark


@pytest.mark.parametrize(
    "text",
    [
        'process.args : ("*.ost", "*.PST", "x?")',
        'process.args in~ ("A", "b", "c")',
        'process.name : ("a*", "b")',
    ],
)
def test_a_fields_patterns_are_one_alternation_tested_on_each_value_once(text: str) -> None:
    import duckdb

    condition = translate(parse_query(f"any where {text}"), SCHEMA, engine="duckdb")
    # why: one pass over a list field's elements per Match, not one per pattern (sqlregex.any_of)
    assert condition.count("regexp_full_match(") == 1, condition
    values = ["a.ost", "b.pst", "xy", "x", "A", "B", "C", "aa", "b", "bb", "x.ostt", None]
    connection = duckdb.connect()
    for value in values:
        row = {"process": {"name": value, "args": [value, "z"]}}
        connection.register("events", pa.Table.from_pylist([row], schema=SCHEMA))
        ((got,),) = connection.execute(f"SELECT count_if({condition}) FROM events").fetchall()
        # why: the alternation answers as the reference matcher does, value by value
        assert bool(got) == compile_query(f"any where {text}", engine="reference").matches(row), value


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_a_date_column_is_refused_not_silently_false(engine: str) -> None:
    schema = pa.schema([("@timestamp", pa.timestamp("ms", tz="UTC"))])
    with pytest.raises(EqlUnsupportedError, match="date/time column"):
        translate(parse_query('any where @timestamp > "2026-01-01"'), schema, engine=engine)


def test_nan_orders_above_every_number_in_duckdb_unlike_the_reference() -> None:
    """A documented deviation: only Parquet (never JSON, so never Elasticsearch) holds NaN."""
    table = pa.Table.from_pylist([{"process": {"ratio": float("nan")}}, {"process": {"ratio": 0.5}}])
    query = parse_query("any where process.ratio > 1")
    assert ColumnarMatcher(query, table.schema).verdicts(table) == [True, False]
    assert [compile_query(str(query)).matches(row) for row in table.to_pylist()] == [False, False]


def test_a_repeated_group_is_refused_on_spark_only() -> None:
    query = parse_query('any where process.name regex "(ab|cd)*" and process.args regex "[a-z]+"')
    assert "regexp_full_match" in translate(query, SCHEMA, engine="duckdb")
    with pytest.raises(EqlUnsupportedError, match="repeats a group") as caught:
        translate(query, SCHEMA, engine="spark")
    assert caught.value.column == query.source.index("process.name") + 1


@pytest.mark.parametrize(
    ("op", "literal", "expected"),
    [
        ("<", "99999999999999999999", [True, True, False]),
        (">", "99999999999999999999", [False, False, False]),
        (">", "-" + "9" * 45, [True, True, False]),
        ("==", "1" + "0" * 40, [False, False, False]),
    ],
)
def test_integers_past_the_columns_range_are_decided_without_a_literal(
    op: str, literal: str, expected: list[bool]
) -> None:
    table = pa.Table.from_pylist(
        [{"process": {"pid": 1}}, {"process": {"pid": -(2**63)}}, {"process": {"pid": None}}],
        schema=pa.schema([("process", pa.struct([("pid", pa.int64())]))]),
    )
    query = parse_query(f"any where process.pid {op} {literal}")
    assert literal not in translate(query, table.schema, engine="spark")
    assert [compile_query(str(query)).matches(row) for row in table.to_pylist()] == expected
    assert ColumnarMatcher(query, table.schema).verdicts(table) == expected


@pytest.mark.parametrize(
    "query", ["any where amount == 1.5", "any where amount > 1", "any where amount != 1.5"]
)
def test_a_decimal_column_never_equals_a_number_in_duckdb(query: str) -> None:
    """A documented deviation: JSON (so Elasticsearch) has no decimals; Parquet may, and they stay apart."""
    from decimal import Decimal

    table = pa.table({"amount": pa.array([Decimal("1.50")], pa.decimal128(5, 2))})
    assert ColumnarMatcher(parse_query(query), table.schema).verdicts(table) == [query.endswith("!= 1.5")]


@pytest.mark.parametrize("pattern", ["[a-z]+", "a+x*", "b{2,5}", "<1-50>", "(LIST|list)"])
def test_repeated_classes_and_unrepeated_groups_run_on_spark(pattern: str) -> None:
    condition = translate(parse_query(f'any where process.name regex "{pattern}"'), SCHEMA, engine="spark")
    assert "RLIKE" in condition


def test_counts_past_re2s_limit_are_refused_on_duckdb_only() -> None:
    query = parse_query('any where process.name regex "b{1001}"')
    with pytest.raises(EqlUnsupportedError, match="counts past 1000 repetitions"):
        translate(query, SCHEMA, engine="duckdb")
    assert "{1000,1000}" in translate(parse_query('any where process.name regex "b{1000}"'), SCHEMA)


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_a_pattern_past_lucenes_automaton_limit_is_refused_as_by_the_row_engines(engine: str) -> None:
    query = 'process where process.name regex "a{1,1000}{1,1000}b"'
    schema = pa.schema([("process", pa.struct([("name", pa.string())]))])
    with pytest.raises(EqlUnsupportedError, match="TooComplexToDeterminizeException") as sql:
        translate(parse_query(query), schema, engine=engine)
    with pytest.raises(EqlUnsupportedError) as rows:
        compile_query(query)
    assert str(sql.value) == str(rows.value)


def _connective(draw: st.DrawFn, depth: int = 0) -> str:
    """A random condition over the never-NULL boolean columns a, b, c and d."""
    if depth > 3 or draw(st.booleans()):
        return draw(st.sampled_from("abcd"))
    kind = draw(st.sampled_from(["AND", "OR", "NOT"]))
    if kind == "NOT":
        return f"NOT ({_connective(draw, depth + 1)})"
    operands = [_connective(draw, depth + 1) for _ in range(draw(st.integers(2, 4)))]
    return "(" + f" {kind} ".join(operands) + ")"


@given(st.composite(_connective)())
@settings(max_examples=200, deadline=None)
def test_a_condition_computed_as_a_value_gives_the_filters_answers(text: str) -> None:
    import duckdb
    import sqlglot

    from harness.sql.dialects import render, render_value

    tree = sqlglot.parse_one(text, read="duckdb")
    rows = [tuple(bool(n >> bit & 1) for bit in range(4)) for n in range(16)]
    connection = duckdb.connect()
    connection.execute("CREATE TABLE t (a BOOLEAN, b BOOLEAN, c BOOLEAN, d BOOLEAN)")
    connection.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    value, plain = render_value(tree, "duckdb"), render(tree, "duckdb")
    assert " AND " not in value and " OR " not in value  # why: every connective became a CASE
    got = connection.execute(f"SELECT {value}, {plain} FROM t").fetchall()
    # why: every row of the truth table answered the same by the CASE form and by AND/OR/NOT
    assert all(short == full for short, full in got), (value, got)
    assert render(tree, "duckdb") == plain  # the tree handed in is left as it was
