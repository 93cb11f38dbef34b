"""``harness bench``: matcher throughput, every engine on the same events in one process.

Reported as events per second and as a ratio to the empty loop (a per-event call that
does nothing: the floor of any matcher behind this interface), with each engine's
match count, so a faster engine's wrong answers show. The peer is the ``eql`` package
(Elastic's Python EQL library), if installed.

A sequence or sample rule is timed as a search (:func:`sequence_bench`): events per
second of the input stream, for the reference and compiled searches, DuckDB and Spark
(each stage's condition in the engine, the state machine over the candidates), with the
number of sequences each found and the ratio to the reference search.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from harness.eql import compile_query
from harness.rules import Rule

__all__ = ["SEARCH_SIZE", "BenchRow", "is_single_event", "parquet_bench", "run_bench", "sequence_bench"]

SEARCH_SIZE = 10_000
"""The sequences a timed search returns at most: the EQL search API's ``size`` ceiling
(``index.max_result_window``), so the count is every sequence of a bench corpus."""


@dataclass(frozen=True)
class BenchRow:
    engine: str
    events: int
    seconds: float | None
    matches: int | None
    note: str = ""
    found: str = "events"  # what ``matches`` counts: events matched, or sequences or samples found

    @property
    def rate(self) -> float | None:
        return self.events / self.seconds if self.seconds else None


def _time(
    predicate: Callable[[Mapping[str, Any]], Any], events: Sequence[Mapping[str, Any]], repeat: int
) -> tuple[float, int]:
    best = float("inf")
    matches = 0
    for _ in range(repeat):
        began = time.perf_counter()
        matches = 0
        for event in events:
            if predicate(event):
                matches += 1
        best = min(best, time.perf_counter() - began)
    return best, matches


def _category(event: Mapping[str, Any]) -> str:
    """The first ``event.category``, which the ``eql`` package needs as the event type."""
    block = event.get("event")
    value = block.get("category") if isinstance(block, Mapping) else None
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else "generic"


def _eql_peer(rule: Rule) -> tuple[Callable[[Mapping[str, Any]], bool] | None, str]:
    try:
        # Imported by name: an optional peer, untyped, and absent from most environments.
        eql: Any = importlib.import_module("eql")
    except ImportError:
        return None, "not installed: pip install eql"
    with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_functions:
        query = eql.parse_query(rule.query)
    engine = eql.PythonEngine({"print": False})
    hits: list[Any] = []
    engine.add_output_hook(hits.append)
    engine.add_query(query)

    def matches(event: Mapping[str, Any]) -> bool:
        before = len(hits)
        engine.stream_event(eql.Event(_category(event), 0, event))
        return len(hits) > before

    return matches, "Elastic's eql package: legacy semantics (no any-element arrays, all case-insensitive)"


def _columnar(rule: Rule, table: Any, repeat: int) -> BenchRow:
    from harness.eql import parse_query
    from harness.errors import EqlUnsupportedError
    from harness.sql import ColumnarMatcher

    try:
        matcher = ColumnarMatcher(parse_query(rule.query), table.schema)
    except EqlUnsupportedError as error:
        return BenchRow("columnar (duckdb)", table.num_rows, None, None, f"cannot translate: {error.message}")
    best, matches = float("inf"), 0
    for _ in range(repeat):
        began = time.perf_counter()
        matches = matcher.count_matching(table)
        best = min(best, time.perf_counter() - began)
    return BenchRow(
        "columnar (duckdb)", table.num_rows, best, matches, "DuckDB over an in-memory Arrow table"
    )


def run_bench(
    rule: Rule,
    events: Sequence[Mapping[str, Any]],
    *,
    repeat: int = 3,
    table: Any = None,
    hand_written: Callable[[Mapping[str, Any]], bool] | None = None,
) -> list[BenchRow]:
    """Time every engine on ``events`` (DuckDB on ``table``: the same events, as Arrow); empty loop first.

    ``hand_written`` is the rule by hand in plain Python, where its catalogue has one: the
    fastest honest baseline.
    """
    rows = []
    seconds, matches = _time(lambda event: False, events, repeat)
    rows.append(BenchRow("empty loop", len(events), seconds, matches, "a per-event call that does nothing"))
    for engine in ("reference", "compiled"):
        matcher = compile_query(rule.query, engine=engine)
        seconds, matches = _time(matcher.matches, events, repeat)
        rows.append(BenchRow(engine, len(events), seconds, matches))
    if table is None:
        rows.append(BenchRow("columnar (duckdb)", len(events), None, None, "no Arrow table given"))
    else:
        rows.append(_columnar(rule, table, repeat))
    if hand_written is None:
        rows.append(
            BenchRow("hand-written", len(events), None, None, "none in the rule's catalogue for this version")
        )
    else:
        seconds, matches = _time(hand_written, events, repeat)
        note = f"version {rule.version} in plain Python"
        rows.append(BenchRow("hand-written", len(events), seconds, matches, note))
    peer, note = _eql_peer(rule)
    if peer is None:
        rows.append(BenchRow("eql (peer)", len(events), None, None, note))
    else:
        seconds, matches = _time(peer, events, 1)
        rows.append(BenchRow("eql (peer)", len(events), seconds, matches, note))
    return rows


def parquet_bench(
    rule: Rule, path: str, *, repeat: int = 3, spark_master: str | None = None, spark: Any = None
) -> list[BenchRow]:
    """Engines that scan Parquet, timed on the same files: DuckDB first (the baseline), then Spark.

    Each time is a whole scan with the matches counted inside the engine (``WHERE``),
    best of ``repeat``; Spark's session start-up is left out (paid once per run).
    """
    from harness.eql import parse_query
    from harness.errors import EqlUnsupportedError
    from harness.sql import translate
    from harness.validation.tables import DuckDbTable, EventTable

    query = parse_query(rule.query)
    tables: list[tuple[str, Callable[[], EventTable], str]] = [
        ("duckdb (parquet)", lambda: DuckDbTable(path), "in-process DuckDB, every core")
    ]
    if spark_master is not None or spark is not None:
        from harness.spark import SparkTable

        master = spark.sparkContext.master if spark is not None else spark_master
        tables.append(
            (f"spark {master} (parquet)", lambda: SparkTable(path, master=master or "", session=spark), "")
        )
    rows = []
    for name, open_table, note in tables:
        table = open_table()
        (events,) = table.rows(f"SELECT count(*) FROM {table.name}", "events")[0]
        try:
            condition = translate(query, table.schema, engine=table.engine)
        except EqlUnsupportedError as error:
            rows.append(BenchRow(name, events, None, None, f"cannot translate: {error.message}"))
            continue
        best, matches = float("inf"), 0
        for _ in range(repeat):
            began = time.perf_counter()
            (matches,) = table.rows(f"SELECT count(*) FROM {table.name} WHERE {condition}", "matches")[0]
            best = min(best, time.perf_counter() - began)
        rows.append(BenchRow(name, int(events), best, int(matches), note))
    return rows


def is_single_event(rule: Rule) -> bool:
    """Whether the rule's query is one event query (no sequence, sample or pipe)."""
    from harness.eql import Query, parse_statement

    return isinstance(parse_statement(rule.query), Query)


def _best(search: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = search()
        best = min(best, time.perf_counter() - began)
    return best, result


def sequence_bench(
    rule: Rule,
    events: Sequence[Mapping[str, Any]],
    table: Any,
    *,
    repeat: int = 3,
    spark: Any = None,
) -> list[BenchRow]:
    """A sequence or sample rule searched by every engine over the same events (``table``: the same
    events as Arrow, for DuckDB and Spark), best of ``repeat``; the empty loop first.

    Each time is a whole search: ordinals, every stage's hits, the state machine and the
    matched events' documents. Spark's session and DataFrame are built before the clock starts.
    """
    from harness.eql import Piped, Query, Sample, compile_statement, parse_statement
    from harness.errors import EqlUnsupportedError
    from harness.sql.sequences import TableSearcher

    statement = parse_statement(rule.query)
    inner = statement.query if isinstance(statement, Piped) else statement
    found = "events" if isinstance(inner, Query) else "samples" if isinstance(inner, Sample) else "sequences"
    seconds, _ = _time(lambda event: False, events, repeat)
    rows = [BenchRow("empty loop", len(events), seconds, 0, "a per-event call that does nothing", found)]
    for engine in ("reference", "compiled"):
        searcher = compile_statement(rule.query, engine=engine)
        best, result = _best(partial(searcher.search, events, size=SEARCH_SIZE), repeat)
        rows.append(BenchRow(engine, len(events), best, _count(result), "", found))
    engines: list[tuple[str, Callable[[], Any], str]] = []
    try:
        duckdb = TableSearcher(statement)
        duckdb.plan(table.schema, "@timestamp", None)
        engines.append(
            (
                "duckdb",
                lambda: duckdb.search(table, size=SEARCH_SIZE),
                "stage conditions in DuckDB over Arrow",
            )
        )
    except EqlUnsupportedError as error:
        rows.append(
            BenchRow("duckdb", table.num_rows, None, None, f"cannot translate: {error.message}", found)
        )
    if spark is not None:
        from harness.spark.sequences import SparkSearch

        name = f"spark {spark.sparkContext.master}"
        try:
            on_spark = SparkSearch(spark, statement, table)
            engines.append((name, lambda: on_spark.search(size=SEARCH_SIZE), "stage conditions in Spark"))
        except EqlUnsupportedError as error:
            rows.append(
                BenchRow(name, table.num_rows, None, None, f"cannot translate: {error.message}", found)
            )
    for name, search, note in engines:
        best, result = _best(search, repeat)
        rows.append(BenchRow(name, table.num_rows, best, _count(result), note, found))
    return rows


def _count(result: Any) -> int:
    return len(result.events) + len(result.sequences)
