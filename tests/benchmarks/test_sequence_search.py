"""Sequence search throughput on the same fleet events, one process: reference, compiled, DuckDB.

Run with timings: ``pytest tests/benchmarks --benchmark-enable``; the table's relative column
gives each engine's ratio to the fastest. ``harness bench`` on a sequence rule prints the same
comparison as events per second of the input stream, with the sequences each engine found.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow.parquet as pq
import pytest

from generators.corpus import write_corpus
from generators.profiles import CorpusOptions
from harness.corpus import open_corpus
from harness.eql import compile_statement
from harness.sql.sequences import TableSearcher

EVENTS = int(os.environ.get("HARNESS_BENCH_EVENTS", "50000"))
SEED = 5
# Two process stages joined by host within the hour: a fleet's week of process starts has some.
QUERY = (
    "sequence by host.id with maxspan=1h "
    '[process where process.name : "svchost.exe"] [process where process.name : "chrome.exe"]'
)
SIZE = 10_000
pytestmark = pytest.mark.benchmark(group="sequence search", min_rounds=1, warmup=False)


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return list(open_corpus(profile="fleet", events=EVENTS, seed=SEED))


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("bench") / "fleet.parquet"
    write_corpus(CorpusOptions("fleet", EVENTS, SEED), path)
    return pq.read_table(path)


@pytest.fixture(scope="module")
def expected(events: list[dict[str, Any]]) -> int:
    return len(compile_statement(QUERY).search(events, size=SIZE).sequences)


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_row_engine(benchmark: Any, events: list[dict[str, Any]], expected: int, engine: str) -> None:
    searcher = compile_statement(QUERY, engine=engine)
    found = benchmark(lambda: searcher.search(events, size=SIZE))
    assert len(found.sequences) == expected > 0


def test_duckdb(benchmark: Any, table: Any, expected: int) -> None:
    searcher = TableSearcher(QUERY)
    found = benchmark(lambda: searcher.search(table, size=SIZE))
    assert len(found.sequences) == expected
