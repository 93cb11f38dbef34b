"""One reading of a time: epoch milliseconds (UTC) as Elasticsearch reads a ``date`` field.

Elasticsearch's default date format is ``strict_date_optional_time||epoch_millis``:
an ISO 8601 date, where one without an offset is UTC whatever the machine's zone, or
a count of milliseconds since the epoch, given as a JSON number or a string of digits.
A boolean is no time. The index mapping, the validation runner and the schedule
replay all read times here, so they agree on every value. Standard library only:
the query language imports this module.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

__all__ = ["epoch_ms", "from_ms", "to_ms"]

# ASCII digits only: str.isdigit() also accepts superscripts ("²"), which int() refuses.
_EPOCH_MILLIS = re.compile(r"-?[0-9]+\Z")


def epoch_ms(value: Any) -> int | None:
    """Milliseconds since the epoch of a time as a document holds it, or None if it is no time.

    Numbers and digit strings are epoch milliseconds; an ISO string or a ``datetime`` (a
    typed Parquet column's value) without a zone is UTC. Python's ISO reader is laxer than
    ``strict_date_optional_time`` (a space for the ``T``, week dates), and a year alone
    (``"2026"``, which Elasticsearch reads as that year's first instant) is taken as
    milliseconds: neither occurs in events as sensors and integrations write them.

    >>> epoch_ms("1970-01-02T00:00:00"), epoch_ms("86400000"), epoch_ms(86400000.5), epoch_ms(True)
    (86400000, 86400000, 86400000, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        if _EPOCH_MILLIS.match(value):
            return int(value)
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return to_ms(value)
    return None


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds, exactly (no float rounding); a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MILLISECOND


def from_ms(ms: int) -> datetime:
    """A UTC datetime from epoch milliseconds."""
    return _EPOCH + ms * _MILLISECOND


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC) - _EPOCH
