"""The terminal report: rich tables."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from generators.sources import SOURCES
from harness.validation.exception_effect import exception_effect
from harness.validation.reports.common import percent, rate, source_rows, summary_rows, unread_note
from harness.validation.reports.derived import print_derived
from harness.validation.reports.exceptions import effect_findings, effect_rows, item_rows
from harness.validation.runner import KEY_FIELDS, ValidationResult
from harness.validation.sequences import EXAMPLE_FIELDS, SequenceTally

__all__ = ["SHORT", "console_for_reports", "print_found", "print_table"]


# Column headings for the known sources: the grid must fit a terminal.
SHORT = {name: src.label for name, src in SOURCES.items()}


def console_for_reports() -> Console:
    """A console as wide as the terminal, or 160 columns when writing to a file or a pipe."""
    probe = Console()
    return probe if probe.is_terminal else Console(width=160)


def print_table(result: ValidationResult, console: Console | None = None) -> None:
    console = console or console_for_reports()
    if result.corpus_run:
        _print_corpus(result, console)
    else:
        title = f"{result.rule_name}" + (
            f" (version {result.rule_version})" if result.rule_version is not None else ""
        )
        console.print(f"{title}: no scenario catalogue covers this rule; judged on its derived scenarios")
    if result.derived is not None:
        print_derived(result.derived, console)
        if not result.corpus_run and not result.derived.judged:
            console.print(
                "[red]no derived witness was judged[/red]: every one is a blind spot of the sources the "
                "rule reads, or the derivation found none (see the findings)"
            )
    console.print("[green]passed[/green]" if result.passed else "[red]FAILED[/red]")


def _print_corpus(result: ValidationResult, console: Console) -> None:
    title = f"{result.rule_name}" + (
        f" (version {result.rule_version})" if result.rule_version is not None else ""
    )
    summary = Table(title=f"{title}\n{result.corpus}", show_header=False)
    for name, value in summary_rows(result):
        summary.add_row(name, value)
    console.print(summary)
    if not result.scope.indices.reads_everything or result.other_technique_events:
        title = f"sources ({result.scope.indices})"
        read = Table("source", "index", "read by the rule", "events", title=title)
        for source_row in source_rows(result):
            read.add_row(*source_row)
        console.print(read)
        if note := unread_note(result):
            console.print(note)
    sources = sorted({c.source for c in result.cells.values()})
    counted = "in a found sequence" if result.sequences is not None else "alerted"
    grid = Table(
        "scenario", "intent", *(SHORT.get(s, s) for s in sources), title=f"{counted} / events, per source"
    )
    for scenario, (intent, _, _) in sorted(result.scenario_rates().items(), key=lambda kv: (kv[1][0], kv[0])):
        row = [scenario, intent]
        for source in sources:
            cell = result.cells.get((scenario, source))
            if cell is None:
                row.append("")
                continue
            wrong = cell.wrong and cell.expectation.status == "expected"
            mark = {"known-gap": " gap", "known-noise": " noise"}.get(cell.expectation.status, "")
            removed = f" -{cell.removed}exc" if cell.removed else ""  # alerts the exceptions removed
            text = f"{cell.alerts}/{cell.events}{mark}{removed}"
            row.append(f"[red]{text}[/red]" if wrong else text)
        grid.add_row(*row)
    if result.cells:  # real telemetry without labels has no scenario to show
        console.print(grid)

    _print_exceptions(result, console)
    for check in result.budget_checks:
        if check.skipped:
            console.print(f"budget {check.name}: not judged: {check.skipped}")
            continue
        shown = percent(check.actual) if "rate" in check.name else rate(check.actual)
        verdict = "[green]ok[/green]" if check.passed else "[red]FAILED[/red]"
        console.print(f"budget {check.name}: {shown} (limit {check.limit}) {verdict}")
    for v in result.violations:
        console.print(
            f"[red]violation[/red] {v.kind}: {v.scenario} in {v.source}: {v.wrong} of {v.events} "
            f"(expected {v.expected})"
        )
    if result.sequences is not None and result.sequences.examples:
        print_found(result.sequences, console)
    elif result.unlabelled_alerts:
        _print_unlabelled_alerts(result, console)
    if not result.judged:
        unlabelled = f"{result.unlabelled_events:,} events without labels"
        console.print(
            f"[red]no labelled event was judged[/red] ({unlabelled}): validation needs a labelled corpus"
        )


def _print_exceptions(result: ValidationResult, console: Console) -> None:
    """The rule without and with its exceptions, per item, and the detections they hide."""
    effect = exception_effect(result)
    if effect is None:
        return
    title = f"exceptions ({effect.items} item{'s' * (effect.items != 1)})"
    side = Table("", "without exceptions", "with exceptions", title=title)
    for row in effect_rows(effect):
        side.add_row(*row)
    console.print(side)
    if effect.per_item:
        items = Table("item", "false positives removed", "detections lost", title="per exception item")
        for name, fps, lost in item_rows(effect):
            items.add_row(name, fps, f"[red]{lost}[/red]" if lost != "0" else lost)
        console.print(items)
    for line in effect_findings(effect):
        console.print(f"[red]{line}[/red]" if "HIDE" in line else line)


def print_found(tally: SequenceTally, console: Console) -> None:
    """The first sequences found, each as its events in stage order."""
    shown = f"the first {len(tally.examples)} of " if len(tally.examples) < tally.found else ""
    table = Table(
        "#", "counted as", "join keys", "stage", *EXAMPLE_FIELDS, title=f"found ({shown}{tally.found:,})"
    )
    for number, example in enumerate(tally.examples, 1):
        keys = ", ".join(map(str, example.join_keys))
        for stage, event in enumerate(example.events, 1):
            first = stage == 1
            cells = [event.get(name, "") for name in EXAMPLE_FIELDS] if event else ["(missing event)"]
            cells += [""] * (len(EXAMPLE_FIELDS) - len(cells))
            table.add_row(
                str(number) if first else "",
                example.attribution if first else "",
                keys if first else "",
                str(stage),
                *cells,
            )
    console.print(table)


def _print_unlabelled_alerts(result: ValidationResult, console: Console) -> None:
    rows = result.unlabelled_alert_rows()
    shown = f"the first {len(rows)} of " if len(rows) < result.unlabelled_alert_count else ""
    table = Table(
        *KEY_FIELDS, title=f"alerts on events without labels ({shown}{result.unlabelled_alert_count:,})"
    )
    for row in rows:
        table.add_row(*(row[name] for name in KEY_FIELDS))
    console.print(table)
