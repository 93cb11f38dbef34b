"""Turns EQL text into tokens, each with its offset, and explains what it cannot read."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from harness.errors import EqlSyntaxError

__all__ = ["KEYWORDS", "Token", "tokenize"]

# The keywords of Elasticsearch's grammar (EqlBase.g4): lowercase and case-sensitive.
# Everything else, ``event`` and ``child`` included, is an identifier.
KEYWORDS = frozenset(
    {
        "and",
        "any",
        "by",
        "false",
        "in",
        "join",
        "like",
        "maxspan",
        "not",
        "null",
        "of",
        "or",
        "regex",
        "sample",
        "sequence",
        "true",
        "until",
        "where",
        "with",
    }
)
# IDENTIFIER : (LETTER | '_' | '@') (LETTER | DIGIT | '_')*
_IDENT = re.compile(r"[A-Za-z_@][A-Za-z0-9_]*")
_NUMBER = re.compile(r"(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LONG_MAX = 2**63 - 1
_LINE_END = re.compile(r"[\r\n]")
_DIGITS = "0123456789"
_DIGITS_NONEMPTY = tuple(_DIGITS)
# Elasticsearch's grammar: WS : [ \r\n\t]+ ; other Unicode spaces are errors there too.
_WHITESPACE = " \r\n\t"
# STRING_ESCAPE : '\\' [btnfr"'\\]
_SIMPLE_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "'": "'", "\\": "\\"}
# Longest first, so "==" is never read as "=" "=".
_PUNCTUATION = (
    "==",
    "!=",
    "<=",
    ">=",
    "<",
    ">",
    ":",
    "(",
    ")",
    ",",
    ".",
    "?",
    "~",
    "+",
    "-",
    "*",
    "/",
    "%",
    "|",
    "[",
    "]",
    "=",
    "!",
)


@dataclass(frozen=True)
class Token:
    """``kind`` is one of: ident, quoted (a `back-quoted` name), keyword, string, number, op, eof."""

    kind: str
    text: str
    start: int
    end: int
    value: str | int | float | None = None


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens; the list always ends with an ``eof`` token."""
    return _Lexer(source).run()


class _Lexer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.tokens: list[Token] = []

    def error(self, message: str, offset: int, width: int = 1, hint: str | None = None) -> EqlSyntaxError:
        return EqlSyntaxError(message, source=self.source, offset=offset, width=width, hint=hint)

    def run(self) -> list[Token]:
        src = self.source
        while True:
            self.skip_space_and_comments()
            if self.pos >= len(src):
                self.tokens.append(Token("eof", "", len(src), len(src)))
                return self.tokens
            ch = src[self.pos]
            if src.startswith('"""', self.pos):
                self.raw_string()
            elif ch == '"':
                self.string()
            elif src.startswith('?"', self.pos):
                raise self.error(
                    '?"..." raw strings are not EQL',
                    self.pos,
                    2,
                    hint='write a raw string as """...""" (backslashes are literal)',
                )
            elif ch == "'":
                raise self.error(
                    "single-quoted strings are not EQL",
                    self.pos,
                    hint='use double quotes ("...") or a raw string ("""...""")',
                )
            elif ch == "`":
                self.escaped_identifier()
            elif ch in _DIGITS or (ch == "." and src[self.pos + 1 : self.pos + 2] in _DIGITS_NONEMPTY):
                self.number()
            elif (m := _IDENT.match(src, self.pos)) is not None:
                text = m.group()
                kind = "keyword" if text in KEYWORDS else "ident"
                self.tokens.append(Token(kind, text, m.start(), m.end(), text))
                self.pos = m.end()
            else:
                self.punctuation(ch)

    def skip_space_and_comments(self) -> None:
        src = self.source
        while self.pos < len(src):
            if src[self.pos] in _WHITESPACE:
                self.pos += 1
            elif src.startswith("//", self.pos):
                # LINE_COMMENT : '//' ~[\r\n]* '\r'? '\n'? ; the line break ends it either way.
                end = _LINE_END.search(src, self.pos)
                self.pos = len(src) if end is None else end.start()
            elif src.startswith("/*", self.pos):
                self.pos = self.block_comment_end(self.pos)
            else:
                return

    def block_comment_end(self, start: int) -> int:
        """Block comments nest, as in Elasticsearch's grammar: ``/* a /* b */ c */``."""
        depth, i = 0, start
        while i < len(self.source):
            if self.source.startswith("/*", i):
                depth += 1
                i += 2
            elif self.source.startswith("*/", i):
                depth -= 1
                i += 2
                if depth == 0:
                    return i
            else:
                i += 1
        raise self.error("unterminated comment", start, 2, hint="close it with */")

    def punctuation(self, ch: str) -> None:
        for op in _PUNCTUATION:
            if self.source.startswith(op, self.pos):
                self.tokens.append(Token("op", op, self.pos, self.pos + len(op)))
                self.pos += len(op)
                return
        raise self.error(f"unexpected character {ch!r}", self.pos)

    def number(self) -> None:
        m = _NUMBER.match(self.source, self.pos)
        assert m is not None  # run() only calls this on a digit or ".digit"
        text = m.group()
        after = self.source[m.end() : m.end() + 1]
        touching = after.isalpha() or after == "_"
        # ``timeUnit : number unit=IDENTIFIER?``: in ``maxspan=5m`` the unit touches the number.
        if touching and not self.after_maxspan():
            tail = _IDENT.match(self.source, m.end())
            width = (tail.end() if tail else m.end() + 1) - m.start()
            raise self.error(
                f"malformed number {self.source[m.start() : m.start() + width]!r}", m.start(), width
            )
        # ExpressionBuilder.visitIntegerLiteral: an integer beyond a long is quietly read as
        # a double; a number beyond a double is an error ("Number [...] is too large").
        integral = text.isascii() and text.isdigit() and len(text.lstrip("0")) <= 19
        value: int | float = int(text) if integral else float(text)
        if isinstance(value, int) and value > _LONG_MAX:
            value = float(text)
        if isinstance(value, float) and not math.isfinite(value):
            shown = text if len(text) <= 40 else f"{text[:20]}...{text[-10:]}"
            raise self.error(
                f"Number [{shown}] is too large: out of range of a double", m.start(), m.end() - m.start()
            )
        self.tokens.append(Token("number", text, m.start(), m.end(), value))
        self.pos = m.end()

    def after_maxspan(self) -> bool:
        """Whether the number being read is the value of ``maxspan=`` (its unit may touch it)."""
        last = self.tokens[-2:]
        # ``==`` too, so that ``maxspan==5m`` is told to use ``=`` rather than that 5m is malformed.
        return len(last) == 2 and last[0].text == "maxspan" and last[1].text in ("=", "==")

    def string(self) -> None:
        src, start = self.source, self.pos
        out: list[str] = []
        i = start + 1
        while True:
            if i >= len(src) or src[i] in "\r\n":
                raise self.error(
                    "unterminated string",
                    start,
                    i - start,
                    hint='close it on the same line with " (write \\n for a newline)',
                )
            ch = src[i]
            if ch == '"':
                break
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            if i + 1 >= len(src):
                raise self.error("unterminated string", start, i - start + 1, hint='close it with "')
            nxt = src[i + 1]
            if nxt in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[nxt])
                i += 2
            elif nxt == "u":
                i = self.unicode_escape(i, out)
            else:
                raise self.error(
                    f"unknown escape sequence \\{nxt}",
                    i,
                    2,
                    hint='write \\\\ for a backslash, or use a raw string """..."""',
                )
        self.tokens.append(Token("string", src[start : i + 1], start, i + 1, "".join(out)))
        self.pos = i + 1

    def unicode_escape(self, i: int, out: list[str]) -> int:
        src = self.source
        m = re.compile(r"\\u\{([0-9A-Fa-f]{2,8})\}").match(src, i)
        if m is None:
            raise self.error("malformed unicode escape", i, 2, hint="write \\u{XXXX} with 2 to 8 hex digits")
        code = int(m.group(1), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise self.error(f"invalid unicode code point U+{code:X}", i, m.end() - i)
        out.append(chr(code))
        return m.end()

    def raw_string(self) -> None:
        src, start = self.source, self.pos
        end = src.find('"""', start + 3)
        if end < 0:
            raise self.error("unterminated raw string", start, 3, hint='close it with """')
        # Like Elasticsearch's grammar, a raw string ends at the first """ ; up to two extra
        # quotes right after it belong to the string (""""a"""" is the text "a").
        close = end
        while close < end + 2 and close + 3 < len(src) and src[close + 3] == '"':
            close += 1
        value = src[start + 3 : close]
        if "\n" in value or "\r" in value:
            raise self.error(
                "a raw string cannot span lines", start, 3, hint='keep it on one line, or use "..." with \\n'
            )
        self.tokens.append(Token("string", src[start : close + 3], start, close + 3, value))
        self.pos = close + 3

    def escaped_identifier(self) -> None:
        src, start = self.source, self.pos
        out: list[str] = []
        i = start + 1
        while True:
            if i >= len(src):
                raise self.error("unterminated `quoted` field name", start, 1, hint="close it with `")
            if src[i] == "`":
                if src.startswith("``", i):  # a doubled back-quote is a literal one
                    out.append("`")
                    i += 2
                    continue
                break
            out.append(src[i])
            i += 1
        if not out:
            raise self.error("empty `quoted` field name", start, 2)
        self.tokens.append(Token("quoted", src[start : i + 1], start, i + 1, "".join(out)))
        self.pos = i + 1
