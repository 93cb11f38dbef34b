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
import stat
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson

from harness.errors import EqlEvaluationError, HarnessError, InputError
from harness.exports import BadHitError, unwrap
from harness.json_keys import duplicate_key

__all__ = [
    "EventRecord",
    "ReadStats",
    "atomic_writer",
    "check_writable",
    "line_ranges",
    "matches_at",
    "read_events",
    "read_line_range",
]

STDIN = "-"


class EventRecord(NamedTuple):
    """One event with where it came from (a named tuple: one is made per line of a corpus, and a
    frozen dataclass costs several times as much to make).

    ``raw`` is the line as read, or None when the event is not the whole line (an
    array item, a search hit's ``_source``); ``index`` and ``id`` are a search hit's
    ``_index`` and ``_id``; ``offset`` is where the line starts in the (uncompressed)
    stream, None for an item of a JSON document.
    """

    event: dict[str, Any]
    path: str
    line: int
    raw: bytes | None
    index: str | None = None  # type: ignore[assignment]  # the hit's _index; tuple.index is not used
    id: str | None = None
    offset: int | None = None


def matches_at(matches: Callable[[dict[str, Any]], bool], record: EventRecord) -> bool:
    """``matches`` (a matcher's) on the record's event; an evaluation error names where the event is."""
    try:
        return matches(record.event)
    except EqlEvaluationError as error:
        raise EqlEvaluationError(f"{record.path}:{record.line}: {error}") from error


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


def line_ranges(path: str, parts: int) -> list[tuple[int, int]] | None:
    """``path`` cut into at most ``parts`` runs of whole lines, as (start, end) byte offsets; None when
    the file is not plain NDJSON that readers of its parts would read as :func:`read_events` reads it
    whole: standard input, gzip (no offset to start at), a JSON array or one document over several lines
    (read as a whole), a file too small to cut."""
    if path == STDIN or parts < 2:
        return None
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as stream:
            if stream.read(2) == b"\x1f\x8b":
                return None
            stream.seek(0)
            first = next((line.strip() for line in stream if not line.isspace()), b"")
            if first.startswith(b"[") or _opens_a_document(first, False):
                return None
            starts = [0]
            for part in range(1, parts):
                stream.seek(size * part // parts)
                stream.readline()  # the rest of the line the cut fell in belongs to the part before
                if stream.tell() > starts[-1] and stream.tell() < size:
                    starts.append(stream.tell())
    except OSError:
        return None  # read_events, reading it whole, says what is wrong with it
    if len(starts) < 2:
        return None
    return list(zip(starts, [*starts[1:], size], strict=True))


def read_line_range(path: str, start: int, end: int) -> Iterator[EventRecord]:
    """The events of the lines from byte ``start`` (a line's start) to ``end`` of a plain NDJSON file,
    numbered and placed as :func:`read_events` numbers and places them reading the whole file."""
    stats = ReadStats()
    with _open(path) as stream:
        number = _lines_before(stream, start)
        stream.seek(start)
        offset = start
        for number, line in enumerate(stream, start=number + 1):  # noqa: B020 - numbered from the start
            if offset >= end:
                return
            if not line.isspace():
                yield from _parse_line(line, path, number, offset, False, stats)
            offset += len(line)


def _lines_before(stream: IO[bytes], offset: int) -> int:
    """The line breaks in the first ``offset`` bytes of ``stream``, read into one reused buffer."""
    stream.seek(0)
    block = bytearray(1 << 20)
    lines = 0
    while offset > 0:
        read = stream.readinto(block)  # type: ignore[attr-defined]  # a binary file's
        if not read:
            break
        read = min(read, offset)
        lines += block.count(b"\n", 0, read)
        offset -= read
    return lines


@contextlib.contextmanager
def _open(path: str) -> Iterator[IO[bytes]]:
    """The file (or stdin) as bytes, gunzipped when it starts with gzip's magic number."""
    if path == STDIN:
        if sys.stdin is None:
            raise InputError(path, 1, "standard input is closed: give EVENTS files or pipe events in")
        stdin = sys.stdin.buffer
        # peek() is needed to sniff gzip; a pipe's buffer has it, a test's BytesIO does not.
        stream = stdin if isinstance(stdin, io.BufferedReader) else io.BufferedReader(stdin)  # type: ignore[type-var]
    else:
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed in the finally below
        except OSError as error:
            raise InputError(path, 0, f"cannot open: {error.strerror or error}") from error
    try:
        try:
            gzipped = stream.peek(2)[:2] == b"\x1f\x8b"
        except OSError as error:
            what = "standard input (is it closed?)" if path == STDIN else "the file"
            raise InputError(path, 1, f"cannot read {what}: {error.strerror or error}") from error
        if gzipped:
            with gzip.GzipFile(fileobj=stream, mode="rb") as unzipped:
                yield unzipped  # type: ignore[misc]  # GzipFile is a binary IO in all but name
        else:
            yield stream
    finally:
        if path != STDIN:
            stream.close()


def _read_stream(stream: IO[bytes], path: str, skip_invalid: bool, stats: ReadStats) -> Iterator[EventRecord]:
    lines = iter(stream)
    number = offset = 0
    try:
        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            if not stripped:
                offset += len(line)
                continue
            if stripped.startswith(b"[") or _opens_a_document(stripped, False):
                yield from _read_document(line + b"".join(lines), path, number - 1, stats)
                return
            yield from _parse_line(line, path, number, offset, skip_invalid, stats)
            offset += len(line)
            break
        # Past the first line with content the stream is NDJSON: a lean loop, one event a line.
        for number, line in enumerate(lines, start=number + 1):  # noqa: B020 - the count goes on
            if not line.isspace():  # the bytes strip() removes: a blank line carries no event
                yield from _parse_line(line, path, number, offset, skip_invalid, stats)
            offset += len(line)
    except EOFError as error:
        # Lines are handed on only once whole, so the break is in the line after the last one read.
        raise InputError(
            path,
            number + 1,
            f"the gzip file is truncated (it ends before gzip's end marker) after {number} whole line(s); "
            "copy or compress it again",
        ) from error
    except (gzip.BadGzipFile, zlib.error) as error:
        raise InputError(path, number + 1, f"damaged gzip data: {error}") from error
    except OSError as error:
        what = "standard input" if path == STDIN else "the file"
        raise InputError(path, number + 1, f"cannot read {what}: {error.strerror or error}") from error


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
    line: bytes, path: str, number: int, offset: int, skip_invalid: bool, stats: ReadStats
) -> tuple[EventRecord, ...]:
    """The events of one line (a tuple, not a generator: this runs once per line of a corpus)."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return _refuse(_not_json(line, path, number, error), skip_invalid, stats, error)
    if not isinstance(event, dict):
        problem = InputError(
            path,
            number,
            f"expected a JSON object per line, found {type(event).__name__}; fix the line",
            column=1,
            skippable=True,
        )
        return _refuse(problem, skip_invalid, stats)
    raw = line.rstrip(b"\r\n")
    # A line exactly as orjson writes the object it holds repeats no key (orjson writes each key
    # once), so generated corpora skip the general check; any other spelling of a line takes it.
    repeated = None if orjson.dumps(event) == raw else duplicate_key(raw, event)
    if repeated is not None:
        key, column = repeated
        problem = InputError(
            path,
            number,
            f"the key {key!r} appears twice in one object; Elasticsearch refuses such a document "
            "(duplicate field): keep one of them",
            column=column,
            skippable=True,
        )
        return _refuse(problem, skip_invalid, stats)
    if "_index" not in event and "_source" not in event and "hits" not in event:
        # Neither a search hit nor a search response (exports.unwrap's tests): the line is the event.
        stats.events += 1
        return (EventRecord(event, path, number, raw, offset=offset),)
    try:
        sources = list(unwrap(event))
    except BadHitError as bad:
        problem = InputError(
            path, number, f"{bad.message}; fix the line", column=_column_of_source(line, bad), skippable=True
        )
        return _refuse(problem, skip_invalid, stats, bad)
    stats.events += len(sources)
    return tuple(
        EventRecord(
            source.event,
            path,
            number,
            raw if source.event is event else None,
            source.index,
            source.id,
            offset,
        )
        for source in sources
    )


def _refuse(
    problem: InputError, skip_invalid: bool, stats: ReadStats, cause: Exception | None = None
) -> tuple[EventRecord, ...]:
    """A bad line: raised, or with ``skip_invalid`` counted (never dropped silently)."""
    if not skip_invalid:
        if cause is None:
            raise problem
        raise problem from cause
    stats.invalid.append(problem)
    return ()


def _not_json(line: bytes, path: str, number: int, error: orjson.JSONDecodeError) -> InputError:
    """The error for a line orjson refused; bytes that are not UTF-8 are pointed at where they are."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as bad:
        # orjson says "surrogates not allowed" at 1:1 for any invalid byte: find it, count characters.
        column = len(line[: bad.start].decode("utf-8")) + 1
        return InputError(
            path,
            number,
            f"not UTF-8: byte 0x{line[bad.start]:02X} is {bad.reason}; save the file as UTF-8",
            column=column,
            skippable=True,
        )
    return InputError(
        path, number, f"not valid JSON: {error.msg}; fix the line", column=error.colno, skippable=True
    )


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
    repeated = duplicate_key(data, document)
    if repeated is not None:
        key, column = repeated
        raise InputError(
            path,
            line_offset + 1,
            f"the key {key!r} appears twice in one object; Elasticsearch refuses such a document "
            f"(duplicate field, character {column} of the document): keep one of them",
        )
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


def check_writable(path: str | Path) -> None:
    """Fail now, not after the work, when ``path`` cannot be written atomically (a file beside it)."""
    target = _through_links(Path(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as error:
        raise _cannot_write(target, error) from error
    os.close(fd)
    os.unlink(temporary)


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[IO[bytes]]:
    """Write to a temporary file beside ``path`` and rename it into place only on success.

    On any exception (KeyboardInterrupt, and SIGTERM once the CLI has made it one) the temporary
    file is removed. A file replaced keeps its permissions; a symbolic link keeps being one: the
    file it points to is replaced, as a plain ``open(path, "w")`` would have written there.
    """
    target = _through_links(Path(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as error:
        raise _cannot_write(target, error) from error
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _through_links(target: Path) -> Path:
    """The file a path names once its symbolic links are followed (the path itself when it is none)."""
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def _mode_for(target: Path) -> int:
    """The replaced file's permissions; for a new file, what a plain ``open()`` gives (mkstemp's is 0600)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _cannot_write(target: Path, error: OSError) -> HarnessError:
    return HarnessError(
        f"{target}: cannot write here ({error.strerror or error}): check that the folder "
        f"{target.parent} exists and is writable"
    )
