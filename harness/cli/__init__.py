"""The ``harness`` command: a thin shell over the application layer (:mod:`harness.app`).

Exit codes: 0 done; 1 the check found what it was asked to fail on; 2 bad input
(query, rule, events, usage), with a message that says where and what to do.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from harness.cli import corpora, judging
from harness.errors import HarnessError
from harness.events import atomic_writer

__all__ = ["atomic_writer", "main"]


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


for _command in (*corpora.COMMANDS, *judging.COMMANDS):
    main.add_command(_command)
