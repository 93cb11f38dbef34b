"""Field resolution over an event's ``_source``, as Elasticsearch indexes it.

Elasticsearch flattens a document before indexing: ``{"process": {"name": "x"}}`` and
``{"process.name": "x"}`` both give the field ``process.name``; arrays of objects and
arrays of arrays contribute every leaf value; ``null`` is no value at all. A field's
value is therefore a list (possibly empty) of scalars, and every predicate is judged
over that list.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, TypeAlias

__all__ = ["Scalar", "field_values", "leaves"]

Scalar: TypeAlias = str | int | float | bool


def field_values(event: Mapping[str, Any], path: tuple[str, ...]) -> list[Scalar]:
    """Every scalar value the field at ``path`` holds in ``event``, in document order.

    A key may itself contain dots (``process.pe.original_file_name`` stored flat, or
    ``pe.original_file_name`` under ``process``), so at each object every key that spells
    the next one or more segments is followed. The walk keeps a stack rather than
    recursing, and visits an object at a given position of the path once, so its cost is
    the path's length times the document's size, however deep either is.
    """
    out: list[Scalar] = []
    if not path:
        leaves(event, out)
        return out
    walker = _walker(path)
    size = walker.size
    # Called for every predicate on every event. Most events nest each segment in a dict of its
    # own: while each object has one key to follow, the walk goes down without a stack, doing what
    # the loop below would do with a stack of one.
    node, level = event, 0
    passed: list[tuple[int, int]] = []  # the objects walked through, each at its position
    while type(node) is dict and level < size:
        passed.append((id(node), level))
        found = walker.children(node, level)
        if len(found) != 1:
            if not found:
                return out
            break  # more than one key to follow: the stack takes them
        node, level = found[0]
    else:
        if level == size:
            _leaves_of(node, out)
            return out
        found = [(node, level)]  # not a dict (a list, another mapping, a scalar): the general walk
    visited: set[tuple[int, int]] = set(passed)
    stack: list[tuple[Any, int]] = list(reversed(found))
    # The usual shapes (a dict, a string, a list of strings) are told by their exact type first,
    # before the abstract-class checks.
    while stack:
        node, level = stack.pop()
        if level == size:
            _leaves_of(node, out)
        elif type(node) is dict or (not isinstance(node, (list, tuple)) and isinstance(node, Mapping)):
            if (id(node), level) not in visited:
                visited.add((id(node), level))
                found = walker.children(node, level)
                if len(found) == 1:
                    stack.append(found[0])
                else:
                    stack.extend(reversed(found))
        elif isinstance(node, (list, tuple)):
            stack.extend((item, level) for item in reversed(node))
    return out


def _leaves_of(node: Any, out: list[Scalar]) -> None:
    """:func:`leaves`, with a string or a flat list of strings appended directly."""
    if type(node) is str:
        out.append(node)
    elif type(node) is list:
        for item in node:
            if type(item) is str:
                out.append(item)
            else:
                leaves(item, out)
    else:
        leaves(node, out)


@lru_cache(maxsize=4096)
def _walker(path: tuple[str, ...]) -> _Path:
    # A rule reads the same few paths on every event: their spellings are worked out once.
    return _Path(path)


class _Path:
    """A dotted path as one string, with the offset where each segment starts and ends."""

    def __init__(self, path: tuple[str, ...]) -> None:
        self.size = len(path)
        self.text = ".".join(path)
        self.starts: list[int] = []
        self.cuts: dict[int, int] = {}  # offset just after segment i -> i + 1
        offset = 0
        for index, segment in enumerate(path):
            self.starts.append(offset)
            offset += len(segment)
            self.cuts[offset] = index + 1
            offset += 1
        # The keys that spell segments level..cut-1, per level, shortest first.
        self.spellings: list[list[tuple[str, int]]] = [
            [(self.text[self.starts[level] : self._end(cut)], cut) for cut in range(level + 1, self.size + 1)]
            for level in range(self.size)
        ]

    def _end(self, cut: int) -> int:
        return self.starts[cut] - 1 if cut < self.size else len(self.text)

    def children(self, node: Mapping[Any, Any], level: int) -> list[tuple[Any, int]]:
        """``(child, level after it)`` per key of ``node`` that spells segments from ``level``."""
        start = self.starts[level]
        if len(node) < self.size - level:
            # Fewer keys than candidate spellings: test each key against the path.
            found = []
            for key, child in node.items():
                if isinstance(key, str) and self.text.startswith(key, start):
                    cut = self.cuts.get(start + len(key), 0)
                    if cut > level:
                        found.append((cut, child))
            if len(found) == 1:
                return [(found[0][1], found[0][0])]
            return [(child, cut) for cut, child in sorted(found, key=lambda pair: pair[0])]
        return [(node[key], cut) for key, cut in self.spellings[level] if key in node]


def leaves(node: Any, out: list[Scalar]) -> None:
    """Append the scalar values at ``node``: itself, or every scalar in its (nested) arrays."""
    stack = [node]
    while stack:
        item = stack.pop()
        # An object is not a value of the field itself; null is no value.
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, (str, int, float, bool)):
            out.append(item)
