"""The schedule simulation against a brute-force model that runs every execution one by one.

The model is the simulation as it was before executions were computed per change of a
window's content: a list of every execution time, each execution's window searched and its
matches marked alerted one at a time, every gap between consecutive executions listed. With
duplicates taking slots (Kibana's EQL executor) each window's documents go through the
reference EQL search with ``size=max_signals``, which keeps the most recent hits as
Elasticsearch's default ``result_position: tail`` does; without, the model pages forward from the
window's start past duplicates. On random small corpora and schedules the two must agree exactly.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.eql import compile_statement
from harness.schedule import Delays, Execution, Gap, simulate
from harness.timestamps import from_ms, to_ms

BASE_MS = to_ms(datetime(2026, 11, 2, 12, 0, tzinfo=UTC))
# The rule as the EQL search runs it: one search per window, over that window's documents only.
RULE = compile_statement("any where m == true", engine="reference")


@dataclass(frozen=True)
class Event:
    offset_ms: int
    matches: bool
    malicious: bool


@dataclass(frozen=True)
class Model:
    executions: list[Execution]
    gaps: list[Gap]
    before_first_window: Gap | None
    lost_alerts: int
    delays: Delays


def brute_force(
    events: list[Event],
    *,
    interval_s: int,
    lookback_s: int,
    max_signals: int,
    first_run_ms: int | None,
    slots: bool,
) -> Model:
    interval, lookback = interval_s * 1000, lookback_s * 1000
    documents = [document(e) for e in events]
    all_times = sorted(BASE_MS + e.offset_ms for e in events)
    matches = sorted((BASE_MS + e.offset_ms, seq, e.malicious) for seq, e in enumerate(events) if e.matches)
    # A match's index in EQL's ascending order (time, then document order), by the document's corpus place.
    index_of = {seq: index for index, (_, seq, _) in enumerate(matches)}
    times = [time for time, _, _ in matches]
    runs: list[int] = []
    if all_times:
        last = all_times[-1]
        now = all_times[0] + interval if first_run_ms is None else first_run_ms
        # Every run whose window can still hold the latest event, and at least one at or after it.
        while not runs or now - lookback <= last or runs[-1] < last:
            runs.append(now)
            now += interval
    elif first_run_ms is not None:
        runs = [first_run_ms]
    alerted_at: list[int | None] = [None] * len(matches)
    executions = []
    for now in runs:
        lo, hi = bisect_left(times, now - lookback), bisect_right(times, now)
        returned: list[int] | range
        if slots:  # what Elasticsearch returns to a size-max_signals search of the window
            inside = [seq for seq, d in enumerate(documents) if now - lookback <= d["@timestamp"] <= now]
            window = [documents[seq] for seq in inside]
            place = {id(d): seq for seq, d in zip(inside, window, strict=True)}
            hits = RULE.search(window, size=max_signals).events
            returned = [index_of[place[id(hit)]] for hit in hits]
        else:  # paging on from the window's start until max_signals new alerts
            returned = range(lo, hi)
        alerts = duplicates = 0
        for index in returned:
            if alerted_at[index] is not None:
                duplicates += 1
            elif alerts < max_signals:
                alerted_at[index] = now
                alerts += 1
        lost = sum(1 for index in range(lo, hi) if alerted_at[index] is None)
        executions.append(
            Execution(now, now - lookback, hi - lo, alerts, duplicates, lost, capped=hi - lo >= max_signals)
        )

    def count_in(start: int, end: int) -> Gap:
        inside = bisect_left(all_times, end) - bisect_right(all_times, start)
        matching = bisect_left(times, end) - bisect_right(times, start)
        return Gap(start, end, inside, matching)

    gaps = [count_in(prev, nxt - lookback) for prev, nxt in pairwise(runs) if nxt - lookback > prev]
    before = None
    if runs and all_times and all_times[0] < runs[0] - lookback:
        before = count_in(all_times[0] - 1, runs[0] - lookback)
    outcomes = list(zip(matches, alerted_at, strict=True))
    delays = [(at - time) / 1000 for (time, _, bad), at in outcomes if bad and at is not None]
    missed = sum(1 for (_, _, bad), at in outcomes if bad and at is None)
    return Model(
        executions=executions,
        gaps=gaps,
        before_first_window=before,
        lost_alerts=alerted_at.count(None),
        delays=Delays(
            alerted=len(delays),
            missed=missed,
            minimum_s=min(delays, default=None),
            median_s=statistics.median(delays) if delays else None,
            maximum_s=max(delays, default=None),
        ),
    )


def document(event: Event) -> dict[str, Any]:
    intent = "malicious" if event.malicious else "benign"
    return {"@timestamp": BASE_MS + event.offset_ms, "m": event.matches, "labels": {"intent": intent}}


# Offsets on whole seconds put events exactly on window edges (executions are whole seconds
# apart); others fall anywhere. Few distinct times make ties and full windows common.
offsets = st.one_of(st.integers(0, 120).map(lambda s: s * 1000), st.integers(0, 120_000))
events = st.lists(st.builds(Event, offsets, st.booleans(), st.booleans()), max_size=30)
schedules = st.fixed_dictionaries(
    {
        "interval_s": st.integers(1, 40),
        # Shorter than the interval (gaps), about as long, and far longer (every window overlaps).
        "lookback_s": st.one_of(st.integers(1, 40), st.integers(100, 400)),
        "max_signals": st.one_of(st.integers(1, 4), st.just(100)),
        "first_run_ms": st.none() | st.integers(-200_000, 200_000).map(lambda ms: BASE_MS + ms),
        "slots": st.booleans(),
    }
)


@settings(max_examples=400, deadline=None)
@given(events=events, schedule=schedules)
def test_simulation_agrees_with_the_brute_force_model(events: list[Event], schedule: dict[str, Any]) -> None:
    model = brute_force(events, **schedule)
    first_run_ms = schedule["first_run_ms"]
    sim = simulate(
        lambda d: bool(d["m"]),
        [document(e) for e in events],
        interval_s=schedule["interval_s"],
        lookback_s=schedule["lookback_s"],
        max_signals=schedule["max_signals"],
        first_run=None if first_run_ms is None else from_ms(first_run_ms),
        duplicates_take_slots=schedule["slots"],
    )
    assert list(sim.executions) == model.executions
    assert [sim.executions[i] for i in range(-len(sim.executions), 0)] == model.executions
    assert list(sim.uncovered_gaps) == model.gaps
    assert sim.before_first_window == model.before_first_window
    assert sim.lost_alerts == model.lost_alerts
    assert sim.malicious_delays == model.delays
    assert sim.alerts == sum(e.alerts for e in model.executions)
    assert sim.capped_executions == sum(1 for e in model.executions if e.capped)
    assert sim.executions.count_with_matches() == sum(1 for e in model.executions if e.matches)
    assert list(sim.executions.with_matches()) == [e for e in model.executions if e.matches]
    assert sim.uncovered_events == sum(g.events for g in model.gaps)
    assert list(sim.uncovered_gaps.with_events) == [g for g in model.gaps if g.events]
    assert sim.uncovered_gaps.empty_ms == sum(g.end_ms - g.start_ms for g in model.gaps if not g.events)
