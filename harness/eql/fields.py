"""Field resolution over an event's ``_source``, as Elasticsearch indexes it.

Elasticsearch flattens a document before indexing: ``{"process": {"name": "x"}}`` and
``{"process.name": "x"}`` both give the field ``process.name``; arrays of objects and
arrays of arrays contribute every leaf value; ``null`` is no value at all. A field's
value is therefore a list (possibly empty) of scalars, and every predicate is judged
over that list.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeAlias

__all__ = ["Scalar", "field_values"]

Scalar: TypeAlias = str | int | float | bool


def field_values(event: Mapping[str, Any], path: tuple[str, ...]) -> list[Scalar]:
    """Every scalar value the field at ``path`` holds in ``event``, in document order."""
    return list(_walk(event, path))


def _walk(node: Any, path: tuple[str, ...]) -> Iterator[Scalar]:
    if not path:
        yield from _leaves(node)
        return
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _walk(item, path)
        return
    if not isinstance(node, Mapping):
        return
    # A key may itself contain dots ("process.pe.original_file_name" stored flat, or
    # "pe.original_file_name" under "process"): try every split of the remaining path.
    for cut in range(1, len(path) + 1):
        key = ".".join(path[:cut])
        if key in node:
            yield from _walk(node[key], path[cut:])


def _leaves(node: Any) -> Iterator[Scalar]:
    if node is None or isinstance(node, Mapping):
        # An object is not a value of the field itself; null is no value.
        return
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _leaves(item)
        return
    if isinstance(node, (str, int, float, bool)):
        yield node
