"""A sequence rule's schedule, as a ratio to a single-event rule's on the same fleet corpus.

Run with timings: ``pytest tests/benchmarks/test_schedule_searches.py --benchmark-enable``.
Each row's ``extra_info`` holds ``ratio_to_single_event``: its mean time over the mean time of
simulating the AppCmd single-event rule (v214) on the same documents, measured in the same
process. ``searched_every_execution`` is the sequence rule searched once per execution over its
window's documents, without the shortcut of one search per change of a window's content.
Nothing is asserted about speed.
"""

from __future__ import annotations

import timeit
from bisect import bisect_left, bisect_right
from pathlib import Path
from typing import Any

import pytest

from harness.corpus import open_corpus
from harness.eql import compile_query, compile_statement
from harness.rules import load_rule
from harness.schedule import simulate_rule, simulate_rule_search
from harness.schedule.timestamps import event_time_ms

from bundled import APPCMD

RULES = Path(__file__).resolve().parents[2] / "rules"
SINGLE = load_rule(RULES / "iis_appcmd_password_dumped_v214.toml")
SEQUENCE = load_rule(RULES / "iis_webshell_appcmd_sequence.toml")
pytestmark = pytest.mark.benchmark(group="schedule-searches", min_rounds=3, warmup=False)


@pytest.fixture(scope="module")
def fleet() -> list[dict[str, Any]]:
    return list(open_corpus(profile="fleet", events=20_000, seed=3, catalogue=APPCMD))


@pytest.fixture(scope="module")
def single_event_seconds(fleet: list[dict[str, Any]]) -> float:
    matcher = compile_query(SINGLE.query, engine="compiled")
    runs, total = timeit.Timer(lambda: simulate_rule(SINGLE, matcher, fleet)).autorange()
    return total / runs


def _sequence(fleet: list[dict[str, Any]]) -> int:
    searcher = compile_statement(SEQUENCE.query, engine="compiled")
    return simulate_rule_search(SEQUENCE, searcher, fleet).sequence_alerts


def _searched_every_execution(fleet: list[dict[str, Any]]) -> int:
    """One search per execution of the rule's default schedule over the documents of its window."""
    searcher = compile_statement(SEQUENCE.query, engine="compiled")
    timed = sorted((time, seq) for seq, d in enumerate(fleet) if (time := event_time_ms(d)) is not None)
    times = [time for time, _ in timed]
    schedule = SEQUENCE.schedule
    lookback_ms = schedule.lookback_s * 1000
    now, found = times[0] + schedule.interval_s * 1000, 0
    while now - lookback_ms <= times[-1]:
        inside = timed[bisect_left(times, now - lookback_ms) : bisect_right(times, now)]
        window = [fleet[seq] for _, seq in sorted(inside, key=lambda pair: pair[1])]
        found += len(searcher.search(window, size=schedule.max_signals).sequences)
        now += schedule.interval_s * 1000
    return found


def test_single_event_baseline(benchmark: Any, fleet: list[dict[str, Any]]) -> None:
    matcher = compile_query(SINGLE.query, engine="compiled")
    assert benchmark(simulate_rule, SINGLE, matcher, fleet).alerts >= 0


@pytest.mark.parametrize("how", [_sequence, _searched_every_execution], ids=lambda f: f.__name__.strip("_"))
def test_sequence_rule(
    benchmark: Any, fleet: list[dict[str, Any]], single_event_seconds: float, how: Any
) -> None:
    assert benchmark(how, fleet) >= 0
    if benchmark.stats is not None:  # None when benchmarks are disabled
        benchmark.extra_info["ratio_to_single_event"] = round(
            benchmark.stats.stats.mean / single_event_seconds, 1
        )
