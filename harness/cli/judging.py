"""The commands that judge a rule: validate, diff, simulate, mutate, propose, report, bench."""

from __future__ import annotations

import sys
from datetime import UTC
from typing import Any

import click
import orjson
from click.core import ParameterSource

from harness import app
from harness.cli.many import report_many, validate_many
from harness.cli.options import (
    catalogue_option,
    corpus_from,
    corpus_options,
    derived_option,
    engine_option,
    exceptions_from,
    exceptions_options,
    expect_option,
    labels_option,
    mapping_option,
    notice,
    output_option,
    seed_option,
    spark_master_option,
    tell,
    write_report,
)
from harness.errors import RuleLoadError, UsageError
from harness.events import atomic_writer
from harness.rule_paths import names_one_rule
from harness.rules import AlertSuppression
from harness.vocabulary import MAX_EVENTS, Engine, Profile, choices

__all__ = ["COMMANDS", "atomic_writer"]

# The size the noise of a rare look-alike is measured at (45 per million is 9 events in 200,000).
_EXCEPTIONS_FLEET_EVENTS = 200_000
_output = output_option("--output", "-o", help="Write the report here (atomically).")


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n"


@click.command()
@click.argument("rule_paths", metavar="RULE...", nargs=-1, required=True)
@corpus_options
@expect_option("Expectations (default: RULE's .expect.toml; one RULE only).")
@catalogue_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "junit", "markdown"]),
    default="table",
    show_default=True,
)
@click.option("--detail", is_flag=True, help="With several rules: each rule's report after the summary.")
@_output
@mapping_option
@engine_option(spark=True)
@labels_option
@exceptions_options
@derived_option(
    "Leave out the witnesses and near misses derived from RULE's query (judged by default, apart "
    "from the corpus; a rule no catalogue covers is judged on them alone)."
)
def validate(
    rule_paths: tuple[str, ...],
    corpus_path: str | None,
    profile: str | None,
    events: int | None,
    seed: int,
    expect_path: str | None,
    catalogue: str | None,
    fmt: str,
    detail: bool,
    output: str | None,
    mapping: str | None,
    engine: str,
    spark_master: str,
    labels_path: str | None,
    exceptions_path: str | None,
    no_exceptions: bool,
    no_derived: bool,
) -> None:
    """Run each RULE over a labelled corpus and check it against its expectations (exit 1 on a violation).

    The scenarios derived from RULE's query are judged too: every witness must alert in each
    source the rule reads that writes the fields it needs, every near miss stay silent.

    Several RULEs, a folder (its rules, recursively) or a glob are validated in one run on one
    corpus, read once: a summary row per rule, exit 1 when one fails and 2 when one cannot run.
    """
    from harness.validation.reports import print_table, to_json, to_junit, to_markdown

    corpus = corpus_from(corpus_path, profile, events, seed, labels_path)
    exceptions = exceptions_from(exceptions_path, no_exceptions)
    if not names_one_rule(rule_paths):
        if expect_path is not None:
            raise UsageError("--expect names one rule's expectations: give one RULE, or leave it out")
        many = validate_many(
            rule_paths, corpus, catalogue, engine, mapping, spark_master, not no_derived, exceptions
        )
        report_many(many, fmt, detail, output)
        sys.exit(many.exit_code)
    run = app.validate(
        rule_paths[0],
        corpus,
        expect=expect_path,
        catalogue=catalogue,
        engine=engine,
        mapping=mapping,
        spark_master=spark_master,
        notice=tell,
        derived=not no_derived,
        exceptions=exceptions,
    )
    notice(run.notices)
    if fmt == "table" and output is None:
        if run.setup.expectations_path is None:
            tell("no expectations file: every malicious event should alert, every benign one stay silent")
        print_table(run.result)
    else:
        render = {"json": to_json, "junit": to_junit, "markdown": to_markdown, "table": to_markdown}[fmt]
        write_report(render(run.result), output)
    sys.exit(0 if run.passed else 1)


@click.command()
@click.argument("paths", metavar="OLD NEW | [PATH...]", nargs=-1)
@click.option(
    "--changed-since",
    "changed_since",
    metavar="REF",
    help="Diff every rule under PATH (default: .) changed since git REF, validate the added ones, "
    "list the removed ones.",
)
@corpus_options
@expect_option("NEW's expectations (default: NEW's .expect.toml).")
@catalogue_option
@click.option(
    "--no-catalogue",
    is_flag=True,
    help="Bind no scenario catalogue: without --corpus, compare the queries alone (derived events).",
)
@click.option(
    "--no-derived",
    is_flag=True,
    help="Leave out the events derived from the queries: the corpus diff alone, as before.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown", "junit"]),
    default="table",
    show_default=True,
    help="junit: with --changed-since only.",
)
@_output
@mapping_option
@engine_option(spark=True)
@labels_option
@exceptions_options
def diff(
    paths: tuple[str, ...],
    changed_since: str | None,
    corpus_path: str | None,
    profile: str | None,
    events: int | None,
    seed: int,
    expect_path: str | None,
    catalogue: str | None,
    no_catalogue: bool,
    no_derived: bool,
    fmt: str,
    output: str | None,
    mapping: str | None,
    engine: str,
    spark_master: str,
    labels_path: str | None,
    exceptions_path: str | None,
    no_exceptions: bool,
) -> None:
    """How OLD and NEW differ: verdicts on a corpus, and events derived from the two queries.

    Exit 1 on a corpus regression NEW's expectations do not accept, or on a derived event
    OLD alerts on and NEW does not that no [diff.lost] entry of them accepts.

    With --changed-since REF, the rules under PATH... added, changed or removed since git
    REF (the work tree against REF; the old text read with git show): one report, the same
    exit codes.
    """
    from harness.validation.reports.diff import print_report, report_json, report_markdown

    corpus = corpus_from(corpus_path, profile, events, seed, labels_path)
    if changed_since is not None:
        from harness.cli.changed import diff_changed

        if expect_path is not None:
            raise UsageError("--expect names one rule's expectations: leave it out with --changed-since")
        many = app.diff_changed_since(
            changed_since,
            paths or (".",),
            corpus,
            catalogue=catalogue,
            no_catalogue=no_catalogue,
            engine=engine,
            mapping=mapping,
            spark_master=spark_master,
            notice=tell,
            derived=not no_derived,
        )
        diff_changed(many, fmt, output)
    if len(paths) != 2:
        raise UsageError("give OLD and NEW, or --changed-since REF [PATH...] (not both)")
    if fmt == "junit":
        raise UsageError("--format junit is for --changed-since: give table, json or markdown")
    old_path, new_path = paths
    run = app.diff(
        old_path,
        new_path,
        corpus,
        expect=expect_path,
        catalogue=catalogue,
        engine=engine,
        mapping=mapping,
        spark_master=spark_master,
        notice=tell,
        no_catalogue=no_catalogue,
        derived=not no_derived,
        exceptions=exceptions_from(exceptions_path, no_exceptions),
    )
    notice(run.notices)
    if fmt == "table" and output is None:
        print_report(run.result, run.derived)
    elif fmt == "json":
        write_report(report_json(run.result, run.derived, run.old.label, run.new.label), output)
    else:
        write_report(report_markdown(run.result, run.derived), output)
    sys.exit(0 if run.passed else 1)


@click.command()
@click.argument("rule_path", metavar="RULE")
@corpus_options
@catalogue_option
@click.option(
    "--first-run",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S"]),
    help="UTC time of the first execution (default: one interval after the first event).",
)
@click.option(
    "--duplicates-free-slots",
    is_flag=True,
    help="Already-alerted events do not take one of the max_signals results (query rules page past "
    "them; EQL rules make one search, so by default they do).",
)
@click.option(
    "--suppress-by",
    "suppress_by",
    multiple=True,
    metavar="FIELD",
    help="Suppress alerts as Kibana does, grouped by FIELD (repeat for up to 3; instead of the rule's own).",
)
@click.option(
    "--suppress-for",
    "suppress_for",
    metavar="DURATION",
    help="With --suppress-by: across executions within DURATION (e.g. 1h, 30m, 45s); default per execution.",
)
@click.option(
    "--suppress-missing/--no-suppress-missing",
    default=True,
    show_default=True,
    help="With --suppress-by: events missing a field are suppressed together, or each alerted on.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@output_option("--output", "-o", help="Write the JSON here (atomically).")
@labels_option
@exceptions_options
def simulate(
    rule_path: str,
    corpus_path: str | None,
    profile: str | None,
    events: int | None,
    seed: int,
    catalogue: str | None,
    first_run: Any,
    duplicates_free_slots: bool,
    suppress_by: tuple[str, ...],
    suppress_for: str | None,
    suppress_missing: bool,
    as_json: bool,
    output: str | None,
    labels_path: str | None,
    exceptions_path: str | None,
    no_exceptions: bool,
) -> None:
    """Run RULE on its schedule over a timestamped corpus (default: the fleet profile).

    Every interval over [now - from, now], at most max_signals alerts an execution,
    events alerted before not alerted again: alerts per execution, executions at the
    cap and what they lost, alerts per day and per 1,000 hosts, delays from attack to
    alert, and time no window covers. A sequence, sample or piped rule makes one EQL
    search per execution: an alert per sequence and a building-block alert per event in
    it, counted apart, and the sequences no execution alerted. With alert suppression (the
    rule's own, or --suppress-by), the alerts before and after it, per day and per host.
    """
    from harness.schedule import print_simulation
    from harness.validation.reports.table import console_for_reports

    run = app.simulate(
        rule_path,
        corpus_from(corpus_path, profile, events, seed, labels_path),
        catalogue=catalogue,
        first_run=first_run.replace(tzinfo=UTC) if first_run is not None else None,
        duplicates_take_slots=not duplicates_free_slots,
        notice=tell,
        suppression=_suppression(suppress_by, suppress_for, suppress_missing),
        exceptions=exceptions_from(exceptions_path, no_exceptions),
    )
    notice(run.notices)
    if as_json or output is not None:
        write_report(_json(run.result.as_dict()), output)
        return
    print_simulation(run.result, console_for_reports())


def _suppression(by: tuple[str, ...], for_: str | None, missing: bool) -> AlertSuppression | None:
    """The command line's alert suppression, checked by the same rules as a rule file's."""
    if not by:
        if for_ is not None or not missing:
            raise UsageError("--suppress-for and --no-suppress-missing need --suppress-by FIELD")
        return None
    try:
        return AlertSuppression(by, for_, "suppress" if missing else "doNotSuppress")
    except RuleLoadError as error:
        flag = "--suppress-for" if "duration" in error.message else "--suppress-by"
        raise UsageError(f"{flag}: {error.message.replace('alert_suppression.', '')}") from error


@click.command()
@click.argument("rule_path", metavar="RULE")
@expect_option()
@catalogue_option
@seed_option("Seed of the scenarios corpus.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@derived_option(
    "Judge mutants on the scenario catalogue alone, without the scenarios derived from the query."
)
@exceptions_options
def mutate(
    rule_path: str,
    expect_path: str | None,
    catalogue: str | None,
    seed: int,
    as_json: bool,
    no_derived: bool,
    exceptions_path: str | None,
    no_exceptions: bool,
) -> None:
    """Mutation-test RULE's expectation suite: how many small query changes would it catch?

    Each mutant (a conjunct or branch dropped, ':' and '==' swapped, a wildcard dropped, a
    constant upper-cased, a predicate negated, 'and'/'or' swapped) runs over the scenario
    catalogue and the scenarios derived from the original query; it is killed when the
    expectations report something the original does not. The score is given with the
    catalogue, with the derived scenarios, and with both.
    """
    from harness.mutation import print_mutation_report
    from harness.validation.reports.table import console_for_reports

    result = app.mutate(
        rule_path,
        expect=expect_path,
        catalogue=catalogue,
        seed=seed,
        derived=not no_derived,
        exceptions=exceptions_from(exceptions_path, no_exceptions),
    )
    if as_json:
        click.echo(_json(result.as_dict()), nl=False)
        return
    print_mutation_report(result, console_for_reports())


@click.command()
@click.argument("rule_path", metavar="RULE")
@expect_option()
@catalogue_option
@seed_option("Seed of both corpora.")
@click.option(
    "--fleet-events",
    type=click.IntRange(1, MAX_EVENTS),
    default=100_000,
    show_default=True,
    help="Fleet background events for the noise measurement.",
)
@click.option(
    "--exceptions",
    "exceptions",
    is_flag=True,
    help="Propose exception items that remove the false positives instead of query widenings.",
)
@click.option("--corpus", "corpus_path", metavar="FILE", help="With --exceptions: a labelled real log.")
@labels_option
@click.option(
    "--profile",
    type=click.Choice([Profile.FLEET.value]),
    help="With --exceptions: generate the fleet (the default without --corpus).",
)
@click.option(
    "--events",
    type=click.IntRange(1, MAX_EVENTS),
    help="With --exceptions: fleet events (default 200000).",
)
@output_option(
    "--out",
    help="With --exceptions: write the proposed items here as Kibana-importable NDJSON (X.ndjson), "
    "and a TOML copy beside it (X.exceptions.toml).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def propose(
    rule_path: str,
    expect_path: str | None,
    catalogue: str | None,
    seed: int,
    fleet_events: int,
    exceptions: bool,
    corpus_path: str | None,
    labels_path: str | None,
    profile: str | None,
    events: int | None,
    out: str | None,
    as_json: bool,
) -> None:
    """Candidate changes to RULE from its known gaps, each with its detection rate and noise; with
    --exceptions, exception items that remove its false positives and hide no detection."""
    if exceptions:
        _propose_exceptions(
            rule_path, expect_path, catalogue, seed, corpus_path, labels_path, profile, events, out, as_json
        )
        return
    given = [
        name
        for name, value in (
            ("--corpus", corpus_path),
            ("--labels", labels_path),
            ("--profile", profile),
            ("--events", events),
            ("--out", out),
        )
        if value is not None
    ]
    if given:
        raise UsageError(f"{', '.join(given)}: only with --exceptions (query widenings use --fleet-events)")
    run = app.propose(
        rule_path, expect=expect_path, catalogue=catalogue, seed=seed, fleet_events=fleet_events
    )
    if as_json:
        click.echo(_json([p.as_dict() for p in run.proposals]), nl=False)
        return
    _print_proposals(run)


def _propose_exceptions(
    rule_path: str,
    expect_path: str | None,
    catalogue: str | None,
    seed: int,
    corpus_path: str | None,
    labels_path: str | None,
    profile: str | None,
    events: int | None,
    out: str | None,
    as_json: bool,
) -> None:
    from harness.app.analysis import propose_exceptions
    from harness.cli.exception_tables import print_exception_proposals
    from harness.exception_proposals import toml_copy_path, write_proposal

    if out is not None:
        toml_copy_path(out)  # a wrong name is refused before the corpus is read
    if labels_path is not None and corpus_path is None:
        raise UsageError("--labels labels a real log: give it with --corpus FILE")
    if corpus_path is not None and (events is not None or profile is not None):
        raise UsageError("--events and --profile make a generated fleet: drop them with --corpus FILE")
    if corpus_path is None:
        corpus = app.Corpus(None, Profile.FLEET, events or _EXCEPTIONS_FLEET_EVENTS, seed)
    else:
        corpus = app.Corpus(corpus_path, None, None, seed, labels=labels_path)
    run = propose_exceptions(
        rule_path, corpus, expect=expect_path, catalogue=catalogue, seed=seed, notice=tell
    )
    notice(run.notices)
    if out is not None:
        written = write_proposal(run.proposal, out)
        tell(f"no item proposed: {out} not written" if written is None else f"wrote {out} and {written}")
    if as_json:
        click.echo(_json(run.proposal.as_dict()), nl=False)
        return
    print_exception_proposals(run)


def _print_proposals(run: app.Proposals) -> None:
    from rich.table import Table

    from harness.validation.reports.common import percent
    from harness.validation.reports.table import console_for_reports

    rule = run.setup.rule
    table = Table(
        "change",
        "detection",
        "precision",
        "FP per million",
        "newly detected",
        "new noise",
        title=f"{rule.name} (version {rule.version}): candidate changes, seed {run.seed}",
    )
    for p in run.proposals:
        table.add_row(
            p.description,
            percent(p.detection_rate),
            percent(p.precision),
            "-" if p.false_positives_per_million is None else f"{p.false_positives_per_million:.1f}",
            "\n".join(p.newly_detected) or "-",
            "\n".join(p.new_noise) or "-",
        )
    console_for_reports().print(table)


def _report_repository(
    rule_paths: tuple[str, ...],
    corpus: app.Corpus,
    run: dict[str, Any],
    mutations: bool,
    generated_at: str | None,
) -> tuple[str, bool]:
    """The repository page, with a progress bar over the rules; whether a rule could not be run."""
    from harness.app.report import report_repository
    from harness.cli.options import progress
    from harness.html_report.repository_page import render_repository_html
    from harness.rule_paths import expand_rule_paths

    rules = expand_rule_paths(rule_paths)  # a path naming nothing is refused before any work
    with progress(2 * len(rules), "reporting on rules") as advance:
        data = report_repository(
            rules,
            corpus,
            mutations=mutations,
            generated_at=generated_at,
            notice=tell,
            progress=advance,
            **run,
        )
    notice(list(data.notices))
    errors = [row for row in data.reports if row.error is not None]
    for row in errors:
        tell(f"error: {row.path}: {row.error}")
    return render_repository_html(data), bool(errors)


@click.command()
@click.argument("rule_paths", nargs=-1, required=True, metavar="RULE...")
@output_option("--html", "html_path", required=True, help="Write the page here (atomically).")
@catalogue_option
@seed_option("Same seed, same corpora, same page.")
@click.option(
    "--events",
    type=click.IntRange(1, MAX_EVENTS),
    default=100_000,
    show_default=True,
    help="Size of the fleet corpus for noise and the schedule simulation (of a generated corpus, on "
    "the repository page).",
)
@click.option(
    "--generated-at",
    metavar="TEXT",
    help="A time to print in the header; without it the page holds no clock, so the same inputs give "
    "the same bytes.",
)
@click.option("--no-mutations", "no_mutations", is_flag=True, help="Leave mutation testing out.")
@click.option(
    "--timings",
    is_flag=True,
    help="Repository page: each rule's seconds in the summary (the page then differs run to run).",
)
@click.option(
    "--corpus",
    "corpus_path",
    metavar="PATH",
    help="Repository page: NDJSON (plain or gzip), JSON array, EVTX or Parquet corpus.",
)
@click.option(
    "--profile",
    type=click.Choice(choices(Profile)),
    help="Repository page: generate the corpus on the fly (default: fleet).",
)
@labels_option
@mapping_option
@engine_option(spark=True)
@derived_option("Repository page: leave out the scenarios derived from each rule's query.")
@exceptions_options
def report(
    rule_paths: tuple[str, ...],
    html_path: str,
    catalogue: str | None,
    seed: int,
    events: int,
    generated_at: str | None,
    no_mutations: bool,
    timings: bool,
    corpus_path: str | None,
    profile: str | None,
    labels_path: str | None,
    mapping: str | None,
    engine: str,
    spark_master: str,
    no_derived: bool,
    exceptions_path: str | None,
    no_exceptions: bool,
) -> None:
    """One self-contained HTML page: RULE versions compared, or a whole rule repository.

    Versions of one rule (rule files sharing one rule_id, or one file) get the comparison page:
    detection heatmap on the scenarios, noise and schedule on a fleet, mutations. A folder, a glob
    or rules with different rule_ids get the repository page: every rule validated on one corpus
    (default: a fleet of --events), a summary row per rule, failing first, each linking to its
    drill-down (heatmap, noise, schedule, mutations; versions of one rule side by side).
    """
    from harness.app.report import compares_versions
    from harness.html_report import render_html

    exceptions = exceptions_from(exceptions_path, no_exceptions)
    if compares_versions(rule_paths):
        repository_only = {
            "--corpus": corpus_path,
            "--profile": profile,
            "--labels": labels_path,
            "--mapping": mapping,
            "--engine": None if engine == Engine.AUTO else engine,
            "--no-derived": no_derived or None,
            "--timings": timings or None,
        }
        given = [name for name, value in repository_only.items() if value is not None]
        if given:
            raise UsageError(
                f"{', '.join(given)}: for the repository page (a folder, a glob, or several rule_ids); "
                "the version page runs the catalogue's scenarios and a fleet of --events"
            )
        data = app.report(
            rule_paths,
            seed=seed,
            fleet_events=events,
            generated_at=generated_at,
            catalogue=catalogue,
            mutations=not no_mutations,
            exceptions=exceptions,
        )
        page, errored = render_html(data), False
    else:
        # A scenarios profile is one round of the catalogue unless --events asks for more.
        asked = click.get_current_context().get_parameter_source("events") != ParameterSource.DEFAULT
        whole = corpus_path is not None or (profile == Profile.SCENARIOS and not asked)
        corpus = corpus_from(corpus_path, profile, None if whole else events, seed, labels_path)
        run = {
            "catalogue": catalogue,
            "engine": engine,
            "mapping": mapping,
            "spark_master": spark_master,
            "derived": not no_derived,
            "timings": timings,
            "exceptions": exceptions,
        }
        page, errored = _report_repository(rule_paths, corpus, run, not no_mutations, generated_at)
    with atomic_writer(html_path) as stream:
        stream.write(page.encode())
    if errored:
        sys.exit(2)  # the page shows every rule, but one could not be run: bad input, as for validate


@click.command()
@click.argument("rule_path", metavar="[RULE]", required=False)
@click.option(
    "--rules",
    "rule_sets",
    metavar="PATH",
    multiple=True,
    help="Instead of RULE: time whole validations of the first 1, 10, 50, all and 200 rules these files, "
    "folders or globs name (copies past those given), on a fleet as Parquet and as NDJSON.",
)
@click.option("--events", type=click.IntRange(1, MAX_EVENTS), default=200_000, show_default=True)
@click.option(
    "--profile",
    type=click.Choice(choices(Profile, without=(Profile.SCENARIOS,))),
    default=Profile.MIXED.value,
    show_default=True,
)
@catalogue_option
@seed_option()
@click.option(
    "--repeat",
    type=click.IntRange(1, 1000),
    help="Best of N runs (default: 3 for RULE, 1 for --rules).",
)
@click.option(
    "--corpus",
    "corpus_paths",
    metavar="PATH",
    multiple=True,
    help="Time the engines that scan Parquet (DuckDB, and Spark with --engine spark) on these files "
    "instead of generating events; with --rules, the corpus files to run on (one per format).",
)
@click.option("--formats", metavar="LIST", help="With --rules: parquet,ndjson (default both), generated.")
@click.option("--sizes", metavar="LIST", help="With --rules: rule set sizes (default 1,10,50,all,200).")
@output_option("--plot", help="With --rules: seconds against rules as an SVG, written atomically.")
@click.option(
    "--generate",
    is_flag=True,
    help="Instead of RULE: time `harness generate --out X.parquet` of --events against pyarrow writing "
    "the finished table of the same rows.",
)
@click.option(
    "--engine",
    type=click.Choice([Engine.AUTO.value, Engine.SPARK.value]),
    default=Engine.AUTO.value,
    show_default=True,
    help="auto: every engine that runs in this process; spark: also Apache Spark, against DuckDB on the "
    "same Parquet files.",
)
@spark_master_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def bench(
    context: click.Context,
    rule_path: str | None,
    rule_sets: tuple[str, ...],
    events: int,
    profile: str,
    catalogue: str | None,
    seed: int,
    repeat: int | None,
    corpus_paths: tuple[str, ...],
    formats: str | None,
    sizes: str | None,
    plot: str | None,
    generate: bool,
    engine: str,
    spark_master: str,
    as_json: bool,
) -> None:
    """Matcher throughput on the same events: empty loop, reference, compiled, DuckDB, hand-written, eql.

    A sequence or sample rule is searched by every engine (reference, compiled, DuckDB, and Spark
    with --engine spark): events per second of the input stream, and the sequences each found.

    With --rules PATH... instead of RULE: whole validations of 1, 10, 50, all and 200 rules timed
    on the same corpus files, each as a ratio to the one-rule run. With --corpus X.ndjson, RULE's
    validation of the file against a plain orjson.loads loop over it; with --generate, writing a
    generated Parquet corpus against pyarrow writing the finished table.
    """
    from harness.bench_report import bench_json, print_bench
    from harness.cli.bench_floors import is_ndjson, run_generate_bench, run_ndjson_bench
    from harness.cli.bench_rules import one_rule_options_refused, run_bench_rules

    def given(name: str) -> bool:
        return context.get_parameter_source(name) != click.core.ParameterSource.DEFAULT

    if generate:
        if rule_path is not None or rule_sets:
            raise UsageError("--generate times the corpus generator: give no RULE and no --rules")
        one_rule_options_refused(
            {
                "--corpus": bool(corpus_paths),
                "--formats": formats is not None,
                "--sizes": sizes is not None,
                "--plot": plot is not None,
                "--engine": given("engine"),
            }
        )
        profile_name = profile if given("profile") else Profile.FLEET.value
        run_generate_bench(
            events=events,
            seed=seed,
            profile=profile_name,
            catalogue=catalogue,
            repeat=repeat or 1,
            as_json=as_json,
        )
        return
    if (rule_path is None) == (not rule_sets):
        raise UsageError("give RULE, --rules PATH... to time many rules, or --generate: one of them")

    if rule_sets:
        one_rule_options_refused({"--profile": given("profile"), "--engine": given("engine")})
        run_bench_rules(
            rule_sets,
            events=events,
            seed=seed,
            corpora=corpus_paths,
            formats_text=formats,
            sizes_text=sizes,
            repeat=repeat or 1,
            catalogue=catalogue,
            as_json=as_json,
            plot=plot,
        )
        return
    assert rule_path is not None  # one of them, checked above
    one_rule_options_refused(
        {"--formats": formats is not None, "--sizes": sizes is not None, "--plot": plot is not None}
    )
    if len(corpus_paths) > 1:
        raise UsageError("bench RULE times one --corpus; give --rules PATH to time several formats")
    corpus_path = corpus_paths[0] if corpus_paths else None
    repeat = repeat or 3
    if corpus_path is not None and is_ndjson(corpus_path):
        one_rule_options_refused({"--engine": given("engine")})
        run_ndjson_bench(rule_path, corpus_path, repeat=repeat, as_json=as_json)
        return
    master = spark_master if engine == Engine.SPARK else None
    rule = app.prepare_rule(rule_path, catalogue=catalogue).rule
    if corpus_path is not None:
        rows = app.bench_parquet(rule, corpus_path, repeat=repeat, spark_master=master)
        title = f"{rule.name} (version {rule.version}): {corpus_path}, best of {repeat}"
    else:
        rows = app.bench(
            rule,
            events=events,
            profile=Profile(profile),
            seed=seed,
            repeat=repeat,
            spark_master=master,
            catalogue=catalogue,
        )
        title = f"{rule.name} (version {rule.version}): {events:,} {profile} events, best of {repeat}"
    if as_json:
        click.echo(bench_json(rows))
    else:
        print_bench(rows, title)


COMMANDS = (validate, diff, simulate, mutate, propose, report, bench)
