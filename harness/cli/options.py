"""Options and output helpers every command shares: one definition of each flag."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from harness.app import Corpus
from harness.app.setup import NO_EXCEPTIONS, ExceptionsInput
from harness.events import atomic_writer, check_writable
from harness.vocabulary import DEFAULT_SEED, MAX_EVENTS, MAX_SEED, Engine, Profile, choices

__all__ = [
    "EVENTS",
    "FiniteFloatRange",
    "catalogue_option",
    "corpus_from",
    "corpus_options",
    "derived_option",
    "engine_option",
    "exceptions_from",
    "exceptions_options",
    "expect_option",
    "labels_option",
    "mapping_option",
    "notice",
    "output_option",
    "progress",
    "seed_option",
    "spark_master_option",
    "tell",
    "write_report",
]

F = TypeVar("F", bound=Callable[..., Any])


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(function: F) -> F:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


class FiniteFloatRange(click.FloatRange):
    """A bounded float that is a number: ``FloatRange`` lets NaN through, since every comparison is false."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


# Every count a command takes is bounded, so that no option asks for work that never ends.
EVENTS = click.IntRange(min=0, max=MAX_EVENTS)


def _writable(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The output's folder must take a new file before any work is done, not after."""
    if value is not None:
        check_writable(value)
    return value


def output_option(*names: str, help: str, required: bool = False) -> Callable[[F], F]:
    """An output file, written atomically; whether it can be written is checked before the work."""
    return click.option(
        *names, required=required, type=click.Path(dir_okay=False), callback=_writable, help=help
    )


def seed_option(help: str = "Seed of generated corpora: same seed, same bytes.") -> Callable[[F], F]:
    return click.option(
        "--seed", type=click.IntRange(0, MAX_SEED), default=DEFAULT_SEED, show_default=True, help=help
    )


mapping_option = click.option(
    "--mapping",
    metavar="ecs|FILE",
    help="Field types: 'ecs' for the bundled catalogue (ECS and the integrations the rules read), or "
    "an index mapping JSON (GET INDEX/_mapping). Without it, values compare as JSON gives them.",
)

spark_master_option = click.option(
    "--spark-master",
    default="local[*]",
    show_default=True,
    metavar="URL",
    help="Where --engine spark runs: local[*] (every core here), local[2], spark://HOST:7077, yarn, k8s://...",
)


def engine_option(*, spark: bool) -> Callable[[F], F]:
    """``--engine``: with ``spark``, every corpus engine and ``--spark-master``; else the in-process ones."""
    words = choices(Engine) if spark else choices(Engine, without=(Engine.SPARK,))
    option = click.option(
        "--engine",
        type=click.Choice(words),
        default=Engine.AUTO.value,
        show_default=True,
        help="auto: duckdb for Parquet corpora, compiled otherwise"
        + ("; spark: Apache Spark on any path it reads (the [spark] extra)" if spark else "")
        + "; reference: the evaluator that defines the answers (all engines are tested equal to it).",
    )
    return _stack(option, spark_master_option) if spark else option


labels_option = click.option(
    "--labels",
    "labels_path",
    metavar="FILE",
    help="A labels sidecar (TOML) that says which events of a real corpus are which scenario.",
)

catalogue_option = click.option(
    "--catalogue",
    metavar="NAME",
    help="Scenario catalogue to judge the rule on (default: the one its expectations name; "
    "harness catalogues lists them).",
)


def derived_option(help: str) -> Callable[[F], F]:
    """``--no-derived``: leave out the scenarios derived from the rule's query."""
    return click.option("--no-derived", "no_derived", is_flag=True, help=help)


def expect_option(help: str = "Expectations (default: RULE's .expect.toml).") -> Callable[[F], F]:
    return click.option("--expect", "expect_path", metavar="FILE", help=help)


corpus_options = _stack(
    click.option(
        "--corpus",
        "corpus_path",
        metavar="PATH",
        help="NDJSON (plain or gzip), JSON array, EVTX or Parquet corpus.",
    ),
    click.option(
        "--profile",
        type=click.Choice(choices(Profile)),
        help="Generate the corpus on the fly (default: scenarios).",
    ),
    click.option("--events", type=EVENTS, help="Events for a generated corpus."),
    seed_option("Seed for a generated corpus."),
)


exceptions_options = _stack(
    click.option(
        "--exceptions",
        "exceptions_path",
        metavar="FILE",
        help="Exception lists to apply: Kibana's exception list or rule export (NDJSON; a rule export "
        "gives each rule its own by rule_id) or the TOML form (default: RULE's X.exceptions.toml).",
    ),
    click.option(
        "--no-exceptions",
        "no_exceptions",
        is_flag=True,
        help="Apply no exceptions, not even RULE's X.exceptions.toml.",
    ),
)


def exceptions_from(exceptions_path: str | None, no_exceptions: bool) -> ExceptionsInput:
    """What ``--exceptions`` / ``--no-exceptions`` ask of the application layer (None: the sidecar)."""
    if no_exceptions and exceptions_path is not None:
        raise click.UsageError("give --exceptions FILE or --no-exceptions, not both")
    return NO_EXCEPTIONS if no_exceptions else exceptions_path


def corpus_from(
    corpus_path: str | None,
    profile: str | None,
    events: int | None,
    seed: int,
    labels_path: str | None = None,
) -> Corpus:
    return Corpus(
        corpus_path, None if profile is None else Profile(profile), events, seed, labels=labels_path
    )


def tell(message: str) -> None:
    click.echo(message, err=True)


def notice(messages: list[str]) -> None:
    for message in messages:
        tell(message)


def write_report(text: str, output: str | None) -> None:
    """``text`` to standard output, or to ``output`` atomically (a temporary name, then a rename)."""
    if output is None:
        click.echo(text, nl=False)
        return
    with atomic_writer(output) as stream:
        stream.write(text.encode())


@contextmanager
def progress(total: int | None, description: str) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal; nothing when output goes to a file or a pipe."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)
