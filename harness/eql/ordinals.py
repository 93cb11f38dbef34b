"""Where an event sorts, and the values it joins on, as the EQL search API reads them.

An ordinal is Elasticsearch's ``Ordinal``: the timestamp, the tiebreaker and the implicit
tiebreaker (``_shard_doc``; here the event's position in the input). A join key is read as
doc values are: each distinct value of the field once, in sorted order
(``SortedSetDocValues``), so a multi-valued key field gives one key per value.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, NamedTuple

from harness.eql.ast import Field
from harness.eql.fields import Scalar, field_values
from harness.timestamps import epoch_ms

__all__ = ["Ordinal", "join_keys", "key_identity", "ordinal", "value_order"]


class Ordinal(NamedTuple):
    """An event's place in Elasticsearch's order. A missing timestamp or tiebreaker sorts last."""

    missing_timestamp: bool
    timestamp: int
    missing_tiebreaker: bool
    tiebreaker: tuple[int, Any]
    position: int


def ordinal(
    event: Mapping[str, Any], index: int, timestamp_field: str, tiebreaker_field: str | None
) -> Ordinal:
    """``event``'s ordinal; ascending sort on a multi-valued field uses its smallest value, as ES's does."""
    times = [ms for ms in map(epoch_ms, field_values(event, _path(timestamp_field))) if ms is not None]
    breaker: tuple[int, Any] = (0, 0)
    missing_breaker = False
    if tiebreaker_field is not None:
        values = field_values(event, _path(tiebreaker_field))
        if values:
            breaker = min(value_order(value) for value in values)
        else:
            missing_breaker = True
    return Ordinal(not times, min(times) if times else 0, missing_breaker, breaker, index)


def value_order(value: Scalar | None) -> tuple[int, Any]:
    """A total order over key values: null, booleans, numbers, then strings by code point."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, (int, float)):
        return (2, value)
    return (3, value)


def join_keys(event: Mapping[str, Any], keys: tuple[Field, ...]) -> list[tuple[Any, ...]]:
    """Every key tuple ``event`` joins on: the product of each key field's distinct values, sorted.

    A missing non-optional key gives none: Elasticsearch adds an ``exists`` filter for each
    join key (elasticsearch#78195, #79677). A missing ``?field`` key is the value null.
    """
    per_key: list[list[Any]] = []
    for key in keys:
        values = field_values(event, key.path)
        if not values:
            if not key.optional:
                return []
            per_key.append([None])
            continue
        distinct = {value_order(value): value for value in values}
        per_key.append([distinct[order] for order in sorted(distinct)])
    return [tuple(combination) for combination in itertools.product(*per_key)]


def key_identity(key: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    """A hashable identity for a key tuple, so that ``true`` never joins with ``1``."""
    return tuple(value_order(value) for value in key)


def _path(name: str) -> tuple[str, ...]:
    return tuple(name.split("."))
