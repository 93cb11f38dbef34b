"""``report`` and ``bench``: the HTML comparison of rule versions, and engine throughput."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.app.analysis import mutate, scenario_documents
from harness.app.corpora import Corpus, Notice, open_for_rule
from harness.app.many import RuleRun, validate_many
from harness.app.setup import ExceptionsInput, RuleInput, RuleSetup, prepare_rule
from harness.app.validation import CorpusInput
from harness.errors import HarnessError
from harness.vocabulary import DEFAULT_SEED, Engine, Profile

if TYPE_CHECKING:
    from harness.bench import BenchRow
    from harness.html_report import ReportData
    from harness.html_report.repository import RepositoryReport, RepositoryRule
    from harness.mutation import MutationReport
    from harness.rules import Rule
    from harness.validation.reports.many import RuleReport

__all__ = ["bench", "bench_parquet", "compares_versions", "report", "report_repository"]


def report(
    rules: Sequence[RuleInput],
    *,
    seed: int = DEFAULT_SEED,
    fleet_events: int = 100_000,
    generated_at: str | None = None,
    catalogue: str | None = None,
    mutations: bool = True,
    exceptions: ExceptionsInput = None,
) -> ReportData:
    """Every version on its catalogue's scenarios and one shared fleet corpus, with mutation scores.

    ``mutations=False`` leaves mutation testing out (the page says it was not run). Each version
    applies its own exceptions, or ``exceptions`` (a rule export: each version's by ``rule_id``).
    """
    from harness.html_report import build_report
    from harness.html_report.data import VersionInput
    from harness.mutation import mutation_test

    setups = [prepare_rule(rule, catalogue=catalogue, exceptions=exceptions) for rule in rules]
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
                setup.active_exceptions(),
            )
        )
    return build_report(versions, fleet, seed=seed, fleet_events=fleet_events, generated_at=generated_at)


def compares_versions(paths: Sequence[str | os.PathLike[str]]) -> bool:
    """Whether ``paths`` are versions of one rule, for the version page: rule files (no folder,
    no glob), one of them or all loading with one ``rule_id``. Anything else is a repository."""
    from harness.rule_paths import names_one_rule
    from harness.rules import load_rule

    if not all(Path(path).is_file() for path in paths):
        return names_one_rule([os.fspath(path) for path in paths])  # a missing file: its error, as before
    if len(paths) == 1:
        return True
    try:
        ids = {load_rule(path).rule_id for path in paths}
    except HarnessError:
        return False  # the repository page shows that rule's error beside the others
    return len(ids) == 1 and None not in ids


SURVIVORS_SHOWN = 5  # per rule on the repository page; `harness mutate RULE` lists every one


def report_repository(
    paths: Iterable[str | os.PathLike[str]],
    corpus: CorpusInput = None,
    *,
    catalogue: str | None = None,
    engine: Engine | str = Engine.AUTO,
    mapping: str | None = None,
    spark_master: str = "local[*]",
    derived: bool = True,
    mutations: bool = True,
    generated_at: str | None = None,
    timings: bool = False,
    notice: Notice | None = None,
    progress: Callable[[int], None] | None = None,
    exceptions: ExceptionsInput = None,
) -> RepositoryReport:
    """Every rule ``paths`` name, validated together (:func:`validate_many`), then each one's drill-down.

    The corpus defaults to the fleet profile: one corpus for detection, noise and the schedule, so a
    rule's drill-down and its summary row count the same alerts. ``progress`` hears the steps done:
    a validation per rule, then a drill-down per rule (twice the number of rules in all).
    """
    from harness.html_report.repository import build_repository

    spec = Corpus.of(corpus).with_profile(Profile.FLEET)
    many = validate_many(
        paths,
        spec,
        catalogue=catalogue,
        engine=engine,
        mapping=mapping,
        spark_master=spark_master,
        derived=derived,
        notice=notice,
        progress=progress,
        exceptions=exceptions,
    )
    rows = _CorpusRows(spec)
    rules = []
    for done, (run, row) in enumerate(zip(many.runs, many.reports(), strict=True), start=1):
        rules.append(_repository_rule(run, row, rows, catalogue, spec.seed, derived, mutations))
        if progress is not None:
            progress(len(many.runs) + done)
    return build_repository(
        rules,
        corpus=many.corpus,
        seed=spec.seed,
        mutations=mutations,
        notices=many.notices,
        generated_at=generated_at,
        timings=timings,
    )


class _CorpusRows:
    """The corpus's documents for the drill-downs, read once (once per catalogue when generated)."""

    def __init__(self, spec: Corpus) -> None:
        self.spec = spec
        self._read: dict[str | None, tuple[list[dict[str, Any]], tuple[str, ...]]] = {}

    def of(self, setup: RuleSetup) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        """The documents, and the UTC days they span."""
        from harness.html_report.data import corpus_days

        key = setup.catalogue.name if self.spec.generated and setup.catalogue is not None else None
        if key not in self._read:
            documents = list(open_for_rule(self.spec).documents(setup.catalogue))
            self._read[key] = (documents, corpus_days(documents))
        return self._read[key]


def _repository_rule(
    run: RuleRun,
    row: RuleReport,
    rows: _CorpusRows,
    catalogue: str | None,
    seed: int,
    derived: bool,
    mutations: bool,
) -> RepositoryRule:
    from harness.html_report.data import Noise, VersionReport, corpus_version
    from harness.html_report.repository import RepositoryRule

    if run.validation is None:
        return RepositoryRule(row, None)
    setup = run.validation.setup
    result = run.validation.result
    mutation = _repository_mutation(run.path, catalogue, seed, derived) if mutations else None
    if not result.corpus_run:  # judged on its derived scenarios alone: no corpus to count alerts on
        version = VersionReport("", setup.rule, result, Noise({}, 0, None), None, mutation)
        return RepositoryRule(row, version, (), setup.rule.rule_id)
    documents, days = rows.of(setup)
    scope = setup.scope  # a property that builds the scope: once, not per document
    read = [document for document in documents if scope.reads(document)]
    version = corpus_version("", setup.rule, result, result, read, scope, mutation, setup.active_exceptions())
    return RepositoryRule(row, version, days, setup.rule.rule_id)


def _repository_mutation(path: str, catalogue: str | None, seed: int, derived: bool) -> dict[str, Any]:
    """The rule's mutation score as ``harness mutate`` gives it, or why it could not be run."""
    try:
        summary = _mutation_summary(mutate(path, catalogue=catalogue, seed=seed, derived=derived))
    except HarnessError as error:
        return {"not_run": str(error)}
    # Each survivor carries its whole query: a long rule's dozens of them would make most of the page.
    survivors = summary["survivors"]
    summary["survivors"] = survivors[:SURVIVORS_SHOWN]
    summary["survivors_left_out"] = len(survivors) - len(summary["survivors"])
    return summary


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
