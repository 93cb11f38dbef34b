"""Reading events (NDJSON, gzip, JSON arrays, stdin) and writing results without half-written files.

A line that is not a JSON object is an :class:`~harness.errors.InputError` naming the
file, line and column; with ``skip_invalid`` it is counted in :class:`ReadStats`
instead, so nothing is ever dropped silently. Blank lines carry no event and are not
counted as invalid.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from harness.errors import InputError

__all__ = ["EventRecord", "ReadStats", "atomic_writer", "read_events"]

STDIN = "-"


@dataclass(frozen=True)
class EventRecord:
    """One event with where it came from; ``raw`` is the line as read (None for array items)."""

    event: dict[str, Any]
    path: str
    line: int
    raw: bytes | None


@dataclass
class ReadStats:
    events: int = 0
    invalid: list[InputError] = field(default_factory=list)


def read_events(
    paths: list[str], *, skip_invalid: bool = False, stats: ReadStats | None = None
) -> Iterator[EventRecord]:
    """Events from each path in order (``-`` is standard input)."""
    stats = stats if stats is not None else ReadStats()
    for path in paths or [STDIN]:
        with _open(path) as stream:
            yield from _read_stream(stream, path, skip_invalid, stats)


@contextlib.contextmanager
def _open(path: str) -> Iterator[IO[bytes]]:
    """The file (or stdin) as bytes, gunzipped when it starts with gzip's magic number."""
    if path == STDIN:
        stdin = sys.stdin.buffer
        # peek() is needed to sniff gzip; a pipe's buffer has it, a test's BytesIO does not.
        stream = stdin if isinstance(stdin, io.BufferedReader) else io.BufferedReader(stdin)  # type: ignore[type-var]
    else:
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed in the finally below
        except OSError as error:
            raise InputError(path, 0, f"cannot open: {error.strerror or error}") from error
    try:
        if stream.peek(2)[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=stream, mode="rb") as unzipped:
                yield unzipped  # type: ignore[misc]  # GzipFile is a binary IO in all but name
        else:
            yield stream
    finally:
        if path != STDIN:
            stream.close()


def _read_stream(stream: IO[bytes], path: str, skip_invalid: bool, stats: ReadStats) -> Iterator[EventRecord]:
    lines = iter(stream)
    seen_content = False
    try:
        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            if not stripped:
                continue
            if not seen_content and stripped.startswith(b"["):
                yield from _read_array(line + b"".join(lines), path, number - 1, stats)
                return
            seen_content = True
            record = _parse_line(line, path, number, skip_invalid, stats)
            if record is not None:
                yield record
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise InputError(path, 0, f"cannot read: {error}") from error


def _parse_line(
    line: bytes, path: str, number: int, skip_invalid: bool, stats: ReadStats
) -> EventRecord | None:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        problem = InputError(
            path,
            number,
            f"not valid JSON: {error.msg}; fix the line or pass --skip-invalid",
            column=error.colno,
        )
        if not skip_invalid:
            raise problem from error
        stats.invalid.append(problem)
        return None
    if not isinstance(event, dict):
        problem = InputError(
            path, number, f"expected a JSON object per line, found {type(event).__name__}", column=1
        )
        if not skip_invalid:
            raise problem
        stats.invalid.append(problem)
        return None
    stats.events += 1
    return EventRecord(event, path, number, line.rstrip(b"\r\n"))


def _read_array(data: bytes, path: str, line_offset: int, stats: ReadStats) -> Iterator[EventRecord]:
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise InputError(
            path, line_offset + error.lineno, f"not a valid JSON array: {error.msg}", column=error.colno
        ) from error
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(
                path,
                line_offset + 1,
                f"item {index} of the JSON array is a {type(item).__name__}, not an object",
            )
        stats.events += 1
        yield EventRecord(item, path, line_offset + 1, None)


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[IO[bytes]]:
    """Write to a temporary file beside ``path`` and rename it into place only on success."""
    target = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
        # mkstemp makes the file private; give it the permissions a plain open() would.
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
