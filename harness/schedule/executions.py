"""An execution of the rule, and a schedule's executions stored as runs of identical ones.

A schedule can hold millions of executions (a corpus spanning years, a look-back of a
century), but a window's content only changes when a match enters or leaves it, so
consecutive executions are mostly alike. They are kept as runs: the totals read the
runs, and a single execution is built only when it is asked for.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import accumulate, islice

from harness.schedule.lazy import MadeOnDemand
from harness.timestamps import from_ms

__all__ = ["Execution", "ExecutionRun", "Executions", "SequenceExecution"]


@dataclass(frozen=True)
class Execution:
    """One run of the rule at ``time`` over ``[window_start, time]``, both ends inclusive.

    ``duplicates`` are matches the search returned that an earlier execution already alerted on;
    ``lost_to_cap`` are matches in the window that no execution so far has alerted on. Of a
    single-event EQL rule's, no later execution alerts on any: each search returns the most recent
    matches of its window, and where a later search's results begin is never earlier; with
    duplicates freeing their slots, a later, overlapping execution may still alert on them.
    ``capped`` is Kibana's "max signals reached" warning condition: the window held at least
    ``max_signals`` matches.
    """

    time_ms: int
    window_start_ms: int
    matches: int
    alerts: int
    duplicates: int
    lost_to_cap: int
    capped: bool

    @property
    def time(self) -> datetime:
        return from_ms(self.time_ms)

    @property
    def window_start(self) -> datetime:
        return from_ms(self.window_start_ms)

    @property
    def window_end(self) -> datetime:
        return from_ms(self.time_ms)

    def later(self, by_ms: int) -> Execution:
        """The same execution ``by_ms`` later: its window moved along with it."""
        return replace(self, time_ms=self.time_ms + by_ms, window_start_ms=self.window_start_ms + by_ms)


@dataclass(frozen=True)
class SequenceExecution(Execution):
    """One run of a sequence, sample or piped rule: one EQL search of ``size: max_signals``.

    ``matches`` are the sequences (or samples, or a piped query's events) the window holds, as a
    search without the cap would return them; ``alerts`` the sequences alerted on for the first
    time, each one shell alert; ``building_block_alerts`` one per event of those sequences
    (``build_alert_group_from_sequence.ts``); ``duplicates`` returned sequences whose alerts exist.
    """

    building_block_alerts: int = 0


@dataclass(frozen=True)
class ExecutionRun:
    """``count`` consecutive executions, ``interval_ms`` apart, alike but for their time."""

    first: Execution
    count: int
    interval_ms: int

    @property
    def last(self) -> Execution:
        return self.at(self.count - 1)

    def at(self, index: int) -> Execution:
        """The run's ``index``-th execution (from 0)."""
        return self.first.later(index * self.interval_ms)

    def continued_by(self, other: ExecutionRun) -> bool:
        """Whether ``other`` starts with the execution that would come next in this run."""
        return self.interval_ms == other.interval_ms and self.at(self.count) == other.first

    def __iter__(self) -> Iterator[Execution]:
        return (self.at(index) for index in range(self.count))


class Executions(MadeOnDemand[Execution]):
    """Every execution of a schedule, in time order, as a sequence built from runs.

    Consecutive runs of the same outcome are merged, so two schedules that ran alike compare
    equal however their runs were produced. ``len``, ``alerts`` and ``capped`` are read off the
    runs; indexing and iterating build each execution on the way.
    """

    __slots__ = ("_runs", "_starts")

    def __init__(self, runs: Iterable[ExecutionRun] = ()) -> None:
        merged: list[ExecutionRun] = []
        for run in runs:
            if run.count < 1:
                continue
            if merged and merged[-1].continued_by(run):
                merged[-1] = replace(merged[-1], count=merged[-1].count + run.count)
            else:
                merged.append(run)
        self._runs = tuple(merged)
        # Where each run starts in the whole sequence, and (last) the number of executions.
        self._starts = (0, *accumulate(run.count for run in merged))

    @property
    def runs(self) -> tuple[ExecutionRun, ...]:
        return self._runs

    @property
    def alerts(self) -> int:
        return sum(run.first.alerts * run.count for run in self._runs)

    @property
    def capped(self) -> int:
        """How many executions were at the cap (``max_signals`` or more matches in the window)."""
        return sum(run.count for run in self._runs if run.first.capped)

    def count_with_matches(self) -> int:
        return sum(run.count for run in self._runs if run.first.matches)

    def with_matches(self) -> Iterator[Execution]:
        """The executions whose window held a match, in time order, built lazily."""
        return (execution for run in self._runs if run.first.matches for execution in run)

    def __len__(self) -> int:
        return self._starts[-1]

    def _item(self, position: int) -> Execution:
        run = bisect_right(self._starts, position) - 1
        return self._runs[run].at(position - self._starts[run])

    def __iter__(self) -> Iterator[Execution]:
        return (execution for run in self._runs for execution in run)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Executions) and self._runs == other._runs

    def __hash__(self) -> int:
        return hash(self._runs)

    def __repr__(self) -> str:
        shown = ", ".join(repr(run) for run in islice(self._runs, 3))
        more = f", ... {len(self._runs) - 3} more runs" if len(self._runs) > 3 else ""
        return f"Executions({len(self):,} executions: {shown}{more})"
