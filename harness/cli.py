"""The ``harness`` command: a thin shell over functions the tests call directly.

Exit codes: 0 done; 1 the check found what it was asked to fail on; 2 bad input
(query, rule, events, usage), with a message that says where and what to do.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click
import orjson

from harness.checks import check_rule
from harness.eql import ECS, FieldMapping, compile_query, format_query, load_index_mapping, parse_query
from harness.errors import HarnessError
from harness.events import ReadStats, atomic_writer, read_events
from harness.rules import Rule, load_rule

if TYPE_CHECKING:
    from harness.validation.tables import EventTable

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class _Group(click.Group):
    """Turns every HarnessError into a one-paragraph message and exit code 2: no tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HarnessError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(2)
        except BrokenPipeError:
            sys.stderr.close()  # the reader went away (| head): not an error
            ctx.exit(0)


@click.group(cls=_Group)
@click.version_option(package_name="detection-harness")
def main() -> None:
    """Validate Elastic EQL detection rules offline, with Elasticsearch's semantics."""


def _mapping_option(function: F) -> F:
    return click.option(
        "--mapping",
        metavar="ecs|FILE",
        help="Field types: 'ecs' for the bundled ECS subset (with ignore_above 1024), or an index "
        "mapping JSON (GET INDEX/_mapping). Without it, values compare as JSON gives them.",
    )(function)


def _engine_option(function: F) -> F:
    return click.option(
        "--engine",
        type=click.Choice(["auto", "compiled", "reference", "duckdb"]),
        default="auto",
        show_default=True,
        help="auto: duckdb for Parquet corpora, compiled otherwise; reference: the evaluator that defines "
        "the answers (all engines are tested equal to it).",
    )(function)


def _spark_master_option(function: F) -> F:
    return click.option(
        "--spark-master",
        default="local[*]",
        show_default=True,
        metavar="URL",
        help="Where --engine spark runs: local[*] (every core here), local[2], spark://HOST:7077, yarn, "
        "k8s://...",
    )(function)


def _corpus_engine_option(function: F) -> F:
    return _spark_master_option(
        click.option(
            "--engine",
            type=click.Choice(["auto", "compiled", "reference", "duckdb", "spark"]),
            default="auto",
            show_default=True,
            help="auto: duckdb for Parquet corpora, compiled otherwise; spark: Apache Spark on any path it "
            "reads (needs the [spark] extra); reference: the evaluator that defines the answers (all "
            "engines are tested equal to it).",
        )(function)
    )


def _columnar_or_none(engine: str, run: Callable[[], T]) -> T | None:
    """``run()`` in a SQL engine; None (a row engine runs) for a query it cannot run, unless asked for."""
    from harness.errors import EqlUnsupportedError

    try:
        return run()
    except EqlUnsupportedError:
        if engine in ("duckdb", "spark"):
            raise
        return None


def _labels_option(command: F) -> F:
    return click.option(
        "--labels",
        "labels_path",
        metavar="FILE",
        help="A labels sidecar (TOML) that says which events of a real corpus are which scenario.",
    )(command)


def _load_labels(path: str | None) -> Any:
    if path is None:
        return None
    from harness.validation.labels import load_labels

    return load_labels(path)


def _labelled(sidecar: Any, documents: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return documents if sidecar is None else sidecar.apply(documents)


def _report_unused_labels(sidecar: Any) -> None:
    for entry in [] if sidecar is None else sidecar.unused():
        click.echo(
            f"{sidecar.path}:{entry.line}: this entry ({entry.scenario}) labelled no event: check it",
            err=True,
        )


def _rule_and_expectations(rule_path: str, expect_path: str | None) -> tuple[Rule, Any, Any]:
    """The rule, its expectations (``--expect``, else the file beside it, else defaults), and that file."""
    from harness.validation import Expectations, default_expectations_path, load_expectations

    found = expect_path or default_expectations_path(rule_path)
    return load_rule(rule_path), load_expectations(found) if found else Expectations(), found


def _notice(message: str) -> None:
    click.echo(message, err=True)


def _sql_table(
    engine: str, corpus_path: str | None, mapping: str | None, sidecar: Any, spark_master: str
) -> EventTable | None:
    """The corpus as a SQL engine's table when the run belongs there (asked for, or auto on Parquet)."""
    from harness.validation.tables import DuckDbTable

    parquet = corpus_path is not None and (
        corpus_path.lower().endswith(".parquet") or Path(corpus_path).is_dir()
    )
    if engine in ("duckdb", "spark"):
        if corpus_path is None or (engine == "duckdb" and not parquet):
            where = "a file or folder" + (", or any path Spark reads: s3a://..." if engine == "spark" else "")
            raise click.UsageError(f"--engine {engine} reads Parquet corpora: give --corpus PATH ({where})")
        if mapping is not None:
            raise click.UsageError(
                f"--engine {engine} takes types from the Parquet schema; leave out --mapping"
            )
        if sidecar is not None:
            raise click.UsageError(f"--labels runs on the row engines; leave out --engine {engine}")
        if engine == "spark":
            from harness.spark import SparkTable

            return SparkTable(corpus_path, master=spark_master)
        return DuckDbTable(corpus_path)
    if engine == "auto" and parquet and mapping is None and sidecar is None:
        assert corpus_path is not None
        return DuckDbTable(corpus_path)
    return None


def _row_engine(engine: str) -> str:
    return "reference" if engine == "reference" else "compiled"


def _load_mapping(value: str | None) -> FieldMapping | None:
    if value is None:
        return None
    if value == "ecs":
        return ECS
    return load_index_mapping(value)


@main.command()
@click.argument("rule_path", metavar="RULE")
@click.option("--strict", is_flag=True, help="Exit 1 when there is any warning.")
@_mapping_option
def check(rule_path: str, strict: bool, mapping: str | None) -> None:
    """Parse RULE and print its normalized query and findings."""
    rule = load_rule(rule_path)
    query = parse_query(rule.query, mapping=_load_mapping(mapping))
    findings = check_rule(rule, query)
    click.echo(_describe(rule))
    click.echo(f"query:      {format_query(query)}")
    if not findings:
        click.echo("findings:   none")
    for finding in findings:
        click.echo(f"{finding.severity}: [{finding.code}] {finding.message}")
    if strict and any(f.severity == "warning" for f in findings):
        sys.exit(1)


def _describe(rule: Rule) -> str:
    version = f" (version {rule.version})" if rule.version is not None else ""
    lines = [f"rule:       {rule.name}{version}", f"file:       {rule.path}"]
    if rule.indices:
        lines.append(f"indices:    {', '.join(rule.indices)}")
    if rule.interval or rule.from_:
        schedule = f"every {rule.interval or '?'} over {rule.from_ or '?'}"
        if rule.max_signals is not None:
            schedule += f", at most {rule.max_signals} alerts per run"
        lines.append(f"schedule:   {schedule}")
    if rule.severity or rule.risk_score is not None:
        lines.append(f"severity:   {rule.severity or '?'} (risk {rule.risk_score})")
    return "\n".join(lines)


@main.command()
@click.argument("args", nargs=-1, metavar="(RULE | --query TEXT) [EVENTS]...")
@click.option("--query", "query_text", metavar="TEXT", help="An EQL query instead of a rule file.")
@click.option("--count", is_flag=True, help="Print only the number of matching events.")
@click.option(
    "--skip-invalid", is_flag=True, help="Count and report bad lines instead of stopping at the first."
)
@click.option("--category-field", default="event.category", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="Write matches here (atomically) instead of stdout.",
)
@_mapping_option
@_engine_option
def match(
    args: tuple[str, ...],
    query_text: str | None,
    count: bool,
    skip_invalid: bool,
    category_field: str,
    output: str | None,
    mapping: str | None,
    engine: str,
) -> None:
    """Write the events that match as NDJSON.

    EVENTS are NDJSON files (plain or gzip), JSON arrays, or '-' for standard input
    (the default).
    """
    paths = list(args)
    if query_text is None:
        if not paths:
            raise click.UsageError("give a RULE file or --query TEXT")
        query_text = load_rule(paths.pop(0)).query
    matcher = compile_query(
        query_text, category_field=category_field, mapping=_load_mapping(mapping), engine=_row_engine(engine)
    )
    stats = ReadStats()
    matched = 0
    with _destination(output) as sink:
        for record in read_events(paths, skip_invalid=skip_invalid, stats=stats):
            if matcher.matches(record.event):
                matched += 1
                if not count:
                    sink.write((record.raw if record.raw is not None else orjson.dumps(record.event)) + b"\n")
        if count:
            sink.write(f"{matched}\n".encode())
    _report_skipped(stats)


@contextmanager
def _destination(output: str | None) -> Iterator[IO[bytes]]:
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with atomic_writer(output) as stream:
        yield stream


def _report_skipped(stats: ReadStats) -> None:
    if not stats.invalid:
        return
    click.echo(
        f"skipped {len(stats.invalid)} invalid line(s) of {stats.events + len(stats.invalid)}:", err=True
    )
    for problem in stats.invalid[:20]:
        click.echo(f"  {problem}", err=True)
    if len(stats.invalid) > 20:
        click.echo(f"  ... and {len(stats.invalid) - 20} more", err=True)


@main.command()
@click.option(
    "--profile", type=click.Choice(["scenarios", "fleet", "mixed"]), default="scenarios", show_default=True
)
@click.option(
    "--events", type=click.IntRange(min=0), help="Exactly this many events (default: the profile's size)."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same bytes.")
@click.option(
    "--days", type=click.IntRange(min=1), default=7, show_default=True, help="Days of fleet activity."
)
@click.option(
    "--attack-rate",
    type=click.FloatRange(min=0),
    default=20.0,
    show_default=True,
    help="Malicious scenario runs per million events (fleet profile).",
)
@click.option("--start", "start_text", metavar="ISO-8601", help="First day, UTC (default 2026-11-02).")
@click.option(
    "--out",
    "-o",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output: .ndjson, .ndjson.gz or .parquet; written atomically.",
)
def generate(
    profile: str,
    events: int | None,
    seed: int,
    days: int,
    attack_rate: float,
    start_text: str | None,
    out: str,
) -> None:
    """Write a labelled synthetic corpus."""
    from datetime import datetime

    from generators.corpus import corpus_format, write_corpus
    from generators.profiles import DEFAULT_START, CorpusOptions

    try:
        corpus_format(out)
        start = DEFAULT_START if start_text is None else datetime.fromisoformat(start_text)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    options = CorpusOptions(profile, events, seed, days, start, attack_rate)
    began = time.perf_counter()
    with _progress(events, f"generating {profile}") as advance:
        stats = write_corpus(options, out, on_progress=advance)
    elapsed = time.perf_counter() - began
    sources = ", ".join(f"{name} {count:,}" for name, count in sorted(stats.by_source.items()))
    intents = ", ".join(f"{name} {count:,}" for name, count in sorted(stats.by_intent.items()))
    rate = stats.events / elapsed if elapsed > 0 else 0.0
    click.echo(f"wrote {stats.events:,} events to {out} in {elapsed:.1f} s ({rate:,.0f} events/s)", err=True)
    click.echo(f"  by source: {sources}", err=True)
    click.echo(f"  by intent: {intents}", err=True)


@main.command()
@click.argument(
    "files", nargs=-1, required=True, metavar="FILE...", type=click.Path(exists=True, dir_okay=False)
)
@click.option(
    "--out",
    "-o",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output: .ndjson or .ndjson.gz; written atomically.",
)
@click.option(
    "--keep-going",
    is_flag=True,
    help="Write what could be read from a damaged file (exit 1) instead of failing.",
)
def ingest(files: tuple[str, ...], out: str, keep_going: bool) -> None:
    """Map Sysmon event 1 and Security 4688 to the documents Elastic indexes.

    FILE is an .evtx file, or Winlogbeat's file output (NDJSON, .ndjson.gz, a JSON array).
    """
    import gzip

    from harness.errors import IngestError
    from harness.ingest import IngestResult, ingest_evtx, ingest_winlogbeat

    if not out.endswith((".ndjson", ".ndjson.gz")):
        raise click.BadParameter(f"{out}: the output must end in .ndjson or .ndjson.gz", param_hint="--out")
    result = IngestResult()
    for path in files:
        read = ingest_evtx if path.lower().endswith(".evtx") else ingest_winlogbeat
        try:
            read(path, strict=not keep_going, into=result)
        except IngestError as error:
            kept = len(result.documents)
            raise IngestError(
                error.path,
                f"{error.message}\n{kept} document(s) could be read; nothing was written: "
                f"--keep-going writes them and lists what was lost",
                partial=result,
            ) from error
    with atomic_writer(out) as raw:
        sink: IO[bytes] = (
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0)  # type: ignore[assignment]
            if out.endswith(".gz")
            else raw
        )
        for document in result.documents:
            sink.write(orjson.dumps(document) + b"\n")
        if sink is not raw:
            sink.close()
    codes = ", ".join(f"{code}: {count}" for code, count in sorted(result.by_code().items())) or "none"
    click.echo(f"read {result.records} record(s) from {len(files)} file(s)", err=True)
    click.echo(f"wrote {len(result.documents)} document(s) to {out} (by event code: {codes})", err=True)
    for (provider, event_id), count in sorted(result.skipped.items()):
        click.echo(f"  skipped {count} {provider} event {event_id}", err=True)
    for problem in result.problems:
        click.echo(f"  unreadable: {problem}", err=True)
    if result.problems:
        sys.exit(1)


@contextmanager
def _progress(total: int | None, description: str) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal; nothing when output goes to a file or a pipe."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.update(task, completed=done)


@main.command()
@click.option("--markdown", is_flag=True, help="A Markdown table (as in corpora/README.md).")
def scenarios(markdown: bool) -> None:
    """List the scenario catalogue: id, intent, ATT&CK, sources, description, reference."""
    from generators.corpus import catalogue_rows

    rows = catalogue_rows()
    if markdown:
        click.echo("| id | intent | ATT&CK | sources | description | reference |")
        click.echo("| --- | --- | --- | --- | --- | --- |")
        for row in rows:
            sources = "all" if row["sources"].count(",") >= 6 else row["sources"]
            click.echo(
                f"| `{row['id']}` | {row['intent']} | {row['attack'] or '-'} | {sources} | "
                f"{row['description']} | {row['reference']} |"
            )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "intent", "ATT&CK", "description", title="AppCmd scenario catalogue")
    for row in rows:
        table.add_row(row["id"], row["intent"], row["attack"] or "-", row["description"])
    Console().print(table)


def _corpus_options(function: F) -> F:
    for option in reversed(
        [
            click.option(
                "--corpus",
                "corpus_path",
                metavar="PATH",
                help="NDJSON (plain or gzip), JSON array or Parquet corpus.",
            ),
            click.option(
                "--profile",
                type=click.Choice(["scenarios", "fleet", "mixed"]),
                help="Generate the corpus on the fly (default: scenarios).",
            ),
            click.option("--events", type=click.IntRange(min=0), help="Events for a generated corpus."),
            click.option(
                "--seed", type=int, default=0, show_default=True, help="Seed for a generated corpus."
            ),
        ]
    ):
        function = option(function)
    return function


def _write_report(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    with atomic_writer(output) as stream:
        stream.write(text.encode())


@main.command()
@click.argument("rule_path", metavar="RULE")
@_corpus_options
@click.option("--expect", "expect_path", metavar="FILE", help="Expectations (default: RULE's .expect.toml).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "junit", "markdown"]),
    default="table",
    show_default=True,
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here (atomically).")
@_mapping_option
@_corpus_engine_option
@_labels_option
def validate(
    rule_path: str,
    corpus_path: str | None,
    profile: str | None,
    events: int | None,
    seed: int,
    expect_path: str | None,
    fmt: str,
    output: str | None,
    mapping: str | None,
    engine: str,
    spark_master: str,
    labels_path: str | None,
) -> None:
    """Run RULE over a labelled corpus and check it against its expectations (exit 1 on a violation)."""
    from harness.corpus import describe_corpus, open_corpus
    from harness.validation import run_validation
    from harness.validation.reports import print_table, to_json, to_junit, to_markdown

    rule, expectations, found = _rule_and_expectations(rule_path, expect_path)
    corpus = describe_corpus(corpus_path, profile, events, seed)
    sidecar = _load_labels(labels_path)
    result = None
    table = _sql_table(engine, corpus_path, mapping, sidecar, spark_master)
    if table is not None:
        from harness.validation.columnar_runner import validate_table

        sql_table = table
        result = _columnar_or_none(
            engine,
            lambda: validate_table(
                parse_query(rule.query),
                sql_table,
                expectations,
                rule_name=rule.name,
                rule_version=rule.version,
            ),
        )
    if result is None:
        matcher = compile_query(rule.query, mapping=_load_mapping(mapping), engine=_row_engine(engine))
        documents = _labelled(
            sidecar, open_corpus(corpus_path, profile=profile, events=events, seed=seed, notice=_notice)
        )
        result = run_validation(
            matcher, documents, expectations, rule_name=rule.name, rule_version=rule.version, corpus=corpus
        )
        _report_unused_labels(sidecar)
    if fmt == "table" and output is None:
        if not found:
            click.echo(
                "no expectations file: every malicious event should alert, every benign one stay silent",
                err=True,
            )
        print_table(result)
    else:
        render = {"json": to_json, "junit": to_junit, "markdown": to_markdown, "table": to_markdown}[fmt]
        _write_report(render(result), output)
    sys.exit(0 if result.passed else 1)


@main.command()
@click.argument("old_path", metavar="OLD")
@click.argument("new_path", metavar="NEW")
@_corpus_options
@click.option(
    "--expect", "expect_path", metavar="FILE", help="NEW's expectations (default: NEW's .expect.toml)."
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here (atomically).")
@_mapping_option
@_corpus_engine_option
@_labels_option
def diff(
    old_path: str,
    new_path: str,
    corpus_path: str | None,
    profile: str | None,
    events: int | None,
    seed: int,
    expect_path: str | None,
    fmt: str,
    output: str | None,
    mapping: str | None,
    engine: str,
    spark_master: str,
    labels_path: str | None,
) -> None:
    """How verdicts change from OLD to NEW on the same corpus (exit 1 on a regression NEW does not accept)."""
    from harness.corpus import describe_corpus, open_corpus
    from harness.validation import Expectations, default_expectations_path, diff_rules, load_expectations
    from harness.validation.reports.diff import diff_json, diff_markdown, print_diff

    old, new = load_rule(old_path), load_rule(new_path)
    found = expect_path or default_expectations_path(new_path)
    expectations = load_expectations(found) if found else Expectations()
    corpus = describe_corpus(corpus_path, profile, events, seed)
    fields = _load_mapping(mapping)
    sidecar = _load_labels(labels_path)
    result = None
    table = _sql_table(engine, corpus_path, mapping, sidecar, spark_master)
    if table is not None:
        from harness.validation.columnar_runner import diff_table

        sql_table = table
        result = _columnar_or_none(
            engine,
            lambda: diff_table(
                parse_query(old.query),
                parse_query(new.query),
                sql_table,
                expectations,
                old_name=_short(old),
                new_name=_short(new),
            ),
        )
    if result is None:
        result = diff_rules(
            compile_query(old.query, mapping=fields, engine=_row_engine(engine)),
            compile_query(new.query, mapping=fields, engine=_row_engine(engine)),
            _labelled(
                sidecar, open_corpus(corpus_path, profile=profile, events=events, seed=seed, notice=_notice)
            ),
            expectations,
            old_name=_short(old),
            new_name=_short(new),
            corpus=corpus,
        )
        _report_unused_labels(sidecar)
    if fmt == "table" and output is None:
        print_diff(result)
    else:
        _write_report((diff_json if fmt == "json" else diff_markdown)(result), output)
    sys.exit(1 if result.unaccepted_regressions else 0)


@main.command()
@click.argument("rule_path", metavar="RULE")
@_corpus_options
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
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the JSON here (atomically).")
@_labels_option
def simulate(
    rule_path: str,
    corpus_path: str | None,
    profile: str | None,
    events: int | None,
    seed: int,
    first_run: Any,
    duplicates_free_slots: bool,
    as_json: bool,
    output: str | None,
    labels_path: str | None,
) -> None:
    """Run RULE on its schedule over a timestamped corpus (default: the fleet profile).

    Every interval over [now - from, now], at most max_signals alerts an execution,
    events alerted before not alerted again: alerts per execution, executions at the
    cap and what they lost, alerts per day and per 1,000 hosts, delays from attack to
    alert, and time no window covers.
    """
    from harness.corpus import open_corpus
    from harness.schedule import print_simulation, simulate_rule

    rule = load_rule(rule_path)
    if rule.interval_seconds is None or rule.lookback_seconds is None:
        raise click.UsageError(f"{rule_path}: the rule has no interval and from to simulate")
    if corpus_path is None and profile is None:
        profile = "fleet"
    sidecar = _load_labels(labels_path)
    documents = _labelled(
        sidecar, open_corpus(corpus_path, profile=profile, events=events, seed=seed, notice=_notice)
    )
    result = simulate_rule(
        rule,
        compile_query(rule.query, engine="compiled"),
        documents,
        first_run=first_run.replace(tzinfo=UTC) if first_run is not None else None,
        duplicates_take_slots=not duplicates_free_slots,
    )
    _report_unused_labels(sidecar)
    if as_json or output is not None:
        _write_report(orjson.dumps(result.as_dict(), option=orjson.OPT_INDENT_2).decode() + "\n", output)
        return
    from harness.validation.reports.table import console_for_reports

    print_simulation(result, console_for_reports())


@main.command()
@click.argument("rule_path", metavar="RULE")
@click.option("--expect", "expect_path", metavar="FILE", help="Expectations (default: RULE's .expect.toml).")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the scenarios corpus.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def mutate(rule_path: str, expect_path: str | None, seed: int, as_json: bool) -> None:
    """Mutation-test RULE's expectation suite: how many small query changes would it catch?

    Each mutant (a conjunct or branch dropped, ':' and '==' swapped, a wildcard dropped, a
    constant upper-cased, a predicate negated, 'and'/'or' swapped) runs over the scenario
    catalogue; it is killed when the expectations report something the original does not.
    """
    from harness.corpus import open_corpus
    from harness.mutation import mutation_test, print_mutation_report

    rule, expectations, _ = _rule_and_expectations(rule_path, expect_path)
    report = mutation_test(rule, expectations, list(open_corpus(profile="scenarios", seed=seed)))
    if as_json:
        click.echo(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    from harness.validation.reports.table import console_for_reports

    print_mutation_report(report, console_for_reports())


@main.command()
@click.argument("rule_path", metavar="RULE")
@click.option("--expect", "expect_path", metavar="FILE", help="Expectations (default: RULE's .expect.toml).")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of both corpora.")
@click.option(
    "--fleet-events",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Fleet background events for the noise measurement.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def propose(rule_path: str, expect_path: str | None, seed: int, fleet_events: int, as_json: bool) -> None:
    """Candidate changes to RULE from its known gaps, each with its detection rate and noise."""
    from harness.corpus import open_corpus
    from harness.proposals import propose as make_proposals

    rule, expectations, _ = _rule_and_expectations(rule_path, expect_path)
    proposals = make_proposals(
        rule.query,
        expectations,
        list(open_corpus(profile="scenarios", seed=seed)),
        list(open_corpus(profile="fleet", events=fleet_events, seed=seed)),
    )
    if as_json:
        click.echo(orjson.dumps([p.as_dict() for p in proposals], option=orjson.OPT_INDENT_2).decode())
        return
    from rich.table import Table

    from harness.validation.reports.common import percent
    from harness.validation.reports.table import console_for_reports

    table = Table(
        "change",
        "detection",
        "precision",
        "FP per million",
        "newly detected",
        "new noise",
        title=f"{rule.name} (version {rule.version}): candidate changes, seed {seed}",
    )
    for p in proposals:
        table.add_row(
            p.description,
            percent(p.detection_rate),
            percent(p.precision),
            "-" if p.false_positives_per_million is None else f"{p.false_positives_per_million:.1f}",
            "\n".join(p.newly_detected) or "-",
            "\n".join(p.new_noise) or "-",
        )
    console_for_reports().print(table)


@main.command()
@click.argument("rule_paths", nargs=-1, required=True, metavar="RULE...")
@click.option(
    "--html",
    "html_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Write the page here (atomically).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same corpora, same page.")
@click.option(
    "--events",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Size of the fleet corpus for noise and the schedule simulation.",
)
@click.option(
    "--generated-at",
    metavar="TEXT",
    help="A time to print in the header; without it the page holds no clock, so the same inputs give "
    "the same bytes.",
)
def report(
    rule_paths: tuple[str, ...], html_path: str, seed: int, events: int, generated_at: str | None
) -> None:
    """One self-contained HTML page comparing RULE versions: detection heatmap, noise, schedule, mutations."""
    from harness.corpus import open_corpus
    from harness.html_report import build_report, render_html
    from harness.mutation import mutation_test
    from harness.validation import Expectations, default_expectations_path, load_expectations

    rules = [load_rule(path) for path in rule_paths]
    catalogue = list(open_corpus(profile="scenarios", seed=seed))
    mutations = []
    for path, rule in zip(rule_paths, rules, strict=True):
        found = default_expectations_path(path)
        expectations = load_expectations(found) if found else Expectations()
        result = mutation_test(rule, expectations, catalogue)
        mutations.append(
            {
                "score": result.score,
                "killed": len(result.killed),
                "total": len(result.results),
                "survivors": [
                    {"description": s.description, "query": s.query, "note": s.reason}
                    for s in result.survivors
                ],
            }
        )
    data = build_report(rules, seed=seed, fleet_events=events, generated_at=generated_at, mutations=mutations)
    with atomic_writer(html_path) as stream:
        stream.write(render_html(data).encode())


def _short(rule: Rule) -> str:
    return f"v{rule.version}" if rule.version is not None else Path(rule.path).stem


@main.command()
@click.argument("rule_path", metavar="RULE")
@click.option("--events", type=click.IntRange(min=1), default=200_000, show_default=True)
@click.option("--profile", type=click.Choice(["mixed", "fleet"]), default="mixed", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--repeat", type=click.IntRange(min=1), default=3, show_default=True, help="Best of N runs.")
@click.option(
    "--corpus",
    "corpus_path",
    metavar="PATH",
    help="Time the engines that scan Parquet (DuckDB, and Spark with --engine spark) on these files "
    "instead of generating events.",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "spark"]),
    default="auto",
    show_default=True,
    help="auto: every engine that runs in this process; spark: also Apache Spark, against DuckDB on the "
    "same Parquet files.",
)
@_spark_master_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def bench(
    rule_path: str,
    events: int,
    profile: str,
    seed: int,
    repeat: int,
    corpus_path: str | None,
    engine: str,
    spark_master: str,
    as_json: bool,
) -> None:
    """Matcher throughput on the same events: empty loop, reference, compiled, DuckDB, hand-written, eql."""
    import tempfile

    import pyarrow.parquet as pq

    from generators.corpus import write_corpus
    from generators.profiles import CorpusOptions
    from harness.bench import parquet_bench, run_bench
    from harness.corpus import open_corpus

    rule = load_rule(rule_path)
    master = spark_master if engine == "spark" else None
    if corpus_path is not None:
        rows = parquet_bench(rule, corpus_path, repeat=repeat, spark_master=master)
        title = f"{rule.name} (version {rule.version}): {corpus_path}, best of {repeat}"
        _show_bench(rows, title, as_json)
        return
    documents = list(open_corpus(profile=profile, events=events, seed=seed))
    with tempfile.TemporaryDirectory() as folder:
        # The same events as an Arrow table, for DuckDB (Parquet's spelling of Endgame's fields).
        parquet = Path(folder) / "events.parquet"
        write_corpus(CorpusOptions(profile, events, seed), parquet)
        rows = run_bench(rule, documents, repeat=repeat, table=pq.read_table(parquet))
        if master is not None:
            rows += parquet_bench(rule, str(parquet), repeat=repeat, spark_master=master)
    title = f"{rule.name} (version {rule.version}): {events:,} {profile} events, best of {repeat}"
    _show_bench(rows, title, as_json)


def _show_bench(rows: list[Any], title: str, as_json: bool) -> None:
    from harness.bench_report import bench_json, print_bench

    if as_json:
        click.echo(bench_json(rows))
    else:
        print_bench(rows, title)
