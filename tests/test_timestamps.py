"""The one time reader: what the mapping, the runners and the schedule take a value's time to be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from harness.timestamps import epoch_ms, from_ms, to_ms

T = 1_795_773_600_000  # 2026-11-27T10:00:00Z


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-11-27T10:00:00Z", T, id="iso-utc"),
        pytest.param("2026-11-27T10:00:00", T, id="iso-without-offset-is-utc"),
        pytest.param("2026-11-27T12:00:00+02:00", T, id="iso-other-offset"),
        pytest.param("2026-11-27T10:00:00.1234567Z", T + 123, id="iso-seven-fraction-digits"),
        pytest.param(str(T), T, id="digits-are-epoch-millis"),
        pytest.param("20261127", 20_261_127, id="eight-digits-are-millis-not-a-basic-date"),
        pytest.param("-1500", -1500, id="negative-digits"),
        pytest.param(T, T, id="integer"),
        pytest.param(1500.9, 1500, id="float-truncated"),
        pytest.param(datetime(2026, 11, 27, 10), T, id="naive-datetime-is-utc"),
        pytest.param(datetime(2026, 11, 27, 11, tzinfo=timezone(timedelta(hours=1))), T, id="aware-datetime"),
        pytest.param(datetime(1969, 12, 31, 23, 59, 59, 999_500, tzinfo=UTC), -1, id="before-1970-floors"),
        pytest.param(True, None, id="bool-is-no-time"),
        pytest.param(float("nan"), None, id="nan"),
        pytest.param(float("inf"), None, id="infinity"),
        pytest.param("²", None, id="non-ascii-digit"),
        pytest.param(" 2026-11-27T10:00:00Z", None, id="padded-is-malformed"),
        pytest.param("yesterday", None, id="not-a-date"),
        pytest.param(None, None, id="null"),
        pytest.param(["2026-11-27T10:00:00Z"], None, id="list"),
    ],
)
def test_epoch_ms(value: object, expected: int | None) -> None:
    assert epoch_ms(value) == expected


@pytest.mark.parametrize("ms", [0, 1, -1, T, T + 999])
def test_from_ms_and_to_ms_invert_each_other(ms: int) -> None:
    assert to_ms(from_ms(ms)) == ms
