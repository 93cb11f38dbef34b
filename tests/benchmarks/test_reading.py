"""Reading NDJSON with the duplicate-key check, against orjson alone, in one process.

Run with timings: ``pytest tests/benchmarks/test_reading.py --benchmark-enable``; compare the
``read_events`` mean with the ``orjson baseline`` mean (the same lines parsed and nothing else).
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from generators.corpus import write_corpus
from generators.profiles import CorpusOptions
from harness.events import read_events

from bundled import APPCMD

EVENTS = int(os.environ.get("HARNESS_BENCH_EVENTS", "20000"))
pytestmark = pytest.mark.benchmark(group="reading", min_rounds=1, warmup=False)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reading") / "fleet.ndjson"
    write_corpus(CorpusOptions("fleet", events=EVENTS, seed=7, catalogue=APPCMD), path)
    return path


def test_orjson_baseline(benchmark: pytest.FixtureRequest, corpus: Path) -> None:
    lines = corpus.read_bytes().splitlines()
    count = benchmark(lambda: sum(1 for line in lines if orjson.loads(line)))  # type: ignore[operator]
    assert count == EVENTS


def test_read_events(benchmark: pytest.FixtureRequest, corpus: Path) -> None:
    count = benchmark(lambda: sum(1 for _ in read_events([str(corpus)])))  # type: ignore[operator]
    assert count == EVENTS
