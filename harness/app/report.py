"""``report`` and ``bench``: the HTML comparison of rule versions, and engine throughput."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.app.analysis import scenario_documents
from harness.app.corpora import Corpus, open_for_rule
from harness.app.setup import RuleInput, prepare_rule
from harness.vocabulary import DEFAULT_SEED, Profile

if TYPE_CHECKING:
    from harness.bench import BenchRow
    from harness.html_report import ReportData
    from harness.mutation import MutationReport
    from harness.rules import Rule

__all__ = ["bench", "bench_parquet", "report"]


def report(
    rules: Sequence[RuleInput],
    *,
    seed: int = DEFAULT_SEED,
    fleet_events: int = 100_000,
    generated_at: str | None = None,
    catalogue: str | None = None,
    mutations: bool = True,
) -> ReportData:
    """Every version on its catalogue's scenarios and one shared fleet corpus, with mutation scores.

    ``mutations=False`` leaves mutation testing out (the page says it was not run).
    """
    from harness.html_report import build_report
    from harness.html_report.data import VersionInput
    from harness.mutation import mutation_test

    setups = [prepare_rule(rule, catalogue=catalogue) for rule in rules]
    # One fleet for every version, so every column sees exactly the same events.
    names = {s.catalogue.name for s in setups if s.catalogue is not None}
    if len(names) > 1:
        from harness.errors import UsageError

        raise UsageError(
            f"the versions name different catalogues ({', '.join(sorted(names))}): give --catalogue"
        )
    fleet_catalogue = next((s.catalogue for s in setups if s.catalogue is not None), None)
    fleet = list(
        open_for_rule(Corpus(profile=Profile.FLEET, events=fleet_events, seed=seed)).documents(
            fleet_catalogue
        )
    )
    versions = []
    for setup in setups:
        scenarios = [
            d for d in scenario_documents(setup, seed, "the report's heatmap") if setup.scope.reads(d)
        ]
        versions.append(
            VersionInput(
                setup.rule,
                setup.expectations,
                scenarios,
                [d for d in fleet if setup.scope.reads(d)],
                setup.scope,
                _mutation_summary(mutation_test(setup.rule, setup.expectations, scenarios, scope=setup.scope))
                if mutations
                else None,
            )
        )
    return build_report(versions, fleet, seed=seed, fleet_events=fleet_events, generated_at=generated_at)


def _mutation_summary(result: MutationReport) -> dict[str, Any]:
    return {
        "score": result.score,
        "killed": len(result.killed),
        "total": len(result.results),
        "survivors": [
            {"description": s.description, "query": s.query, "note": s.reason} for s in result.survivors
        ],
    }


def bench(
    rule: RuleInput,
    *,
    events: int = 200_000,
    profile: Profile = Profile.MIXED,
    seed: int = DEFAULT_SEED,
    repeat: int = 3,
    spark_master: str | None = None,
    catalogue: str | None = None,
) -> list[BenchRow]:
    """Every engine timed on the same generated events (and Spark on the same Parquet, if asked).

    A sequence or sample rule is timed as a search on every engine, Spark on the same events.
    """
    import pyarrow.parquet as pq

    from generators.corpus import write_corpus
    from generators.profiles import CorpusOptions
    from harness.bench import is_single_event, parquet_bench, run_bench

    setup = prepare_rule(rule, catalogue=catalogue)
    chosen = (
        setup.catalogue if profile == Profile.FLEET else setup.require_catalogue(f"the {profile} profile")
    )
    # Every engine on the same events, whatever the rule's indices: a measure of matchers, not of coverage.
    documents = list(open_for_rule(Corpus(profile=profile, events=events, seed=seed)).documents(chosen))
    hand = None
    if chosen is not None and setup.rule.rule_id and setup.rule.version is not None:
        hand = chosen.baselines.get((setup.rule.rule_id, setup.rule.version))
    with tempfile.TemporaryDirectory() as folder:
        # The same events as an Arrow table, for DuckDB (Parquet's spelling of Endgame's fields).
        parquet = Path(folder) / "events.parquet"
        write_corpus(CorpusOptions(profile, events, seed, catalogue=chosen), parquet)
        if not is_single_event(setup.rule):
            return _sequence_bench(setup.rule, documents, pq.read_table(parquet), repeat, spark_master)
        rows = run_bench(
            setup.rule, documents, repeat=repeat, table=pq.read_table(parquet), hand_written=hand
        )
        if spark_master is not None:
            rows += parquet_bench(setup.rule, str(parquet), repeat=repeat, spark_master=spark_master)
    return rows


def bench_parquet(
    rule: RuleInput, path: str, *, repeat: int = 3, spark_master: str | None = None
) -> list[BenchRow]:
    """The engines that scan Parquet, timed on ``path``: DuckDB, then Spark when ``spark_master`` is given.

    A sequence or sample rule is searched by every engine over the files' events, read into memory.
    """
    import pyarrow.dataset as ds

    from harness.bench import is_single_event, parquet_bench
    from harness.errors import InputError

    prepared = prepare_rule(rule).rule
    if is_single_event(prepared):
        return parquet_bench(prepared, path, repeat=repeat, spark_master=spark_master)
    try:
        table = ds.dataset(path, format="parquet").to_table()
    except (OSError, ValueError) as error:
        raise InputError(path, 0, f"cannot read as Parquet: {error}") from error
    return _sequence_bench(prepared, table.to_pylist(), table, repeat, spark_master)


def _sequence_bench(
    rule: Rule, documents: Sequence[Mapping[str, Any]], table: Any, repeat: int, spark_master: str | None
) -> list[BenchRow]:
    from harness.bench import sequence_bench

    spark = None
    if spark_master is not None:
        from harness.spark import spark_session

        spark = spark_session(spark_master)
    return sequence_bench(rule, documents, table, repeat=repeat, spark=spark)
