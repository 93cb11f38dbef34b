"""Regular expressions in the syntax RE2 (DuckDB) and java.util.regex (Spark) read alike.

Only ``[...]`` classes of ``\\x{...}`` code points, ASCII letters and digits, ``.`` under
``(?s)``, ``*``/``+``/``?``/``{n,m}``, non-capturing groups, alternation, and a backslash
before a punctuation character (``re.escape``'s output). Case-insensitivity is spelled
out as ``[aA]`` classes for ASCII letters only, as Elasticsearch folds (neither engine's
own case-insensitive flag is used: both fold beyond ASCII).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from harness.eql.lucene_regex import lucene_to_python

__all__ = [
    "RE2_MAX_REPEAT",
    "any_of",
    "counts_past",
    "lucene_regex",
    "regex_char",
    "repeats_a_group",
    "wildcard_regex",
]

RE2_MAX_REPEAT = 1000  # RE2 rejects a counted repetition above this
_NEVER = r"[^\x{0}-\x{10FFFF}]"  # a class nothing is in: RE2 has no (?!)
# (?:[a-z])+ is [a-z]+: without the group, java.util.regex repeats a class in a loop instead
# of recursing, and `repeats_a_group` is left to find the groups that really repeat.
_SINGLE_ATOM_GROUP = re.compile(r"\(\?:(\[(?:\\.|[^\]\\])*\]|\\[^U]|[^\\()|\[\]{}*+?])\)")
_COUNT = re.compile(r"\{(\d+)(?:,(\d*))?\}")


def regex_char(ch: str, insensitive: bool) -> str:
    """``ch`` as itself: ``[aA]`` for an ASCII letter if insensitive, ``\\x{...}`` if not alphanumeric."""
    if "a" <= ch <= "z" or "A" <= ch <= "Z":
        return f"[{ch.lower()}{ch.upper()}]" if insensitive else ch
    if "0" <= ch <= "9":
        return ch
    return f"\\x{{{ord(ch):x}}}"


def wildcard_regex(pattern: str, insensitive: bool, lucene: bool = False) -> str:
    """The regular expression of ``patterns.eql_wildcard`` (or ``lucene_wildcard``), whole-value."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if lucene and ch == "\\" and i + 1 < len(pattern):
            out.append(regex_char(pattern[i + 1], False))  # escaped: matched as itself, case and all
            i += 2
            continue
        out.append(".*" if ch == "*" else "." if ch == "?" else regex_char(ch, insensitive))
        i += 1
    return "(?s)" + "".join(out)


def any_of(regexes: list[str]) -> str:
    """One whole-value regular expression matching what any of ``regexes`` (each ``(?s)...``) matches.

    A value matches some pattern of a list exactly when it matches their alternation, so a
    field's patterns are tested in one pass over its values: a list field's elements are walked
    once, not once per pattern (measured: ``process.args : ("*.ost", "*.pst")`` over 2M fleet
    events, 0.83 s as two tests, 0.47 s as one).
    """
    if len(regexes) == 1:
        return regexes[0]
    assert all(regex.startswith("(?s)") for regex in regexes)
    return "(?s)(?:" + "|".join(regex.removeprefix("(?s)") for regex in regexes) + ")"


def lucene_regex(pattern: str, insensitive: bool) -> str:
    """A Lucene regular expression in the shared syntax, from the Python form the reference uses."""
    python = _SINGLE_ATOM_GROUP.sub(r"\1", lucene_to_python(pattern, insensitive))
    python = re.sub(r"\\U([0-9a-f]{8})", lambda m: f"\\x{{{int(m.group(1), 16):x}}}", python)
    python = python.replace("(?!)", _NEVER)
    # re.escape output outside classes: a backslash before a non-alphanumeric character,
    # which RE2 and java.util.regex both read as that character.
    return "(?s)" + python


def _operators(regex: str) -> Iterator[int]:
    """Positions of ``regex``'s characters that are operators: outside classes, not escaped."""
    i, in_class = 0, False
    while i < len(regex):
        ch = regex[i]
        if ch == "\\":
            # \x{...} is one code point (its braces are no count); any other escape is two characters.
            i = regex.index("}", i) + 1 if regex.startswith("x{", i + 1) else i + 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        else:
            yield i
        i += 1


def repeats_a_group(regex: str) -> bool:
    """Whether ``regex`` applies ``*``, ``+``, ``?`` or ``{n,m}`` to a group."""
    return any(regex[i] == ")" and regex[i + 1 : i + 2] in ("*", "+", "?", "{") for i in _operators(regex))


def counts_past(regex: str, limit: int) -> bool:
    """Whether ``regex`` has a counted repetition (``{n}``, ``{n,m}``) above ``limit``."""
    for i in _operators(regex):
        count = _COUNT.match(regex, i) if regex[i] == "{" else None
        if count and any(n and int(n) > limit for n in count.groups()):
            return True
    return False
