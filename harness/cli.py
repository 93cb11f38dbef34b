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
from typing import IO, Any, TypeVar

import click
import orjson

from harness.checks import check_rule
from harness.eql import ECS, FieldMapping, compile_query, load_index_mapping, parse_query
from harness.eql.printer import format_query
from harness.errors import HarnessError
from harness.events import ReadStats, atomic_writer, read_events
from harness.rules import Rule, load_rule

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


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
def match(
    args: tuple[str, ...],
    query_text: str | None,
    count: bool,
    skip_invalid: bool,
    category_field: str,
    output: str | None,
    mapping: str | None,
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
    matcher = compile_query(query_text, category_field=category_field, mapping=_load_mapping(mapping))
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
