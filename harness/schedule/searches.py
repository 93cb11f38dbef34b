"""Replay a corpus through a sequence, sample or piped rule's schedule: one EQL search per execution.

Kibana's EQL executor (``rule_types/eql/eql.ts``) runs, every ``interval``, one EQL search
(``build_eql_search_request.ts``): the rule's statement over the documents whose time lies in
``[now - from, now]`` (``buildTimeRangeFilter``: ``gte``/``lte``, on the timestamp override, else
``@timestamp``), ``size: max_signals``, the rule's ``timestamp_field``, ``tiebreaker_field`` and
``event_category_override``, and no ``result_position``, so Elasticsearch's default ``tail`` applies
(``EqlSearchRequest``): with no pipe the search returns the window's most recent ``max_signals``
sequences, and it does not page: they are all that execution can alert on. Each returned sequence is
wrapped (``wrap_sequences.ts``, ``build_alert_group_from_sequence.ts``) into one shell alert and one
building-block alert per event in it; a missing event (``![...]``) gets none (kibana#235133).
Samples come back in ``hits.sequences`` too (Elasticsearch's ``execution/sample/SamplePayload``
makes each an ``EqlSearchResponse.Sequence``) and are wrapped alike; a piped event query's hits are
alerts of their own (``wrapHits``).

Alert ids are hashes, so an overlapping execution that finds the same sequence again writes nothing
(``filterDuplicateAlerts`` in the rule registry's ``create_persistence_rule_type_wrapper.ts`` drops
ids already in the alerts index, and a repeated id in one bulk request is a 409 conflict): the
shell's id hashes its building blocks' ancestors, the events' ``_id`` and ``_index`` in order, and
the rule (``generateAlertId``), and each building block's id hashes all of them and its position
(``generate_building_block_ids.ts``). A sequence is therefore identified by its events in order: a
different sequence sharing an event makes a new shell and new building blocks, one for the shared
event too. Here a document's identity is its place in the corpus.

Only documents that some stage (or ``until``) of the statement matches can change what a search
returns, so only they are kept, and a window's search is run once for each change of the set it
holds: the executions in between search the same documents, find the same sequences and alert on
none (``Schedule.content_changes``).

With ``suppression`` the alerts are suppressed as Kibana's EQL executor does (``eql.ts``): a piped
event query's hits as single events (``bulkCreateSuppressedAlertsInMemory``), each sequence or
sample by its shell alert (``bulkCreateSuppressedSequencesInMemory``, the executor's path for
``hits.sequences``, which samples share), whose terms are its events' common values and whose
``suppression.start`` is its own time, the execution's; a suppressed shell's building blocks are
not written. Kibana suppresses sequences from 8.18 (before, behind an experimental flag); the
harness applies it to every statement, as the newest executor does.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from itertools import pairwise
from typing import Any

from harness.eql import FieldMapping, Matcher, Piped, Query, Searcher, Statement
from harness.eql.ast import Sample, Sequence
from harness.rules import DEFAULT_MAX_SIGNALS, AlertSuppression, Rule
from harness.schedule.executions import ExecutionRun, Executions, SequenceExecution
from harness.schedule.result import delays_of
from harness.schedule.search_result import SearchKind, SequenceSimulation
from harness.schedule.simulation import (
    CorpusPass,
    before_first_window,
    check_schedule,
    check_time,
    count_in,
    place_schedule,
)
from harness.schedule.suppression import Candidate, Suppression, event_facet, sequence_facet, suppress
from harness.schedule.timestamps import DEFAULT_TIMESTAMP, event_time_ms
from harness.schedule.windows import Schedule
from harness.timestamps import to_ms

__all__ = ["simulate_rule_search", "simulate_search"]

Event = Mapping[str, Any]
Identity = tuple[int, ...]  # the corpus positions of a sequence's events, in stage order
UNLIMITED = 2**63 - 1  # a search size no window reaches: every sequence the window holds


def simulate_search(
    searcher: Searcher,
    documents: Iterable[Event],
    *,
    interval_s: int,
    lookback_s: int,
    max_signals: int = DEFAULT_MAX_SIGNALS,
    timestamp_field: str = DEFAULT_TIMESTAMP,
    search_timestamp_field: str = DEFAULT_TIMESTAMP,
    tiebreaker_field: str | None = None,
    category_field: str = "event.category",
    mapping: FieldMapping | None = None,
    first_run: datetime | None = None,
    suppression: AlertSuppression | None = None,
) -> SequenceSimulation:
    """Run ``searcher``'s statement over ``documents`` on a schedule, as Kibana's EQL executor does.

    ``timestamp_field`` is the field the window's range filter reads (a rule's timestamp override,
    with ``@timestamp`` where a document lacks it); ``search_timestamp_field`` and
    ``tiebreaker_field`` are the EQL search's own ``timestamp_field`` and ``tiebreaker_field``, which
    order the events; ``category_field`` and ``mapping`` must be those ``searcher`` was compiled with. The
    executions are placed as :func:`harness.schedule.simulate` places them.
    """
    check_schedule(interval_s, lookback_s, max_signals)
    relevant = _relevant(searcher.statement, category_field, mapping)
    fixed_first = None if first_run is None else to_ms(first_run)
    if fixed_first is not None:
        check_time(fixed_first, "the first run")
    corpus = CorpusPass(fixed_first is not None or lookback_s < interval_s)
    kept: dict[int, Event] = {}
    for seq, document in enumerate(documents):
        time = event_time_ms(document, timestamp_field)
        matched = relevant(document)
        corpus.add(seq, document, time, matched)
        if matched and time is not None:  # the range filter leaves out what has no time
            kept[seq] = document
    schedule = place_schedule(corpus, fixed_first, interval_s * 1000, lookback_s * 1000)
    candidates = sorted(corpus.matches)  # (time, corpus position, malicious)
    search = _Search(searcher, kept, search_timestamp_field, tiebreaker_field, max_signals)
    replay = _Replay(schedule, candidates, search)
    executions = replay.run()
    whole = search.groups(sorted(kept), UNLIMITED)  # one search over the whole corpus, no window
    found = set(whole) | replay.seen
    malicious = {seq for _, seq, bad in candidates if bad}
    time_of = {seq: time for time, seq, _ in candidates}
    bad_found = sorted(identity for identity in found if malicious.intersection(identity))
    before = before_first_window(schedule, corpus.first_ms)
    times = [time for time, _, _ in candidates]
    return SequenceSimulation(
        kind=_kind(searcher.statement),
        interval_s=interval_s,
        lookback_s=lookback_s,
        max_signals=max_signals,
        timestamp_field=timestamp_field,
        search_timestamp_field=search_timestamp_field,
        tiebreaker_field=tiebreaker_field,
        events=corpus.events,
        untimed_events=corpus.untimed,
        candidate_events=len(candidates),
        hosts=len(corpus.hosts),
        first_event_ms=corpus.first_ms,
        last_event_ms=corpus.last_ms,
        executions=executions,
        sequences_in_corpus=len(whole),
        never_alerted=sum(1 for identity in whole if identity not in replay.alerted_at),
        lost_to_cap=len(replay.seen - replay.alerted_at.keys()),
        events_in_alerts=len({seq for identity in replay.alerted_at for seq in identity}),
        malicious_delays=delays_of(
            [max(time_of[seq] for seq in identity) for identity in bad_found],
            [replay.alerted_at.get(identity) for identity in bad_found],
        ),
        uncovered_gaps=schedule.gaps(corpus.all_times or (), times),
        before_first_window=None if before is None else count_in(before, corpus.all_times, times),
        suppression=None
        if suppression is None
        else _suppressed(
            replay.alerted_at,
            kept,
            suppression,
            _kind(searcher.statement) == "events",
            lookback_s * 1000,
            max_signals,
            time_of,
        ),
    )


def _suppressed(
    alerted_at: dict[Identity, int],
    kept: dict[int, Event],
    settings: AlertSuppression,
    hits: bool,
    lookback_ms: int,
    max_signals: int,
    time_of: dict[int, int],
) -> Suppression:
    """Each alert in the order its execution's search returned it; the kept documents give the values."""
    group_by = settings.group_by

    def candidate(identity: Identity, now: int) -> Candidate:
        if hits:  # a piped event query's hit: a single event, its own time
            seq = identity[0]
            return Candidate(now, now - lookback_ms, time_of[seq], event_facet(kept[seq], group_by))
        facet = sequence_facet([kept[seq] for seq in identity], group_by)
        return Candidate(now, now - lookback_ms, now, facet)  # a shell's start: its own time

    return suppress((candidate(identity, now) for identity, now in alerted_at.items()), settings, max_signals)


def simulate_rule_search(
    rule: Rule,
    searcher: Searcher,
    documents: Iterable[Event],
    *,
    first_run: datetime | None = None,
    search_timestamp_field: str = DEFAULT_TIMESTAMP,
    tiebreaker_field: str | None = None,
    category_field: str = "event.category",
    suppression: AlertSuppression | None = None,
) -> SequenceSimulation:
    """:func:`simulate_search` with a :class:`~harness.rules.Rule`'s schedule, cap and timestamp override;
    ``suppression`` defaults to the rule's own ``alert_suppression``."""
    schedule = rule.schedule
    return simulate_search(
        searcher,
        documents,
        interval_s=schedule.interval_s,
        lookback_s=schedule.lookback_s,
        max_signals=schedule.max_signals,
        timestamp_field=rule.timestamp_override or DEFAULT_TIMESTAMP,
        search_timestamp_field=search_timestamp_field,
        tiebreaker_field=tiebreaker_field,
        category_field=category_field,
        first_run=first_run,
        suppression=suppression or rule.alert_suppression,
    )


class _Search:
    """The EQL search of one window: its sequences as identities, cut at ``max_signals``."""

    def __init__(
        self,
        searcher: Searcher,
        kept: dict[int, Event],
        timestamp_field: str,
        tiebreaker_field: str | None,
        max_signals: int,
    ) -> None:
        self.searcher, self.kept, self.max_signals = searcher, kept, max_signals
        self.timestamp_field, self.tiebreaker_field = timestamp_field, tiebreaker_field

    def window(self, positions: list[int]) -> tuple[list[Identity], list[Identity]]:
        """Every sequence the window's documents hold, and those a ``size: max_signals`` search returns."""
        every = self.groups(positions, UNLIMITED)
        if len(every) <= self.max_signals:
            return every, every
        # Cut as the search cuts (after a ``tail`` the last ones): search again with the cap.
        return every, self.groups(positions, self.max_signals)

    def groups(self, positions: list[int], size: int) -> list[Identity]:
        """Each result's identity: the corpus positions of its events, a missing event's left out."""
        documents = [self.kept[seq] for seq in positions]  # corpus order: the implicit tiebreaker
        place = {id(document): seq for seq, document in zip(positions, documents, strict=True)}
        result = self.searcher.search(
            documents, size=size, timestamp_field=self.timestamp_field, tiebreaker_field=self.tiebreaker_field
        )
        if result.kind == "events":  # a piped event query: each hit is an alert of its own
            return [(place[id(event)],) for event in result.events]
        return [tuple(place[id(e)] for e in found.events if e is not None) for found in result.sequences]


class _Replay:
    """The executions of a schedule over the candidates, each window searched once per change."""

    def __init__(self, schedule: Schedule, candidates: list[tuple[int, int, bool]], search: _Search) -> None:
        self.schedule, self.candidates, self.search = schedule, candidates, search
        self.times = [time for time, _, _ in candidates]
        self.alerted_at: dict[Identity, int] = {}
        self.seen: set[Identity] = set()  # every sequence some window held, alerted or not

    def run(self) -> Executions:
        schedule, runs = self.schedule, []
        for start, end in pairwise([*schedule.content_changes(self.times), schedule.count]):
            now = schedule.at(start)
            lo = bisect_left(self.times, now - schedule.lookback_ms)
            hi = bisect_right(self.times, now)
            first, again = self._execute(now, sorted(seq for _, seq, _ in self.candidates[lo:hi]))
            runs.append(ExecutionRun(first, 1, schedule.interval_ms))
            # The same documents until the next change: the same search, every sequence a duplicate.
            runs.append(
                ExecutionRun(again.later(schedule.interval_ms), end - start - 1, schedule.interval_ms)
            )
        return Executions(runs)

    def _execute(self, now: int, positions: list[int]) -> tuple[SequenceExecution, SequenceExecution]:
        every, returned = self.search.window(positions) if positions else ([], [])
        self.seen.update(every)
        new: dict[Identity, None] = {}
        for identity in returned:
            if identity not in self.alerted_at:
                new.setdefault(identity)  # a repeated id in one bulk request is a conflict, not an alert
        for identity in new:
            self.alerted_at[identity] = now
        unalerted = sum(1 for identity in set(every) if identity not in self.alerted_at)
        execution = SequenceExecution(
            time_ms=now,
            window_start_ms=now - self.schedule.lookback_ms,
            matches=len(every),
            alerts=len(new),
            duplicates=len(returned) - len(new),
            lost_to_cap=unalerted,
            capped=len(every) >= self.search.max_signals,
            building_block_alerts=sum(len(identity) for identity in new) if self._grouped else 0,
        )
        return execution, replace(execution, alerts=0, duplicates=len(returned), building_block_alerts=0)

    @property
    def _grouped(self) -> bool:
        return not isinstance(_inner(self.search.searcher.statement), Query)


def _relevant(
    statement: Statement, category_field: str, mapping: FieldMapping | None
) -> Callable[[Event], bool]:
    """Whether a document matches some stage, ``until`` or missing-event stage: only those can
    change what a search returns."""
    inner = _inner(statement)
    queries: list[Query]
    match inner:
        case Query():
            queries = [inner]
        case Sequence(stages=stages, until=until):
            queries = [stage.query for stage in (*stages, *([until] if until else []))]
        case Sample(stages=stages):
            queries = [stage.query for stage in stages]
    matchers = [
        Matcher(query, category_field=category_field, mapping=mapping, engine="compiled") for query in queries
    ]
    return lambda document: any(matcher.matches(document) for matcher in matchers)


def _inner(statement: Statement) -> Query | Sequence | Sample:
    return statement.query if isinstance(statement, Piped) else statement


def _kind(statement: Statement) -> SearchKind:
    inner = _inner(statement)
    return (
        "samples" if isinstance(inner, Sample) else "sequences" if isinstance(inner, Sequence) else "events"
    )
