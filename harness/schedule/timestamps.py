"""The time an execution's range filter sees for a document, in epoch milliseconds (UTC)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.eql.fields import field_values
from harness.timestamps import epoch_ms

__all__ = ["DEFAULT_TIMESTAMP", "event_time_ms"]

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
    return epoch_ms(values[0]) if values else None
