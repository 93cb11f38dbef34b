"""A schedule's executions and gaps, worked out per change of a window's content, never per execution.

Execution ``k`` runs at ``first + k * interval`` over ``[now - lookback, now]``. What it finds
depends only on which matches its window holds and on which of them earlier executions
alerted on. The window's content changes only when a match enters or leaves it (twice per
match), and between two such changes an execution that alerts on nothing leaves everything
as it found it, so every later one until the next change is identical to it. The work is
therefore bounded by the number of matches (each alerting execution alerts on at least one),
not by how many executions the time span holds. Under the EQL executor's tail a segment has at
most one alerting execution: the next one's search returns the same matches.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

from harness.schedule.executions import Execution, ExecutionRun, Executions
from harness.schedule.gaps import Gap, UncoveredGaps

__all__ = ["Schedule"]


@dataclass(frozen=True)
class Schedule:
    """``count`` executions, the first at ``first_ms``, then one every ``interval_ms``."""

    first_ms: int
    count: int
    interval_ms: int
    lookback_ms: int

    def at(self, index: int) -> int:
        return self.first_ms + index * self.interval_ms

    def replay(
        self, times: Sequence[int], alerted_at: list[int | None], *, max_signals: int, slots: bool
    ) -> Executions:
        """Every execution over the matches at ``times`` (ascending); ``alerted_at`` gets when each alerted.

        With ``slots`` (Kibana's EQL executor) the search returns the window's last ``max_signals``
        matches, duplicates included: one search of ``size: max_signals`` with no ``result_position``
        (``build_eql_search_request.ts``), whose default is ``tail`` (Elasticsearch's
        ``EqlSearchRequest``), so a window of more matches than that returns its most recent ones.
        Without ``slots`` (an engine that pages forward past duplicates, like Kibana's custom-query
        executor) it reads on from the window's earliest match not yet alerted until it has
        ``max_signals`` new alerts: that model keeps earliest-first semantics.
        """
        runs: list[ExecutionRun] = []
        alerted = AlertedMatches()
        changes = self.content_changes(times)
        for segment_start, segment_end in pairwise([*changes, self.count]):
            # Every window of the segment holds the same matches, [lo, hi): gte start, lte now.
            first_now = self.at(segment_start)
            lo, hi = bisect_left(times, first_now - self.lookback_ms), bisect_right(times, first_now)
            for index in range(segment_start, segment_end):
                now = self.at(index)
                execution, fresh = _execute(now, self.lookback_ms, lo, hi, alerted, max_signals, slots)
                if not execution.alerts:  # nothing changed: the rest of the segment is the same
                    runs.append(ExecutionRun(execution, segment_end - index, self.interval_ms))
                    break
                # Not steady yet: the search's tail returns the same matches next time, but paging
                # past duplicates a full window alerts max_signals more each time.
                alerted_at[fresh : fresh + execution.alerts] = [now] * execution.alerts
                runs.append(ExecutionRun(execution, 1, self.interval_ms))
        return Executions(runs)

    def gaps(self, event_times: Iterable[int], match_times: Iterable[int]) -> UncoveredGaps:
        """The gaps between consecutive executions, those holding events counted.

        Between execution ``k`` and ``k + 1`` lies ``(now_k, now_k+1 - lookback)``, open at both
        ends, when the look-back is shorter than the interval.
        """
        length = self.interval_ms - self.lookback_ms
        if length <= 0 or self.count < 2:
            return UncoveredGaps()
        events, matching = Counter(self._gaps_holding(event_times)), Counter(self._gaps_holding(match_times))
        busy = [
            Gap(self.at(k), self.at(k) + length, events=events[k], matching_events=matching[k])
            for k in sorted(events.keys() | matching.keys())
        ]
        return UncoveredGaps(
            first_start_ms=self.first_ms,
            every_ms=self.interval_ms,
            length_ms=length,
            count=self.count - 1,
            with_events=busy,
        )

    def _gaps_holding(self, times: Iterable[int]) -> Iterator[int]:
        length = self.interval_ms - self.lookback_ms
        for time in times:
            k, after = divmod(time - self.first_ms, self.interval_ms)
            if 0 < after < length and 0 <= k < self.count - 1:
                yield k

    def content_changes(self, times: Sequence[int]) -> list[int]:
        """The first execution, and each whose window holds other matches than the one before's."""
        changes = {0}
        for time in set(times):
            # A match enters the first window with now >= time, and leaves the first with start > time.
            changes.add(-((self.first_ms - time) // self.interval_ms))
            changes.add((time + self.lookback_ms - self.first_ms) // self.interval_ms + 1)
        return sorted(index for index in changes if 0 <= index < self.count)


class AlertedMatches:
    """The matches alerted on so far, as ascending, disjoint ranges of their indices.

    An execution alerts on one range, starting at or after every range before it (windows only
    move forward, and so does where each search starts), so ranges are only ever appended or
    extended at the end; how many lie below an index is a bisection over their running totals.
    """

    __slots__ = ("_ends", "_starts", "_totals")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._totals: list[int] = []  # matches alerted up to the end of each range

    @property
    def end(self) -> int:
        """One past the latest match alerted on (0 before any alert)."""
        return self._ends[-1] if self._ends else 0

    def add(self, start: int, end: int) -> None:
        """Mark ``[start, end)`` alerted; ``start`` is at or after :attr:`end`."""
        if start >= end:
            return
        before = self._totals[-1] if self._totals else 0
        if self._ends and self._ends[-1] == start:  # continues the latest range
            self._ends[-1], self._totals[-1] = end, before + end - start
            return
        self._starts.append(start)
        self._ends.append(end)
        self._totals.append(before + end - start)

    def below(self, index: int) -> int:
        """How many matches before ``index`` were alerted on."""
        last = bisect_right(self._starts, index) - 1  # the last range starting at or before index
        if last < 0:
            return 0
        before = self._totals[last - 1] if last else 0
        return before + min(index, self._ends[last]) - self._starts[last]

    def within(self, lo: int, hi: int) -> int:
        """How many of the matches ``[lo, hi)`` were alerted on."""
        return self.below(hi) - self.below(lo) if hi > lo else 0


def _execute(
    now: int, lookback_ms: int, lo: int, hi: int, alerted: AlertedMatches, max_signals: int, slots: bool
) -> tuple[Execution, int]:
    """The execution at ``now`` over the matches ``[lo, hi)``, recorded in ``alerted``; and the index
    of the first match it alerts on (those it alerts on follow it without a gap).
    """
    if slots:
        # The search's tail: the window's last max_signals matches. Across executions its start
        # never moves back, so what it returns before the latest alerted match was alerted on by
        # the execution before (whose returned range started no later), and nothing after it was.
        returned_from = max(lo, hi - max_signals)
        fresh = max(returned_from, alerted.end)
        fresh_to = hi
        duplicates = alerted.within(returned_from, hi)
    else:
        # Paging from the window's start: every match of the window before the latest alerted one
        # was alerted on (an earlier window either alerted on it or started after it).
        fresh = max(lo, alerted.end)
        fresh_to = max(fresh, min(hi, fresh + max_signals))
        duplicates = alerted.within(lo, hi)
    alerted.add(fresh, fresh_to)
    execution = Execution(
        time_ms=now,
        window_start_ms=now - lookback_ms,
        matches=hi - lo,
        alerts=max(0, fresh_to - fresh),
        duplicates=duplicates,
        lost_to_cap=hi - lo - alerted.within(lo, hi),
        capped=hi - lo >= max_signals,
    )
    return execution, fresh
