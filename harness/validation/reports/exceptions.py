"""The rule with and without its exceptions, as every report format shows it.

One list of rows (:func:`effect_rows`) and one list of findings (:func:`effect_findings`) feed the
terminal table, Markdown and the HTML page, so the formats cannot disagree on what the
exceptions did.
"""

from __future__ import annotations

from harness.validation.exception_effect import ExceptionEffect, exception_effect
from harness.validation.reports.common import rate
from harness.validation.runner import ValidationResult

__all__ = ["effect_findings", "effect_rows", "exceptions_markdown", "item_rows"]


def effect_rows(effect: ExceptionEffect) -> list[tuple[str, str, str]]:
    """(metric, without exceptions, with them)."""
    return [
        ("alerts", f"{effect.alerts_before:,}", f"{effect.alerts_after:,}"),
        ("false positives", f"{effect.false_positives_before:,}", f"{effect.false_positives_after:,}"),
        ("false positives per million", rate(effect.per_million_before), rate(effect.per_million_after)),
        ("detections lost (malicious alerts removed)", "", f"{effect.detections_lost:,}"),
    ]


def item_rows(effect: ExceptionEffect) -> list[tuple[str, str, str]]:
    """(item, false positives it removed, detections it lost), per item the row engines attributed."""
    return [(item.name, f"{item.false_positives:,}", f"{item.detections:,}") for item in effect.per_item]


def effect_findings(effect: ExceptionEffect) -> list[str]:
    """One line per hidden detection (accepted ones said so) and per derived witness lost."""
    lines = []
    names = {item.item_id: item.name for item in effect.per_item}
    for hidden in effect.hidden:
        by = ", ".join(f"{names.get(item, item)!r} ({count:,})" for item, count in sorted(hidden.by.items()))
        state = "accepted by the expectations" if hidden.accepted else "HIDES DETECTIONS"
        lines.append(
            f"exceptions {state}: {hidden.scenario} in {hidden.source}: {hidden.removed:,} malicious "
            f"alert{'s' * (hidden.removed != 1)} removed" + (f" by {by}" if by else "")
        )
    if effect.derived_lost:
        shown = ", ".join(effect.derived_lost[:10])
        more = f" and {len(effect.derived_lost) - 10} more" if len(effect.derived_lost) > 10 else ""
        lines.append(f"exceptions HIDE DETECTIONS: derived witnesses lost: {shown}{more}")
    return lines


def exceptions_markdown(result: ValidationResult) -> list[str]:
    """The Markdown section: the side by side, per item, and the detections hidden."""
    effect = exception_effect(result)
    if effect is None:
        return []
    lines = ["", f"Exceptions ({effect.items} item{'s' * (effect.items != 1)}):", ""]
    lines += ["| | without exceptions | with exceptions |", "| --- | --- | --- |"]
    lines += [f"| {name} | {before} | {after} |" for name, before, after in effect_rows(effect)]
    if effect.per_item:
        lines += ["", "| item | false positives removed | detections lost |", "| --- | --- | --- |"]
        lines += [f"| {name} | {fps} | {lost} |" for name, fps, lost in item_rows(effect)]
    findings = effect_findings(effect)
    if findings:
        lines += ["", *(f"- {line}" for line in findings)]
    return lines
