"""Reading NDJSON with the duplicate-key check, and validating a rule on it, against orjson alone.

Run with timings: ``pytest tests/benchmarks/test_reading.py --benchmark-enable``; compare the
``read_events`` and ``validate`` means with the ``orjson baseline`` mean (the same lines parsed
and nothing else), or read the ratio ``bench_ndjson`` prints (``floor / validate``).
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from generators.corpus import write_corpus
from generators.profiles import CorpusOptions
from harness.app import validate
from harness.bench_ndjson import bench_ndjson
from harness.errors import InputError
from harness.events import read_events

from bundled import APPCMD

EVENTS = int(os.environ.get("HARNESS_BENCH_EVENTS", "20000"))
RULE = Path(__file__).resolve().parents[2] / "rules" / "iis_appcmd_password_dumped_v214.toml"
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


def test_validate(benchmark: pytest.FixtureRequest, corpus: Path) -> None:
    result = benchmark(lambda: validate(RULE, corpus, derived=False).result)  # type: ignore[operator]
    assert result.events + result.unread_events == EVENTS


def test_bench_ndjson_reports_both_on_the_same_file(corpus: Path) -> None:
    bench = bench_ndjson(RULE, corpus, repeat=1)
    print(f"\n{EVENTS:,} fleet events: floor / validate = {bench.ratio:.2f}")
    assert bench.events == EVENTS
    assert bench.alerts == validate(RULE, corpus, derived=False).result.alerts
    assert bench.ratio == pytest.approx(bench.floor_seconds / bench.validate_seconds)
    assert bench.as_dict()["ratio"] == bench.ratio


def test_bench_ndjson_wants_plain_ndjson(tmp_path: Path) -> None:
    gz = tmp_path / "e.ndjson"
    gz.write_bytes(b"\x1f\x8b\x08\x00")
    with pytest.raises(InputError, match="gunzip it first"):
        bench_ndjson(RULE, gz)
    blank = tmp_path / "b.ndjson"
    blank.write_bytes(b'{"a": 1}\n\n')
    with pytest.raises(InputError, match=r"b\.ndjson:2: the floor reads one JSON document a line"):
        bench_ndjson(RULE, blank)
