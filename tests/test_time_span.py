"""A run's first and last time: the text shortcut gives what reading every time gives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.timestamps import epoch_ms
from harness.validation.time_span import TimeSpan

_DIGITS = st.integers(0, 9).map(str)


@st.composite
def _iso(draw: st.DrawFn) -> str:
    """ISO times near the shortcut's edges: day 28 to 31 (Feb 30 is no time), year 0, hour 24,
    fractions of any length, an offset or none in place of ``Z``."""
    year = draw(st.sampled_from(["0000", "0001", "1969", "2024", "2026", "9999"]))
    month = draw(st.sampled_from(["01", "02", "04", "12", "13"]))
    day = draw(st.sampled_from(["01", "09", "10", "27", "28", "29", "30", "31", "00"]))
    hour = draw(st.sampled_from(["00", "09", "23", "24"]))
    minute, second = (
        draw(st.sampled_from(["00", "59", "60"])),
        draw(st.sampled_from(["00", "07", "59", "60"])),
    )
    fraction = "".join(draw(st.lists(_DIGITS, max_size=10)))
    zone = draw(st.sampled_from(["Z", "Z", "", "+00:00", "+05:30", "-14:00", "z"]))
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}{'.' + fraction if fraction else ''}{zone}"


_TIMES = (
    _iso()
    | st.integers(-(10**13), 10**13)
    | st.floats(allow_nan=True)
    | st.integers(0, 10**13).map(str)
    | st.booleans()
    | st.none()
    | st.text(max_size=4)
)


@given(st.lists(_TIMES, max_size=30))
def test_the_span_is_the_least_and_greatest_time_read(values: list[object]) -> None:
    span = TimeSpan()
    for value in values:
        span.note(value)
    read = [ms for ms in map(epoch_ms, values) if ms is not None]
    assert (span.first, span.last) == ((min(read), max(read)) if read else (None, None))


def test_a_shortcut_string_of_another_length_is_a_time_of_its_own() -> None:
    span = TimeSpan()
    for value in ["2026-11-02T00:00:12Z", "2026-11-02T00:00:12.5Z", "2026-11-02T00:00:11.999999Z", 5]:
        span.note(value)
    assert (span.first, span.last) == (5, epoch_ms("2026-11-02T00:00:12.5Z"))


@pytest.mark.parametrize(
    "values",
    [
        ["2026-02-27T00:00:00Z", "2026-02-30T00:00:00Z"],  # no 30 February: the 27th is the last
        ["2026-04-31T00:00:00.5Z", "2026-04-01T00:00:00.5Z"],
        ["0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z"],  # no year 0: the year 1 is the first
        ["2026-11-02T24:00:00Z", "2026-11-02T23:00:00Z"],
        ["2026-11-02T10:00:01+05:00", "2026-11-02T10:00:00Z"],  # an offset orders by its time, not its text
    ],
    ids=["30-february", "31-april", "year-0", "hour-24", "offset"],
)
def test_a_string_that_is_no_time_or_another_time_never_stands_in(values: list[object]) -> None:
    span = TimeSpan()
    for value in values:
        span.note(value)
    read = [ms for ms in map(epoch_ms, values) if ms is not None]
    assert (span.first, span.last) == (min(read), max(read))
