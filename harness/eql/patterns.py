"""Elasticsearch's term, prefix and wildcard matching, compiled to Python regular expressions.

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
    "ascii_fold_char",
    "eql_wildcard",
    "exact",
    "lucene_wildcard",
    "prefix",
]

Matcher = re.Pattern[str]


def ascii_fold_char(ch: str) -> str:
    """A regex fragment matching ``ch`` in either ASCII case (other characters: only itself)."""
    if "a" <= ch <= "z" or "A" <= ch <= "Z":
        return f"[{ch.lower()}{ch.upper()}]"
    return re.escape(ch)


def _literal(text: str, insensitive: bool) -> str:
    if not insensitive:
        return re.escape(text)
    return "".join(ascii_fold_char(ch) for ch in text)


@lru_cache(maxsize=4096)
def exact(text: str, insensitive: bool) -> Matcher:
    """A term query: the whole value equals ``text`` (ASCII case-insensitive if asked)."""
    return re.compile(_literal(text, insensitive), re.DOTALL)


@lru_cache(maxsize=4096)
def prefix(text: str, insensitive: bool) -> Matcher:
    """A prefix query, as ``startsWith`` on a field becomes: the prefix is literal."""
    return re.compile(_literal(text, insensitive) + ".*", re.DOTALL)


@lru_cache(maxsize=4096)
def eql_wildcard(pattern: str, insensitive: bool) -> Matcher:
    """The pattern of ``:``, ``like`` and ``like~``.

    ``*`` is any run of characters, ``?`` exactly one code point, and everything else,
    backslash included, is literal: EQL escapes ``\\`` before it builds Lucene's
    wildcard (``StringUtils.likeToLuceneWildcard``), so there is no way to write a
    literal ``*`` or ``?``.
    """
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(ascii_fold_char(ch) if insensitive else re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


@lru_cache(maxsize=4096)
def lucene_wildcard(pattern: str, insensitive: bool) -> Matcher:
    """A raw Lucene wildcard, as ``endsWith`` and ``stringContains`` on a field build it.

    Elasticsearch passes their argument through unescaped (``"*" + arg``), so Lucene
    reads ``\\x`` as an escaped ``x`` (matched case-sensitively even in a
    case-insensitive query, as ``AutomatonQueries`` adds it with ``makeChar``), a
    trailing lone ``\\`` as itself, and ``*`` and ``?`` in the argument as wildcards.
    """
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(ascii_fold_char(ch) if insensitive else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)
