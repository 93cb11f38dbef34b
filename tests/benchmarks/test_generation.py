"""Generation throughput: the fast fleet writer against the per-event renderers, in one process.

Run with timings: ``pytest tests/benchmarks --benchmark-enable``. By default (and in CI)
benchmarks run once, untimed, so they keep working. ``HARNESS_BENCH_EVENTS`` sets the
corpus size (default 100,000). ``test_parquet_against_the_floor`` reports the Parquet
writer as a ratio to pyarrow writing the finished table (``generators.bench``) in
``extra_info``, with the peak memory of each.
"""

from __future__ import annotations

import io
import os

import orjson
import pytest

from generators.bench import generate_bench
from generators.corpus import CorpusStats, write_corpus
from generators.fastpath import fleet_chunks
from generators.profiles import CorpusOptions, corpus_launches

from bundled import APPCMD

EVENTS = int(os.environ.get("HARNESS_BENCH_EVENTS", "100000"))
OPTIONS = CorpusOptions("fleet", events=EVENTS, seed=7, catalogue=APPCMD)
pytestmark = pytest.mark.benchmark(group="generation", min_rounds=1, warmup=False)


def _fast_ndjson() -> int:
    sink = io.BytesIO()
    for chunk, _ in fleet_chunks(OPTIONS, CorpusStats().tally, lambda launch, src: src.dumps(launch)):
        sink.write(chunk)
    return sink.tell()


def _renderers_ndjson() -> int:
    sink = io.BytesIO()
    for launch, src in corpus_launches(OPTIONS):
        sink.write(orjson.dumps(src.render(launch)))
        sink.write(b"\n")
    return sink.tell()


def test_fast_writer(benchmark) -> None:  # type: ignore[no-untyped-def]
    size = benchmark.pedantic(_fast_ndjson, rounds=3, iterations=1)
    benchmark.extra_info["events"] = EVENTS
    assert size > EVENTS * 500


def test_renderers_baseline(benchmark) -> None:  # type: ignore[no-untyped-def]
    size = benchmark.pedantic(_renderers_ndjson, rounds=1, iterations=1)
    benchmark.extra_info["events"] = EVENTS
    assert size > EVENTS * 500


def test_parquet_writer(benchmark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "fleet.parquet"
    stats = benchmark.pedantic(write_corpus, args=(OPTIONS, out), rounds=1, iterations=1)
    assert stats.events == EVENTS


def test_parquet_against_the_floor(benchmark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = benchmark.pedantic(
        generate_bench,
        args=(EVENTS, 7),
        kwargs={"catalogue": APPCMD, "directory": tmp_path},
        rounds=1,
        iterations=1,
    )
    ours, floor = rows
    for row in rows:
        benchmark.extra_info[row.name] = {
            "seconds": round(row.seconds, 3),
            "events_per_second": round(row.events_per_second),
            "ratio_to_floor": round(row.ratio_to_floor, 3),
            "peak_rss_bytes": row.peak_rss_bytes,
            "peak_arrow_bytes": row.peak_arrow_bytes,
        }
    assert ours.events == floor.events == EVENTS
    assert ours.ratio_to_floor == pytest.approx(floor.seconds / ours.seconds)
    assert floor.ratio_to_floor == 1.0
    # Each run was measured through a memory pool of its own.
    assert ours.peak_arrow_bytes > 0 and floor.peak_arrow_bytes > 0
    assert list(tmp_path.iterdir()) == []
