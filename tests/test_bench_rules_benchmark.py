"""Many rules against one, in pytest-benchmark: ``validate_many`` on the bundled rules and on one.

Run with timings: ``pytest tests/test_bench_rules_benchmark.py --benchmark-enable``. Each row's
``extra_info`` holds ``ratio_to_one_rule``: its mean time over the mean time of validating the
first single-event rule alone on the same corpus file, measured in the same process (the figures
of ``harness bench --rules`` at a size CI can afford). Nothing is asserted about speed.
"""

from __future__ import annotations

import timeit
from pathlib import Path
from typing import Any

import pytest

from generators.corpus import write_corpus
from generators.profiles import CorpusOptions
from harness.app import Corpus, validate_many
from harness.rule_paths import expand_rule_paths

from bundled import APPCMD

RULES = Path(__file__).resolve().parents[1] / "rules"
ONE = RULES / "iis_appcmd_password_dumped_v214.eql"  # the first rule in path order, single-event
pytestmark = pytest.mark.benchmark(group="many-rules", min_rounds=1, warmup=False)


@pytest.fixture(scope="module", params=["parquet", "ndjson"])
def corpus(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / f"fleet.{request.param}"
    write_corpus(CorpusOptions("fleet", 2000, 7, catalogue=APPCMD), path)
    return path


def _one_rule_seconds(corpus: Path) -> float:
    runs, total = timeit.Timer(lambda: validate_many([ONE], Corpus(path=str(corpus)))).autorange()
    return total / runs


def test_one_rule(benchmark: Any, corpus: Path) -> None:
    validate_many([ONE], Corpus(path=str(corpus)))  # untimed: a format's first run pays its imports
    many = benchmark(validate_many, [ONE], Corpus(path=str(corpus)))
    assert [run.path for run in many.runs] == [str(ONE)]


def test_every_bundled_rule(benchmark: Any, corpus: Path) -> None:
    many = benchmark(validate_many, [RULES], Corpus(path=str(corpus)))
    assert [run.path for run in many.runs] == [str(path) for path in expand_rule_paths([RULES])]
    assert all(run.error is None for run in many.runs)
    if benchmark.stats is not None:  # None when benchmarks are disabled: no extra run then
        one = _one_rule_seconds(corpus)
        benchmark.extra_info["ratio_to_one_rule"] = round(benchmark.stats.stats.mean / one, 2)
