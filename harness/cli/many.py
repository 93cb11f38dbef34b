"""``harness validate`` over many rules: the rules run on one corpus, and their summary."""

from __future__ import annotations

from harness import app
from harness.app.setup import ExceptionsInput
from harness.cli.options import notice, progress, tell, write_report
from harness.rule_paths import expand_rule_paths

__all__ = ["report_many", "validate_many"]


def validate_many(
    rule_paths: tuple[str, ...],
    corpus: app.Corpus,
    catalogue: str | None,
    engine: str,
    mapping: str | None,
    spark_master: str,
    derived: bool,
    exceptions: ExceptionsInput = None,
) -> app.ManyValidations:
    """Every rule the paths name, on one corpus, with a progress bar over the rules on a terminal."""
    rules = expand_rule_paths(rule_paths)  # a path naming nothing is refused before any work
    with progress(len(rules), "validating rules") as advance:
        return app.validate_many(
            rules,
            corpus,
            catalogue=catalogue,
            engine=engine,
            mapping=mapping,
            spark_master=spark_master,
            derived=derived,
            notice=tell,
            progress=advance,
            exceptions=exceptions,
        )


def report_many(many: app.ManyValidations, fmt: str, detail: bool, output: str | None) -> None:
    """Each rule's notices and errors, then the summary (each rule's table first with ``detail``)."""
    from harness.validation.reports import (
        many_to_json,
        many_to_junit,
        many_to_markdown,
        print_summary,
        print_table,
    )
    from harness.validation.reports.table import console_for_reports

    for run in many.runs:
        notice([f"{run.path}: {message}" for message in (run.validation.notices if run.validation else [])])
        if run.error is not None:
            tell(f"error: {run.path}: {run.error}")
    notice(list(many.notices))
    reports = many.reports()
    if fmt == "table" and output is None:
        console = console_for_reports()
        if detail:
            for report in reports:
                if report.result is not None:
                    print_table(report.result, console)
        print_summary(reports, console)
    else:
        render = {"json": many_to_json, "junit": many_to_junit}.get(fmt, many_to_markdown)
        write_report(render(reports), output)
