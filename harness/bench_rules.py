"""``harness bench --rules``: the seconds a many-rules validation takes, as ratios to one rule's.

Each run is one whole ``validate_many`` call (the corpus read, the shared scan and every rule)
on the first N rules; its ratio is to the one-rule run on the same corpus file, timed in the
same process, so the figures compare runs and not machines. JSON and a rich table here; the
plot of seconds against rules is ``harness.bench_plot``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["RuleSetRun", "RulesBench", "print_rules_bench", "rules_bench_json"]


@dataclass(frozen=True)
class RuleSetRun:
    """The best of the timed runs of one set of rules on one corpus file."""

    fmt: str  # the corpus file's format: parquet, ndjson or ndjson.gz
    rules: int
    kind: str  # "given": the first N rules given; "copies": the first N distinct copies of them
    seconds: float  # the whole validate_many call
    corpus_seconds: float  # of that call: reading the corpus and the one scan of a Parquet file
    failed: int  # rules that ran and failed their expectations
    errors: int  # rules that could not be run

    @property
    def seconds_per_rule(self) -> float:
        return self.seconds / self.rules


@dataclass(frozen=True)
class RulesBench:
    """Every run, per corpus format in the order timed; ``baseline`` is the one-rule run's rule."""

    baseline: str
    corpora: Mapping[str, str]  # format -> the corpus file timed
    events: int | None  # the generated fleet's size; None for corpus files given
    seed: int | None
    repeat: int
    runs: tuple[RuleSetRun, ...] = field(default=())

    def one_rule(self, fmt: str) -> RuleSetRun | None:
        return next((run for run in self.runs if run.fmt == fmt and run.rules == 1), None)

    def ratio(self, run: RuleSetRun) -> float | None:
        """``run``'s seconds over the one-rule run's on the same corpus file."""
        base = self.one_rule(run.fmt)
        return run.seconds / base.seconds if base is not None and base.seconds > 0 else None


def rules_bench_json(bench: RulesBench) -> str:
    document: dict[str, Any] = {
        "baseline_rule": bench.baseline,
        "subsets": "the first N rules in path order, the baseline rule first; copies past the rules given",
        "corpora": dict(bench.corpora),
        "events": bench.events,
        "seed": bench.seed,
        "repeat": bench.repeat,
        "runs": [
            {
                "format": run.fmt,
                "rules": run.rules,
                "set": run.kind,
                "seconds": run.seconds,
                "seconds_per_rule": run.seconds_per_rule,
                "corpus_seconds": run.corpus_seconds,
                "ratio_to_one_rule": bench.ratio(run),
                "failed": run.failed,
                "errors": run.errors,
            }
            for run in bench.runs
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()


def print_rules_bench(bench: RulesBench, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        "corpus",
        "rules",
        "set",
        "s/run",
        "s/rule",
        "x one rule",
        "corpus s",
        "failed",
        "errors",
        title=title,
        caption=f"one rule: {bench.baseline}",
    )
    for run in bench.runs:
        ratio = bench.ratio(run)
        table.add_row(
            run.fmt,
            f"{run.rules:,}",
            run.kind,
            f"{run.seconds:.2f}",
            f"{run.seconds_per_rule:.3f}",
            "-" if ratio is None else f"{ratio:.2f}",
            f"{run.corpus_seconds:.2f}",
            f"{run.failed:,}",
            f"{run.errors:,}",
        )
    Console().print(table)
