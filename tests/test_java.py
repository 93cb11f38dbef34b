"""Java's integer arithmetic as ``Arithmetics`` runs it, at the edges the conformance cases cannot reach."""

from __future__ import annotations

import pytest

from harness.eql.java import JavaError, arithmetic, negate

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


@pytest.mark.parametrize(
    ("op", "left", "right", "int32", "expected"),
    [
        ("/", _LONG_MIN, -1, False, _LONG_MIN),  # Java's / wraps, it never throws on overflow
        ("%", _LONG_MIN, -1, False, 0),
        ("/", _INT_MIN, -1, True, _INT_MIN),
        ("%", -(2**62 + 1), 2**62 + 3, False, -(2**62 + 1)),  # exact, no float on the way
        ("%", 7, -4, False, 3),
        ("/", -7, 2, True, -3),
        ("+", _INT_MAX, 1, False, 2**31),  # a long does not overflow at 32 bits
    ],
)
def test_integer_arithmetic(op: str, left: int, right: int, int32: bool, expected: int) -> None:
    assert arithmetic(op, left, right, int32=int32) == expected


@pytest.mark.parametrize(
    ("op", "left", "right", "int32"),
    [
        ("+", _INT_MAX, 1, True),
        ("*", _INT_MIN, 2, True),
        ("+", _LONG_MAX, 1, False),
        ("-", _LONG_MIN, 1, False),
        ("/", 1, 0, False),
        ("%", 1, 0, True),
    ],
)
def test_integer_arithmetic_fails(op: str, left: int, right: int, int32: bool) -> None:
    with pytest.raises(JavaError):
        arithmetic(op, left, right, int32=int32)


def test_negate_exact() -> None:
    assert negate(_INT_MIN) == 2**31
    with pytest.raises(JavaError):
        negate(_INT_MIN, int32=True)
    with pytest.raises(JavaError):
        negate(_LONG_MIN)
