"""The sequence matcher, as Elasticsearch's ``execution/sequence`` package runs it.

``TumblingWindow`` queries the stages one after the other: every hit of the first stage
starts a sequence, then the hits of each following stage, in ascending order, advance the
sequences of the stage before (``SequenceMatcher.match``). With fewer events than the
fetch size that is one window, modelled here as stage after stage over the whole input.

* A hit of stage *n* takes, among the sequences of its key waiting at stage *n - 1*, the
  latest whose last event sorts before it, and drops that one and every earlier one
  (``OrdinalGroup.trimBefore``): the most recent candidate is kept.
* ``maxspan`` rejects a hit whose timestamp is more than the span after the sequence's
  first event (``SequenceMatcher.exceedsMaxSpan``: ``>``, so exactly at the bound matches).
  The rejected sequence is gone all the same.
* ``until`` rejects a hit when an ``until`` event of the key lies between the sequence's
  last event and the hit (``UntilGroup.before``, ``Ordinal.between``).
* ``with runs=N`` is the stage written N times (``LogicalPlanBuilder``).
* Missing events ``![...]`` are checked once a sequence of the positive stages completes
  (``TumblingWindow.doCheckMissingEvents``), on timestamps and the key.
* Completed sequences come back ordered by their last event (``Sequence.compareTo``).

The state machine (:class:`SequenceMachine`) runs over each stage's hits, however they
were found: :class:`SequenceMatcher` judges every event with the row engine's predicate,
the SQL engines (``harness.sql.sequences``) select the hits in one scan. Both hand it the
same :class:`StageHit` values, so both give the same sequences.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.eql.ast import Field, Query, Sample, Sequence, Stage
from harness.eql.ordinals import Ordinal, join_keys, key_identity, ordinal
from harness.errors import EqlEvaluationError

__all__ = [
    "SequenceMachine",
    "SequenceMatcher",
    "StageHit",
    "matched_rows",
    "ordinals_of",
    "stage_hits",
    "stage_keys",
]

Event = Mapping[str, Any]
KeyId = tuple[tuple[int, Any], ...]
Found = tuple[list[int | None], tuple[Any, ...]]
"""A sequence or sample as row numbers in stage order (None for a missing event) and its join key."""


@dataclass(frozen=True)
class StageHit:
    """An event a stage's query matched: its row in the input, where it sorts, and every key tuple it
    joins on (:func:`~harness.eql.ordinals.join_keys`: none when a non-optional key is missing)."""

    row: int
    ordinal: Ordinal
    keys: tuple[tuple[Any, ...], ...]


def stage_keys(statement: Sequence | Sample, stage: Stage) -> tuple[Field, ...]:
    """The fields ``stage`` joins on: the statement's ``by`` keys, then the stage's own."""
    return (*statement.keys, *stage.keys)


def ordinals_of(
    docs: list[Event], timestamp_field: str, tiebreaker_field: str | None
) -> Callable[[int], Ordinal]:
    """The ordinal of the event at a row, read when first asked for: only hits need one, and reading
    a timestamp costs more than most stage queries."""
    cache: dict[int, Ordinal] = {}

    def of(row: int) -> Ordinal:
        found = cache.get(row)
        if found is None:
            found = cache[row] = ordinal(docs[row], row, timestamp_field, tiebreaker_field)
        return found

    return of


def matched_rows(
    tests: Iterable[tuple[Callable[[Event], bool], tuple[Field, ...]]],
    docs: list[Event],
    matched: list[list[int]] | None,
) -> list[list[int]]:
    """The rows of ``docs`` each test matches, judged stage after stage, unless ``matched`` gives them."""
    if matched is not None:
        return matched
    rows_of = []
    for matches, _ in tests:
        rows = []
        for row, doc in enumerate(docs):
            try:
                if matches(doc):
                    rows.append(row)
            except EqlEvaluationError as error:
                error.event = doc  # the caller knows where it came from
                raise
        rows_of.append(rows)
    return rows_of


def stage_hits(
    tests: list[tuple[Callable[[Event], bool], tuple[Field, ...]]],
    docs: list[Event],
    ordinal_of: Callable[[int], Ordinal],
    matched: list[list[int]] | None = None,
) -> list[list[StageHit]]:
    """Each stage's hits among ``docs``: its test and join keys, and the rows it matches (``matched``
    when the caller has judged them, else :func:`matched_rows`)."""
    rows_of = matched_rows(tests, docs, matched)
    return [
        [StageHit(row, ordinal_of(row), tuple(join_keys(docs[row], keys))) for row in rows]
        for rows, (_, keys) in zip(rows_of, tests, strict=True)
    ]


@dataclass(frozen=True)
class _Step:
    stage: int  # which of the statement's stages (``runs`` repeats one)
    missing: bool


@dataclass(frozen=True)
class _Hit:
    key_id: KeyId
    key: tuple[Any, ...]
    ordinal: Ordinal
    row: int


@dataclass
class _Run:
    """A sequence in flight: the hit at each stage so far (Elasticsearch's ``Sequence``)."""

    key: tuple[Any, ...]
    key_id: KeyId
    hits: dict[int, _Hit] = field(default_factory=dict)
    start: Ordinal | None = None
    last: Ordinal | None = None

    def put(self, stage: int, hit: _Hit) -> None:
        self.hits[stage] = hit
        self.start = self.start or hit.ordinal
        self.last = hit.ordinal


def _expand(hits: Iterable[StageHit]) -> list[_Hit]:
    """One hit per key tuple, in Elasticsearch's order; events without a timestamp are left out, as
    the timestamp range every stage query carries leaves them out."""
    timed = sorted((hit for hit in hits if not hit.ordinal.missing_timestamp), key=lambda hit: hit.ordinal)
    return [_Hit(key_identity(key), key, hit.ordinal, hit.row) for hit in timed for key in hit.keys]


class SequenceMachine:
    """The sequence state machine of one ``sequence`` statement, over each stage's hits."""

    def __init__(self, sequence: Sequence) -> None:
        self.sequence = sequence
        self.steps = [
            _Step(index, stage.missing)
            for index, stage in enumerate(sequence.stages)
            for _ in range(int(stage.runs or 1))
        ]
        self.maxspan = sequence.maxspan.millis if sequence.maxspan is not None else None
        self.positive = [index for index, one in enumerate(self.steps) if not one.missing]

    def match(self, hits_per_stage: list[list[StageHit]], until: Iterable[StageHit] = ()) -> list[Found]:
        """Every sequence, in Elasticsearch's order, from the hits of each of the statement's stages
        (in any order) and of its ``until`` stage."""
        if len(hits_per_stage) != len(self.sequence.stages):
            raise ValueError(
                f"expected hits for {len(self.sequence.stages)} stages, got {len(hits_per_stage)}"
            )
        expanded = [_expand(stage) for stage in hits_per_stage]
        hits = [expanded[one.stage] for one in self.steps]
        markers: dict[KeyId, list[Ordinal]] = defaultdict(list)
        for hit in _expand(until):
            markers[hit.key_id].append(hit.ordinal)

        waiting: dict[tuple[int, KeyId], list[_Run]] = defaultdict(list)
        completed: list[_Run] = []
        first, final = self.positive[0], self.positive[-1]
        for hit in hits[first]:
            started = _Run(hit.key, hit.key_id)
            started.put(first, hit)
            (completed if first == final else waiting[(first, hit.key_id)]).append(started)
        for previous, stage in zip(self.positive, self.positive[1:], strict=False):
            for hit in hits[stage]:
                run = _take_latest_before(waiting.get((previous, hit.key_id)), hit.ordinal)
                if run is None or self._exceeds(run.start, hit.ordinal) or _until(markers, run, hit):
                    continue
                run.put(stage, hit)
                (completed if stage == final else waiting[(stage, hit.key_id)]).append(run)

        if len(self.positive) < len(self.steps):
            completed = [run for run in completed if self._no_missing_event(run, hits)]
        completed.sort(key=lambda run: (run.last, run.key_id))
        return [
            ([run.hits[i].row if i in run.hits else None for i in range(len(self.steps))], run.key)
            for run in completed
        ]

    def _exceeds(self, start: Ordinal | None, end: Ordinal | None) -> bool:
        """``exceedsMaxSpan``: strictly more than the span apart; no maxspan never exceeds."""
        if not self.maxspan or start is None or end is None:
            return False
        return end.timestamp - start.timestamp > self.maxspan

    def _bigger_than_maxspan(self, start: int | None, end: int | None) -> bool:
        """``TumblingWindow.biggerThanMaxSpan``: true when either end is unknown."""
        if start is None or end is None:
            return True
        return bool(self.maxspan) and end - start > (self.maxspan or 0)

    def _no_missing_event(self, run: _Run, hits: list[list[_Hit]]) -> bool:
        """``doCheckMissingEvents``: whether the sequence survives its missing-event stages."""
        assert run.start is not None and run.last is not None
        start, last = run.start.timestamp, run.last.timestamp
        last_leading: int | None = None
        first_trailing: int | None = None
        leading = True
        for index, one in enumerate(self.steps):
            if not one.missing:
                leading = False
                continue
            times = [hit.ordinal.timestamp for hit in hits[index] if hit.key_id == run.key_id]
            if leading:
                before = [t for t in times if t < start]
                if before:
                    last_leading = max([*before, *([last_leading] if last_leading is not None else [])])
            elif index > self.positive[-1]:
                after = [t for t in times if t > last]
                if after:
                    first_trailing = min([*after, *([first_trailing] if first_trailing is not None else [])])
            else:
                low = run.hits[max(p for p in self.positive if p < index)].ordinal.timestamp
                high = run.hits[min(p for p in self.positive if p > index)].ordinal.timestamp
                if any(low < t < high for t in times):
                    return False
        first_missing, last_missing = self.steps[0].missing, self.steps[-1].missing
        return (
            (first_trailing is None and last_leading is None)
            or (last_leading is None and first_missing)
            or (first_trailing is None and last_missing)
            or (first_missing and last_missing and self._bigger_than_maxspan(last_leading, first_trailing))
            or (first_missing and not last_missing and self._bigger_than_maxspan(last_leading, last))
            or (not first_missing and last_missing and self._bigger_than_maxspan(start, first_trailing))
        )


def _take_latest_before(group: list[_Run] | None, ordinal: Ordinal) -> _Run | None:
    """``OrdinalGroup.trimBefore``: the latest run whose last hit sorts before ``ordinal``, removed
    with every run before it."""
    if not group:
        return None
    position = -1
    for index, run in enumerate(group):
        assert run.last is not None
        if run.last < ordinal:
            position = index
        else:
            break
    if position < 0:
        return None
    run = group[position]
    del group[: position + 1]
    return run


def _until(markers: dict[KeyId, list[Ordinal]], run: _Run, hit: _Hit) -> bool:
    """Whether the nearest ``until`` event of the key before ``hit`` lies at or after the run's last hit."""
    ordinals = markers.get(hit.key_id)
    if not ordinals or run.last is None:
        return False
    position = bisect.bisect_left(ordinals, hit.ordinal)
    return position > 0 and ordinals[position - 1] >= run.last


class SequenceMatcher:
    """Finds the sequences of one ``sequence`` statement in a list of events, judged one by one."""

    def __init__(self, sequence: Sequence, predicate: Callable[[Query], Callable[[Event], bool]]) -> None:
        self.machine = SequenceMachine(sequence)
        stages = [*sequence.stages, *([sequence.until] if sequence.until is not None else [])]
        self.queries = tuple(stage.query for stage in stages)  # each stage's, then the until's
        self.tests = [(predicate(stage.query), stage_keys(sequence, stage)) for stage in stages]

    def run(
        self, docs: list[Event], ordinal_of: Callable[[int], Ordinal], matched: list[list[int]] | None = None
    ) -> list[tuple[list[Event | None], tuple[Any, ...]]]:
        """Every sequence, in Elasticsearch's order; a missing-event stage's place holds None.

        ``matched``: the rows of ``docs`` each of ``queries`` matches, ascending, when the caller
        has judged them (a pass over many rules); otherwise they are judged here.
        """
        hits = stage_hits(self.tests, docs, ordinal_of, matched)
        stages = len(self.machine.sequence.stages)
        until = hits[stages] if len(hits) > stages else []
        return [
            ([None if row is None else docs[row] for row in rows], key)
            for rows, key in self.machine.match(hits[:stages], until)
        ]
