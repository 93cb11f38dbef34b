"""The time an execution's range filter sees for a document, in epoch milliseconds (UTC)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from harness.eql.fields import field_values

__all__ = ["DEFAULT_TIMESTAMP", "event_time_ms", "from_ms", "to_ms"]

DEFAULT_TIMESTAMP = "@timestamp"


def event_time_ms(document: Mapping[str, Any], timestamp_field: str = DEFAULT_TIMESTAMP) -> int | None:
    """The document's time on ``timestamp_field``, else on ``@timestamp``; None when neither parses.

    Kibana's range filter for a rule with a timestamp override matches a document on the override
    field, or on ``@timestamp`` when the document does not have the override field at all
    (``buildTimeRangeFilter``: a ``should`` of the two ranges, the second under ``must_not exists``).
    """
    values = field_values(document, tuple(timestamp_field.split(".")))
    if not values and timestamp_field != DEFAULT_TIMESTAMP:
        values = field_values(document, (DEFAULT_TIMESTAMP,))
    return _parse(values[0]) if values else None


def _parse(value: object) -> int | None:
    # Elasticsearch's date fields default to strict_date_optional_time||epoch_millis.
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if not isinstance(value, str):
        return None
    if value.isdigit():
        return int(value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return to_ms(parsed)


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds; a naive datetime is taken as UTC, as Elasticsearch takes a zone-less date."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MILLISECOND


def from_ms(ms: int) -> datetime:
    """A UTC datetime from epoch milliseconds."""
    return _EPOCH + ms * _MILLISECOND


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC) - _EPOCH
