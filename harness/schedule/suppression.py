"""Alert suppression as Kibana applies it to an EQL rule's alerts, execution by execution.

The alerts a simulation creates (each with its execution, its time and its group-by values) are
suppressed as the detection engine suppresses them:

* **Terms** (``rule_types/utils/suppression_utils.ts``, ``getSuppressionTerms``): one
  ``(field, value)`` per ``group_by`` field, ``value = robustGet(input, field) ?? null``, an array
  sorted (``sortBy``), so events group by identical value sets, not per element. For a single
  event ``input`` is the search hit's ``fields`` (``wrap_suppressed_alerts.ts``), where every value
  is an array; for a sequence it is the shell alert's ``_source``
  (``buildShellAlertSuppressionTermsAndFields`` in ``rule_types/utils/utils.ts``), which
  ``objectArrayIntersection`` (``eql/build_alert_group_from_sequence.ts``) built from the
  events: equal scalars kept, arrays intersected, anything else dropped (so missing, null).
* **Missing fields** (``bulk_create_suppressed_alerts_in_memory.ts``): ``suppress`` (the default,
  ``DEFAULT_SUPPRESSION_MISSING_FIELDS_STRATEGY``) groups a missing value as null;
  ``doNotSuppress`` gives an event lacking *any* group-by field an alert of its own
  (``partitionMissingFieldsEvents``), created first, within ``max_signals``.
* **Window** (``executeBulkCreateAlerts``, same file): ``now - duration``, or without a duration
  the execution's own ``from``, and then only alerts of the same execution merge
  (``isSuppressionPerRuleExecution``); an EQL execution writes its alerts in one bulk, so with no
  duration only the alerts of one execution merge, in memory.
* **Merging** (the rule registry's ``create_persistence_rule_type_wrapper.ts``,
  ``alertWithSuppression``): an alert of a key whose latest open alert lies in the window (its
  creation time at or after the window start) and was written by another execution, and whose
  ``end`` is no later than that alert's, was suppressed already and is dropped; the rest are sorted
  by ``suppression.start`` and the first of each key kept, the others folded into it
  (``suppressAlertsInMemory``: ``docs_count += docs_count + 1``, ``end`` the latest); with a
  duration, a kept alert whose key has an alert in the window updates that alert
  (``docs_count = existing + docs_count + 1``, ``end`` extended), and otherwise it is created.
* **Caps**: new alerts beyond ``max_signals`` less those created already are cut
  (``maxAlerts``, applied only when non-zero, as ``maxAlerts && ...`` reads), and an execution
  whose created plus suppressed alerts reach ``MAX_SIGNALS_SUPPRESSION_MULTIPLIER`` (5) times
  ``max_signals`` is marked truncated (``alertsWereTruncated``). The EQL executor's search
  still asks for ``size: max_signals`` with suppression on (``eql.ts``), so an EQL execution
  hands over at most that many alerts and only the first cap can bite there.

Closed alerts are never searched (``must_not workflow_status: closed``): the simulation closes
none. Each event is offered once, at the first execution that alerts on it: an overlapping window
reads it again, and Kibana drops the second reading (a duplicate id, or an ``end`` no later than
the alert that absorbed it), except when that alert has left a duration shorter than the overlap.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from harness.eql.fields import field_values
from harness.rules import AlertSuppression
from harness.timestamps import from_ms

__all__ = [
    "MAX_SIGNALS_SUPPRESSION_MULTIPLIER",
    "Candidate",
    "SuppressedAlert",
    "Suppression",
    "event_facet",
    "sequence_facet",
    "suppress",
]

# rule_types/constants.ts: created plus suppressed alerts of one execution, at most this times max_signals.
MAX_SIGNALS_SUPPRESSION_MULTIPLIER = 5

Terms = tuple[tuple[str, Any], ...]  # (field, value) per group-by field, in the rule's order


@dataclass(frozen=True, slots=True)
class Facet:
    """What suppression reads off an alert: its terms, whether every field is there, its host."""

    terms: Terms
    complete: bool
    host: str | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One alert the simulation would create: its execution, window start and suppression start."""

    execution_ms: int
    window_start_ms: int  # the execution's own ``from``
    start_ms: int  # suppression.start: the event's time (a sequence's: its execution's)
    facet: Facet


@dataclass(frozen=True)
class SuppressedAlert:
    """An alert written after suppression: ``docs_count`` alerts were folded into it."""

    created_ms: int
    start_ms: int
    end_ms: int
    docs_count: int
    terms: Terms | None  # None: written unsuppressed (doNotSuppress, a group-by field missing)
    host: str | None


@dataclass(frozen=True)
class Suppression:
    """Alerts before and after suppression, in total, per day (of the execution) and per host.

    ``alerts_before == alerts_after + suppressed_docs + lost_to_cap + already_suppressed``.
    """

    settings: AlertSuppression
    max_signals: int
    alerts_before: int
    suppressed_docs: int
    lost_to_cap: int
    already_suppressed: int
    truncated_executions: int
    per_day: tuple[tuple[str, int, int], ...]  # (UTC date, before, after)
    per_host: tuple[tuple[str | None, int, int, int], ...]  # (host, before, after, suppressed docs)
    alerts: tuple[SuppressedAlert, ...]

    @property
    def alerts_after(self) -> int:
        return len(self.alerts)

    def as_dict(self, listed_at_most: int) -> dict[str, Any]:
        """JSON-ready; the alerts themselves listed up to ``listed_at_most``."""
        settings = self.settings
        listed = self.alerts if len(self.alerts) <= listed_at_most else ()
        return {
            "group_by": list(settings.group_by),
            "duration": settings.duration,
            "missing_fields_strategy": settings.missing_fields_strategy,
            "per_rule_execution": settings.duration is None,
            "alerts_before": self.alerts_before,
            "alerts_after": self.alerts_after,
            "suppressed_docs": self.suppressed_docs,
            "lost_to_cap": self.lost_to_cap,
            "already_suppressed": self.already_suppressed,
            "truncated_executions": self.truncated_executions,
            "per_day": [{"day": d, "before": b, "after": a} for d, b, a in self.per_day],
            "per_host": [
                {"host": h, "before": b, "after": a, "suppressed_docs": s} for h, b, a, s in self.per_host
            ],
            "alerts": [_alert_dict(alert) for alert in listed],
        }


def _alert_dict(alert: SuppressedAlert) -> dict[str, Any]:
    return {
        "created": _iso(alert.created_ms),
        "start": _iso(alert.start_ms),
        "end": _iso(alert.end_ms),
        "docs_count": alert.docs_count,
        "terms": None
        if alert.terms is None
        else [{"field": f, "value": list(v) if isinstance(v, tuple) else v} for f, v in alert.terms],
        "host": alert.host,
    }


def _iso(ms: int) -> str:
    return from_ms(ms).isoformat().replace("+00:00", "Z")


def _sorted_value(values: Sequence[Any]) -> tuple[Any, ...]:
    # lodash sortBy over the values; a type's name first so mixed arrays still order deterministically.
    return tuple(sorted(values, key=lambda v: (type(v).__name__, v)))


def _host(values: Sequence[Any]) -> str | None:
    return None if not values else str(values[0])


def event_facet(document: Mapping[str, Any], group_by: Sequence[str]) -> Facet:
    """A single event's terms as the search hit's ``fields`` give them: each value an array."""
    terms: list[tuple[str, Any]] = []
    complete = True
    for field in group_by:
        values = [v for v in field_values(document, tuple(field.split("."))) if v is not None]
        complete = complete and bool(values)
        terms.append((field, _sorted_value(values) if values else None))
    return Facet(tuple(terms), complete, _host(field_values(document, ("host", "name"))))


_MISSING = object()


def _source_value(document: Any, field: str) -> Any:
    """``robustGet`` over a ``_source``: the key as written, else a dotted prefix and the rest under it."""
    if not isinstance(document, Mapping):
        return _MISSING
    if field in document:
        return document[field]
    parts = field.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if head in document:
            found = _source_value(document[head], ".".join(parts[cut:]))
            if found is not _MISSING:
                return found
    return _MISSING


def _intersection(values: Sequence[Any]) -> Any:
    """``objectPairIntersection`` at one leaf, folded left: equal scalars kept, arrays intersected."""
    result = values[0]
    for value in values[1:]:
        if result is _MISSING or value is _MISSING:
            return _MISSING
        if isinstance(result, list) and isinstance(value, list):
            result = [item for item in result if item in value]
        elif isinstance(result, (list, Mapping)) or result != value or type(result) is not type(value):
            return _MISSING  # JavaScript's ===: no object, array or differently typed value is equal
    return result


def sequence_facet(events: Sequence[Mapping[str, Any]], group_by: Sequence[str]) -> Facet:
    """A sequence's terms, read off its shell alert: the intersection of its events' sources."""
    terms: list[tuple[str, Any]] = []
    complete = True
    for field in group_by:
        value = _intersection([_source_value(event, field) for event in events])
        present = value is not _MISSING and value is not None
        complete = complete and present
        if not present:
            terms.append((field, None))
        else:
            terms.append((field, _sorted_value(value) if isinstance(value, list) else value))
    host = _intersection([_source_value(event, "host.name") for event in events])
    shown = None if host is _MISSING or host is None else _host(host if isinstance(host, list) else [host])
    return Facet(tuple(terms), complete, shown)


class _Open:
    """An alert being built: mutable until the run ends."""

    __slots__ = ("created_ms", "docs_count", "end_ms", "host", "start_ms", "terms")

    def __init__(self, created_ms: int, candidate: Candidate, terms: Terms | None) -> None:
        self.created_ms, self.start_ms, self.end_ms = created_ms, candidate.start_ms, candidate.start_ms
        self.docs_count, self.terms, self.host = 0, terms, candidate.facet.host

    def fold(self, end_ms: int, docs: int) -> None:
        self.docs_count += docs
        self.end_ms = max(self.end_ms, end_ms)

    def frozen(self) -> SuppressedAlert:
        return SuppressedAlert(
            self.created_ms, self.start_ms, self.end_ms, self.docs_count, self.terms, self.host
        )


class _Run:
    """Every execution's alerts suppressed in turn; the latest alert of each key remembered."""

    def __init__(self, settings: AlertSuppression, max_signals: int) -> None:
        self.settings, self.max_signals = settings, max_signals
        duration = settings.duration_s
        self.duration_ms = None if duration is None else duration * 1000
        self.latest: dict[Terms, _Open] = {}
        self.alerts: list[_Open] = []
        self.lost = self.already = self.truncated = 0

    def execution(self, now: int, batch: list[Candidate]) -> None:
        window_start = batch[0].window_start_ms if self.duration_ms is None else now - self.duration_ms
        missing_apart = not self.settings.suppresses_missing
        created = 0
        for candidate in batch:
            if missing_apart and not candidate.facet.complete:
                if created < self.max_signals:
                    self.alerts.append(_Open(now, candidate, None))
                    created += 1
                else:
                    self.lost += 1
        in_window: dict[Terms, _Open] = {}
        kept: list[Candidate] = []
        for candidate in batch:
            if missing_apart and not candidate.facet.complete:
                continue
            terms = candidate.facet.terms
            found = self.latest.get(terms)
            if found is not None and found.created_ms >= window_start:
                in_window[terms] = found
                if found.created_ms != now and found.end_ms >= candidate.start_ms:
                    self.already += 1  # suppressed by an earlier execution already
                    continue
            kept.append(candidate)
        heads: dict[Terms, tuple[Candidate, list[int]]] = {}
        suppressed = 0
        for candidate in sorted(kept, key=lambda c: c.start_ms):  # stable: the search's order on ties
            head = heads.get(candidate.facet.terms)
            if head is None:
                heads[candidate.facet.terms] = (candidate, [0, candidate.start_ms])
            else:
                head[1][0] += 1
                head[1][1] = max(head[1][1], candidate.start_ms)
                suppressed += 1
        room = self.max_signals - created
        for terms, (candidate, (docs, end)) in heads.items():
            existing = in_window.get(terms)
            if self.duration_ms is not None and existing is not None:
                existing.fold(end, docs + 1)
                suppressed += 1
            elif room and created >= self.max_signals:  # ``maxAlerts && length > maxAlerts``
                self.lost += docs + 1  # its folded alerts still count as suppressed, as Kibana counts
            else:
                alert = _Open(now, candidate, terms)
                alert.fold(end, docs)
                self.alerts.append(alert)
                self.latest[terms] = alert
                created += 1
        limit = MAX_SIGNALS_SUPPRESSION_MULTIPLIER * self.max_signals
        if suppressed + created >= limit or created >= self.max_signals:
            self.truncated += 1


def suppress(candidates: Iterable[Candidate], settings: AlertSuppression, max_signals: int) -> Suppression:
    """Suppress ``candidates`` (ordered by execution, then as the search returned them)."""
    run = _Run(settings, max_signals)
    before_day: Counter[str] = Counter()
    before_host: Counter[str | None] = Counter()
    total = 0
    for now, group in groupby(candidates, key=lambda c: c.execution_ms):
        batch = list(group)
        total += len(batch)
        before_day[_day(now)] += len(batch)
        before_host.update(c.facet.host for c in batch)
        run.execution(now, batch)
    alerts = tuple(alert.frozen() for alert in run.alerts)
    after_day = Counter(_day(alert.created_ms) for alert in alerts)
    after_host: Counter[str | None] = Counter(alert.host for alert in alerts)
    docs_host: defaultdict[str | None, int] = defaultdict(int)
    for alert in alerts:
        docs_host[alert.host] += alert.docs_count
    hosts = sorted(before_host, key=lambda h: (h is None, h or ""))
    return Suppression(
        settings=settings,
        max_signals=max_signals,
        alerts_before=total,
        suppressed_docs=sum(alert.docs_count for alert in alerts),
        lost_to_cap=run.lost,
        already_suppressed=run.already,
        truncated_executions=run.truncated,
        per_day=tuple((day, before_day[day], after_day[day]) for day in sorted(before_day)),
        per_host=tuple((h, before_host[h], after_host[h], docs_host[h]) for h in hosts),
        alerts=alerts,
    )


def _day(ms: int) -> str:
    return from_ms(ms).date().isoformat()
