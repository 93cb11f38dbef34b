"""Field getters generated per path: the same answer as ``fields.field_values``, several times faster.

``field_values`` walks any document generically. A rule reads a handful of known
paths, so for each one this module writes a small Python function that tries exactly
the keys that can hold it (``process`` then ``args``, and the flat ``process.args``)
with plain dict lookups, and hands anything unusual (an array of objects on the way, a
mapping that is not a dict) to the generic walker. ``tests/test_engines.py`` holds the
two to the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from harness.eql.fields import Scalar, field_values, leaves

__all__ = ["Getter", "SharedReads", "compile_getter"]

Getter = Callable[[Mapping[str, Any]], "list[Scalar]"]

_SCALARS = (str, int, float, bool)


def _leaves(value: Any, out: list[Scalar]) -> None:
    """Append a field's leaf values (scalars, arrays of them, arrays of arrays)."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool:
        out.append(value)
    elif kind is list or kind is tuple:
        for item in value:
            item_kind = type(item)
            if item_kind is str or item_kind is int or item_kind is float or item_kind is bool:
                out.append(item)
            elif item is not None:
                leaves(item, out)
    elif value is not None and not isinstance(value, Mapping) and isinstance(value, _SCALARS):
        out.append(value)  # a subclass of str or int


# The generated code tries every way of splitting the path into keys: 2 ** (segments - 1)
# lookups. Up to six segments (32, and every ECS field) that is the fast path; a longer
# path is read by the generic walker, whose cost grows linearly with it.
_INLINE_SEGMENTS = 6


@lru_cache(maxsize=1024)
def compile_getter(path: tuple[str, ...]) -> Callable[[Mapping[str, Any]], list[Scalar]]:
    """A function returning ``field_values(event, path)`` for this ``path``."""
    if len(path) > _INLINE_SEGMENTS:
        return lambda event: field_values(event, path)
    lines = ["def get(event):", "    out = []"]
    _emit(lines, path, 0, "event", 1, 0)
    lines.append("    return out")
    namespace: dict[str, Any] = {"_leaves": _leaves, "_walk_from": _walk_from, "dict": dict}
    exec("\n".join(lines), namespace)  # the source is built above from repr()-quoted keys only
    getter: Callable[[Mapping[str, Any]], list[Scalar]] = namespace["get"]
    return getter


def _walk_from(node: Any, rest: tuple[str, ...], out: list[Scalar]) -> None:
    """Values of ``rest`` below ``node`` when ``node`` is not a plain dict (arrays of objects...)."""
    out.extend(field_values({"__node__": node}, ("__node__", *rest)))


def _emit(lines: list[str], path: tuple[str, ...], level: int, node: str, depth: int, counter: int) -> int:
    """Code that collects the values of ``path[level:]`` below the dict named ``node``."""
    indent = "    " * depth
    for cut in range(level + 1, len(path) + 1):
        key = repr(".".join(path[level:cut]))
        counter += 1
        child = f"n{counter}"
        lines.append(f"{indent}{child} = {node}.get({key})")
        lines.append(f"{indent}if {child} is not None:")
        if cut == len(path):
            lines.append(f"{indent}    if type({child}) is str:")
            lines.append(f"{indent}        out.append({child})")
            lines.append(f"{indent}    else:")
            lines.append(f"{indent}        _leaves({child}, out)")
            continue
        rest = repr(path[cut:])
        lines.append(f"{indent}    if type({child}) is dict:")
        counter = _emit(lines, path, cut, child, depth + 2, counter)
        lines.append(f"{indent}    else:")
        lines.append(f"{indent}        _walk_from({child}, {rest}, out)")
    return counter


class SharedReads:
    """One getter per path for every query of a pass over many: a field several queries read is
    read once per event (the last event's values kept, by identity).

    Only for a pass that holds its events while it judges them, unchanged: the getter keeps a
    reference to the last event, so its identity cannot be taken by another object meanwhile.
    """

    def __init__(self, compile: Callable[[tuple[str, ...]], Getter] = compile_getter) -> None:
        self._compile = compile
        self._getters: dict[tuple[str, ...], Getter] = {}

    def getter(self, path: tuple[str, ...]) -> Getter:
        shared = self._getters.get(path)
        if shared is None:
            shared = self._getters[path] = _remembering(self._compile(path))
        return shared


def _remembering(read: Getter) -> Getter:
    last: Any = None
    values: list[Scalar] = []

    def get(event: Mapping[str, Any]) -> list[Scalar]:
        nonlocal last, values
        if event is not last:
            values = read(event)
            last = event
        return values

    return get
