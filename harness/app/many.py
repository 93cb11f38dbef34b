"""``validate_many``: a whole rule repository validated in one run, on one corpus read once.

Each rule keeps what a single validation gives it: its own expectations, its catalogue,
its derived scenarios and its scope (scored only on the sources its index patterns read,
as ``harness.validation.scope`` decides). What is shared is the corpus: a file, or the
documents a caller hands in, is read once into a list; a generated profile is generated
once per catalogue (the scenarios it runs are the catalogue's, so two catalogues are two
corpora; the fleet's background without a catalogue is one). A Parquet corpus stays a path,
so that DuckDB scans it as it does for one rule.

A rule that cannot be loaded, set up or run is reported as that rule's error; the others
still run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.app.corpora import Corpus, Notice
from harness.app.setup import RuleSetup, prepare_rule
from harness.app.validation import CorpusInput, Validation, validate
from harness.errors import HarnessError
from harness.rule_paths import expand_rule_paths
from harness.validation.reports.many import RuleReport
from harness.vocabulary import Engine, Profile

__all__ = ["ManyValidations", "RuleRun", "validate_many"]

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RuleRun:
    """One rule of the run: its validation, or the error that stopped it; the seconds it took."""

    path: str
    validation: Validation | None
    error: HarnessError | None
    seconds: float

    @property
    def passed(self) -> bool:
        return self.validation is not None and self.validation.passed


@dataclass(frozen=True)
class ManyValidations:
    """Every rule's run, in path order; the corpus (as described) and the seconds spent reading it."""

    runs: tuple[RuleRun, ...]
    corpus: str
    corpus_seconds: float
    notices: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return all(run.passed for run in self.runs)

    def reports(self) -> list[RuleReport]:
        """Each rule as the report handlers read it (``harness.validation.reports.many``)."""
        return [
            RuleReport(
                run.path,
                None if run.validation is None else run.validation.result,
                None if run.error is None else str(run.error),
                run.seconds,
            )
            for run in self.runs
        ]

    @property
    def exit_code(self) -> int:
        """2 when a rule could not be run (bad input), else 1 when a rule failed, else 0."""
        if any(run.error is not None for run in self.runs):
            return 2
        return 0 if self.passed else 1


class _SharedCorpus:
    """The corpus each rule is given: read or generated on first use, then the same documents."""

    def __init__(self, spec: Corpus, notice: Notice | None) -> None:
        self.spec = spec
        self.notice = notice
        self.seconds = 0.0
        self._documents: dict[str | None, list[dict[str, Any]]] = {}

    def for_rule(self, setup: RuleSetup) -> Corpus:
        spec = self.spec
        if spec.is_parquet:
            return spec
        if spec.generated:
            if setup.catalogue is None and spec.profile != Profile.FLEET:
                return spec  # judged on its derived scenarios alone, or refused, as for one rule
            key: str | None = None if setup.catalogue is None else setup.catalogue.name
        else:
            key = None  # a file or documents: the same for every catalogue
        if key not in self._documents:
            started = time.perf_counter()
            self._documents[key] = self._read(setup)
            self.seconds += time.perf_counter() - started
        return Corpus(documents=self._documents[key], labels=spec.labels)

    def _read(self, setup: RuleSetup) -> list[dict[str, Any]]:
        from harness.corpus import open_corpus

        spec = self.spec
        if spec.documents is not None:
            return [dict(document) for document in spec.documents]
        return list(
            open_corpus(
                spec.path,
                profile=spec.profile,
                events=spec.events,
                seed=spec.seed,
                catalogue=setup.catalogue,
                notice=self.notice,
            )
        )


def validate_many(
    paths: Iterable[str | os.PathLike[str]],
    corpus: CorpusInput = None,
    *,
    catalogue: str | None = None,
    engine: Engine | str = Engine.AUTO,
    mapping: str | None = None,
    spark_master: str = "local[*]",
    derived: bool = True,
    notice: Notice | None = None,
    progress: Progress | None = None,
) -> ManyValidations:
    """Validate every rule ``paths`` name (files, folders, globs) on ``corpus``, read once.

    ``progress`` hears the number of rules done after each one. Raises :class:`UsageError`
    for a path that names no rule file, and the corpus's own errors (they are no rule's);
    a rule's errors are kept in its :class:`RuleRun`.
    """
    rules = expand_rule_paths(paths)
    spec = Corpus.of(corpus)  # documents handed in as an iterator are read once, by _SharedCorpus
    shared = _SharedCorpus(spec, notice)
    runs = []
    for done, path in enumerate(rules, start=1):
        runs.append(_run_rule(path, shared, catalogue, engine, mapping, spark_master, derived, notice))
        if progress is not None:
            progress(done)
    return ManyValidations(tuple(runs), spec.describe(), shared.seconds)


def _run_rule(
    path: Path,
    shared: _SharedCorpus,
    catalogue: str | None,
    engine: Engine | str,
    mapping: str | None,
    spark_master: str,
    derived: bool,
    notice: Notice | None,
) -> RuleRun:
    try:
        setup = prepare_rule(path, catalogue=catalogue)
    except HarnessError as error:
        return RuleRun(str(path), None, error, 0.0)
    given = shared.for_rule(setup)  # the corpus's errors are no rule's: they end the run
    started = time.perf_counter()
    try:
        run = validate(
            setup.rule,
            given,
            expect=setup.expectations_path,
            catalogue=catalogue,
            engine=engine,
            mapping=mapping,
            spark_master=spark_master,
            notice=notice,
            derived=derived,
        )
    except HarnessError as error:
        return RuleRun(str(path), None, error, time.perf_counter() - started)
    if run.result.corpus_run and given.documents is not None:
        run.result.corpus = shared.spec.describe()  # the shared documents are this corpus, read once
    return RuleRun(str(path), run, None, time.perf_counter() - started)
