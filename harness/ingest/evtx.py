"""EVTX files as a stream of records, each a plain dict, with every defect reported.

Records are decoded by the ``evtx`` package (Rust). Two defects it does not make
obvious are checked here: a record it cannot decode is yielded as an error in the
middle of the stream, and a chunk cut short by truncation is skipped without a word,
so the file's size is held to the chunk count its header declares.
"""

from __future__ import annotations

import struct
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
    try:
        records = iter(PyEvtxParser(str(path)).records_json())
    except (OSError, RuntimeError) as error:
        yield RecordProblem(None, f"not a readable EVTX file: {error}")
        return
    while True:
        try:
            raw = next(records)
        except StopIteration:
            break
        except (OSError, RuntimeError) as error:
            yield RecordProblem(last, str(error))
            continue
        if raw is None:
            continue
        last = int(raw["event_record_id"])
        yield EvtxRecord(last, orjson.loads(raw["data"]))
    if missing:
        yield RecordProblem(last, missing)


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
