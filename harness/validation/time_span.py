"""The first and last time of a run's documents, without reading every time in full.

Only the two extremes are wanted, and most times in a corpus are UTC ISO strings of one
layout (``2026-11-02T00:00:12.2197048Z``). Strings of one layout and length order as text
the way their times order, so such a string is only compared; the least and greatest of
each length are read by :func:`harness.timestamps.epoch_ms` at the end. Every other value
is read at once. A string takes the shortcut only when it is surely a time ``epoch_ms``
reads (a day up to the 28th, hours, minutes and seconds in range), so no string that would
be no time at all can stand in for a real one.
"""

from __future__ import annotations

import re

from harness.timestamps import epoch_ms

__all__ = ["TimeSpan"]

_SURELY_UTC = re.compile(
    r"(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?Z"
).fullmatch


class TimeSpan:
    """Times seen one by one; :attr:`first` and :attr:`last` in epoch milliseconds (None: no time)."""

    def __init__(self) -> None:
        self._first: int | None = None
        self._last: int | None = None
        self._texts: dict[int, list[str]] = {}  # length -> [least, greatest] of the shortcut strings

    def note(self, value: object) -> None:
        if type(value) is str and _SURELY_UTC(value):
            bounds = self._texts.get(len(value))
            if bounds is None:
                self._texts[len(value)] = [value, value]
            elif value < bounds[0]:
                bounds[0] = value
            elif value > bounds[1]:
                bounds[1] = value
            return
        ms = epoch_ms(value)
        if ms is not None:
            if self._first is None or ms < self._first:
                self._first = ms
            if self._last is None or ms > self._last:
                self._last = ms

    @property
    def first(self) -> int | None:
        found = [self._first, *(epoch_ms(least) for least, _ in self._texts.values())]
        return min((ms for ms in found if ms is not None), default=None)

    @property
    def last(self) -> int | None:
        found = [self._last, *(epoch_ms(greatest) for _, greatest in self._texts.values())]
        return max((ms for ms in found if ms is not None), default=None)
