"""The ``harness`` command: a thin shell over the application layer (:mod:`harness.app`).

Exit codes: 0 done; 1 the check found what it was asked to fail on; 2 bad input
(query, rule, events, options, output), with one line that says where and what to do;
3 a bug in the harness (one line that says so); 130 and 143 interrupted by SIGINT and
SIGTERM, with nothing half-written left behind (:mod:`harness.cli.guard`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from harness.cli import corpora, judging
from harness.cli.guard import guarded_process, run_guarded
from harness.events import atomic_writer

__all__ = ["atomic_writer", "main"]


class _Group(click.Group):
    """Runs a command so that every outcome is an exit code and at most one line: no tracebacks."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        with guarded_process():
            code = run_guarded(
                lambda: super(_Group, self).main(
                    args, prog_name, complete_var, standalone_mode=False, **extra
                )
            )
        sys.exit(code)


@click.group(cls=_Group)
@click.version_option(package_name="detection-harness")
def main() -> None:
    """Validate Elastic EQL detection rules offline, with Elasticsearch's semantics."""


for _command in (*corpora.COMMANDS, *judging.COMMANDS):
    main.add_command(_command)
