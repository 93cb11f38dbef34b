"""Numbers as every report shows them."""

from __future__ import annotations

from harness.validation.runner import ValidationResult

__all__ = ["percent", "rate", "source_rows", "summary_rows", "unread_note"]


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def rate(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def summary_rows(result: ValidationResult) -> list[tuple[str, str]]:
    if result.sequences is not None:
        return _sequence_summary_rows(result)
    return [
        ("events", f"{result.events:,}"),
        ("alerts", f"{result.alerts:,}"),
        ("true positives", f"{result.true_positives:,}"),
        ("false negatives", f"{result.false_negatives:,}"),
        ("false positives", f"{result.false_positives:,}"),
        ("true negatives", f"{result.true_negatives:,}"),
        ("detection rate (in-scope malicious)", percent(result.detection_rate)),
        ("precision", percent(result.precision)),
        ("false positives per million benign", rate(result.false_positives_per_million)),
        ("alerts per host per day", rate(result.alerts_per_host_per_day, 3)),
        ("out-of-scope attacks alerted", f"{result.out_of_scope_alerts:,}"),
    ]


def source_rows(result: ValidationResult) -> list[tuple[str, str, str, str]]:
    """Per data source of the corpus: name, index, whether the rule reads it, events."""
    return [
        (
            seen.name,
            seen.index or "(no index information)",
            "read" if seen.read else "not read",
            f"{seen.events:,}",
        )
        for seen in sorted(result.sources.values(), key=lambda s: (not s.read, s.name, s.index or ""))
    ]


def unread_note(result: ValidationResult) -> str:
    """One line on what the rule's indices leave out, or "" when it reads everything."""
    notes = []
    unread = [s for s in result.sources.values() if not s.read]
    if unread:
        names = ", ".join(sorted({s.name for s in unread}))
        notes.append(
            f"not read ({result.scope.indices} selects no index of theirs): {names}; "
            f"{result.unread_events:,} events left out"
        )
    if result.unindexed_events and not result.scope.indices.reads_everything:
        notes.append(f"{result.unindexed_events:,} events carry no index information: read as every index")
    if result.other_technique_events:
        notes.append(
            f"{result.other_technique_events:,} attack events of scenarios outside the rule's catalogue "
            f"(other technique), {result.other_technique_alerts:,} alerted: neither detections nor misses"
        )
    return "; ".join(notes)


def _sequence_summary_rows(result: ValidationResult) -> list[tuple[str, str]]:
    """A multi-event rule's numbers: alerts are sequences, and each row says what it counts."""
    tally = result.sequences
    assert tally is not None
    return [
        ("events", f"{result.events:,}"),
        (f"{result.statement_kind}s found (one alert each)", f"{tally.found:,}"),
        ("building-block alerts (their events)", f"{tally.building_blocks:,}"),
        ("true positives (with a malicious event)", f"{result.true_positives:,}"),
        ("false positives (benign events only)", f"{result.false_positives:,}"),
        ("unlabelled (for a person to judge)", f"{tally.unlabelled:,}"),
        ("malicious events in no sequence", f"{result.false_negatives:,}"),
        ("benign events in no sequence", f"{result.true_negatives:,}"),
        ("detection rate (malicious events in a sequence)", percent(result.detection_rate)),
        ("precision (over sequences)", percent(result.precision)),
        ("false-positive sequences per million benign events", rate(result.false_positives_per_million)),
        ("alerts per host per day", rate(result.alerts_per_host_per_day, 3)),
        ("out-of-scope attacks alerted (events)", f"{result.out_of_scope_alerts:,}"),
    ]
