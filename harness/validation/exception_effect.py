"""What a rule's exceptions did to a validation: the rule with and without them, side by side.

Every engine counts, per cell, the alerts the exceptions removed apart from the alerts that
remain (``Cell.removed``), so the run without exceptions is ``alerts + removed`` of the same
scan: no second run. A removed alert on a malicious event is a detection the exceptions hide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.validation.runner import ValidationResult

__all__ = ["ExceptionEffect", "HiddenDetection", "ItemEffect", "exception_effect"]


@dataclass(frozen=True)
class HiddenDetection:
    """Malicious alerts of one scenario and source that an exception removed."""

    scenario: str
    source: str
    removed: int
    accepted: bool  # the expectations expect this cell silent, or mark it a known gap
    by: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemEffect:
    """One exception item: the benign alerts it removed (false positives) and the malicious ones."""

    item_id: str
    name: str
    false_positives: int = 0
    detections: int = 0


@dataclass(frozen=True)
class ExceptionEffect:
    """The rule with and without its exceptions on one corpus."""

    items: int
    false_positives_before: int
    false_positives_after: int
    per_million_before: float | None
    per_million_after: float | None
    detections_lost: int
    hidden: tuple[HiddenDetection, ...]
    per_item: tuple[ItemEffect, ...]
    other_removed: int  # unlabelled, context and other-technique alerts removed
    alerts_before: int
    alerts_after: int
    derived_lost: tuple[str, ...] = ()  # derived witnesses an exception excludes

    @property
    def false_positives_removed(self) -> int:
        return self.false_positives_before - self.false_positives_after

    @property
    def hides_detections(self) -> bool:
        """Whether any exception removes a malicious alert the expectations do not accept losing."""
        return any(not hidden.accepted for hidden in self.hidden) or bool(self.derived_lost)

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "alerts_before": self.alerts_before,
            "alerts_after": self.alerts_after,
            "false_positives_before": self.false_positives_before,
            "false_positives_after": self.false_positives_after,
            "false_positives_removed": self.false_positives_removed,
            "false_positives_per_million_before": self.per_million_before,
            "false_positives_per_million_after": self.per_million_after,
            "detections_lost": self.detections_lost,
            "hides_detections": self.hides_detections,
            "hidden": [
                {
                    "scenario": h.scenario,
                    "source": h.source,
                    "removed": h.removed,
                    "accepted": h.accepted,
                    "by": dict(sorted(h.by.items())),
                }
                for h in self.hidden
            ],
            "per_item": [
                {
                    "item_id": i.item_id,
                    "name": i.name,
                    "false_positives_removed": i.false_positives,
                    "detections_lost": i.detections,
                }
                for i in self.per_item
            ],
            "other_alerts_removed": self.other_removed,
            "derived_witnesses_lost": list(self.derived_lost),
        }


def exception_effect(result: ValidationResult) -> ExceptionEffect | None:
    """What ``result``'s exceptions removed; None when the rule applied none."""
    exceptions = result.exceptions
    if exceptions is None:
        return None
    cells = sorted(result.cells.values(), key=lambda c: (c.scenario, c.source))
    removed_benign = sum(c.removed for c in cells if c.intent == "benign")
    after = result.false_positives
    benign = result.benign_events

    def rate(count: int) -> float | None:
        return count / benign * 1e6 if benign else None

    hidden = tuple(
        HiddenDetection(
            c.scenario,
            c.source,
            c.removed,
            c.expectation.verdict == "silent" or c.expectation.status != "expected",
            dict(c.removed_by),
        )
        for c in cells
        if c.intent == "malicious" and c.removed
    )
    per_item = tuple(
        ItemEffect(
            item.item_id,
            item.name,
            sum(c.removed_by.get(item.item_id, 0) for c in cells if c.intent == "benign"),
            sum(c.removed_by.get(item.item_id, 0) for c in cells if c.intent == "malicious"),
        )
        for item in exceptions.items
    )
    derived = result.derived
    return ExceptionEffect(
        items=len(exceptions.items),
        false_positives_before=after + removed_benign,
        false_positives_after=after,
        per_million_before=rate(after + removed_benign),
        per_million_after=rate(after),
        detections_lost=sum(h.removed for h in hidden),
        hidden=hidden,
        per_item=per_item,
        other_removed=result.removed_other,
        alerts_before=result.alerts + sum(c.removed for c in cells) + result.removed_other,
        alerts_after=result.alerts,
        derived_lost=() if derived is None else tuple(derived.excepted),
    )
