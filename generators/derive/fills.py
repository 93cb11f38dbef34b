"""Concrete values for one predicate on one field: patterns instantiated, bounds met, functions solved.

A ``*`` is filled with what the field's kind expects there (a directory before a
``\\``, a file name after one, nothing at the end of an argument), so a witness reads
like telemetry; a second, minimal instantiation (every ``*`` empty, ``?`` one letter)
follows, and the solver keeps the first candidate every other predicate accepts.
"""

from __future__ import annotations

import ipaddress
import string
from collections.abc import Iterator

from harness.eql.ast import Comparison, Expr, Field, FunctionCall, InSet, Literal, Match, Negate
from harness.eql.automata import AnyString, Chars, Concat, Empty, Group, Never, Node, Repeat, Union
from harness.eql.lucene_regex import RegexError, parse_lucene_regex

__all__ = ["Kind", "alternatives", "candidates", "case_variant", "kind_of"]

Kind = str  # path, name, args, command_line, user, host, ip, other

_PATH_ENDINGS = ("executable", "path", "working_directory", "directory", "target_path")
_PATH_PARTS = frozenset({"file", "dll", "process", "parent", "Target", "Effective_process"})


def kind_of(name: str) -> Kind:
    """What sort of value a field holds, read off its ECS name."""
    last = name.rsplit(".", 1)[-1]
    if last == "integrity_level_name":
        return "integrity"  # Defend's words: system, high, medium, low
    if last == "IntegrityLevel":
        return "integrity-level"  # Sysmon's: System, High, Medium, Low
    if last in _PATH_ENDINGS and not name.startswith("registry."):
        return "path"
    if last == "args":
        return "args"
    if last == "command_line":
        return "command_line"
    if name in ("user.name", "user.target.name", "user.effective.name") or name.endswith(".user.name"):
        return "user"
    if name.startswith("host.") and last in ("name", "hostname"):
        return "host"
    if last in ("ip", "address") or name.endswith(".ip"):
        return "ip"
    if last in ("name", "original_file_name") and name.split(".", 1)[0] in _PATH_PARTS:
        return "name"
    return "other"


def alternatives(expr: Expr) -> int:
    """How many alternatives a predicate lists (patterns of ``:``, values of ``in``)."""
    if isinstance(expr, Match):
        return len(expr.patterns)
    if isinstance(expr, InSet):
        return len(expr.values)
    return 1


def candidates(expr: Expr, field: Field, alternative: int = 0) -> list[object]:
    """Values of ``field`` that may satisfy ``expr`` (alternative ``alternative`` of a list first)."""
    kind = kind_of(field.name)
    found = list(dict.fromkeys(_candidates(expr, field, alternative, kind)))
    return found


def _candidates(expr: Expr, field: Field, alternative: int, kind: Kind) -> Iterator[object]:
    match expr:
        case Match(op=op, patterns=patterns):
            pattern = patterns[alternative % len(patterns)]
            if isinstance(pattern.value, str):
                if op.startswith("regex"):
                    yield from _regex_examples(pattern.value, op.endswith("~"))
                else:
                    yield from _wildcard_fills(pattern.value, kind)
        case InSet(values=values):
            value = values[alternative % len(values)]
            if isinstance(value, Literal):
                yield value.value
        case Comparison(op=op, left=left, right=right):
            if isinstance(left, Field) and (constant := _constant(right)) is not _NONE:
                yield from _compare(op, constant)
            elif isinstance(right, Field) and (constant := _constant(left)) is not _NONE:
                yield from _compare(_FLIP[op], constant)
            elif isinstance(left, FunctionCall) and (constant := _constant(right)) is not _NONE:
                yield from _function_values(left, op, constant, kind)
        case FunctionCall():
            yield from _function_values(expr, "==", True, kind)
        case Field():
            yield True


_NONE = object()
_FLIP = {"==": "==", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _constant(node: Expr) -> object:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Negate) and isinstance(node.operand, Literal):
        value = node.operand.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    return _NONE


def _compare(op: str, constant: object) -> Iterator[object]:
    """The bound itself where it is inclusive, one step past it where it is not."""
    if op == "==":
        yield constant
        return
    if isinstance(constant, bool) or constant is None:
        return
    if isinstance(constant, (int, float)):
        step = 1
        yield {"<": constant - step, "<=": constant, ">": constant + step, ">=": constant}[op]
        return
    if isinstance(constant, str):
        if op in (">", ">="):
            yield constant + "a" if op == ">" else constant
        elif constant:
            yield constant[:-1] if op == "<" else constant
        return


def _wildcard_fills(pattern: str, kind: Kind) -> Iterator[str]:
    """A realistic instantiation of an EQL wildcard, then a minimal one."""
    pieces = _split_wildcard(pattern)
    yield "".join(_fill(pieces, i, kind) if piece is None else piece for i, piece in enumerate(pieces))
    yield "".join("" if piece is None else piece for piece in pieces)


def _split_wildcard(pattern: str) -> list[str | None]:
    """Literal runs and ``*`` (None); ``?`` is taken as a letter, the commonest thing it stands for."""
    pieces: list[str | None] = []
    for ch in pattern:
        if ch == "*":
            if not pieces or pieces[-1] is not None:
                pieces.append(None)
        elif pieces and pieces[-1] is not None:
            pieces[-1] += "a" if ch == "?" else ch
        else:
            pieces.append("a" if ch == "?" else ch)
    return pieces


def _fill(pieces: list[str | None], i: int, kind: Kind) -> str:
    before = pieces[i - 1] if i > 0 else None
    after = pieces[i + 1] if i + 1 < len(pieces) else None
    if kind == "path":
        if before is None:  # leading: a drive and a folder
            if after is not None and after.startswith("\\"):
                return "C:\\Windows\\System32"
            return "C:\\ProgramData\\Vendor\\"
        if after is None:  # trailing: a file where a folder ended
            return "update.exe" if before.endswith("\\") else ""
        return "Temp" if before.endswith("\\") and after.startswith("\\") else ""
    if kind == "name":
        if before is None:
            return "setup" if after is not None and after.startswith(".") else ""
        if after is None:
            return ".exe" if "." not in before else ""
        return ""
    if kind == "command_line":
        if before is None:
            return "C:\\Windows\\System32\\cmd.exe /c " if after is not None else "cmd.exe"
        if after is None:
            return ""
        return " "
    if kind == "user":
        return "svc" if before is None or after is None else ""
    return ""


def _function_values(call: FunctionCall, op: str, constant: object, kind: Kind) -> Iterator[object]:
    """Values of the field a function reads that make ``call op constant`` hold, where one is plain."""
    name = call.name.lower()
    args = call.args
    if not args or not isinstance(args[0], Field):
        return
    rest = [a.value for a in args[1:] if isinstance(a, Literal)]
    if len(rest) != len(args) - 1:
        return
    texts = [r for r in rest if isinstance(r, str)]
    if name in ("startswith", "endswith", "stringcontains") and op == "==" and constant is True:
        for text in texts:
            if name == "startswith":
                yield text + _tail(kind)
            elif name == "endswith":
                yield _head(kind) + text
            else:
                yield _head(kind) + text + _tail(kind)
            yield text
    elif name == "cidrmatch" and op == "==" and constant is True:
        for text in texts:
            try:
                network = ipaddress.ip_network(text, strict=False)
            except ValueError:
                continue
            yield str(network[min(5, network.num_addresses - 1)])
    elif name == "length" and isinstance(constant, int) and not isinstance(constant, bool):
        for size in _compare(op, constant):
            if isinstance(size, int) and 0 <= size <= 100_000:
                yield ("C:\\Windows\\" + "x" * size)[:size] if kind == "path" else "x" * size
    elif name == "indexof" and isinstance(constant, int) and texts and op in ("==", ">=", ">"):
        for at in _compare(op, constant):
            if isinstance(at, int) and 0 <= at <= 10_000:
                yield "x" * at + texts[0]
    elif name == "substring" and op == "==" and isinstance(constant, str) and rest:
        start = rest[0]
        if isinstance(start, int) and not isinstance(start, bool) and 0 <= start <= 10_000:
            yield "x" * start + constant
    elif name == "string" and op == "==" and isinstance(constant, str):
        yield constant
    elif name == "number" and isinstance(constant, (int, float)) and not isinstance(constant, bool):
        for value in _compare(op, constant):
            yield str(value)


def _head(kind: Kind) -> str:
    return "C:\\Windows\\System32\\" if kind == "path" else ""


def _tail(kind: Kind) -> str:
    return "\\update.exe" if kind == "path" else ""


def _regex_examples(pattern: str, insensitive: bool) -> Iterator[str]:
    try:
        node = parse_lucene_regex(pattern, insensitive)
    except RegexError:
        return
    for shortest in (True, False):
        example = _example(node, shortest)
        if example is not None:
            yield example


def _example(node: Node, shortest: bool) -> str | None:
    """One string of the regular expression's language (None when it is empty)."""
    match node:
        case Chars(ranges=ranges):
            return _representative(ranges)
        case Never():
            return None
        case Empty() | AnyString():
            return ""
        case Group(inner=inner):
            return _example(inner, shortest)
        case Concat(parts=parts):
            out = []
            for part in parts:
                text = _example(part, shortest)
                if text is None:
                    return None
                out.append(text)
            return "".join(out)
        case Union(left=left, right=right):
            first = _example(left, shortest)
            return first if first is not None else _example(right, shortest)
        case Repeat(inner=inner, low=low, high=high):
            count = (
                low if shortest or high == low else max(low, 1) if high is None else min(high, max(low, 1))
            )
            if count == 0:
                return ""
            text = _example(inner, shortest)
            return None if text is None else text * count


def _representative(ranges: tuple[tuple[int, int], ...]) -> str | None:
    """A letter or digit where the class has one (what a value would hold), else its first code point."""
    if not ranges:
        return None
    for lo, hi in ranges:
        for preferred in ("a", "A", "0"):
            if lo <= ord(preferred) <= hi:
                return preferred
    for lo, hi in ranges:
        for code in range(lo, min(hi, lo + 200) + 1):
            ch = chr(code)
            if ch.isalnum() and not 0xD800 <= code <= 0xDFFF:
                return ch
    lo = ranges[0][0]
    return None if 0xD800 <= lo <= 0xDFFF else chr(lo)


def case_variant(value: object) -> object:
    """The value with its ASCII letters' case changed, to exercise a case-insensitive operator."""
    if not isinstance(value, str):
        return value
    # ASCII only: the case-insensitive operators fold nothing else (harness.eql.patterns).
    upper = value.translate(_UPPER)
    return upper if upper != value else value.translate(_LOWER)


_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
