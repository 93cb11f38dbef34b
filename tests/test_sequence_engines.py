"""Differential tests: sequences, samples and event searches on every engine equal the reference's.

Random statements (join keys incl. multi-valued, optional and missing fields, maxspan,
until, runs, missing-event stages, head/tail, size, a tiebreaker) over random event
streams (timestamps with ties, missing ones, rows out of order) run by the reference
search (``harness.eql.search``), the compiled row engine, DuckDB
(``harness.sql.sequences``) and Spark (``harness.spark.sequences``): the sequences' events,
in stage order, and their join keys must be the reference's, example for example.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import load_rule
from harness.eql import Piped, Sequence, parse_statement, search
from harness.eql.search import SearchResult
from harness.errors import EqlEvaluationError, EqlUnsupportedError, HarnessError
from harness.sql.sequences import TableSearcher, search_table

from strategies import conditions as grammar_conditions
from test_conformance_sequences import CASES, SearchCase

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("@timestamp", pa.int64()),
        ("seq", pa.int64()),
        ("event", pa.struct([("category", pa.string())])),
        ("host", pa.struct([("id", pa.string())])),
        ("user", pa.struct([("id", pa.list_(pa.string()))])),
        (
            "process",
            pa.struct(
                [
                    ("name", pa.string()),
                    ("args", pa.list_(pa.string())),
                    ("pid", pa.int64()),
                    ("ip", pa.string()),
                ]
            ),
        ),
    ]
)
NAMES = st.one_of(st.none(), st.sampled_from(["a", "ab", "b", "list", "A", "x.exe"]))
EVENT = st.fixed_dictionaries(
    {
        # Few distinct times: ties everywhere, and sometimes none at all (never a candidate).
        "@timestamp": st.one_of(st.none(), st.integers(0, 6)),
        "seq": st.one_of(st.none(), st.integers(0, 3)),
        "event": st.fixed_dictionaries(
            {"category": st.sampled_from(["process", "file", "process", "network"])}
        ),
        "host": st.one_of(
            st.none(), st.fixed_dictionaries({"id": st.one_of(st.none(), st.sampled_from("hk"))})
        ),
        "user": st.fixed_dictionaries(
            {"id": st.one_of(st.none(), st.lists(st.one_of(st.none(), st.sampled_from("uvw")), max_size=3))}
        ),
        "process": st.fixed_dictionaries(
            {
                "name": NAMES,
                "args": st.one_of(st.none(), st.lists(NAMES, max_size=3)),
                "pid": st.one_of(st.none(), st.integers(0, 4)),
                "ip": st.one_of(st.none(), st.sampled_from(["10.0.0.1", "192.168.1.1", "list"])),
            }
        ),
    }
)
STREAMS = st.lists(EVENT, min_size=3, max_size=24)
PREDICATES = [
    "true",
    "true",
    "true",
    'process.name : "a*"',
    'process.name == "b"',
    "process.pid > 1",
    "process.pid == null",
    'process.args : "list"',
    'host.id != "h"',
    'not process.name in ("a", "ab")',
    # Part SQL, part script: SQL filters, the row engine judges the whole query on the candidates.
    'process.name : "a*" and length(process.name) > 1',
    'process.pid >= 0 and not cidrMatch(process.ip, "10.0.0.0/8")',
    # No SQL at all: refused, the caller falls back to the row engine.
    "length(process.name) > 1",
]
KEYS = ["host.id", "user.id", "?process.pid", "process.name", "?nope.missing"]
CATEGORIES = ["process", "file", "any"]


@st.composite
def simple_conditions(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from(PREDICATES))
    if draw(st.booleans()):
        return first
    return f"{first} {draw(st.sampled_from(['and', 'or']))} {draw(st.sampled_from(PREDICATES))}"


@st.composite
def statements(draw: st.DrawFn, condition: st.SearchStrategy[str]) -> str:
    """Statement text: a sequence, a sample or an event query, with pipes now and then."""
    kind = draw(st.sampled_from(["sequence", "sequence", "sample", "query"]))

    def query() -> str:
        return f"{draw(st.sampled_from(CATEGORIES))} where {draw(condition)}"

    if kind == "query":
        text = query()
    else:
        shared = draw(st.lists(st.sampled_from(KEYS), max_size=2, unique=True)) if draw(st.booleans()) else []
        own = draw(st.integers(0, 2)) == 0
        count = draw(st.integers(2 if kind == "sequence" else 1, 4))

        def stage(allow_missing: bool) -> str:
            keys = f" by {draw(st.sampled_from(KEYS))}" if own else ""
            body = f"[{query()}]{keys}"
            if kind == "sequence" and draw(st.integers(0, 4)) == 0:
                body += f" with runs={draw(st.integers(2, 3))}"
            elif allow_missing and draw(st.integers(0, 4)) == 0:
                body = "!" + body
            return body

        maxspan = draw(st.sampled_from(["", " with maxspan=2ms", " with maxspan=4ms", " with maxspan=1s"]))
        by = f" by {', '.join(shared)}" if shared else ""
        head = f"{kind}{by}{maxspan if kind == 'sequence' else ''}"
        stages = [stage(kind == "sequence" and bool(maxspan)) for _ in range(count)]
        text = " ".join([head, *stages])
        if kind == "sequence" and draw(st.integers(0, 3)) == 0:
            text += f" until {stage(False)}"
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        text += f" | {draw(st.sampled_from(['head', 'tail']))} {draw(st.integers(1, 4))}"
    return text


OPTIONS = st.fixed_dictionaries(
    {"size": st.sampled_from([10, 10, 4, 1, 0]), "tiebreaker_field": st.sampled_from([None, "seq"])}
)


def _table(stream: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist([{"id": index, **event} for index, event in enumerate(stream)], schema=SCHEMA)


def _shown(result: SearchResult) -> Any:
    """Event identities in order (``!`` for a missing event) and join keys: what a failure prints."""
    return (
        result.kind,
        [row["id"] for row in result.events],
        [([e["id"] if e is not None else "!" for e in f.events], f.join_keys) for f in result.sequences],
    )


def _reference(
    text: str, table: pa.Table, options: dict[str, Any], engine: str = "reference"
) -> SearchResult:
    return search(parse_statement(text), table.to_pylist(), engine=engine, **options)


CONNECTION = duckdb.connect()


def _duckdb(text: str, table: pa.Table, options: dict[str, Any]) -> SearchResult | None:
    """DuckDB's result, or None when the statement does not parse or DuckDB refuses a stage."""
    try:
        return search_table(parse_statement(text), table, connection=CONNECTION, **options)
    except HarnessError:
        return None


@given(text=statements(simple_conditions()), stream=STREAMS, options=OPTIONS)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_duckdb_equals_reference(text: str, stream: list[dict[str, Any]], options: dict[str, Any]) -> None:
    table = _table(stream)
    found = _duckdb(text, table, options)
    if found is None:
        return
    expected = _reference(text, table, options)
    assert _shown(found) == _shown(expected), text
    assert found == expected, text


@given(text=statements(grammar_conditions()), stream=STREAMS, options=OPTIONS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_duckdb_equals_reference_on_the_condition_grammar(
    text: str, stream: list[dict[str, Any]], options: dict[str, Any]
) -> None:
    """The grammar's conditions (every operator and function) as stages: most mix SQL and script parts."""
    table = _table(stream)
    found = _duckdb(text, table, options)
    if found is None:
        return
    try:
        expected = _reference(text, table, options)
    except EqlEvaluationError:
        # A script Elasticsearch would fail the search on (number("a")): the row engines judge it on
        # every event, the SQL path on the candidates only, as Lucene's conjunctions run a script
        # query's two-phase check only on documents the other clauses match (ConjunctionDISI).
        return
    assert _shown(found) == _shown(expected), text


@given(text=statements(simple_conditions()), stream=STREAMS, options=OPTIONS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_compiled_equals_reference(text: str, stream: list[dict[str, Any]], options: dict[str, Any]) -> None:
    table = _table(stream)
    try:
        parse_statement(text)
    except HarnessError:
        return
    compiled = _reference(text, table, options, engine="compiled")
    assert _shown(compiled) == _shown(_reference(text, table, options)), text


# A Spark job per example costs some 100 ms: few examples, the same statements.
@pytest.mark.spark
@given(text=statements(simple_conditions()), stream=STREAMS, options=OPTIONS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_spark_equals_reference(
    spark: Any, text: str, stream: list[dict[str, Any]], options: dict[str, Any]
) -> None:
    from harness.spark.sequences import spark_search

    table = _table(stream)
    try:
        statement = parse_statement(text)
        found = spark_search(spark, statement, table, **options)
    except HarnessError:
        return
    assert _shown(found) == _shown(_reference(text, table, options)), text


CONSTRUCTS = ("sequence", "sample", "where", "until", "runs=", "maxspan", "![", "head", "tail", "user.id")


def test_the_statements_reach_every_construct() -> None:
    """The strategy draws what the differential tests claim to cover (not a tautology: a narrowed
    strategy fails here)."""
    seen: set[str] = set()
    planned = 0

    @given(text=statements(simple_conditions()))
    @settings(max_examples=300, database=None)
    def collect(text: str) -> None:
        nonlocal planned
        try:
            TableSearcher(text, connection=CONNECTION).plan(SCHEMA, "@timestamp", "seq")
            planned += 1
        except HarnessError:
            pass
        seen.update(word for word in CONSTRUCTS if word in text)

    collect()
    assert planned > 150, "most drawn statements must reach DuckDB, not be refused"
    assert seen == set(CONSTRUCTS)


def test_a_stage_sql_cannot_filter_on_is_refused() -> None:
    """Nothing but a script function: every event of the category would be a candidate, so the caller
    falls back to the row engine, as the single-event SQL path refuses (sqltree's refusal)."""
    with pytest.raises(EqlUnsupportedError, match="cannot run in the columnar engine"):
        search_table(
            "sequence [process where length(process.name) > 1] [file where true]", _table([]), size=1
        )


def test_a_stage_sql_holds_in_part_is_finished_by_the_row_engine() -> None:
    rows = [
        {"@timestamp": 1, "event": {"category": "process"}, "process": {"name": "ab", "ip": "10.1.1.1"}},
        {"@timestamp": 2, "event": {"category": "process"}, "process": {"name": "ab", "ip": "8.8.8.8"}},
        {"@timestamp": 3, "event": {"category": "file"}, "process": {"name": "ab"}},
    ]
    text = (
        'sequence [process where process.name : "a*" and cidrMatch(process.ip, "10.0.0.0/8")] '
        "[file where true]"
    )
    searcher = TableSearcher(text)
    scan = searcher.plan(SCHEMA, "@timestamp", None)
    assert scan.stages[0].residual is not None and "cidr" not in scan.stages[0].sql.lower()
    found = searcher.search(_table(rows))
    assert _shown(found) == ("sequences", [], [([0, 2], ())])


RULES = Path(__file__).resolve().parents[2] / "shared" / "data" / "rules" / "elastic" / "windows"


@pytest.fixture(scope="module")
def dllhost() -> Any:
    rule = RULES / "defense_evasion_unusual_network_connection_via_dllhost.toml"
    if not rule.exists():
        pytest.skip(f"{rule} is not on this machine")
    return load_rule(rule)


def test_a_real_sequence_rule_on_a_fleet_gives_the_reference_sequences(dllhost: Any, tmp_path: Path) -> None:
    """Elastic's dllhost rule (two stages, two keys, maxspan, cidrMatch) over fleet events with two
    planted chains, one past the span: DuckDB finds what the reference finds."""
    import pyarrow.parquet as pq

    from generators.corpus import write_corpus
    from generators.profiles import CorpusOptions

    write_corpus(CorpusOptions("fleet", 400, 5), tmp_path / "fleet.parquet")
    fleet = pq.read_table(tmp_path / "fleet.parquet")
    start = {
        "@timestamp": "2026-11-02T00:00:01Z",
        "event": {"category": ["process"], "type": ["start"]},
        "host": {"id": "H1", "os": {"type": "windows"}},
        "process": {"name": "dllhost.exe", "entity_id": "E1", "args_count": 1},
    }
    connect = {
        "@timestamp": "2026-11-02T00:00:31Z",
        "event": {"category": ["network"]},
        "host": {"id": "H1", "os": {"type": "windows"}},
        "process": {"name": "DllHost.exe", "entity_id": "E1"},
        "destination": {"ip": "8.8.8.8"},
    }
    late = {**connect, "@timestamp": "2026-11-02T00:01:02Z"}
    other = {**start, "process": {"name": "dllhost.exe", "entity_id": "E2", "args_count": 1}}
    planted = [start, connect, other, late]
    schema = pa.unify_schemas(
        [fleet.schema, pa.Table.from_pylist(planted).schema], promote_options="permissive"
    )
    table = pa.Table.from_pylist([*fleet.to_pylist(), *planted], schema=schema)
    statement = parse_statement(dllhost.query)
    assert isinstance(statement, Sequence | Piped)
    expected = search(statement, table.to_pylist())
    found = search_table(statement, table)
    assert [f.join_keys for f in found.sequences] == [("H1", "E1")]
    assert found == expected


def _arrow(events: list[dict[str, Any]]) -> pa.Table | None:
    """A case's events as one Arrow table, with every field any event has (None: no one type per field)."""
    try:
        return pa.Table.from_struct_array(pa.array(events))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_conformance_cases_on_duckdb(case: SearchCase) -> None:
    """The search conformance cases (tests/conformance/sequences*.toml) whose events fit a table."""
    table = _arrow(case.events)
    if table is None:
        pytest.skip("a field holds values of two types: no Parquet column holds them")
    found = search_table(
        parse_statement(case.query),
        table,
        size=case.size,
        tiebreaker_field=case.tiebreaker,
        max_samples_per_key=case.max_samples_per_key,
    )
    context = f"query: {case.query}\nwhy: {case.why}"
    if case.expected_events is not None:
        assert [str(row["id"]) for row in found.events] == case.expected_events, context
        return
    shown = [["!" if e is None else str(e["id"]) for e in f.events] for f in found.sequences]
    assert shown == case.expected, context
    if case.keys is not None:
        assert [list(f.join_keys) for f in found.sequences] == case.keys, context
