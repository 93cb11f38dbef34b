"""The schedule simulation over decades, as a ratio to the same matches ten minutes apart.

Run with timings: ``pytest tests/benchmarks/test_schedule_span.py --benchmark-enable``. Each row's
``extra_info`` holds ``ratio_to_narrow``: its mean time over the mean time of simulating the
same number of events on the default schedule within ten minutes, measured in the same
process. A cost that follows the matches, not the span, keeps the ratio near 1. Nothing is
asserted about speed; ``tests/test_schedule_limits.py`` asserts only that every case finishes.
"""

from __future__ import annotations

import timeit
from datetime import UTC, datetime
from typing import Any

import pytest

from harness.schedule import Simulation, simulate
from harness.timestamps import to_ms

YEAR_2026_MS = to_ms(datetime(2026, 1, 1, tzinfo=UTC))
CENTURY_S = 36_500 * 86_400
pytestmark = pytest.mark.benchmark(group="schedule", min_rounds=3, warmup=False)

# name: (event times, interval_s, lookback_s)
CASES = {
    "2 events, 56 years apart": ([0, YEAR_2026_MS], 300, 540),
    "2 events, 56 years apart, gaps": ([0, YEAR_2026_MS], 300, 60),
    "300 events, a century of look-back": ([YEAR_2026_MS + i * 290_000 for i in range(300)], 300, CENTURY_S),
}


def _run(times: list[int], interval_s: int, lookback_s: int) -> Simulation:
    documents = [{"@timestamp": t} for t in times]
    return simulate(lambda d: True, documents, interval_s=interval_s, lookback_s=lookback_s)


def _narrow(events: int) -> list[int]:
    """``events`` times within ten minutes: the same matches, a span of two or three executions."""
    return [YEAR_2026_MS + i * 600_000 // events for i in range(events)]


EVENT_COUNTS = sorted({len(times) for times, _, _ in CASES.values()})


@pytest.fixture(scope="module")
def narrow_seconds() -> dict[int, float]:
    """Seconds to simulate each case's number of events within ten minutes, by that number."""
    seconds = {}
    for events in EVENT_COUNTS:
        narrow = _narrow(events)
        runs, total = timeit.Timer(lambda: _run(narrow, 300, 540)).autorange()  # noqa: B023 (run at once)
        seconds[events] = total / runs
    return seconds


@pytest.mark.parametrize("events", EVENT_COUNTS)
def test_narrow_baseline(benchmark: Any, events: int) -> None:
    assert len(benchmark(_run, _narrow(events), 300, 540).executions) <= 3


@pytest.mark.parametrize("name", list(CASES))
def test_wide_span(benchmark: Any, narrow_seconds: dict[int, float], name: str) -> None:
    times, interval_s, lookback_s = CASES[name]
    sim = benchmark(_run, times, interval_s, lookback_s)
    assert len(sim.executions) > 5_000_000
    if benchmark.stats is not None:  # None when benchmarks are disabled
        ratio = benchmark.stats.stats.mean / narrow_seconds[len(times)]
        benchmark.extra_info["ratio_to_narrow"] = round(ratio, 1)
