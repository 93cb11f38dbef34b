"""A damaged EVTX file is never read as altered documents: every chunk's CRC32 is checked.

Each byte of a chunk's header (but its flags, which no checksum covers) and a dense sample
of its records area is flipped in turn, and each flip must surface as a problem (a checksum
that fails, or a signature the parser refuses): CRC32 catches every burst of up to 32 bits,
so none may pass. Each chunk is tested in a
file of its own (the file header rewritten to hold one chunk), flipped in place, so a flip
costs one small parse rather than a copy of the file.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest

from harness.errors import IngestError
from harness.ingest import ingest_evtx
from harness.ingest.evtx import EvtxRecord, RecordProblem, read_evtx

ROOT = Path(__file__).resolve().parents[1]
APPCMD = ROOT.parent / "shared/data/evtx" / "discovery_sysmon_1_iis_pwd_and_config_discovery_appcmd.evtx"
HEADER, CHUNK = 4096, 65536
STEP = 2  # every other byte of the records area: about 140,000 flips over the file's five chunks

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not APPCMD.is_file(), reason=f"{APPCMD} is absent (../shared is not here)"),
]


def _one_chunk_file(tmp_path: Path, number: int) -> tuple[Path, int]:
    """The file header (declaring one chunk, checksum redone) and chunk ``number``; its records' end."""
    data = APPCMD.read_bytes()
    header = bytearray(data[:HEADER])
    struct.pack_into("<QQH", header, 8, 0, 0, 1)  # first and last chunk 0 ...
    struct.pack_into("<H", header, 0x2A, 1)  # ... and one chunk
    struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])))
    chunk = data[HEADER + number * CHUNK : HEADER + (number + 1) * CHUNK]
    (free,) = struct.unpack_from("<I", chunk, 0x30)  # where the records end
    path = tmp_path / f"chunk{number}.evtx"
    path.write_bytes(bytes(header) + chunk)
    return path, free


def _chunks() -> int:
    (count,) = struct.unpack_from("<H", APPCMD.read_bytes(), 0x2A)
    return int(count)


def _flipped_is_caught(path: Path, fd: int, offset: int, original: int) -> bool:
    os.pwrite(fd, bytes([original ^ 0x01]), offset)
    try:
        items = list(read_evtx(path))
    finally:
        os.pwrite(fd, bytes([original]), offset)
    return any(isinstance(item, RecordProblem) for item in items)


@pytest.mark.parametrize("number", range(5))
def test_every_flip_in_a_chunk_is_detected(tmp_path: Path, number: int) -> None:
    assert _chunks() == 5
    path, free = _one_chunk_file(tmp_path, number)
    whole = list(read_evtx(path))
    assert whole and all(isinstance(item, EvtxRecord) for item in whole)
    data = path.read_bytes()
    base = HEADER
    header_bytes = [o for o in range(512) if not 120 <= o < 124]  # the flags lie outside both sums
    records = range(512 + number % STEP, free, STEP)
    offsets = [base + o for o in (*header_bytes, *records)]
    fd = os.open(path, os.O_RDWR)
    try:
        missed = [o - base for o in offsets if not _flipped_is_caught(path, fd, o, data[o])]
    finally:
        os.close(fd)
    assert missed == [], f"flips at chunk offsets {missed[:10]} were read as documents"


def test_a_damaged_chunk_stops_ingest_and_keep_going_lists_it(tmp_path: Path) -> None:
    path = tmp_path / "flipped.evtx"
    data = bytearray(APPCMD.read_bytes())
    data[HEADER + CHUNK + 5000] ^= 0x10  # inside chunk 1's records
    path.write_bytes(bytes(data))
    with pytest.raises(IngestError) as caught:
        ingest_evtx(path)
    assert str(caught.value) == (
        f"{path}: after record 9: chunk 1: its data CRC32 checksum does not match, so the chunk is "
        "damaged; its records (records 10 to 18, by its header) are left out"
    )
    kept = ingest_evtx(path, strict=False)
    assert len(kept.problems) == 1 and "chunk 1" in kept.problems[0]


def test_a_damaged_file_header_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "header.evtx"
    data = bytearray(APPCMD.read_bytes())
    data[20] ^= 0x01  # the last chunk's number, which no chunk checksum covers
    path.write_bytes(bytes(data))
    with pytest.raises(IngestError, match="the file header's CRC32 checksum does not match"):
        ingest_evtx(path)
