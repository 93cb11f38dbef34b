"""``validate_many``: a whole rule repository validated in one run, on one corpus read once.

Each rule keeps what a single validation gives it: its own expectations, its catalogue,
its derived scenarios and its scope (scored only on the sources its index patterns read,
as ``harness.validation.scope`` decides). What is shared is the corpus: a file, or the
documents a caller hands in, is read once into a list; a generated profile is generated
once per catalogue (the scenarios it runs are the catalogue's, so two catalogues are two
corpora; the fleet's background without a catalogue is one). A Parquet corpus stays a path,
and the single-event rules that run in a SQL engine are counted together in one scan of it
(:class:`harness.validation.table_scan.TableScan`: a ``count_if`` per rule); a sequence is
searched alone (by DuckDB's candidate scan of the file), and so is a single-event rule DuckDB
holds only in part (the conjuncts it expresses select the candidates, the compiled engine judges
them); a rule SQL holds nothing of runs alone in a row engine, and the run's notices say which. On documents a
row engine reads, the single-event rules are judged in one pass over them
(:class:`harness.validation.row_scan.RowScan`: each document's source, labels, host and time
read once, every query's verdict taken on it), per catalogue's corpus; so are they, the same
way, with the notices saying which rules ran alone.

A rule that cannot be loaded, set up or run is reported as that rule's error; the others
still run.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.app.corpora import Corpus, Notice, load_mapping, row_engine
from harness.app.setup import NO_EXCEPTIONS, ExceptionsInput, RuleSetup, prepare_rule
from harness.app.validation import CorpusInput, Validation, validate
from harness.eql import parse_statement
from harness.eql.read_fields import read_fields
from harness.errors import HarnessError
from harness.rule_paths import expand_rule_paths
from harness.validation.reports.many import RuleReport
from harness.validation.sequences import EXAMPLE_FIELDS, is_multi_event
from harness.vocabulary import Engine, Profile

if TYPE_CHECKING:
    from harness.corpus import Places
    from harness.validation.row_scan import RowScan
    from harness.validation.table_scan import TableScan

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
    corpus_seconds: float  # reading or generating the corpus, and the one scan of a SQL table
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

    def __init__(self, spec: Corpus, notice: Notice | None, fields: frozenset[str] = frozenset()) -> None:
        self.spec = spec
        self.notice = notice
        self.fields = fields  # what the rules read of a document: all an NDJSON file's documents keep
        self.seconds = 0.0
        self._documents: dict[str | None, tuple[Sequence[dict[str, Any]], Places]] = {}

    def key(self, setup: RuleSetup, in_rows: bool = False) -> tuple[bool, str | None]:
        """Whether ``setup`` is given shared documents, and which (``in_rows``: a row engine runs it)."""
        spec = self.spec
        if spec.is_parquet and not in_rows:
            return False, None
        if spec.generated:
            if setup.catalogue is None and spec.profile != Profile.FLEET:
                return False, None  # judged on its derived scenarios alone, or refused, as for one rule
            return True, None if setup.catalogue is None else setup.catalogue.name
        return True, None  # a file or documents: the same for every catalogue; Parquet read as rows once

    def for_rule(self, setup: RuleSetup, in_rows: bool = False) -> Corpus:
        """The corpus for ``setup``; ``in_rows`` when the rule runs in a row engine, not in SQL."""
        shared, key = self.key(setup, in_rows)
        if not shared:
            return self.spec
        spec = self.spec
        if key not in self._documents:
            started = time.perf_counter()
            collecting = gc.isenabled()
            # A list of a million new dicts makes every collection walk them all, for no garbage.
            gc.disable()
            try:
                self._documents[key] = self._read(setup)
            finally:
                if collecting:
                    gc.enable()
            self.seconds += time.perf_counter() - started
        documents, places = self._documents[key]
        return Corpus(documents=documents, labels=spec.labels, places=places)

    def _read(self, setup: RuleSetup) -> tuple[Sequence[dict[str, Any]], Places]:
        """The documents, and where each came from (an error names a file's line, as for one rule)."""
        from harness.corpus import Places, open_corpus

        spec = self.spec
        if spec.documents is not None:
            return [dict(document) for document in spec.documents], Places("document")
        if self._projects():
            from harness.projection import read_projected

            assert spec.path is not None
            return read_projected(spec.path, self.fields).listed()
        return open_corpus(
            spec.path,
            profile=spec.profile,
            events=spec.events,
            seed=spec.seed,
            catalogue=setup.catalogue,
            notice=self.notice,
        ).listed()

    def _projects(self) -> bool:
        """Whether the documents are cut down to the rules' fields: a JSON file, labelled in itself.

        A label sidecar finds its events by fields no rule need read, and Parquet, EVTX and
        generated documents are built whole; the row runners show examples whole either way.
        """
        return bool(self.fields) and self.spec.is_json_file


def _fields_read(setups: list[RuleSetup]) -> frozenset[str]:
    """Every field some rule reads, and those a found sequence's example shows; empty when a query
    does not parse (its rule's error), so that nothing it reads is cut from the documents."""
    fields = set(EXAMPLE_FIELDS)
    for setup in setups:
        try:
            fields |= read_fields(parse_statement(setup.rule.query))
        except HarnessError:
            return frozenset()
    return frozenset(fields)


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
    exceptions: ExceptionsInput = None,
) -> ManyValidations:
    """Validate every rule ``paths`` name (files, folders, globs) on ``corpus``, read once.

    Each rule applies its own ``X.exceptions.toml``; ``exceptions`` (a rule export: each rule's
    lists picked by its ``rule_id``) or ``NO_EXCEPTIONS`` overrides that for all. A rule with
    exceptions is judged alone on the shared corpus, not in the one scan or pass.

    ``progress`` hears the number of rules done after each one. Raises :class:`UsageError`
    for a path that names no rule file, and the corpus's own errors (they are no rule's);
    a rule's errors are kept in its :class:`RuleRun`.
    """
    rules = expand_rule_paths(paths)
    spec = Corpus.of(corpus)  # documents handed in as an iterator are read once, by _SharedCorpus
    prepared = [_prepare(path, catalogue, exceptions) for path in rules]
    setups = [setup for setup in prepared if isinstance(setup, RuleSetup)]
    shared = _SharedCorpus(spec, notice, _fields_read(setups))
    plain = [setup for setup in setups if setup.exceptions is None]  # the others run alone
    scan = _scan_for(spec, engine, plain)
    passes = {} if scan is not None else _row_scans(spec, engine, mapping, shared, plain)
    runs, in_pass = [], []
    for done, (path, setup) in enumerate(zip(rules, prepared, strict=True), start=1):
        if isinstance(setup, HarnessError):
            runs.append(RuleRun(str(path), None, setup, 0.0))
            in_pass.append(False)
        else:
            row_scan = _row_scan_for(passes, shared, setup)
            run = _run_rule(
                path, setup, shared, scan, row_scan, catalogue, engine, mapping, spark_master, derived, notice
            )
            runs.append(run)
            in_pass.append(
                run.validation is not None and row_scan is not None and row_scan.judged(setup.rule.query)
            )
        if progress is not None:
            progress(done)
    seconds = (
        shared.seconds + (0.0 if scan is None else scan.seconds) + sum(p.seconds for p in passes.values())
    )
    notices = _scan_notices(scan, runs) + _pass_notices(list(passes.values()), runs, in_pass)
    return ManyValidations(tuple(runs), spec.describe(), seconds, notices)


def _prepare(path: Path, catalogue: str | None, exceptions: ExceptionsInput) -> RuleSetup | HarnessError:
    try:
        return prepare_rule(path, catalogue=catalogue, exceptions=exceptions)
    except HarnessError as error:
        return error


def _scan_for(spec: Corpus, engine: Engine | str, setups: list[RuleSetup]) -> TableScan | None:
    """One scan for the single-event rules, when the corpus is a table a SQL engine reads."""
    chosen = Engine(engine)
    if spec.path is None or chosen in (Engine.REFERENCE, Engine.COMPILED):
        return None
    if not (spec.is_parquet or chosen == Engine.SPARK):
        return None
    from harness.validation.search_scan import SearchScan
    from harness.validation.table_scan import TableScan

    statements = [(setup, parse_statement(setup.rule.query)) for setup in setups]
    counted = [setup.rule.query for setup, statement in statements if not is_multi_event(statement)]
    if chosen == Engine.SPARK:
        return TableScan(counted)  # Spark counts single-event rules; it searches none here
    # Every rule: a single-event query SQL holds only in part is searched too (the scan knows which).
    return TableScan(counted, SearchScan((statement, setup.scope) for setup, statement in statements))


def _row_scans(
    spec: Corpus, engine: Engine | str, mapping: str | None, shared: _SharedCorpus, setups: list[RuleSetup]
) -> dict[str | None, RowScan]:
    """One pass per shared list of documents for the single-event rules a row engine runs on it."""
    chosen = Engine(engine)
    if chosen.is_sql or spec.labels is not None:
        return {}  # a SQL engine asked for by name refuses documents; a sidecar labels them per rule
    try:
        fields = load_mapping(mapping)
    except HarnessError:
        return {}  # each rule runs alone and reports the mapping's error as its own
    from harness.validation.row_scan import RowScan

    queries: dict[str | None, tuple[list[tuple[str, Any]], list[tuple[str, Any]]]] = {}
    for setup in setups:
        given, key = shared.key(setup, in_rows=True)
        if given:  # a searched rule is judged on the pass's groups: its documents need one too
            rules, searched = queries.setdefault(key, ([], []))
            single = _single_event(setup)
            if single:
                rules.append((setup.rule.query, setup.scope.indices))
            elif single is not None and setup.active_exceptions() is None:  # with exceptions: alone
                searched.append((setup.rule.query, setup.scope.indices))  # its stages judged in the pass
    return {
        key: RowScan(rules, engine=row_engine(chosen), mapping=fields, searched=searched)
        for key, (rules, searched) in queries.items()
    }


def _single_event(setup: RuleSetup) -> bool | None:
    """Whether the rule is a single-event query; None when it does not parse (it runs alone, and its
    error is the rule's)."""
    try:
        return not is_multi_event(parse_statement(setup.rule.query))
    except HarnessError:
        return None


def _row_scan_for(
    passes: dict[str | None, RowScan], shared: _SharedCorpus, setup: RuleSetup
) -> RowScan | None:
    given, key = shared.key(setup, in_rows=True)
    return passes.get(key) if given else None


def _pass_notices(passes: list[RowScan], runs: list[RuleRun], in_pass: list[bool]) -> tuple[str, ...]:
    counted = [scan for scan in passes if scan.counted]
    if not counted:
        return ()
    alone = [
        run.path
        for run, passed in zip(runs, in_pass, strict=True)
        if run.validation is not None and not passed
    ]
    searched = sum(
        passed
        and run.validation is not None
        and any(run.validation.setup.rule.query in p.searched for p in counted)
        for run, passed in zip(runs, in_pass, strict=True)
    )
    rest = f"; ran alone: {', '.join(alone)}" if alone else ""
    over = "the corpus" if len(counted) == 1 else f"each of {len(counted)} corpora"
    seconds = sum(scan.seconds for scan in counted)
    on = (
        f", {searched} of them searched (sequences, samples, pipes) and judged on its groups"
        if searched
        else ""
    )
    return (f"{sum(in_pass)} rules evaluated in one pass over {over} ({seconds:.2f} s){on}{rest}",)


def _scan_notices(scan: TableScan | None, runs: list[RuleRun]) -> tuple[str, ...]:
    if scan is None:
        return ()
    searched = set() if scan.searches is None else scan.searches.searched
    counted, found, alone = [], [], []
    for run in runs:
        if run.validation is None:
            continue
        query = run.validation.setup.rule.query
        if query in scan.scanned:
            counted.append(run.path)
        elif searched and parse_statement(query) in searched:
            found.append(run.path)
        else:
            alone.append(run.path)
    said = []
    if scan.counted:
        said.append(f"{len(counted)} rules counted in one scan of the corpus ({scan.count_seconds:.2f} s)")
    if found:
        assert scan.searches is not None
        said.append(
            f"{len(found)} searched (sequences, samples, pipes, queries SQL holds in part) on the "
            f"candidates of one more ({scan.searches.seconds:.2f} s)"
        )
    if not said:
        return ()
    rest = f"; ran alone: {', '.join(alone)}" if alone else ""
    return ("; ".join(said) + rest,)


def _run_rule(
    path: Path,
    setup: RuleSetup,
    shared: _SharedCorpus,
    scan: TableScan | None,
    row_scan: RowScan | None,
    catalogue: str | None,
    engine: Engine | str,
    mapping: str | None,
    spark_master: str,
    derived: bool,
    notice: Notice | None,
) -> RuleRun:
    # Without a scan every rule runs in a row engine, and reads a Parquet corpus as rows once for
    # all. With one, a rule it did not count keeps the path: a sequence, or a single-event rule
    # DuckDB holds in part, is searched by DuckDB's candidate scan (decoding every row for it is
    # what that avoids), and a rule SQL holds nothing of falls back alone, as one rule would.
    in_rows = scan is None
    given = shared.for_rule(setup, in_rows)  # the corpus's errors are no rule's: they end the run
    scanned_before = (0.0 if scan is None else scan.seconds) + (0.0 if row_scan is None else row_scan.seconds)
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
            scan=scan,
            row_scan=row_scan,
            exceptions=NO_EXCEPTIONS if setup.exceptions is None else setup.exceptions,
        )
    except HarnessError as error:
        return RuleRun(str(path), None, error, time.perf_counter() - started)
    if run.result.corpus_run and given.documents is not None:
        run.result.corpus = shared.spec.describe()  # the shared documents are this corpus, read once
    # The shared scan or pass is the run's, not the rule's that happened to start it.
    scanned = (0.0 if scan is None else scan.seconds) + (0.0 if row_scan is None else row_scan.seconds)
    shared_seconds = scanned - scanned_before
    return RuleRun(str(path), run, None, time.perf_counter() - started - shared_seconds)
