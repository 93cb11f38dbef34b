"""``validate`` and ``diff``: a rule (or two versions) judged on a corpus, in the engine that fits.

``diff`` also compares the two queries by events derived from them (``derived_diff``),
with or without a corpus: with no catalogue to generate one from, that is all it does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from harness.app.corpora import (
    Corpus,
    Notice,
    Opened,
    load_mapping,
    open_for_rule,
    row_engine,
    run_in_sql,
    sql_table,
)
from harness.app.derived_diff import derived_diff
from harness.app.setup import ExceptionsInput, RuleInput, RuleSetup, prepare_rule
from harness.eql import Searcher, compile_query, compile_statement, parse_query, parse_statement
from harness.errors import EqlUnsupportedError, UsageError
from harness.validation import DiffResult, ValidationResult, diff_rules, run_validation
from harness.validation.derived_diff import DerivedDiff
from harness.validation.runner import Judge, excepted
from harness.validation.sequences import in_sequence, is_multi_event, run_sequence_validation
from harness.vocabulary import Engine, Profile

if TYPE_CHECKING:
    from harness.exceptions import ExceptionSet
    from harness.validation.derived import DerivedResult
    from harness.validation.row_scan import RowScan
    from harness.validation.search_scan import SearchScan
    from harness.validation.table_scan import TableScan
    from harness.validation.tables import EventTable

__all__ = ["Diff", "Validation", "diff", "validate"]

T = TypeVar("T")

CorpusInput = Corpus | str | os.PathLike[str] | Iterable[Mapping[str, Any]] | None


@dataclass(frozen=True)
class Validation:
    """A validation's result, the rule as it was set up, and the engine that ran it."""

    result: ValidationResult
    setup: RuleSetup
    engine: str
    notices: list[str] = field(default_factory=list)  # fallbacks, unused label entries

    @property
    def passed(self) -> bool:
        return self.result.passed


@dataclass(frozen=True)
class Diff:
    """The corpus diff (None when no corpus was compared), the derived diff (None with ``derived=False``)."""

    result: DiffResult | None
    old: RuleSetup
    new: RuleSetup
    engine: str  # "" when no corpus was compared
    notices: list[str] = field(default_factory=list)
    derived: DerivedDiff | None = None

    @property
    def passed(self) -> bool:
        corpus_passed = self.result is None or not self.result.unaccepted_regressions
        return corpus_passed and (self.derived is None or self.derived.passed)


def _run(
    chosen: Engine,
    table: EventTable | None,
    in_sql: Callable[[EventTable], T],
    in_rows: Callable[[], T],
) -> tuple[T, str, list[str]]:
    """``in_sql`` where the corpus belongs to a SQL engine, else (or when it cannot run it) ``in_rows``.

    Returns the result, the engine that produced it, and a notice for a fallback.
    """
    if table is not None:
        sql = table
        result, why = run_in_sql(chosen, lambda: in_sql(sql))
        if result is not None:
            return result, table.engine, []
        return in_rows(), row_engine(chosen), [why] if why else []
    return in_rows(), row_engine(chosen), []


def _from_row_scan(
    row_scan: RowScan,
    setup: RuleSetup,
    spec: Corpus,
    opened: Opened,
    chosen: Engine,
    searcher: Searcher | None = None,
) -> ValidationResult | None:
    """The rule as the one pass over many rules judged it (a searched rule with its ``searcher``, on
    the pass's groups); None when it runs alone."""
    documents = spec.documents
    # The pass read the documents handed in, unlabelled by a sidecar, in the engine this run asks for.
    if row_scan.engine != row_engine(chosen) or opened.sidecar is not None or not isinstance(documents, list):
        return None
    return row_scan.validate(
        setup.rule.query,
        documents,
        setup.expectations,
        rule_name=setup.rule.name,
        rule_version=setup.rule.version,
        corpus=spec.describe(),
        scope=setup.scope,
        searcher=searcher,
        where=None if spec.places is None else spec.places.where,
    )


def validate(
    rule: RuleInput,
    corpus: CorpusInput = None,
    *,
    expect: str | os.PathLike[str] | None = None,
    catalogue: str | None = None,
    engine: Engine | str = Engine.AUTO,
    mapping: str | None = None,
    spark_master: str = "local[*]",
    notice: Notice | None = None,
    derived: bool = True,
    scan: TableScan | None = None,
    row_scan: RowScan | None = None,
    exceptions: ExceptionsInput = None,
) -> Validation:
    """Run ``rule`` over ``corpus`` (default: its catalogue's scenarios) against its expectations.

    ``scan``, when the run is in a SQL engine, counts this rule with others in one scan of
    the table (``validate_many`` gives one); a rule it did not count runs alone. ``row_scan``
    does the same in a row engine, on the documents ``corpus`` hands in (one pass for many rules).

    With ``derived`` (the default) the scenarios derived from the query are judged too,
    apart from the corpus; a rule no catalogue covers is then judged on them alone (or
    with fleet background, for its noise, when ``corpus`` asks for the fleet profile).

    ``exceptions``: a file (exception list or rule export, or the TOML form) or a set; by default
    the rule's own ``X.exceptions.toml``; ``NO_EXCEPTIONS`` for none. The rule's alerts are then
    its matches among the events no item excludes, in every engine; what the items removed is
    kept beside them (``harness.validation.exception_effect``).
    """
    setup = prepare_rule(rule, expect=expect, catalogue=catalogue, exceptions=exceptions)
    active = setup.active_exceptions()
    chosen, spec = Engine(engine), Corpus.of(corpus)
    fields = load_mapping(mapping)
    if _derived_alone(setup, spec, derived):
        sql_table(chosen, open_for_rule(spec), mapping, spark_master)  # a SQL engine still needs a corpus
        judged = _judge_derived(setup, fields, chosen)
        notices = setup.notices + _derived_notices(setup, judged)
        return Validation(_derived_only(setup, judged), setup, row_engine(chosen), notices)
    derived_run = _judge_derived(setup, fields, chosen) if derived else None
    opened = open_for_rule(spec)
    if is_multi_event(parse_statement(setup.rule.query)):
        result, used, notices = _validate_by_search(
            setup, spec, opened, chosen, mapping, notice, scan, row_scan
        )
        result.derived = derived_run
        notices += opened.unused_label_notices()
        return Validation(result, setup, used, setup.notices + notices + _derived_notices(setup, derived_run))

    def in_sql(table: EventTable) -> ValidationResult:
        from harness.validation.columnar_runner import validate_table
        from harness.validation.sequence_table import validate_sequence_table
        from harness.validation.tables import DuckDbTable

        if scan is not None and active is None:  # a rule's own exceptions: it runs alone, below
            counted = scan.validate(
                setup.rule.query,
                table,
                setup.expectations,
                rule_name=setup.rule.name,
                rule_version=setup.rule.version,
                scope=setup.scope,
            )
            if counted is not None:
                return counted
        query = parse_query(setup.rule.query)

        def judged(judge: Callable[..., ValidationResult]) -> ValidationResult:
            return judge(
                query,
                table,
                setup.expectations,
                rule_name=setup.rule.name,
                rule_version=setup.rule.version,
                scope=setup.scope,
                exceptions=active,
            )

        try:
            return judged(validate_table)
        except EqlUnsupportedError:
            if not isinstance(table, DuckDbTable):
                raise
        # Some conjuncts SQL cannot hold: those it can select the candidates, the compiled engine
        # judges the whole query on them (a condition with none is refused again: the row engine's).
        return judged(partial(validate_sequence_table, searches=_searches(scan, active)))

    def in_rows() -> ValidationResult:
        shared = row_scan is not None and active is None  # a rule's own exceptions: it runs alone
        passed = _from_row_scan(row_scan, setup, spec, opened, chosen) if shared and row_scan else None
        if passed is not None:
            return passed
        matcher = compile_query(setup.rule.query, mapping=fields, engine=row_engine(chosen))
        return _judge_rows(run_validation, matcher, setup, spec, opened, notice, active)

    table = _shared(scan, lambda: sql_table(chosen, opened, mapping, spark_master))
    result, used, notices = _run(chosen, table, in_sql, in_rows)
    result.derived = derived_run
    notices += opened.unused_label_notices()
    return Validation(result, setup, used, setup.notices + notices + _derived_notices(setup, derived_run))


def _shared(scan: TableScan | None, open_table: Callable[[], EventTable | None]) -> EventTable | None:
    """The table of a many-rule run (one for all its rules), or this rule's own."""
    return open_table() if scan is None else scan.table(open_table)


def _validate_by_search(
    setup: RuleSetup,
    spec: Corpus,
    opened: Opened,
    chosen: Engine,
    mapping: str | None,
    notice: Notice | None,
    scan: TableScan | None = None,
    row_scan: RowScan | None = None,
) -> tuple[ValidationResult, str, list[str]]:
    """A sequence, sample or piped rule: one search over the corpus; each sequence counts.

    On Parquet (auto or ``--engine duckdb``) DuckDB selects each stage's candidates and the
    state machine runs over those only; otherwise, or for a stage DuckDB cannot filter on
    (with a notice), the row engine searches every document.
    """
    statement = parse_statement(setup.rule.query)

    def in_sql(table: EventTable) -> ValidationResult:
        from harness.validation.sequence_table import validate_sequence_table
        from harness.validation.tables import DuckDbTable

        assert isinstance(table, DuckDbTable)  # Spark was refused above: sql_table hands out no other
        return validate_sequence_table(
            statement,
            table,
            setup.expectations,
            rule_name=setup.rule.name,
            rule_version=setup.rule.version,
            scope=setup.scope,
            exceptions=setup.active_exceptions(),
            searches=_searches(scan, setup.active_exceptions()),
        )

    def in_rows() -> ValidationResult:
        searcher = compile_statement(
            setup.rule.query, mapping=load_mapping(mapping), engine=row_engine(chosen)
        )
        if row_scan is not None and setup.active_exceptions() is None:  # with exceptions: alone
            passed = _from_row_scan(row_scan, setup, spec, opened, chosen, searcher)
            if passed is not None:
                return passed
        return _judge_rows(
            run_sequence_validation, searcher, setup, spec, opened, notice, setup.active_exceptions()
        )

    _refuse_search_engine(chosen, opened)
    table = _shared(scan, lambda: sql_table(chosen, opened, mapping, "local[*]"))
    return _run(chosen, table, in_sql, in_rows)


def _searches(scan: TableScan | None, exceptions: ExceptionSet | None) -> SearchScan | None:
    """The run's searched rules scanned together; a rule with exceptions is searched alone."""
    return None if scan is None or exceptions is not None else scan.searches


def _refuse_search_engine(chosen: Engine, opened: Opened) -> None:
    """DuckDB searches a sequence on a Parquet table (auto or asked for); otherwise the row engines do.

    Spark, and DuckDB on a corpus that is not Parquet, are refused by name.
    """
    if chosen == Engine.SPARK or (chosen.is_sql and not opened.corpus.is_parquet):
        raise UsageError(
            f"--engine {chosen} judges single-event rules here; a sequence, sample or piped rule is "
            "searched by DuckDB on a Parquet corpus, else in the row engines (leave out --engine, or "
            "give --engine compiled)"
        )


def _judge_rows(
    runner: Callable[..., ValidationResult],
    judge: object,
    setup: RuleSetup,
    spec: Corpus,
    opened: Opened,
    notice: Notice | None,
    exceptions: ExceptionSet | None,
) -> ValidationResult:
    """``runner`` (the single-event or the sequence runner) over the corpus's documents, read in rows.

    A single-event rule on a large plain NDJSON file is judged by several processes, a part of the
    file each (``split_rows``), with the same result.
    """

    def run(documents: Iterable[Mapping[str, Any]]) -> ValidationResult:
        return runner(
            judge,
            documents,
            setup.expectations,
            rule_name=setup.rule.name,
            rule_version=setup.rule.version,
            corpus=spec.describe(),
            scope=setup.scope,
            exceptions=exceptions,
        )

    if runner is run_validation and spec.is_json_file and spec.path is not None:
        from harness.app.split_rows import judge_in_parts

        combined = judge_in_parts(spec.path, run)
        if combined is not None:
            return combined
    with opened.placing_errors():
        return run(opened.documents(setup.catalogue, notice, searched=runner is not run_validation))


def _row_engine_for_search(chosen: Engine, opened: Opened, mapping: str | None) -> list[str]:
    """A diff searches sequences in a row engine; a SQL engine asked for by name is refused."""
    if chosen.is_sql:
        raise UsageError(
            f"--engine {chosen} judges single-event rules; a sequence, sample or piped rule is diffed "
            "in the row engines (leave out --engine, or give --engine compiled)"
        )
    if sql_table(chosen, opened, mapping, "local[*]") is None:
        return []
    return [f"a sequence, sample or piped rule is searched in the {row_engine(chosen)} engine, not in SQL"]


def _derived_alone(setup: RuleSetup, spec: Corpus, derived: bool) -> bool:
    """Whether the derived scenarios are all there is to judge: a generated corpus and no catalogue.

    The scenarios and mixed profiles run a catalogue's scenarios, which would be another rule's;
    the fleet profile without one is background, for the rule's noise.
    """
    if not spec.generated or setup.catalogue is not None or spec.profile == Profile.FLEET:
        return False
    if not derived or spec.profile is not None:
        setup.require_catalogue("a generated corpus")
    return True


def _judge_derived(setup: RuleSetup, fields: object, engine: Engine) -> DerivedResult:
    from harness.app.derived import derived_result, derived_suite

    return derived_result(
        setup, derived_suite(setup, mapping=fields), mapping=fields, engine=row_engine(engine)
    )


def _derived_only(setup: RuleSetup, derived: DerivedResult) -> ValidationResult:
    """A rule no catalogue covers, on a generated corpus: its derived scenarios are all there is to judge."""
    result = ValidationResult(
        setup.rule.name,
        setup.rule.version,
        str(parse_statement(setup.rule.query)),
        "",
        setup.expectations,
        scope=setup.scope,
        corpus_run=False,
    )
    result.derived = derived
    return result


def _derived_notices(setup: RuleSetup, derived: DerivedResult | None) -> list[str]:
    """A ``[derived]`` entry that names no case of this derivation: the solver or the rule moved on."""
    if derived is None or setup.expectations_path is None:
        return []
    return [
        f"{setup.expectations_path}: [{origin}] matches no derived case of this rule: check its name in "
        "the report"
        for origin in derived.unused_entries
    ]


def diff(
    old: RuleInput,
    new: RuleInput,
    corpus: CorpusInput = None,
    *,
    expect: str | os.PathLike[str] | None = None,
    catalogue: str | None = None,
    engine: Engine | str = Engine.AUTO,
    mapping: str | None = None,
    spark_master: str = "local[*]",
    notice: Notice | None = None,
    no_catalogue: bool = False,
    derived: bool = True,
    exceptions: ExceptionsInput = None,
) -> Diff:
    """How verdicts change from ``old`` to ``new``, judged by NEW's expectations.

    On a corpus (default: NEW's catalogue's scenarios), as today; and, unless ``derived``
    is False, on events derived from the two queries. ``no_catalogue`` binds no catalogue:
    without a corpus the queries alone are compared. So they are, with a notice, when no
    catalogue covers NEW and no corpus was given.

    Each version applies its own exceptions (its ``X.exceptions.toml``), or ``exceptions`` for
    both (a rule export: each version's lists by its ``rule_id``).
    """
    old_setup, new_setup = _diff_setups(old, new, expect, catalogue, no_catalogue, exceptions)
    chosen, spec = Engine(engine), Corpus.of(corpus)
    # OLD's own exceptions are named too: each version applies its own.
    told = old_setup.exceptions_notice
    notices = [*([told] if told and told not in new_setup.notices else []), *new_setup.notices]

    def compare_queries() -> DerivedDiff | None:
        return derived_diff(old_setup, new_setup, mapping=load_mapping(mapping)) if derived else None

    if spec.generated and new_setup.catalogue is None:
        if spec.profile is not None or not derived:
            if no_catalogue:
                raise UsageError(
                    "--no-catalogue leaves no catalogue to generate a corpus from: give --corpus"
                    + ("" if derived else ", or leave out --no-derived")
                )
            new_setup.require_catalogue("a generated corpus")
        if not no_catalogue:
            notices.append(
                f"no scenario catalogue covers {new_setup.rule.path}: compared from the queries alone "
                "(--catalogue NAME adds the corpus diff)"
            )
        return Diff(None, old_setup, new_setup, "", notices, compare_queries())
    opened = open_for_rule(spec)
    names = {"old_name": old_setup.label, "new_name": new_setup.label}
    if any(is_multi_event(parse_statement(s.rule.query)) for s in (old_setup, new_setup)):
        result, used, fallbacks = _diff_by_search(old_setup, new_setup, spec, opened, chosen, mapping, notice)
        notices += fallbacks + opened.unused_label_notices()
        return Diff(result, old_setup, new_setup, used, notices, compare_queries())

    def in_sql(table: EventTable) -> DiffResult:
        from harness.validation.columnar_runner import diff_table

        return diff_table(
            parse_query(old_setup.rule.query),
            parse_query(new_setup.rule.query),
            table,
            new_setup.expectations,
            **names,
            old_scope=old_setup.scope,
            new_scope=new_setup.scope,
            old_exceptions=old_setup.active_exceptions(),
            new_exceptions=new_setup.active_exceptions(),
        )

    def in_rows() -> DiffResult:
        fields = load_mapping(mapping)
        with opened.placing_errors():
            return diff_rules(
                excepted(
                    compile_query(old_setup.rule.query, mapping=fields, engine=row_engine(chosen)),
                    old_setup.active_exceptions(),
                ),
                excepted(
                    compile_query(new_setup.rule.query, mapping=fields, engine=row_engine(chosen)),
                    new_setup.active_exceptions(),
                ),
                opened.documents(new_setup.catalogue, notice),
                new_setup.expectations,
                corpus=spec.describe(),
                **names,
                old_scope=old_setup.scope,
                new_scope=new_setup.scope,
            )

    result, used, fallbacks = _run(chosen, sql_table(chosen, opened, mapping, spark_master), in_sql, in_rows)
    notices += fallbacks + opened.unused_label_notices()
    return Diff(result, old_setup, new_setup, used, notices, compare_queries())


def _diff_by_search(
    old: RuleSetup,
    new: RuleSetup,
    spec: Corpus,
    opened: Opened,
    chosen: Engine,
    mapping: str | None,
    notice: Notice | None,
) -> tuple[DiffResult, str, list[str]]:
    """Two versions, one of them multi-event: each event's verdict is whether it alerts or is in a found
    sequence, so the event-by-event diff applies unchanged."""
    notices = _row_engine_for_search(chosen, opened, mapping)
    fields, engine = load_mapping(mapping), row_engine(chosen)
    with opened.placing_errors():
        documents = list(opened.documents(new.catalogue, notice))

        def judge(setup: RuleSetup) -> Judge:
            active = setup.active_exceptions()
            if not is_multi_event(parse_statement(setup.rule.query)):
                return excepted(compile_query(setup.rule.query, mapping=fields, engine=engine), active)
            searcher = compile_statement(setup.rule.query, mapping=fields, engine=engine)
            # Excepted events are removed before the search, as Kibana's filter removes them.
            kept = documents if active is None else [d for d in documents if not active.excludes(d)]
            return in_sequence(searcher, kept, setup.scope)

        result = diff_rules(
            judge(old),
            judge(new),
            documents,
            new.expectations,
            corpus=spec.describe(),
            old_name=old.label,
            new_name=new.label,
            old_scope=old.scope,
            new_scope=new.scope,
        )
    return result, engine, notices


def _diff_setups(
    old: RuleInput,
    new: RuleInput,
    expect: str | os.PathLike[str] | None,
    catalogue: str | None,
    no_catalogue: bool,
    exceptions: ExceptionsInput,
) -> tuple[RuleSetup, RuleSetup]:
    """Both versions set up; OLD is judged on NEW's catalogue: one corpus, one set of scenarios for both."""
    if no_catalogue and catalogue is not None:
        raise UsageError("give --catalogue NAME or --no-catalogue, not both")
    new_setup = prepare_rule(new, expect=expect, catalogue=catalogue, exceptions=exceptions)
    if no_catalogue:
        new_setup = replace(new_setup, catalogue=None)
    shared = catalogue or (new_setup.catalogue.name if new_setup.catalogue is not None else None)
    old_setup = prepare_rule(old, catalogue=shared, exceptions=exceptions)
    if no_catalogue:
        old_setup = replace(old_setup, catalogue=None)
    return old_setup, new_setup
