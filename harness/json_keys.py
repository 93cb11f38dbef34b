"""A key that one JSON object holds twice: Elasticsearch refuses such a document, orjson keeps the last.

Elasticsearch parses ``_source`` with Jackson's ``STRICT_DUPLICATE_DETECTION`` on (since 6.0:
elastic/elasticsearch#22073, "Enable strict duplicate checks for JSON content"), so a document
with a repeated key never reaches an index; the harness must not quietly judge half of it.
orjson drops all but the last value, so the check is cheap first: every key of the text is a
``"`` followed by ``:``, and re-serializing what was parsed writes each kept key once. Only
when the two counts differ (or the text puts space before a colon) is the text parsed again,
keeping every pair, to name the key.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import orjson

__all__ = ["duplicate_key"]

_SPACED_COLON = re.compile(rb'"[ \t\r\n]+:')


class _RepeatedKeyError(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _RepeatedKeyError(key)
        seen[key] = value
    return seen


def duplicate_key(raw: bytes, parsed: Any) -> tuple[str, int] | None:
    """The first key an object of ``raw`` repeats, with the 1-based character column of its second
    use; None when no object repeats a key. ``parsed`` is what orjson made of ``raw``."""
    if raw.count(b'":') == orjson.dumps(parsed).count(b'":') and not _SPACED_COLON.search(raw):
        return None
    try:
        json.loads(raw, object_pairs_hook=_no_repeats)
    except _RepeatedKeyError as repeated:
        return repeated.key, _column(raw, repeated.key)
    except ValueError:
        return None  # orjson read it, so json's stricter corners (e.g. lone surrogates) are not ours
    return None


def _column(raw: bytes, key: str) -> int:
    """The column of the key's second use in the object that repeats it (1 when it cannot be placed)."""
    uses = [
        m.start()
        for m in re.finditer(re.escape(json.dumps(key, ensure_ascii=False).encode()) + rb"\s*:", raw)
    ]
    for first, second in itertools.pairwise(uses):
        if _same_object(raw, first, second):
            return len(raw[:second].decode("utf-8", errors="replace")) + 1
    return 1


def _same_object(raw: bytes, first: int, second: int) -> bool:
    """Whether the keys at ``first`` and ``second`` belong to one object: the brackets between them
    never close it and are all closed again (strings skipped, escapes and all)."""
    depth, i, inside = 0, raw.index(b":", first), False
    while i < second:
        ch = raw[i]
        if inside:
            if ch == 0x5C:  # a backslash escapes the next byte
                i += 1
            elif ch == 0x22:
                inside = False
        elif ch == 0x22:
            inside = True
        elif ch in b"{[":
            depth += 1
        elif ch in b"}]":
            depth -= 1
            if depth < 0:
                return False
        i += 1
    return depth == 0
