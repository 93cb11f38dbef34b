"""Matcher throughput on the same events, one process: the empty loop is the baseline.

Run with timings: ``pytest tests/benchmarks --benchmark-enable``; the table's relative
column gives each engine's ratio to the fastest. ``harness bench`` prints the same
comparison with events per second and match counts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from generators.corpus import write_corpus
from generators.profiles import CorpusOptions
from harness import compile_query, load_rule, parse_query
from harness.corpus import open_corpus
from harness.sql import ColumnarMatcher

from bundled import APPCMD

EVENTS = int(os.environ.get("HARNESS_BENCH_EVENTS", "100000"))
RULE = load_rule(Path(__file__).resolve().parents[2] / "rules" / "iis_appcmd_password_dumped_v214.toml")
pytestmark = pytest.mark.benchmark(group="matchers", min_rounds=1, warmup=False)


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return list(open_corpus(profile="mixed", events=EVENTS, seed=1, catalogue=APPCMD))


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("bench") / "mixed.parquet"
    write_corpus(CorpusOptions("mixed", EVENTS, 1, catalogue=APPCMD), path)
    return pq.read_table(path)


def _count(predicate: Any, events: list[dict[str, Any]]) -> int:
    return sum(1 for event in events if predicate(event))


def test_empty_loop(benchmark: Any, events: list[dict[str, Any]]) -> None:
    assert benchmark(_count, lambda event: False, events) == 0


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_row_engine(benchmark: Any, events: list[dict[str, Any]], engine: str) -> None:
    matcher = compile_query(RULE.query, engine=engine)
    assert benchmark(_count, matcher.matches, events) > 0


def test_duckdb(benchmark: Any, table: Any) -> None:
    matcher = ColumnarMatcher(parse_query(RULE.query), table.schema)
    assert benchmark(lambda: sum(matcher.verdicts(table))) > 0
