"""Windows command lines: split them as ``CommandLineToArgvW`` does, and quote arguments back.

Windows passes a process one string; ECS ``process.args`` is that string split the way
``CommandLineToArgvW`` splits it. The rules, as Windows (and Wine's faithful
re-implementation) apply them:

* the program name (first argument) ends at the next quote if it starts with one,
  otherwise at the first space or tab; backslashes in it are never special;
* after it, spaces and tabs outside quotes separate arguments;
* ``2n`` backslashes before a quote give ``n`` backslashes and the quote opens or
  closes a quoted section; ``2n+1`` backslashes before a quote give ``n`` backslashes
  and a literal quote; backslashes anywhere else are literal;
* inside a quoted section, every third consecutive quote is a literal quote.

:func:`join_command_line` is the inverse: ``split_command_line(join_command_line(a)) == a``
for every list whose program name holds no quote.

Elastic's ingest pipelines do not call Windows: each integration splits the command
line itself, and differently. :func:`split_elastic_pipeline` is the Windows and Sysmon
integrations' painless ``SplitCommandLine`` (a port of Go's ``commandLineToArgv``);
:func:`split_security_4688` is the System integration's splitter for event 4688,
which keeps quotes and makes empty arguments of repeated blanks. A rule that works
on ``process.args`` sees what these give, not what Windows gave the process.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

__all__ = [
    "join_command_line",
    "pipeline_args",
    "quote_argument",
    "security_args",
    "split_command_line",
    "split_elastic_pipeline",
    "split_security_4688",
]

_BLANKS = " \t"


def split_command_line(command_line: str) -> list[str]:
    """The arguments ``CommandLineToArgvW`` gives for ``command_line`` (empty line: no arguments)."""
    if not command_line:
        return []
    s, i, n = command_line, 0, len(command_line)
    program: list[str] = []
    if s[0] == '"':
        i = 1
        while i < n and s[i] != '"':
            program.append(s[i])
            i += 1
        i += 1  # the closing quote, if any
    else:
        while i < n and s[i] not in _BLANKS:
            program.append(s[i])
            i += 1
    args = ["".join(program)]
    while i < n and s[i] in _BLANKS:
        i += 1
    if i >= n:
        return args

    current: list[str] = []
    quotes = backslashes = 0
    while i < n:
        ch = s[i]
        if ch in _BLANKS and quotes == 0:
            args.append("".join(current))
            current = []
            backslashes = 0
            while i < n and s[i] in _BLANKS:
                i += 1
            if i >= n:
                return args
            continue
        if ch == "\\":
            current.append(ch)
            backslashes += 1
            i += 1
            continue
        if ch == '"':
            if backslashes % 2 == 0:
                # 2n backslashes: n of them, and the quote toggles quoting.
                del current[len(current) - backslashes // 2 :]
                quotes += 1
            else:
                # 2n+1 backslashes: n of them, then a literal quote.
                del current[len(current) - backslashes // 2 - 1 :]
                current.append('"')
            i += 1
            backslashes = 0
            while i < n and s[i] == '"':
                quotes += 1
                if quotes == 3:
                    current.append('"')
                    quotes = 0
                i += 1
            if quotes == 2:
                quotes = 0
            continue
        current.append(ch)
        backslashes = 0
        i += 1
    args.append("".join(current))
    return args


def quote_argument(argument: str) -> str:
    """``argument`` quoted so that ``CommandLineToArgvW`` gives it back unchanged."""
    if argument and not any(ch in argument for ch in ' \t\n\v"'):
        return argument
    out = ['"']
    backslashes = 0
    for ch in argument:
        if ch == "\\":
            backslashes += 1
            continue
        if ch == '"':
            out.append("\\" * (2 * backslashes + 1) + '"')
        else:
            out.append("\\" * backslashes + ch)
        backslashes = 0
    out.append("\\" * (2 * backslashes) + '"')
    return "".join(out)


def join_command_line(arguments: Sequence[str]) -> str:
    """The command line whose split is ``arguments``.

    The program name cannot hold a quote (Windows itself cannot start such a path);
    it is quoted only when it holds a space or a tab, or is empty.
    """
    if not arguments:
        return ""
    program, *rest = arguments
    if '"' in program:
        raise ValueError(f"a program name cannot contain a quote: {program!r}")
    head = f'"{program}"' if not program or any(ch in program for ch in _BLANKS) else program
    return " ".join([head, *(quote_argument(arg) for arg in rest)])


@lru_cache(maxsize=65_536)
def pipeline_args(command_line: str) -> tuple[str, ...]:
    """:func:`split_elastic_pipeline`, memoized: a fleet repeats its command lines."""
    return tuple(split_elastic_pipeline(command_line))


@lru_cache(maxsize=65_536)
def security_args(command_line: str) -> tuple[str, ...]:
    """:func:`split_security_4688`, memoized."""
    return tuple(split_security_4688(command_line))


def split_elastic_pipeline(command_line: str) -> list[str]:
    """``process.args`` as the Sysmon pipelines (Windows integration, Winlogbeat) compute it.

    Windows' backslash and quote rules, but the program name is not special, runs of
    blanks never make empty arguments, and ``""`` inside quotes gives a literal quote
    and closes the quotes (the "prior to 2008" rule).
    """
    s, n = command_line, len(command_line)
    args: list[str] = []
    i = 0
    while i < n:
        if s[i] in _BLANKS:
            i += 1
            continue
        current: list[str] = []
        in_quotes = False
        backslashes = 0
        while i < n:
            ch = s[i]
            if ch in _BLANKS and not in_quotes:
                i += 1
                break
            if ch == '"':
                current.append("\\" * (backslashes // 2))
                if backslashes % 2 == 0:
                    if in_quotes and i + 1 < n and s[i + 1] == '"':
                        current.append('"')
                        i += 1
                    in_quotes = not in_quotes
                else:
                    current.append('"')
                backslashes = 0
            elif ch == "\\":
                backslashes += 1
            else:
                current.append("\\" * backslashes + ch)
                backslashes = 0
            i += 1
        current.append("\\" * backslashes)
        args.append("".join(current))
    return args


# Java's Character.isWhitespace: the separators of the 4688 splitter.
_JAVA_WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2008\u2009\u200a\u2028\u2029\u205f\u3000"
)


def split_security_4688(command_line: str) -> list[str]:
    """``process.args`` as the System integration computes it for event 4688.

    Quotes toggle a quoted section but stay in the arguments, backslashes are plain,
    every Java whitespace character outside quotes ends an argument, so repeated,
    leading and trailing blanks give empty arguments.
    """
    args: list[str] = []
    start = 0
    in_quotes = False
    last = len(command_line) - 1
    for i, ch in enumerate(command_line):
        if ch == '"':
            in_quotes = not in_quotes
        if ch in _JAVA_WHITESPACE and not in_quotes:
            args.append(command_line[start:i])
            start = i + 1
        if i == last:
            args.append(command_line[start : i + 1])
    return args
