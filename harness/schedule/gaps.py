"""Time no execution's window covers: one gap, and the gaps between a schedule's executions.

With a look-back shorter than the interval, every pair of consecutive executions leaves a gap
of the same length, so a schedule spanning years has millions of them. Only the gaps that hold
events are stored; the others are all alike and are counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from harness.schedule.lazy import MadeOnDemand
from harness.timestamps import from_ms

__all__ = ["Gap", "UncoveredGaps"]


@dataclass(frozen=True)
class Gap:
    """Times strictly between ``start`` and ``end`` that no execution's window covers.

    Between two executions ``start`` is the earlier one's ``now`` and ``end`` the later one's window
    start, both covered themselves. Before the first window, ``start`` is one millisecond before the
    earliest event, so the range holds every event that precedes the first window.
    """

    start_ms: int
    end_ms: int
    events: int
    matching_events: int

    @property
    def start(self) -> datetime:
        return from_ms(self.start_ms)

    @property
    def end(self) -> datetime:
        return from_ms(self.end_ms)


class UncoveredGaps(MadeOnDemand[Gap]):
    """``count`` gaps of ``length_ms``, the first starting at ``first_start_ms``, one every ``every_ms``.

    ``with_events`` are those holding events, in time order; every other gap is empty.
    """

    __slots__ = ("_by_index", "_count", "every_ms", "first_start_ms", "length_ms", "with_events")

    def __init__(
        self,
        *,
        first_start_ms: int = 0,
        every_ms: int = 0,
        length_ms: int = 0,
        count: int = 0,
        with_events: Iterable[Gap] = (),
    ) -> None:
        self._count = count
        # Without gaps the grid means nothing: zero it, so that every empty value is equal.
        self.first_start_ms, self.every_ms, self.length_ms = (
            (first_start_ms, every_ms, length_ms) if count else (0, 0, 0)
        )
        self.with_events = tuple(sorted(with_events, key=lambda gap: gap.start_ms))
        self._by_index = {self._index_of(gap): gap for gap in self.with_events}
        for index, gap in self._by_index.items():
            slot = self._empty(index)
            if not 0 <= index < count or (gap.start_ms, gap.end_ms) != (slot.start_ms, slot.end_ms):
                raise ValueError(f"{gap} is not one of the schedule's gaps")
        if len(self._by_index) != len(self.with_events):
            raise ValueError("a gap with events is listed twice")

    @property
    def events(self) -> int:
        return sum(gap.events for gap in self.with_events)

    @property
    def matching_events(self) -> int:
        return sum(gap.matching_events for gap in self.with_events)

    @property
    def empty_count(self) -> int:
        return self._count - len(self.with_events)

    @property
    def empty_ms(self) -> int:
        """The total length of the empty gaps."""
        return self.empty_count * self.length_ms

    def __len__(self) -> int:
        return self._count

    def _item(self, position: int) -> Gap:
        return self._by_index.get(position) or self._empty(position)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UncoveredGaps) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        busy = len(self.with_events)
        return f"UncoveredGaps({self._count:,} gaps of {self.length_ms:,} ms, {busy:,} with events)"

    def _key(self) -> tuple[int, int, int, int, tuple[Gap, ...]]:
        return (self.first_start_ms, self.every_ms, self.length_ms, self._count, self.with_events)

    def _index_of(self, gap: Gap) -> int:
        return (gap.start_ms - self.first_start_ms) // self.every_ms if self.every_ms else -1

    def _empty(self, index: int) -> Gap:
        start = self.first_start_ms + index * self.every_ms
        return Gap(start_ms=start, end_ms=start + self.length_ms, events=0, matching_events=0)
