"""Elasticsearch's term, prefix and wildcard matching, in time linear in the value.

A wildcard pattern is split at its ``*`` into segments of fixed length (each position
one code point: a literal, ``[xX]`` for an ASCII letter compared case-insensitively, or
``?``). The first segment must start the value and the last must end it; the ones
between are found left to right, each at its leftmost place after the previous one.
Taking the leftmost place is never wrong (a later one leaves less room for the rest),
so there is no backtracking: ``*a*a*a*...*b`` reads the value a segment's length of
times at most, where a backtracking regular expression takes exponential time.
Each segment is a regular expression without repetition, which ``re`` runs without
backtracking across segments.

Case-insensitivity is built from the PATTERN, as Elasticsearch's ``AutomatonQueries``
does before 9.5: each ASCII letter of the pattern matches both of its cases and every
other code point matches only itself. So ``"list"`` never matches ``"LİST"``, ``"é"``
never matches ``"É"`` and ``"ß"`` never matches ``"SS"``. (Elasticsearch 9.5 moves to
Lucene's Unicode case folding; the harness follows the releases out through mid-2026.)
Python's ``re.IGNORECASE`` folds Unicode and is therefore never used.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "Glob",
    "ascii_fold_char",
    "eql_wildcard",
    "exact",
    "lucene_wildcard",
    "prefix",
]

_STAR = None  # a `*` among the one-code-point fragments of a pattern


def ascii_fold_char(ch: str) -> str:
    """A regex fragment matching ``ch`` in either ASCII case (other characters: only itself)."""
    if "a" <= ch <= "z" or "A" <= ch <= "Z":
        return f"[{ch.lower()}{ch.upper()}]"
    return re.escape(ch)


class _Segment:
    """A run of one-code-point fragments between two ``*``: its length and its expression."""

    def __init__(self, fragments: list[str]) -> None:
        self.length = len(fragments)
        self.regex = re.compile("".join(fragments), re.DOTALL)


class Glob:
    """A whole-value wildcard matcher: ``*`` any run, every other fragment one code point."""

    def __init__(self, fragments: list[str | None]) -> None:
        segments: list[list[str]] = [[]]
        for fragment in fragments:
            if fragment is _STAR:
                segments.append([])
            else:
                segments[-1].append(fragment)
        self._starred = len(segments) > 1
        self._first = _Segment(segments[0])
        self._last = _Segment(segments[-1])
        self._middle = [_Segment(s) for s in segments[1:-1] if s]
        self._least = sum(len(s) for s in segments)  # the shortest value that can match

    def matches(self, text: str) -> bool:
        """Whether the whole of ``text`` matches the pattern."""
        if not self._starred:
            return self._first.regex.fullmatch(text) is not None
        if len(text) < self._least:
            return False
        first, last = self._first, self._last
        if first.length and first.regex.match(text) is None:
            return False
        start, end = first.length, len(text) - last.length
        if last.length and last.regex.match(text, end) is None:
            return False
        for segment in self._middle:
            found = segment.regex.search(text, start, end)
            if found is None:
                return False
            start = found.end()
        return True


def _literal(text: str, insensitive: bool) -> list[str | None]:
    return [ascii_fold_char(ch) if insensitive else re.escape(ch) for ch in text]


@lru_cache(maxsize=4096)
def exact(text: str, insensitive: bool) -> Glob:
    """A term query: the whole value equals ``text`` (ASCII case-insensitive if asked)."""
    return Glob(_literal(text, insensitive))


@lru_cache(maxsize=4096)
def prefix(text: str, insensitive: bool) -> Glob:
    """A prefix query, as ``startsWith`` on a field becomes: the prefix is literal."""
    return Glob([*_literal(text, insensitive), _STAR])


@lru_cache(maxsize=4096)
def eql_wildcard(pattern: str, insensitive: bool) -> Glob:
    """The pattern of ``:``, ``like`` and ``like~``.

    ``*`` is any run of characters, ``?`` exactly one code point, and everything else,
    backslash included, is literal: EQL escapes ``\\`` before it builds Lucene's
    wildcard (``StringUtils.likeToLuceneWildcard``), so there is no way to write a
    literal ``*`` or ``?``.
    """
    fragments: list[str | None] = []
    for ch in pattern:
        if ch == "*":
            fragments.append(_STAR)
        elif ch == "?":
            fragments.append(".")
        else:
            fragments.append(ascii_fold_char(ch) if insensitive else re.escape(ch))
    return Glob(fragments)


@lru_cache(maxsize=4096)
def lucene_wildcard(pattern: str, insensitive: bool) -> Glob:
    """A raw Lucene wildcard, as ``endsWith`` and ``stringContains`` on a field build it.

    Elasticsearch passes their argument through unescaped (``"*" + arg``), so Lucene
    reads ``\\x`` as an escaped ``x`` (matched case-sensitively even in a
    case-insensitive query, as ``AutomatonQueries`` adds it with ``makeChar``), a
    trailing lone ``\\`` as itself, and ``*`` and ``?`` in the argument as wildcards.
    """
    fragments: list[str | None] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            fragments.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            fragments.append(_STAR)
        elif ch == "?":
            fragments.append(".")
        else:
            fragments.append(ascii_fold_char(ch) if insensitive else re.escape(ch))
        i += 1
    return Glob(fragments)
