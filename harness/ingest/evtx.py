"""EVTX files as a stream of records, each a plain dict, with every defect reported.

Records are decoded by the ``evtx`` package (Rust), which is asked to check each chunk's
CRC32 checksums (header, and records area): a chunk that fails is a problem in the stream,
its records lost, like any other damage. The file header's checksum is checked here, and
two defects the parser does not make obvious: a record it cannot decode is yielded as an
error in the middle of the stream, and a chunk cut short by truncation is skipped without
a word, so the file's size is held to the chunk count its header declares.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from evtx import PyEvtxParser

__all__ = ["EvtxRecord", "RecordProblem", "read_evtx"]

_HEADER_SIZE = 4096
_CHUNK_SIZE = 65536
_SIGNATURE = b"ElfFile\x00"
# How the evtx package says a chunk failed its checksum ("header" or "data", the records area).
_CHUNK_CRC = re.compile(r"chunk number (\d+): chunk (header|data) CRC32 invalid")


@dataclass(frozen=True)
class EvtxRecord:
    """One decoded record: the header's record number and the XML as nested dicts."""

    record_number: int
    event: dict[str, Any]


@dataclass(frozen=True)
class RecordProblem:
    """A part of the file that could not be read, and the last record read before it."""

    after_record: int | None
    message: str

    def __str__(self) -> str:
        where = (
            "before the first record" if self.after_record is None else f"after record {self.after_record}"
        )
        return f"{where}: {self.message}"


def read_evtx(path: Path) -> Iterator[EvtxRecord | RecordProblem]:
    """Every record of ``path`` in file order; a problem in its place where one cannot be read."""
    missing = _missing_chunks(path)
    last: int | None = None
    damaged_header = _header_problem(path)
    if damaged_header is not None:
        yield RecordProblem(None, damaged_header)
    try:
        # Every chunk's header and records carry a CRC32; without checking them, a flipped byte
        # inside a record's data decodes to an altered document that nobody is told about.
        records = iter(PyEvtxParser(str(path), validate_checksums=True).records_json())
    except (OSError, RuntimeError) as error:
        yield RecordProblem(None, f"not a readable EVTX file: {error}")
        return
    while True:
        try:
            raw = next(records)
        except StopIteration:
            break
        except (OSError, RuntimeError) as error:
            yield RecordProblem(last, _explained(path, str(error)))
            continue
        if raw is None:
            continue
        last = int(raw["event_record_id"])
        yield EvtxRecord(last, orjson.loads(raw["data"]))
    if missing:
        yield RecordProblem(last, missing)


def _header_problem(path: Path) -> str | None:
    """Why the file header fails its CRC32 (over bytes 0 to 120, stored at 124), or None when it passes.

    The parser checks each chunk's checksums but not the file header's, as libevtx documents it.
    """
    with path.open("rb") as stream:
        header = stream.read(128)
    if len(header) < 128 or not header.startswith(_SIGNATURE):
        return None  # the parser reports a missing or foreign header itself
    (stored,) = struct.unpack_from("<I", header, 124)
    if zlib.crc32(header[:120]) == stored:
        return None
    return "the file header's CRC32 checksum does not match: the header is damaged"


def _explained(path: Path, message: str) -> str:
    """The parser's message, with a checksum failure said as damage to the records it holds."""
    found = _CHUNK_CRC.search(message)
    if found is None:
        return message
    number, part = int(found[1]), found[2]
    with path.open("rb") as stream:
        stream.seek(_HEADER_SIZE + number * _CHUNK_SIZE + 8)
        first, last = struct.unpack("<QQ", stream.read(16).ljust(16, b"\0"))
    held = f"records {first} to {last}, by its header" if 0 < first <= last else "its records"
    return (
        f"chunk {number}: its {part} CRC32 checksum does not match, so the chunk is damaged; "
        f"its records ({held}) are left out"
    )


def _missing_chunks(path: Path) -> str | None:
    """Why the file is shorter than its header says, or None when it is not."""
    with path.open("rb") as stream:
        header = stream.read(_HEADER_SIZE)
    if len(header) < 0x2C or not header.startswith(_SIGNATURE):
        return None  # the parser reports a bad header itself
    (chunks,) = struct.unpack_from("<H", header, 0x2A)
    size = path.stat().st_size
    complete = max(0, (size - _HEADER_SIZE) // _CHUNK_SIZE)
    if complete >= chunks:
        return None
    return (
        f"file truncated: the header declares {chunks} chunk(s) of {_CHUNK_SIZE} bytes, "
        f"chunk {complete} ends past the end of the file ({size} bytes); its records are lost"
    )
