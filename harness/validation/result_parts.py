"""One rule's results over consecutive parts of a corpus, combined into its result over the whole.

A part's result is ``run_validation`` over its documents alone. Reading the parts one after
another would have counted the same events, kept the same first examples (an earlier part's
before a later one's) and seen each cell and source first where the earliest part saw it, so
the combined result is field for field the one a single reading gives: counts add, examples
come from the first part that has one, the first :data:`~harness.validation.runner.EXAMPLES`
unlabelled alerts are kept, hosts are united and the time span is the widest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from harness.validation.runner import EXAMPLES, Cell, ValidationResult
from harness.validation.scope import SourceSeen

__all__ = ["combine", "portable"]

# The counts a result keeps outside its cells and sources, each the sum of the parts'.
_COUNTS = (
    "context_events",
    "context_alerts",
    "unlabelled_events",
    "background_events",
    "unlabelled_alert_count",
    "other_technique_events",
    "other_technique_alerts",
    "removed_other",
)


# What a result holds of its rule rather than of the documents read: the same in every part, and
# not always picklable (an expectation's condition is a compiled closure).
_OF_THE_RULE = ("expectations", "scope", "exceptions")


def portable(result: ValidationResult) -> ValidationResult:
    """``result`` without what it holds of its rule (:func:`combine` takes that from ``like``), so
    that it can be pickled back from a worker process."""
    left_out: dict[str, Any] = dict.fromkeys(_OF_THE_RULE)
    return replace(result, **left_out)


def combine(parts: Sequence[ValidationResult], like: ValidationResult) -> ValidationResult:
    """The result of reading ``parts``' documents in order, each part's result the rule's run on its
    own documents (its rule's expectations, scope and exceptions are ``like``'s, a run of the same
    rule: a part may be :func:`portable`). The parts are left as they were."""
    first, *rest = parts
    result = replace(
        first,
        **{name: getattr(like, name) for name in _OF_THE_RULE},
        cells={key: _copy(cell) for key, cell in first.cells.items()},
        sources={key: replace(seen) for key, seen in first.sources.items()},
        unlabelled_alerts=list(first.unlabelled_alerts),
        hosts=set(first.hosts),
    )
    for part in rest:
        for name in _COUNTS:
            setattr(result, name, getattr(result, name) + getattr(part, name))
        for place, cell in part.cells.items():
            _add_cell(result.cells, place, cell)
        for where, seen in part.sources.items():
            _add_source(result.sources, where, seen)
        result.unlabelled_alerts += part.unlabelled_alerts[: EXAMPLES - len(result.unlabelled_alerts)]
        result.hosts |= part.hosts
        result.first_ms = _bound(min, result.first_ms, part.first_ms)
        result.last_ms = _bound(max, result.last_ms, part.last_ms)
    return result


def _copy(cell: Cell) -> Cell:
    return replace(cell, removed_by=dict(cell.removed_by))


def _add_cell(cells: dict[tuple[str, str], Cell], key: tuple[str, str], cell: Cell) -> None:
    kept = cells.get(key)
    if kept is None:
        cells[key] = _copy(cell)
        return
    kept.events += cell.events
    kept.alerts += cell.alerts
    kept.removed += cell.removed
    for item, count in cell.removed_by.items():
        kept.removed_by[item] = kept.removed_by.get(item, 0) + count
    kept.example_alert = kept.example_alert if kept.example_alert is not None else cell.example_alert
    kept.example_silent = kept.example_silent if kept.example_silent is not None else cell.example_silent
    if kept.example_removed is None:
        kept.example_removed = cell.example_removed


def _add_source(
    sources: dict[tuple[str, str | None], SourceSeen], key: tuple[str, str | None], seen: SourceSeen
) -> None:
    kept = sources.get(key)
    if kept is None:
        sources[key] = replace(seen)
    else:
        kept.events += seen.events


def _bound(pick: Callable[[int, int], int], one: int | None, other: int | None) -> int | None:
    if one is None:
        return other
    if other is None:
        return one
    return pick(one, other)
