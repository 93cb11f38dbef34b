"""Replay a corpus through a rule's schedule: which matches become alerts, and which never do.

Elastic's detection engine runs an EQL rule every ``interval`` over ``[now - from, now]``. The model
follows Kibana's EQL executor (``eql_executor.ts``, ``build_events_query.ts``):

* the window is a range filter ``gte: now-from, lte: now``, so both ends are inclusive;
* one EQL search of ``size: max_signals`` with no ``result_position`` (``build_eql_search_request.ts``),
  which Elasticsearch takes as ``tail`` (``EqlSearchRequest``; with no pipe ``LogicalPlanBuilder``
  adds a ``Tail(size)``): a window holding more matches returns its most recent ``max_signals``,
  still in ascending time order, and the earlier ones are cut;
* alerts already created for a document by an earlier, overlapping execution are dropped after
  the search (alert ids are derived from the source document), so by default a duplicate still
  takes one of the ``max_signals`` slots. ``duplicates_take_slots=False`` models an engine that
  pages forward past duplicates until ``max_signals`` new alerts, earliest first (as Kibana's
  custom-query executor does with ``search_after``).

Only matching documents are kept (their time, and whether they are malicious): memory grows with
matches, not with the corpus, except that when some time can be outside every window (a look-back
shorter than the interval, or a given ``first_run``) every event's time is kept, 8 bytes each, to
count the events there. Time grows with the matches too, not with the span the executions cover
(``windows.py``): a corpus spanning decades, or a look-back of a century, costs what its matches
cost, and the executions come back as runs of identical ones (``executions.py``).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from harness.eql.fields import field_values
from harness.eql.matcher import Matcher
from harness.rules import DEFAULT_MAX_SIGNALS, AlertSuppression, Rule
from harness.schedule.gaps import Gap
from harness.schedule.result import Delays, Simulation, delays_of
from harness.schedule.suppression import Candidate, Facet, Suppression, event_facet, suppress
from harness.schedule.timestamps import DEFAULT_TIMESTAMP, event_time_ms
from harness.schedule.windows import Schedule
from harness.timestamps import to_ms

__all__ = [
    "CorpusPass",
    "before_first_window",
    "check_schedule",
    "check_time",
    "count_in",
    "place_schedule",
    "simulate",
    "simulate_rule",
]

Predicate = Callable[[Mapping[str, Any]], bool]
MAX_SCHEDULE_S = 36_500 * 86_400  # an interval or look-back of 100 years, as harness.rules allows
# Windows reach a look-back before and an interval after the events: with these bounds on the
# events and the schedule, every time the simulation reports is a date Python can print.
_EARLIEST_MS = to_ms(datetime(1000, 1, 1, tzinfo=UTC))
_LATEST_MS = to_ms(datetime(9000, 1, 1, tzinfo=UTC))


def simulate(
    matcher: Matcher | Predicate,
    documents: Iterable[Mapping[str, Any]],
    *,
    interval_s: int,
    lookback_s: int,
    max_signals: int = DEFAULT_MAX_SIGNALS,
    timestamp_field: str = DEFAULT_TIMESTAMP,
    first_run: datetime | None = None,
    duplicates_take_slots: bool = True,
    suppression: AlertSuppression | None = None,
) -> Simulation:
    """Run ``matcher`` over ``documents`` as the detection engine would on a schedule.

    With ``suppression`` the alerts are then suppressed as Kibana suppresses them
    (:mod:`harness.schedule.suppression`); only then are each match's group-by values kept.

    The first execution is at ``first_run``, or one interval after the earliest event (the rule was
    enabled as the data began). Executions follow every ``interval_s`` for as long as a window can
    still hold the latest event (and at least until one has ``now`` at or after it). Documents
    without a parseable time on ``timestamp_field`` (or on ``@timestamp`` when they lack that field)
    are never in any window; they are counted as untimed.
    """
    check_schedule(interval_s, lookback_s, max_signals)
    predicate = matcher.matches if isinstance(matcher, Matcher) else matcher
    fixed_first = None if first_run is None else to_ms(first_run)
    if fixed_first is not None:
        check_time(fixed_first, "the first run")
    # Only then can some time be outside every window; counting the events there needs their times.
    keep_all_times = fixed_first is not None or lookback_s < interval_s
    corpus = CorpusPass(keep_all_times, suppression)
    for seq, document in enumerate(documents):
        corpus.add(seq, document, event_time_ms(document, timestamp_field), predicate(document))
    schedule = place_schedule(corpus, fixed_first, interval_s * 1000, lookback_s * 1000)
    matches = sorted(corpus.matches)  # (time, document order, malicious): EQL's ascending order
    times = [time for time, _, _ in matches]
    alerted_at: list[int | None] = [None] * len(matches)
    executions = schedule.replay(times, alerted_at, max_signals=max_signals, slots=duplicates_take_slots)
    before = before_first_window(schedule, corpus.first_ms)
    return Simulation(
        interval_s=interval_s,
        lookback_s=lookback_s,
        max_signals=max_signals,
        timestamp_field=timestamp_field,
        duplicates_take_slots=duplicates_take_slots,
        events=corpus.events,
        untimed_events=corpus.untimed,
        matching_events=len(matches),
        hosts=len(corpus.hosts),
        first_event_ms=corpus.first_ms,
        last_event_ms=corpus.last_ms,
        executions=executions,
        lost_alerts=sum(1 for at in alerted_at if at is None),
        malicious_delays=_delays(matches, alerted_at),
        # Gaps exist only where every event's time was kept (a look-back shorter than the interval).
        uncovered_gaps=schedule.gaps(corpus.all_times or (), times),
        before_first_window=None if before is None else count_in(before, corpus.all_times, times),
        suppression=None
        if suppression is None
        else _suppressed(matches, alerted_at, corpus.facets, suppression, lookback_s * 1000, max_signals),
    )


def _suppressed(
    matches: list[tuple[int, int, bool]],
    alerted_at: list[int | None],
    facets: dict[int, Facet],
    settings: AlertSuppression,
    lookback_ms: int,
    max_signals: int,
) -> Suppression:
    """Each alert at the execution that created it, then in the search's (ascending time) order."""
    order = sorted((at, index) for index, at in enumerate(alerted_at) if at is not None)
    candidates = (
        Candidate(at, at - lookback_ms, matches[index][0], facets[matches[index][1]]) for at, index in order
    )
    return suppress(candidates, settings, max_signals)


def simulate_rule(
    rule: Rule,
    matcher: Matcher | Predicate,
    documents: Iterable[Mapping[str, Any]],
    *,
    first_run: datetime | None = None,
    duplicates_take_slots: bool = True,
    suppression: AlertSuppression | None = None,
) -> Simulation:
    """:func:`simulate` with a :class:`~harness.rules.Rule`'s own schedule, cap and timestamp field.

    What the rule leaves out of its schedule runs as Kibana runs it: ``Rule.schedule``'s defaults.
    ``suppression`` defaults to the rule's own ``alert_suppression``.
    """
    schedule = rule.schedule
    return simulate(
        matcher,
        documents,
        interval_s=schedule.interval_s,
        lookback_s=schedule.lookback_s,
        max_signals=schedule.max_signals,
        timestamp_field=rule.timestamp_override or DEFAULT_TIMESTAMP,
        first_run=first_run,
        duplicates_take_slots=duplicates_take_slots,
        suppression=suppression or rule.alert_suppression,
    )


def check_schedule(interval_s: int, lookback_s: int, max_signals: int) -> None:
    for name, value in (("interval_s", interval_s), ("lookback_s", lookback_s), ("max_signals", max_signals)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, not {value!r}")
    for name, value in (("interval_s", interval_s), ("lookback_s", lookback_s)):
        if value > MAX_SCHEDULE_S:
            raise ValueError(f"{name} must be at most {MAX_SCHEDULE_S} (100 years), not {value}")


def check_time(time: int, what: str) -> None:
    if not _EARLIEST_MS <= time <= _LATEST_MS:
        raise ValueError(
            f"{what} ({time:.6g} ms since the epoch) is outside the years 1000 to 9000 that the simulation "
            "places windows in: fix the time or leave the event out"
        )


class CorpusPass:
    """What one pass over the documents keeps: counts, hosts, the time span and the matches.

    With ``suppression``, each match's group-by values and host too (``facets``, by document order).
    """

    def __init__(self, keep_all_times: bool, suppression: AlertSuppression | None = None) -> None:
        self.events = 0
        self.untimed = 0
        self.hosts: set[str] = set()
        self.first_ms: int | None = None
        self.last_ms: int | None = None
        self.matches: list[tuple[int, int, bool]] = []
        self.all_times: array[int] | None = array("q") if keep_all_times else None
        self.group_by = None if suppression is None else suppression.group_by
        self.facets: dict[int, Facet] = {}

    def add(self, seq: int, document: Mapping[str, Any], time: int | None, matched: bool) -> None:
        self.events += 1
        self.hosts.update(str(name) for name in field_values(document, ("host", "name")))
        if time is None:
            self.untimed += 1
            return
        check_time(time, "the event's time")
        self.first_ms = time if self.first_ms is None else min(self.first_ms, time)
        self.last_ms = time if self.last_ms is None else max(self.last_ms, time)
        if self.all_times is not None:
            self.all_times.append(time)
        if matched:
            intents = field_values(document, ("labels", "intent"))
            self.matches.append((time, seq, "malicious" in intents))
            if self.group_by is not None:
                self.facets[seq] = event_facet(document, self.group_by)


def place_schedule(
    corpus: CorpusPass, fixed_first: int | None, interval_ms: int, lookback_ms: int
) -> Schedule:
    if corpus.last_ms is None or corpus.first_ms is None:
        first, count = (0, 0) if fixed_first is None else (fixed_first, 1)
    else:
        first = corpus.first_ms + interval_ms if fixed_first is None else fixed_first
        # Run until the latest event has been seen by every window that can hold it: the last run is
        # the last whose window starts at or before it, and at least the first at or after it.
        reach = (corpus.last_ms + lookback_ms - first) // interval_ms
        count = max(0, reach, -(-(corpus.last_ms - first) // interval_ms)) + 1
    return Schedule(first_ms=first, count=count, interval_ms=interval_ms, lookback_ms=lookback_ms)


def before_first_window(schedule: Schedule, first_ms: int | None) -> tuple[int, int] | None:
    start = schedule.first_ms - schedule.lookback_ms
    if not schedule.count or first_ms is None or first_ms >= start:
        return None
    return (first_ms - 1, start)  # open interval: starts just before the earliest event


def count_in(bounds: tuple[int, int], all_times: Iterable[int] | None, match_times: list[int]) -> Gap:
    start, end = bounds
    inside = 0 if all_times is None else sum(1 for time in all_times if start < time < end)
    matching = bisect_left(match_times, end) - bisect_right(match_times, start)
    return Gap(start_ms=start, end_ms=end, events=inside, matching_events=matching)


def _delays(matches: list[tuple[int, int, bool]], alerted_at: list[int | None]) -> Delays:
    malicious = [index for index, (_, _, bad) in enumerate(matches) if bad]
    return delays_of([matches[index][0] for index in malicious], [alerted_at[index] for index in malicious])
