"""Lucene's regular-expression syntax (``regex``, ``regex~``): parsed once, matched as an automaton.

Elasticsearch runs EQL's ``regex`` as a Lucene ``regexp`` query with every optional
operator enabled. This module parses the pattern the way Lucene's ``RegExp`` parser
does, function for function, into the tree of ``automata.py``. The engines match that
tree as an automaton (:func:`compile_lucene_regex`), in time linear in the value, as
Lucene does; :func:`lucene_to_python` prints it as an equivalent Python expression for
the SQL engines' translation (``harness.sql.sqlregex``) and the tests' oracle. Either
is matched against the WHOLE value. Points where Lucene differs from Python:

* ``^`` and ``$`` are ordinary characters, not anchors; ``.`` matches any code point,
  newline included.
* ``"..."`` is a literal string, ``@`` any string, ``#`` the empty language, ``()`` the
  empty string, ``<n-m>`` a decimal number in a range.
* Characters that Python treats as special but Lucene does not are literal; a ``*``
  or ``|`` where Lucene expects a character is that character.
* ``\\d \\s \\w`` (and negations) are ASCII-only; ``\\s`` is tab, newline, CR and space.
* ``regex~`` is ASCII case-insensitive for single characters and quoted strings
  (Lucene 9's ``ASCII_CASE_INSENSITIVE``); ranges such as ``[a-z]`` are NOT expanded.

Complement (``~``), intersection (``&``) and named automata (``<name>``) are rejected
with :class:`EqlUnsupportedError`, and so is a pattern whose automaton would pass
Lucene's size limit (``automata.MAX_POSITIONS``; Elasticsearch fails such a search).
"""

from __future__ import annotations

from functools import lru_cache

from harness.eql.automata import (
    AnyString,
    Automaton,
    AutomatonTooLargeError,
    Chars,
    Concat,
    Empty,
    Group,
    Never,
    Node,
    Repeat,
    Union,
    build,
)

__all__ = ["RegexError", "compile_lucene_regex", "lucene_to_python", "parse_lucene_regex"]

_MAX_CODE_POINT = 0x10FFFF
_PREDEFINED: dict[str, list[tuple[int, int]]] = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0D, 0x0D), (0x20, 0x20)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
}


class RegexError(ValueError):
    """A pattern Lucene rejects (``unsupported`` False) or the harness cannot run (True)."""

    def __init__(self, message: str, position: int, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.unsupported = unsupported


@lru_cache(maxsize=2048)
def compile_lucene_regex(pattern: str, insensitive: bool) -> Automaton:
    """Compile a Lucene pattern; ``matches(value)`` on the result tests the whole value."""
    tree = parse_lucene_regex(pattern, insensitive)
    try:
        return build(tree)
    except AutomatonTooLargeError as error:
        raise RegexError(str(error), 0, unsupported=True) from error


@lru_cache(maxsize=2048)
def parse_lucene_regex(pattern: str, insensitive: bool) -> Node:
    """The tree of a Lucene pattern; raises :class:`RegexError` where Lucene's parser does."""
    if pattern == "":
        return Empty()
    parser = _RegexParser(pattern, insensitive)
    out = parser.union()
    if parser.pos < len(pattern):
        raise RegexError(f"end of pattern expected at position {parser.pos}", parser.pos)
    return out


def lucene_to_python(pattern: str, insensitive: bool) -> str:
    """The pattern as a Python regular expression, for ``re.fullmatch`` under ``re.DOTALL``."""
    return _python(parse_lucene_regex(pattern, insensitive))


def _python(node: Node) -> str:
    match node:
        case Chars(ranges=ranges):
            return _class(list(ranges))
        case Never():
            return "(?!)"
        case Empty():
            return ""
        case AnyString():
            return ".*"
        case Concat(parts=parts):
            return "".join(_python(part) for part in parts)
        case Union(left=left, right=right):
            return f"(?:{_python(left)}|{_python(right)})"
        case Group(inner=inner):
            return f"(?:{_python(inner)})"
        case Repeat(inner=inner, low=low, high=high, op=op):
            if op != "{}":
                return f"(?:{_python(inner)}){op}"
            return f"(?:{_python(inner)}){{{low},{'' if high is None else high}}}"
    raise TypeError(f"not a regular expression node: {node!r}")


def _chars(ranges: list[tuple[int, int]]) -> Chars:
    return Chars(tuple(_normalize(ranges)))


def _class(ranges: list[tuple[int, int]]) -> str:
    ranges = _normalize(ranges)
    if not ranges:
        return "(?!)"
    if ranges == [(0, _MAX_CODE_POINT)]:
        return "."
    parts = []
    for lo, hi in ranges:
        parts.append(_class_char(lo) if lo == hi else f"{_class_char(lo)}-{_class_char(hi)}")
    return "[" + "".join(parts) + "]"


def _class_char(code: int) -> str:
    return f"\\U{code:08x}"


def _normalize(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(r for r in ranges if r[0] <= r[1]):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    start = 0
    for lo, hi in _normalize(ranges):
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= _MAX_CODE_POINT:
        out.append((start, _MAX_CODE_POINT))
    return out


def _char_ranges(code: int, insensitive: bool) -> list[tuple[int, int]]:
    ranges = [(code, code)]
    ch = chr(code)
    if insensitive and ("a" <= ch <= "z" or "A" <= ch <= "Z"):
        other = ch.swapcase()
        ranges.append((ord(other), ord(other)))
    return ranges


class _RegexParser:
    """Mirrors Lucene's ``RegExp`` parse methods (parseUnionExp, parseInterExp, ...)."""

    def __init__(self, pattern: str, insensitive: bool) -> None:
        self.s = pattern
        self.pos = 0
        self.insensitive = insensitive

    def more(self) -> bool:
        return self.pos < len(self.s)

    def peek(self, chars: str) -> bool:
        return self.more() and self.s[self.pos] in chars

    def match(self, ch: str) -> bool:
        if self.more() and self.s[self.pos] == ch:
            self.pos += 1
            return True
        return False

    def next(self) -> str:
        if not self.more():
            raise RegexError("unexpected end of pattern", self.pos)
        ch = self.s[self.pos]
        self.pos += 1
        return ch

    def union(self) -> Node:
        left = self.intersection()
        if self.match("|"):
            return Union(left, self.union())
        return left

    def intersection(self) -> Node:
        left = self.concatenation()
        if self.peek("&"):
            raise RegexError("intersection (&) is not supported by the harness", self.pos, unsupported=True)
        return left

    def concatenation(self) -> Node:
        parts = [self.repeat()]
        while self.more() and not self.peek(")|&"):
            parts.append(self.repeat())
        return parts[0] if len(parts) == 1 else Concat(tuple(parts))

    def repeat(self) -> Node:
        expr = self.complement()
        while self.peek("?*+{"):
            if self.match("?"):
                expr = Repeat(expr, 0, 1, "?")
            elif self.match("*"):
                expr = Repeat(expr, 0, None, "*")
            elif self.match("+"):
                expr = Repeat(expr, 1, None, "+")
            elif self.match("{"):
                expr = self.bounded_repeat(expr)
        return expr

    def bounded_repeat(self, expr: Node) -> Node:
        low = self.integer()
        high: int | None = low
        if self.match(","):
            high = self.integer() if self.peek("0123456789") else None
        if not self.match("}"):
            raise RegexError(f"expected '}}' at position {self.pos}", self.pos)
        if high is not None and high < low:
            return Never()
        return Repeat(expr, low, high, "{}")

    def integer(self) -> int:
        start = self.pos
        while self.peek("0123456789"):
            self.pos += 1
        if start == self.pos:
            raise RegexError(f"integer expected at position {self.pos}", self.pos)
        return int(self.s[start : self.pos])

    def complement(self) -> Node:
        if self.peek("~"):
            raise RegexError("complement (~) is not supported by the harness", self.pos, unsupported=True)
        return self.char_class_expression()

    def char_class_expression(self) -> Node:
        if self.match("["):
            negate = self.match("^")
            ranges = self.char_classes()
            if not self.match("]"):
                raise RegexError(f"expected ']' at position {self.pos}", self.pos)
            return _chars(_complement(ranges) if negate else ranges)
        return self.simple()

    def char_classes(self) -> list[tuple[int, int]]:
        ranges = self.char_class()
        while self.more() and not self.peek("]"):
            ranges += self.char_class()
        return ranges

    def char_class(self) -> list[tuple[int, int]]:
        predefined = self.predefined()
        if predefined is not None:
            return predefined
        code = ord(self.char_expression())
        if self.match("-"):
            end = ord(self.char_expression())
            if code > end:  # Lucene's makeCharRange refuses it
                raise RegexError(f"invalid range: from ({code}) cannot be > to ({end})", self.pos)
            return [(code, end)]
        return _char_ranges(code, self.insensitive)

    def predefined(self) -> list[tuple[int, int]] | None:
        """``\\d \\D \\s \\S \\w \\W`` at the current position, or None."""
        if self.s.startswith("\\", self.pos) and self.pos + 1 < len(self.s):
            letter = self.s[self.pos + 1]
            if letter.lower() in _PREDEFINED:
                self.pos += 2
                ranges = _PREDEFINED[letter.lower()]
                return _complement(ranges) if letter.isupper() else list(ranges)
            if "a" <= letter.lower() <= "z":
                raise RegexError(f"invalid character class \\{letter} at position {self.pos}", self.pos)
        return None

    def char_expression(self) -> str:
        if self.match("\\"):
            return self.next()
        return self.next()

    def simple(self) -> Node:
        if self.match("."):
            return Chars(((0, _MAX_CODE_POINT),))
        if self.match("#"):
            return Never()
        if self.match("@"):
            return AnyString()
        if self.match('"'):
            start = self.pos
            end = self.s.find('"', start)
            if end < 0:
                raise RegexError(f"expected '\"' at position {start}", start)
            self.pos = end + 1
            return Concat(tuple(_chars(_char_ranges(ord(ch), self.insensitive)) for ch in self.s[start:end]))
        if self.match("("):
            if self.match(")"):
                return Empty()
            inner = self.union()
            if not self.match(")"):
                raise RegexError(f"expected ')' at position {self.pos}", self.pos)
            return Group(inner)
        if self.peek("<"):
            return self.interval()
        predefined = self.predefined()
        if predefined is not None:
            return _chars(predefined)
        return _chars(_char_ranges(ord(self.char_expression()), self.insensitive))

    def interval(self) -> Node:
        start = self.pos
        end = self.s.find(">", start)
        if end < 0:
            raise RegexError(f"expected '>' at position {start}", start)
        body = self.s[start + 1 : end]
        self.pos = end + 1
        low_text, dash, high_text = body.partition("-")
        if not dash:
            raise RegexError(f"named automaton <{body}> is not supported", start, unsupported=True)
        if not (low_text.isdigit() and high_text.isdigit()):
            raise RegexError(f"interval syntax error at position {start}", start)
        low, high = sorted((int(low_text), int(high_text)))
        # Lucene: bounds of equal length fix the width (zero-padded); otherwise any
        # number of leading zeros is accepted.
        width = len(low_text) if len(low_text) == len(high_text) else 0
        return _decimal_interval(low, high, width)


def _decimal_interval(low: int, high: int, width: int) -> Node:
    if width:
        return _alternatives(_range_digits(str(low).zfill(width), str(high).zfill(width)))
    alternatives = []
    for digits in range(len(str(low)), len(str(high)) + 1):
        lo = max(low, 10 ** (digits - 1) if digits > 1 else 0)
        hi = min(high, 10**digits - 1)
        if lo <= hi:
            alternatives += _range_digits(str(lo), str(hi))
    zeros = Repeat(Chars(((0x30, 0x30),)), 0, None, "*")
    return Concat((zeros, _alternatives(alternatives)))


def _alternatives(numbers: list[list[tuple[int, int]]]) -> Node:
    """The union of digit strings, each a list of (low, high) code point ranges."""
    tree: Node = Concat(tuple(Chars((digit,)) for digit in numbers[-1]))
    for number in reversed(numbers[:-1]):
        tree = Union(Concat(tuple(Chars((digit,)) for digit in number)), tree)
    return Group(tree)


def _range_digits(low: str, high: str) -> list[list[tuple[int, int]]]:
    """The equal-length decimal strings from ``low`` to ``high`` inclusive, as digit ranges."""
    if low == high:
        return [[(ord(d), ord(d)) for d in low]]
    if len(low) == 1:
        return [[(ord(low), ord(high))]]
    head_low, head_high = (ord(low[0]), ord(low[0])), (ord(high[0]), ord(high[0]))
    if low[0] == high[0]:
        return [[head_low, *tail] for tail in _range_digits(low[1:], high[1:])]
    n = len(low) - 1
    out = [[head_low, *tail] for tail in _range_digits(low[1:], "9" * n)]
    if ord(high[0]) - ord(low[0]) > 1:
        out.append([(ord(low[0]) + 1, ord(high[0]) - 1)] + [(0x30, 0x39)] * n)
    out += [[head_high, *tail] for tail in _range_digits("0" * n, high[1:])]
    return out
