"""Pattern matching on 100 kB values, as a ratio to a plain ``in`` substring test.

Run with timings: ``pytest tests/benchmarks/test_patterns.py --benchmark-enable``. Each
row's ``extra_info`` holds ``ratio_to_in``: its mean time over the mean time of
``"b" in value`` on the same value, measured in the same process. Nothing is asserted
about speed; ``tests/test_pattern_limits.py`` asserts only that every case finishes.
"""

from __future__ import annotations

import timeit
from typing import Any

import pytest

from harness.eql import compile_query

VALUE = "a" * 100_000
EVENT = {"process": {"name": VALUE}}
pytestmark = pytest.mark.benchmark(group="patterns", min_rounds=3, warmup=False)

QUERIES = {
    "exact": 'process.name : "aaa"',
    "prefix": 'process.name : "a*"',
    "suffix": 'process.name : "*b"',
    "12 stars": 'process.name : "' + "*a" * 12 + '*b"',
    "40 stars": 'process.name : "' + "*a" * 40 + '*b"',
    "40 stars, ?": 'process.name like "' + "*?a" * 40 + '*b"',
    "stringContains": 'stringContains~(process.name, "a*a*a*b")',
    "(a|aa)*b": 'process.name regex "(a|aa)*b"',
    "((a*)*)*b": 'process.name regex "((a*)*)*b"',
    ".*a.*b": 'process.name regex~ ".*a.*a.*a.*a.*b"',
    "a{1,99}{1,100}b": 'process.name regex "a{1,99}{1,100}b"',
}


@pytest.fixture(scope="module")
def baseline() -> float:
    """Seconds for one ``"b" in VALUE``: a scan of the whole value in C."""
    timer = timeit.Timer(lambda: "b" in VALUE)
    runs, total = timer.autorange()
    return total / runs


def test_substring_baseline(benchmark: Any) -> None:
    assert benchmark(lambda: "b" in VALUE) is False


@pytest.mark.parametrize("engine", ["reference", "compiled"])
@pytest.mark.parametrize("name", list(QUERIES))
def test_pattern(benchmark: Any, baseline: float, name: str, engine: str) -> None:
    matcher = compile_query("any where " + QUERIES[name], engine=engine)
    benchmark(matcher.matches, EVENT)
    if benchmark.stats is not None:  # None when benchmarks are disabled
        benchmark.extra_info["ratio_to_in"] = round(benchmark.stats.stats.mean / baseline, 1)
