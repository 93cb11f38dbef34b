"""Reading events (NDJSON, gzip, JSON arrays, stdin) and writing results without half-written files.

A line that is not a JSON object is an :class:`~harness.errors.InputError` naming the
file, line and column; with ``skip_invalid`` it is counted in :class:`ReadStats`
instead, so nothing is ever dropped silently. Blank lines carry no event and are not
counted as invalid.

Exports from Elasticsearch are read as the events they hold (``exports.py``): a
search hit gives its ``_source``, a whole search response each of its hits.
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

from harness.errors import HarnessError, InputError
from harness.exports import BadHitError, unwrap

__all__ = ["EventRecord", "ReadStats", "atomic_writer", "read_events"]

STDIN = "-"


@dataclass(frozen=True)
class EventRecord:
    """One event with where it came from.

    ``raw`` is the line as read, or None when the event is not the whole line (an
    array item, a search hit's ``_source``); ``index`` and ``id`` are a search hit's
    ``_index`` and ``_id``.
    """

    event: dict[str, Any]
    path: str
    line: int
    raw: bytes | None
    index: str | None = None
    id: str | None = None


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
            if (not seen_content and stripped.startswith(b"[")) or _opens_a_document(stripped, seen_content):
                yield from _read_document(line + b"".join(lines), path, number - 1, stats)
                return
            seen_content = True
            yield from _parse_line(line, path, number, skip_invalid, stats)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise InputError(path, 0, f"cannot read: {error}") from error


def _opens_a_document(first: bytes, seen_content: bool) -> bool:
    """Whether the first line opens one JSON object spread over several lines (a pretty-printed response)."""
    if seen_content or not first.startswith(b"{"):
        return False
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        return not first.endswith(b"}")
    return False


def _parse_line(
    line: bytes, path: str, number: int, skip_invalid: bool, stats: ReadStats
) -> Iterator[EventRecord]:
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
        return
    if not isinstance(event, dict):
        problem = InputError(
            path, number, f"expected a JSON object per line, found {type(event).__name__}", column=1
        )
        if not skip_invalid:
            raise problem
        stats.invalid.append(problem)
        return
    raw = line.rstrip(b"\r\n")
    try:
        sources = list(unwrap(event))
    except BadHitError as bad:
        problem = InputError(
            path,
            number,
            f"{bad.message}; fix the line or pass --skip-invalid",
            column=_column_of_source(line, bad),
        )
        if not skip_invalid:
            raise problem from bad
        stats.invalid.append(problem)
        return
    for source in sources:
        stats.events += 1
        whole_line = source.event is event
        yield EventRecord(source.event, path, number, raw if whole_line else None, source.index, source.id)


def _column_of_source(line: bytes, bad: BadHitError) -> int:
    """Where to point in a line holding a bad hit: its ``_source`` when there is one, else the hit."""
    start = len(line) - len(line.lstrip())
    if bad.hit is None:
        key = line.find(b'"_source"')
        return (key if key > -1 else start) + 1
    return start + 1


def _read_document(data: bytes, path: str, line_offset: int, stats: ReadStats) -> Iterator[EventRecord]:
    """A JSON array of events or hits, or one object over several lines (a pretty-printed search response)."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        shape = "JSON array" if data.lstrip().startswith(b"[") else "JSON document"
        raise InputError(
            path, line_offset + error.lineno, f"not a valid {shape}: {error.msg}", column=error.colno
        ) from error
    items = document if isinstance(document, list) else [document]
    line = line_offset + 1
    column = len(data) - len(data.lstrip(b" \t")) + 1
    for index, item in enumerate(items):
        where = f"item {index} of the JSON array" if isinstance(document, list) else "the document"
        if not isinstance(item, dict):
            raise InputError(path, line, f"{where} is a {type(item).__name__}, not an object")
        try:
            sources = list(unwrap(item))
        except BadHitError as bad:
            raise InputError(path, line, f"{where}: {bad.message}", column=column) from bad
        for source in sources:
            stats.events += 1
            yield EventRecord(source.event, path, line, None, source.index, source.id)


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[IO[bytes]]:
    """Write to a temporary file beside ``path`` and rename it into place only on success."""
    target = Path(path)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as error:
        raise HarnessError(
            f"{target}: cannot write here ({error.strerror or error}): check that the folder "
            f"{target.parent} exists and is writable"
        ) from error
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
