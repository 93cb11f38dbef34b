"""Queries looked up by the values they require, so that an event is judged only by those it could match.

A pass over hundreds of rules would otherwise run every rule's test on every event: most
rules name the process they are about (``process.name : "mofcomp.exe"``), and most events
are some other process. :class:`KeyedTests` indexes the queries that have a key
(:func:`harness.eql.required_values.required_values`) by field and value; per event it reads
each key field once and returns the queries one of its values names. The others are false
on that event without being run: the key says they cannot match, and a query with a key has
nothing that can fail the search on an event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from harness.eql.getters import Getter, compile_getter
from harness.eql.required_values import RequiredValue, ascii_lower

__all__ = ["KeyedTests"]

Test = Callable[[Mapping[str, Any]], bool]


class _KeyField:
    """One field's values, exact and ASCII-lowered, each with the slots of the queries naming it."""

    __slots__ = ("exact", "folded", "getter", "slots")

    def __init__(self, path: tuple[str, ...], getter: Getter) -> None:
        self.getter = getter
        self.exact: dict[str, list[int]] = {}
        self.folded: dict[str, list[int]] = {}
        self.slots: list[int] = []  # every query keyed on this field: judged when a value is not a string


class KeyedTests:
    """The tests of queries with a key, and which of them an event could satisfy."""

    def __init__(
        self,
        keyed: Iterable[tuple[int, Test, tuple[RequiredValue, ...]]],
        getters: Callable[[tuple[str, ...]], Getter] = compile_getter,
    ) -> None:
        self.tests: dict[int, Test] = {}
        self._fields: dict[tuple[str, ...], _KeyField] = {}
        for slot, test, key in keyed:
            self.tests[slot] = test
            for required in key:
                field = self._fields.get(required.path)
                if field is None:
                    field = self._fields[required.path] = _KeyField(required.path, getters(required.path))
                if not field.slots or field.slots[-1] != slot:
                    field.slots.append(slot)
                table = field.folded if required.folded else field.exact
                slots = table.setdefault(required.value, [])
                if not slots or slots[-1] != slot:
                    slots.append(slot)

    def __bool__(self) -> bool:
        return bool(self.tests)

    def candidates(self, event: Mapping[str, Any]) -> set[int]:
        """The slots of the queries ``event`` holds a required value of (or cannot be looked up for)."""
        found: set[int] = set()
        for field in self._fields.values():
            values = field.getter(event)
            for value in values:
                if type(value) is not str:
                    found.update(field.slots)  # a number against a string: the matcher's to judge
                    break
                exact = field.exact.get(value)
                if exact:
                    found.update(exact)
                if field.folded:
                    # ascii_lower, spelled out: this runs for every value of every event
                    folded = field.folded.get(value.lower() if value.isascii() else ascii_lower(value))
                    if folded:
                        found.update(folded)
        return found

    def drop(self, slot: int) -> None:
        """Judge ``slot`` no more (its evaluation failed)."""
        self.tests.pop(slot, None)
