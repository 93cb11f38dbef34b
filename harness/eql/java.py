"""Java semantics that Elasticsearch's painless scripts give EQL functions.

Functions that Elasticsearch cannot turn into a Lucene query run as scripts, so
their arithmetic, string indexes and number formatting are Java's: integer division
truncates, ``%`` takes the dividend's sign, overflow and integer division by zero
fail the search, strings are indexed in UTF-16 code units, and ``1.0`` prints as
``"1.0"``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from harness.eql.fields import Scalar

__all__ = [
    "JavaError",
    "arithmetic",
    "compare",
    "from_units",
    "negate",
    "parse_number",
    "to_java_string",
    "to_units",
]

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_JAVA_LONG = re.compile(r"[+-]?[0-9]+\Z")
_JAVA_DOUBLE = re.compile(r"[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?)\Z")


class JavaError(Exception):
    """What would make Elasticsearch fail the whole search (division by zero, overflow...)."""


def to_java_string(value: Scalar) -> str:
    """``Object.toString()`` for the values a script sees."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _double_to_string(value)
    return str(value)


def _double_to_string(value: float) -> str:
    """``Double.toString``: plain between 1e-3 and 1e7, else ``d.dddE±n``; shortest digits."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        return repr(value)  # Python's repr is also shortest-digits and plain in this range
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).rstrip("0") or "0"
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{exponent + len(digits) - 1}"


def arithmetic(op: str, left: int | float, right: int | float, *, int32: bool = False) -> int | float:
    """``left op right`` with Java's rules (``Arithmetics``): double if either is one, else long.

    ``int32`` is for two Java ``int`` operands (integer literals, ``length``, ``indexOf``):
    ``Arithmetics`` then computes in ``int``, so ``+ - *`` overflow at 32 bits.
    """
    if isinstance(left, int) and isinstance(right, int):
        return _integer_arithmetic(op, left, right, 32 if int32 else 64)
    a, b = float(left), float(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1.0, b)
        return a / b
    if b == 0 or math.isinf(a):
        return math.nan
    return math.fmod(a, b)


def _integer_arithmetic(op: str, a: int, b: int, bits: int) -> int:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if op in "/%":
        if b == 0:
            raise JavaError("/ by zero")
        # Java's / truncates toward zero and % takes the dividend's sign (JLS 15.17.2-3);
        # they never throw on overflow: MIN_VALUE / -1 wraps to MIN_VALUE.
        quotient = abs(a) // abs(b)
        if op == "/":
            result = quotient if (a >= 0) == (b >= 0) else -quotient
            return low if result > high else result
        remainder = abs(a) % abs(b)
        return -remainder if a < 0 else remainder
    result = a + b if op == "+" else a - b if op == "-" else a * b
    if not low <= result <= high:  # Math.addExact, subtractExact, multiplyExact
        raise JavaError(f"{'integer' if bits == 32 else 'long'} overflow in {a} {op} {b}")
    return result


def negate(value: int | float, *, int32: bool = False) -> int | float:
    """Unary minus (``Arithmetics.negate``): ``Math.negateExact`` on integers."""
    if isinstance(value, int):
        return _integer_arithmetic("-", 0, value, 32 if int32 else 64)
    return -value


def compare(left: Scalar, right: Scalar) -> int | None:
    """Java's ordering for two script values: None when they are not comparable."""
    if isinstance(left, bool) or isinstance(right, bool):
        if isinstance(left, bool) and isinstance(right, bool):
            return (left > right) - (left < right)
        return None
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return (left > right) - (left < right)
    if isinstance(left, str) and isinstance(right, str):
        # String.compareTo orders UTF-16 code units, not code points.
        a, b = to_units(left), to_units(right)
        return (a > b) - (a < b)
    return None


def to_units(text: str) -> str:
    """``text`` re-spelled with one Python character per UTF-16 code unit."""
    if all(ord(ch) < 0x10000 for ch in text):
        return text
    data = text.encode("utf-16-be", "surrogatepass")
    return "".join(chr(int.from_bytes(data[i : i + 2], "big")) for i in range(0, len(data), 2))


def from_units(units: str) -> str:
    """Inverse of :func:`to_units`: surrogate pairs become code points again."""
    if all(not 0xD800 <= ord(ch) <= 0xDFFF for ch in units):
        return units
    return units.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "surrogatepass")


def parse_number(text: str, base: int | None) -> int | float:
    """EQL ``number()``: ``Long.valueOf``, then ``Double.valueOf``; a ``0x`` prefix means hex."""
    hex_prefix = text.startswith("0x") or text.startswith("0X")
    radix = base if base is not None else (16 if hex_prefix else 10)
    if radix == 10:
        if _JAVA_LONG.match(text) and _LONG_MIN <= int(text) <= _LONG_MAX:
            return int(text)
        stripped = _java_trim(text)
        if _JAVA_DOUBLE.match(stripped):
            return float(stripped.rstrip("fFdD").replace("Infinity", "inf"))
        raise JavaError(f"Unable to convert [{text}] to number of base [{radix}]")
    if not 2 <= radix <= 36:
        raise JavaError(f"radix {radix} out of range")
    digits = text[2:] if radix == 16 and hex_prefix else text
    try:
        if not re.fullmatch(r"[+-]?[0-9A-Za-z]+", digits):
            raise ValueError(digits)
        value = int(digits, radix)
    except ValueError:
        raise JavaError(f"Unable to convert [{text}] to number of base [{radix}]") from None
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise JavaError(f"Unable to convert [{text}] to number of base [{radix}]")
    return value


def _java_trim(text: str) -> str:
    """``String.trim()``: strips code points up to U+0020 at both ends."""
    start, end = 0, len(text)
    while start < end and ord(text[start]) <= 0x20:
        start += 1
    while end > start and ord(text[end - 1]) <= 0x20:
        end -= 1
    return text[start:end]
