"""The commands around rules and corpora: check, match, generate, ingest, scenarios, catalogues."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import IO

import click
import orjson

from harness.app import find_catalogue
from harness.app.corpora import load_mapping, row_engine
from harness.checks import check_statement
from harness.cli.options import (
    EVENTS,
    FiniteFloatRange,
    engine_option,
    mapping_option,
    output_option,
    progress,
    seed_option,
)
from harness.eql import Query, Statement, compile_query, format_query, parse_statement, search
from harness.errors import InputError, UsageError
from harness.events import ReadStats, atomic_writer, matches_at, read_events
from harness.rules import Rule, load_rule
from harness.vocabulary import MAX_DAYS, MAX_RATE, Engine, Profile, choices

__all__ = ["COMMANDS"]


@click.command()
@click.argument("rule_path", metavar="RULE")
@click.option("--strict", is_flag=True, help="Exit 1 when there is any warning.")
@mapping_option
@click.option(
    "--version-lock",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="detection-rules' version.lock.json for a rule without a version (default: the nearest one "
    "beside or above the rule).",
)
def check(rule_path: str, strict: bool, mapping: str | None, version_lock: str | None) -> None:
    """Parse RULE and print its normalized query and findings."""
    rule = load_rule(rule_path, version_lock=version_lock)
    query = parse_statement(rule.query, mapping=load_mapping(mapping))
    findings = check_statement(rule, query)
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
    schedule = rule.schedule
    defaulted = f" (Kibana's default for {', '.join(schedule.defaulted)})" if schedule.defaulted else ""
    lines.append(
        f"schedule:   every {schedule.interval} over {schedule.from_}, at most {schedule.max_signals} "
        f"alerts per run{defaulted}"
    )
    if rule.severity or rule.risk_score is not None:
        lines.append(f"severity:   {rule.severity or '?'} (risk {rule.risk_score})")
    conversion = rule.conversion
    if conversion is not None:
        lines += [
            f"written in: {conversion.language} (id {rule.rule_id}, status {conversion.status or '?'})",
            f"authors:    {conversion.authors or '?'}; "
            f"licence: {conversion.licence or 'not stated in the rule'}",
            f"converted:  {conversion.converter}",
            f"pipeline:   {conversion.pipeline}",
            *(f"field:      {written} -> {mapped}" for written, mapped in conversion.fields),
        ]
    return "\n".join(lines)


@click.command()
@click.argument("args", nargs=-1, metavar="(RULE | --query TEXT) [EVENTS]...")
@click.option("--query", "query_text", metavar="TEXT", help="An EQL query instead of a rule file.")
@click.option("--count", is_flag=True, help="Print only the number of matching events.")
@click.option(
    "--skip-invalid", is_flag=True, help="Count and report bad lines instead of stopping at the first."
)
@click.option("--category-field", default="event.category", show_default=True)
@output_option("--output", "-o", help="Write matches here (atomically) instead of stdout.")
@mapping_option
@engine_option(spark=False)
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
    statement = parse_statement(query_text, mapping=load_mapping(mapping))
    if not isinstance(statement, Query):
        _match_statement(statement, paths, category_field, count, skip_invalid, output, mapping, engine)
        return
    matcher = compile_query(
        query_text,
        category_field=category_field,
        mapping=load_mapping(mapping),
        engine=row_engine(Engine(engine)),
    )
    stats = ReadStats()
    matched = 0
    with _destination(output) as sink, _skip_invalid_hint():
        for record in read_events(paths, skip_invalid=skip_invalid, stats=stats):
            if matches_at(matcher.matches, record):
                matched += 1
                if not count:
                    sink.write((record.raw if record.raw is not None else orjson.dumps(record.event)) + b"\n")
        if count:
            sink.write(f"{matched}\n".encode())
    _report_skipped(stats)


def _match_statement(
    statement: Statement,
    paths: list[str],
    category_field: str,
    count: bool,
    skip_invalid: bool,
    output: str | None,
    mapping: str | None,
    engine: str,
) -> None:
    """A sequence, sample or piped query: every result the EQL search API finds (no ``size`` cut),
    a sequence as one NDJSON line of its join keys and its events in stage order."""
    stats = ReadStats()
    with _skip_invalid_hint():
        events = [record.event for record in read_events(paths, skip_invalid=skip_invalid, stats=stats)]
    result = search(
        statement,
        events,
        size=len(events),
        category_field=category_field,
        mapping=load_mapping(mapping),
        engine=row_engine(Engine(engine)),
    )
    with _destination(output) as sink:
        if count:
            sink.write(f"{len(result.sequences) or len(result.events)}\n".encode())
        else:
            for found in result.sequences:
                sink.write(
                    orjson.dumps({"join_keys": list(found.join_keys), "events": list(found.events)}) + b"\n"
                )
            for event in result.events:
                sink.write(orjson.dumps(event) + b"\n")
    _report_skipped(stats)


@contextmanager
def _skip_invalid_hint() -> Iterator[None]:
    """A bad line's error with the way round it that only ``match`` offers."""
    try:
        yield
    except InputError as error:
        if not error.skippable:
            raise
        raise InputError(
            error.path, error.line, f"{error.message} or pass --skip-invalid", column=error.column
        ) from error


@contextmanager
def _destination(output: str | None) -> Iterator[IO[bytes]]:
    if output is None:
        if sys.stdout is None:
            raise UsageError("standard output is closed: give -o FILE, or somewhere for the matches to go")
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


@click.command()
@click.option(
    "--profile", type=click.Choice(choices(Profile)), default=Profile.SCENARIOS.value, show_default=True
)
@click.option("--events", type=EVENTS, help="Exactly this many events (default: the profile's size).")
@seed_option("Same seed, same bytes.")
@click.option(
    "--catalogue",
    default="appcmd",
    show_default=True,
    metavar="NAME",
    help="Scenario catalogue the corpus runs (harness catalogues lists them).",
)
@click.option(
    "--days", type=click.IntRange(1, MAX_DAYS), default=7, show_default=True, help="Days of fleet activity."
)
@click.option(
    "--attack-rate",
    type=FiniteFloatRange(0, MAX_RATE),
    default=20.0,
    show_default=True,
    help="Malicious scenario runs per million events (fleet profile).",
)
@click.option("--start", "start_text", metavar="ISO-8601", help="First day, UTC (default 2026-11-02).")
@output_option(
    "--out", "-o", "out", required=True, help="Output: .ndjson, .ndjson.gz or .parquet; written atomically."
)
def generate(
    profile: str,
    events: int | None,
    seed: int,
    catalogue: str,
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
    try:
        options = CorpusOptions(
            profile, events, seed, days, start, attack_rate, catalogue=find_catalogue(catalogue)
        )
    except ValueError as error:  # what no single option can check: --start with --days
        raise click.BadParameter(str(error), param_hint="--start") from error
    began = time.perf_counter()
    with progress(events, f"generating {profile}") as advance:
        stats = write_corpus(options, out, on_progress=advance)
    elapsed = time.perf_counter() - began
    sources = ", ".join(f"{name} {count:,}" for name, count in sorted(stats.by_source.items()))
    intents = ", ".join(f"{name} {count:,}" for name, count in sorted(stats.by_intent.items()))
    rate = stats.events / elapsed if elapsed > 0 else 0.0
    click.echo(f"wrote {stats.events:,} events to {out} in {elapsed:.1f} s ({rate:,.0f} events/s)", err=True)
    click.echo(f"  by source: {sources}", err=True)
    click.echo(f"  by intent: {intents}", err=True)


@click.command()
@click.argument(
    "files", nargs=-1, required=True, metavar="FILE...", type=click.Path(exists=True, dir_okay=False)
)
@output_option("--out", "-o", "out", required=True, help="Output: .ndjson or .ndjson.gz; written atomically.")
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


@click.command()
@click.option(
    "--catalogue", default="appcmd", show_default=True, metavar="NAME", help="Which catalogue to list."
)
@click.option("--markdown", is_flag=True, help="A Markdown table (as in corpora/README.md).")
def scenarios(catalogue: str, markdown: bool) -> None:
    """List a scenario catalogue: id, intent, ATT&CK, sources, description, reference."""
    from generators.corpus import catalogue_rows

    chosen = find_catalogue(catalogue)
    rows = catalogue_rows(chosen)
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

    table = Table("id", "intent", "ATT&CK", "description", title=chosen.title)
    for row in rows:
        table.add_row(row["id"], row["intent"], row["attack"] or "-", row["description"])
    Console().print(table)


@click.command()
def catalogues() -> None:
    """List the scenario catalogues: name, techniques, scenarios per intent, background model."""
    from rich.console import Console
    from rich.table import Table

    from generators.catalogues import catalogue_names

    table = Table("name", "ATT&CK", "malicious", "benign", "out-of-scope", "background", "description")
    for name in catalogue_names():
        chosen = find_catalogue(name)
        counts = [str(len(chosen.by_intent(intent))) for intent in ("malicious", "benign", "out-of-scope")]
        table.add_row(name, ", ".join(chosen.techniques), *counts, chosen.background, chosen.description)
    Console(width=160).print(table)


COMMANDS = (check, match, generate, ingest, scenarios, catalogues)
