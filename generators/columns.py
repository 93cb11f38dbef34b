"""Per-row values formatted a whole column at a time, character for character as the renderers do.

The renderers format one launch at a time (``sources.common``: ``iso``, ``entity_guid``,
``defend_entity``); the fast writers format a chunk's rows at once here, in numpy, as
fixed-width byte matrices. ``tests/test_fastpath.py`` holds the result to the renderers.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["base64_column", "guid_column", "iso_column"]

_HEX = np.array([f"{i:02X}".encode() for i in range(256)], dtype="S2")
_BASE64 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", dtype=np.uint8)
_DAY_S = 86_400


def _digits(out: np.ndarray, at: int, width: int, values: np.ndarray) -> None:
    """Write ``values`` zero-padded to ``width`` digits into columns ``at`` onwards of ``out``."""
    for place in range(width):
        out[:, at + width - 1 - place] = 48 + (values // 10**place) % 10


def _text(matrix: np.ndarray) -> pa.Array:
    """The rows of a byte matrix as strings."""
    width = matrix.shape[1]
    return pa.array(np.ascontiguousarray(matrix).view(f"S{width}").ravel(), type=pa.binary()).cast(
        pa.string()
    )


def iso_column(ns: np.ndarray, digits: int) -> pa.Array:
    """``common.iso`` without the ``Z`` for nanoseconds since the epoch (years 1970 to 9999): truncated, not
    rounded, like the renderers."""
    seconds, fraction = np.divmod(ns.astype(np.int64), 1_000_000_000)
    days, of_day = np.divmod(seconds, _DAY_S)
    # The proleptic Gregorian date of a day number (H. Hinnant's civil_from_days; days >= 0 here).
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    width = 19 + (digits + 1 if digits else 0)
    out = np.empty((len(ns), width), dtype=np.uint8)
    for at, char in ((4, b"-"), (7, b"-"), (10, b"T"), (13, b":"), (16, b":")):
        out[:, at] = ord(char)
    _digits(out, 0, 4, year)
    _digits(out, 5, 2, month)
    _digits(out, 8, 2, day)
    _digits(out, 11, 2, of_day // 3_600)
    _digits(out, 14, 2, of_day // 60 % 60)
    _digits(out, 17, 2, of_day % 60)
    if digits:
        out[:, 19] = ord(".")
        _digits(out, 20, digits, fraction // 10 ** (9 - digits))
    return _text(out)


def guid_column(hi: np.ndarray, lo: np.ndarray, reverse: bool) -> pa.Array:
    """Vectorized ``entity_guid(entity_hex(hi, lo))`` (``reverse``: of the reversed hex string)."""
    raw = np.empty((len(hi), 2), dtype=">u8")
    raw[:, 0], raw[:, 1] = hi, lo
    digits = _HEX[raw.view(np.uint8).reshape(len(hi), 16)].view("S1").reshape(len(hi), 32)
    if reverse:
        digits = digits[:, ::-1]
    out = np.full((len(hi), 38), b"-", dtype="S1")
    out[:, 0], out[:, 37] = b"{", b"}"
    out[:, 1:9], out[:, 10:14], out[:, 15:19], out[:, 20:24], out[:, 25:37] = (
        digits[:, 0:8],
        digits[:, 8:12],
        digits[:, 12:16],
        digits[:, 16:20],
        digits[:, 20:32],
    )
    return pa.array(np.ascontiguousarray(out).view("S38").ravel(), type=pa.binary()).cast(pa.string())


def base64_column(texts: pa.Array) -> pa.Array:
    """Each ASCII string's standard base64 (``base64.b64encode``), rows of the same length at once."""
    n = len(texts)
    if n == 0:
        return pa.array([], type=pa.string())
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32, count=n + 1, offset=texts.offset * 4)
    data = np.frombuffer(texts.buffers()[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    parts: list[pa.Array] = []
    order: list[np.ndarray] = []
    for length in np.unique(lengths).tolist():
        rows = np.flatnonzero(lengths == length)
        order.append(rows)
        if length == 0:
            parts.append(pa.array([""] * len(rows), type=pa.string()))
            continue
        groups = -(-length // 3)
        raw = np.zeros((len(rows), groups * 3), dtype=np.uint8)
        raw[:, :length] = data[offsets[rows, None] + np.arange(length)]
        bits = raw.reshape(len(rows), groups, 3).astype(np.uint32)
        word = bits[:, :, 0] << 16 | bits[:, :, 1] << 8 | bits[:, :, 2]
        sextets = np.stack([word >> 18, word >> 12 & 63, word >> 6 & 63, word & 63], axis=2)
        out = _BASE64[sextets].reshape(len(rows), groups * 4)
        padding = groups * 3 - length
        if padding:
            out[:, groups * 4 - padding :] = ord("=")
        parts.append(_text(out))
    inverse = np.empty(n, dtype=np.int64)
    inverse[np.concatenate(order)] = np.arange(n)
    return pa.concat_arrays(parts).take(pa.array(inverse))
