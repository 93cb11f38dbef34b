"""A schedule's executions and gaps, worked out per change of a window's content, never per execution.

Execution ``k`` runs at ``first + k * interval`` over ``[now - lookback, now]``. What it finds
depends only on which matches its window holds and on which of them earlier executions
alerted on. The window's content changes only when a match enters or leaves it (twice per
match), and between two such changes an execution that alerts on nothing leaves everything
as it found it, so every later one until the next change is identical to it. The work is
therefore bounded by the number of matches (each alerting execution alerts on at least one),
not by how many executions the time span holds.
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

        With ``slots`` the search returns the window's first ``max_signals`` matches, duplicates
        included; without, the engine reads on past duplicates until it has ``max_signals`` new alerts.
        """
        runs: list[ExecutionRun] = []
        # The matches alerted on so far are, within any window still to come, exactly those before
        # ``frontier``: windows only move forward and each alerts on the earliest matches it may.
        frontier = 0
        changes = self.content_changes(times)
        for segment_start, segment_end in pairwise([*changes, self.count]):
            # Every window of the segment holds the same matches, [lo, hi): gte start, lte now.
            first_now = self.at(segment_start)
            lo, hi = bisect_left(times, first_now - self.lookback_ms), bisect_right(times, first_now)
            for index in range(segment_start, segment_end):
                now = self.at(index)
                execution, after = _execute(now, self.lookback_ms, lo, hi, frontier, max_signals, slots)
                if not execution.alerts:  # nothing changed: the rest of the segment is the same
                    runs.append(ExecutionRun(execution, segment_end - index, self.interval_ms))
                    break
                # Not steady yet: without slots a full window alerts max_signals more each time.
                alerted_at[after - execution.alerts : after] = [now] * execution.alerts
                frontier = after
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


def _execute(
    now: int, lookback_ms: int, lo: int, hi: int, frontier: int, max_signals: int, slots: bool
) -> tuple[Execution, int]:
    """The execution at ``now`` over the matches ``[lo, hi)``, and the new frontier.

    Those it alerts on are the matches from ``max(lo, frontier)`` up to the new frontier.
    """
    fresh = max(lo, frontier)  # the window's first match not yet alerted on
    if slots:
        returned_to = min(hi, lo + max_signals)
        alerted_to = max(fresh, returned_to)
        duplicates = max(0, min(returned_to, frontier) - lo)
    else:
        alerted_to = max(fresh, min(hi, fresh + max_signals))
        duplicates = max(0, min(hi, frontier) - lo)
    alerts = alerted_to - fresh
    new_frontier = alerted_to if alerts else frontier
    execution = Execution(
        time_ms=now,
        window_start_ms=now - lookback_ms,
        matches=hi - lo,
        alerts=alerts,
        duplicates=duplicates,
        lost_to_cap=hi - max(lo, min(hi, new_frontier)),
        capped=hi - lo >= max_signals,
    )
    return execution, new_frontier
