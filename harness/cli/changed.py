"""``harness diff --changed-since REF [PATH...]``: a thin shell over ``harness.app.diff_changed_since``."""

from __future__ import annotations

import sys

from harness import app
from harness.cli.options import notice, tell, write_report

__all__ = ["diff_changed"]


def diff_changed(run: app.ChangedSince, fmt: str, output: str | None) -> None:
    """Print (or write) the one report, then exit with the run's code (2 bad input, 1 regression, 0)."""
    from harness.validation.reports import changed_json, changed_junit, changed_markdown, print_changed
    from harness.validation.reports.table import console_for_reports

    notice(run.notices)
    report = run.report()
    for rule in report.changed:
        if rule.error is not None:
            tell(f"error: {rule.path}: {rule.error}")
    if fmt == "table" and output is None:
        print_changed(report, console_for_reports())
    else:
        render = {"json": changed_json, "junit": changed_junit, "markdown": changed_markdown}
        write_report(render.get(fmt, changed_markdown)(report), output)
    sys.exit(run.exit_code)
