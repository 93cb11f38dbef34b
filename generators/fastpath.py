"""The fast NDJSON writer for fleet corpora: background lines assembled in columns.

A fleet corpus is mostly background, and a background line differs from its
neighbours only in a time stamp, a few numbers and ids. So instead of building a
dict per event, each source's line is its template (``generators.sources.template``,
derived from the renderer): constant text, pre-serialized blocks (per host, user,
command line, parent, image) taken from the renderer's own parts and gathered with
Arrow ``take``, and per-row values formatted in columns; Arrow joins the pieces row
by row in C++. The result is byte for byte what the renderers give
(``tests/test_fastpath.py`` holds it to that); only the time it takes differs.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any, TypeAlias

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from generators.background import BACKGROUND, BackgroundDay, BackgroundPools, user_for
from generators.fleet import Fleet
from generators.images import image
from generators.model import Host, Launch, Parent, User
from generators.profiles import CorpusOptions, fleet_plan, record_numbers
from generators.sources import SOURCES, Source
from generators.sources.common import defend_entity, defend_parent_entity, ingest_lag_ms
from generators.sources.template import PartSlot, Template

__all__ = ["fleet_chunks", "overlapped_writes", "write_fleet_ndjson"]

_CHUNK = 50_000  # lines joined at once: bounds memory, and keeps string offsets far below 2 GiB
_HEX = np.array([f"{i:02X}".encode() for i in range(256)], dtype="S2")
Piece: TypeAlias = Any  # an Arrow string column, or a str repeated on every row


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _members(mapping: dict[str, Any]) -> str:
    """``{"a":1,"b":2}`` without its braces, for splicing into an enclosing object."""
    return _json(mapping)[1:-1]


def _iso(ns: np.ndarray, digits: int) -> pa.Array:
    """Vectorized ``common.iso`` without the ``Z``: truncated, not rounded, like the renderers."""
    instants = ns.astype("datetime64[ns]")
    if digits == 0:
        return pa.array(np.datetime_as_string(instants.astype("datetime64[s]"), unit="s"))
    return pa.array(np.datetime_as_string(instants, unit="ns").astype(f"<U{20 + digits}"))


def _numbers(values: np.ndarray) -> pa.Array:
    return pa.array(values).cast(pa.string())


def _guids(hi: np.ndarray, lo: np.ndarray, reverse: bool) -> pa.Array:
    """Vectorized ``entity_guid(entity_hex(hi, lo))`` (``reverse``: of the reversed hex string)."""
    raw = np.empty((len(hi), 2), dtype=">u8")
    raw[:, 0], raw[:, 1] = hi, lo
    digits = _HEX[raw.view(np.uint8).reshape(len(hi), 16)].view("S1").reshape(len(hi), 32)
    if reverse:
        digits = digits[:, ::-1]
    out = np.full((len(hi), 38), b"-", dtype="S1")
    out[:, 0], out[:, 37] = b"{", b"}"
    out[:, 1:9], out[:, 10:14], out[:, 15:19], out[:, 20:24], out[:, 25:37] = (
        digits[:, 0:8],
        digits[:, 8:12],
        digits[:, 12:16],
        digits[:, 16:20],
        digits[:, 20:32],
    )
    return pa.array(np.ascontiguousarray(out).view("S38").ravel(), type=pa.binary()).cast(pa.string())


class _Pools:
    """The pooled objects a background line's parts stand on, by role, and each part's column of blocks."""

    def __init__(self, fleet: Fleet, pools: BackgroundPools) -> None:
        self.fleet = fleet
        self.users: list[User] = []
        self._user_index: dict[int, int] = {}
        # (spec, variant) and (spec, variant, parent option) flattened into single indices.
        self.variant_base = np.cumsum([0] + [len(v) for v in fleet.variants[:-1]])
        options = [per_variant for per_spec in pools.parents for per_variant in per_spec]
        self.parent_base = np.cumsum([0] + [len(o) for o in options[:-1]])
        # The kind of account of each flattened variant.
        self.user_kinds = [v.user for vs in fleet.variants for v in vs]
        # A parent as a part sees it: its pid and entity id are per row, never read there.
        parents = [Parent(image(key), args, line, 0, "") for o in options for key, args, line in o]
        self._roles: dict[str, Sequence[Any]] = {
            "command": [v for vs in fleet.variants for v in vs],
            "host": fleet.hosts,
            "user": self.users,
            "image": [image(spec.image) for spec in fleet.processes],
            "parent": parents,
            "parent.image": [p.image for p in parents],
        }
        self._columns: dict[PartSlot, pa.Array] = {}

    def user_index(self, user: User) -> int:
        index = self._user_index.get(id(user))
        if index is None:
            index = self._user_index[id(user)] = len(self.users)
            self.users.append(user)
        return index

    def column(self, slot: PartSlot) -> pa.Array:
        """The part's block for every pooled object of its role, built once (again when users join)."""
        items = self._roles[slot.role]
        column = self._columns.get(slot)
        if column is None or len(column) != len(items):
            text = _members if slot.members else _json
            column = pa.array([text(slot.part.get(item)) for item in items], type=pa.string())
            self._columns[slot] = column
        return column


class _Chunk:
    """The background rows of one chunk of a day, as columns."""

    def __init__(self, day: BackgroundDay, rows: np.ndarray, records: np.ndarray, pools: _Pools) -> None:
        fleet = pools.fleet
        self.ts = day.timestamps[rows]
        self.spec = day.spec[rows]
        self.host = day.host[rows]
        self.pid = day.pid[rows]
        self.ppid = day.parent_pid[rows]
        self.hi = day.entity[rows, 0]
        self.lo = day.entity[rows, 1]
        self.records = records
        self.variant = pools.variant_base[self.spec] + day.variant[rows]
        self.parent = pools.parent_base[self.variant] + day.parent[rows]
        picks = day.user_pick[rows].tolist()
        kinds = pools.user_kinds
        self.user = np.array(
            [
                pools.user_index(user_for(fleet, kinds[v], h, p))
                for v, h, p in zip(self.variant.tolist(), self.host.tolist(), picks, strict=True)
            ],
            dtype=np.int64,
        )
        self.ingested = self.ts + ingest_lag_ms(self.pid, records, self.ts) * 1_000_000

    def index(self, role: str) -> np.ndarray:
        """Each row's index into the pool of ``role``."""
        by_role: dict[str, np.ndarray] = {
            "command": self.variant,
            "host": self.host,
            "user": self.user,
            "image": self.spec,
            "parent": self.parent,
            "parent.image": self.parent,
        }
        return by_role[role]


def _take(column: pa.Array, index: np.ndarray) -> pa.Array:
    return column.take(pa.array(index))


def _row(c: _Chunk, hosts: Sequence[Host], name: str) -> list[Piece]:
    """The column of one of ``template.ROW_VALUES`` for a chunk, as its renderers format it."""
    kind, _, digits = name.partition(":")
    if kind in ("timestamp", "ingested") and digits.isdigit():
        return [_iso(c.ts if kind == "timestamp" else c.ingested, int(digits)), "Z"]
    if name == "timestamp:ms":
        return [_numbers(c.ts // 1_000_000)]
    if name in ("record", "record:str"):
        return [_numbers(c.records)]
    if name == "pid":
        return [_numbers(c.pid)]
    if name == "parent.pid":
        return [_numbers(c.ppid)]
    if name == "parent.pid:hex":
        return [pa.array([hex(p) for p in c.ppid.tolist()])]
    if name in ("entity:guid", "parent.entity:guid"):
        # A background parent's entity id is its child's reversed (background_launches).
        return [_guids(c.hi, c.lo, reverse=name.startswith("parent."))]
    if name in ("entity:defend", "parent.entity:defend"):
        entity = defend_parent_entity if name.startswith("parent.") else defend_entity
        pids = c.ppid if name.startswith("parent.") else c.pid
        rows = zip(c.host.tolist(), pids.tolist(), c.ts.tolist(), strict=True)
        return [pa.array([entity(hosts[h], p, t) for h, p, t in rows])]
    raise KeyError(f"no column for the row value {name!r}")


def _pieces(pools: _Pools, c: _Chunk, template: Template) -> list[Piece]:
    """A source's template filled for a chunk: constants, pooled blocks taken per row, row columns."""
    rows: dict[str, list[Piece]] = {}
    pieces: list[Piece] = []
    for piece in template.pieces:
        if isinstance(piece, str):
            pieces.append(piece)
        elif isinstance(piece, PartSlot):
            pieces.append(_take(pools.column(piece), c.index(piece.role)))
        else:
            if piece.name not in rows:
                rows[piece.name] = _row(c, pools.fleet.hosts, piece.name)
            pieces.extend(rows[piece.name])
    return pieces


def _background_lines(
    pools: _Pools,
    day: BackgroundDay,
    rows: np.ndarray,
    records: np.ndarray,
    host_source: np.ndarray,
    templates: list[Template],
) -> pa.Array:
    """The lines of background ``rows`` (in that order), each source's joined in one go."""
    if len(rows) == 0:  # a chunk of scenario events only (a high attack rate)
        return pa.array([], type=pa.string())
    parts: list[pa.Array] = []
    positions: list[np.ndarray] = []
    sources = host_source[day.host[rows]]
    for s in np.unique(sources).tolist():
        mine = np.flatnonzero(sources == s)
        chunk = _Chunk(day, rows[mine], records[mine], pools)
        pieces = _pieces(pools, chunk, templates[s])
        parts.append(pc.binary_join_element_wise(*pieces, ""))
        positions.append(mine)
    joined = pa.concat_arrays(parts)
    inverse = np.empty(len(rows), dtype=np.int64)
    inverse[np.concatenate(positions)] = np.arange(len(rows))
    return joined.take(pa.array(inverse))


def fleet_chunks(
    options: CorpusOptions,
    count: Callable[[str, str, int], None],
    render_injected: Callable[[Launch, Source], bytes],
    *,
    columnar: bool = False,
) -> Iterator[tuple[memoryview, int]]:
    """A fleet or mixed corpus as NDJSON text, chunk by chunk in time order, with each chunk's line count.

    ``render_injected`` renders the few scenario events; ``columnar`` spells Endgame's
    fields the way a Parquet column can hold them.
    """
    plan = fleet_plan(options)
    pools = _Pools(plan.fleet, plan.pools)
    names = list(SOURCES)
    templates = [SOURCES[name].template(columnar) for name in names]
    host_source = np.array([names.index(plan.sources[id(h)].name) for h in plan.fleet.hosts], dtype=np.int64)
    host_index = {id(h): i for i, h in enumerate(plan.fleet.hosts)}
    counters: dict[int, int] = {}
    written = 0
    limit = options.events if options.events is not None else np.iinfo(np.int64).max
    for day, todays in plan.days:
        n = len(day)
        injected_ts = np.array([launch.timestamp_ns for launch, _ in todays], dtype=np.int64)
        stamps = np.concatenate([day.timestamps, injected_ts])
        # heapq.merge's order: by time, background first on ties, each input in its own order.
        order = np.lexsort((np.arange(len(stamps)), np.arange(len(stamps)) >= n, stamps))
        order = order[: max(0, min(len(order), limit - written))]
        injected_hosts = np.array([host_index[id(launch.host)] for launch, _ in todays], dtype=np.int64)
        records = record_numbers(np.concatenate([day.host, injected_hosts])[order], counters)
        for start in range(0, len(order), _CHUNK):
            part = order[start : start + _CHUNK]
            part_records = records[start : start + _CHUNK]
            is_background = part < n
            lines = _background_lines(
                pools, day, part[is_background], part_records[is_background], host_source, templates
            )
            extra = []
            for position in np.flatnonzero(~is_background).tolist():
                launch, src = todays[int(part[position]) - n]
                launch.record_id = int(part_records[position])
                extra.append(render_injected(launch, src).decode() + "\n")
                count(src.name, launch.label.intent, 1)
            if extra:
                merged = pa.concat_arrays([lines, pa.array(extra, type=pa.string())])
                slot = np.empty(len(part), dtype=np.int64)
                slot[np.flatnonzero(is_background)] = np.arange(len(lines))
                slot[np.flatnonzero(~is_background)] = len(lines) + np.arange(len(extra))
                lines = merged.take(pa.array(slot))
            tallies = np.bincount(host_source[day.host[part[is_background]]], minlength=len(names))
            for s, tally in enumerate(tallies.tolist()):
                if tally:
                    count(names[s], BACKGROUND.intent, tally)
            written += len(part)
            yield _text(lines), len(part)


def write_fleet_ndjson(
    options: CorpusOptions,
    stream: IO[bytes],
    count: Callable[[str, str, int], None],
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write a fleet or mixed corpus as NDJSON; the same bytes as rendering each event, only faster."""
    written = 0
    with overlapped_writes(stream) as write:
        for chunk, lines in fleet_chunks(options, count, lambda launch, src: src.dumps(launch)):
            write(chunk)
            written += lines
            if on_progress:
                on_progress(written)
    return written


@contextmanager
def overlapped_writes(stream: IO[bytes]) -> Iterator[Callable[[Any], None]]:
    """Write in a second thread, so that making the next chunk overlaps writing (or gzipping) this one.

    At most two chunks wait; an error in the writer is raised in the caller at its next
    write or on exit, and an error in the caller stops the writer.
    """
    pending: queue.Queue[Any] = queue.Queue(maxsize=2)
    failures: list[BaseException] = []

    def drain() -> None:
        while True:
            item = pending.get()
            if item is None:
                return
            if not failures:
                try:
                    stream.write(item)
                except BaseException as error:  # handed to the caller, never lost
                    failures.append(error)

    writer = threading.Thread(target=drain, name="corpus-writer", daemon=True)
    writer.start()

    def write(chunk: Any) -> None:
        if failures:
            raise failures[0]
        pending.put(chunk)

    try:
        yield write
    finally:
        pending.put(None)
        writer.join()
    if failures:
        raise failures[0]


def _text(lines: pa.Array) -> memoryview:
    """The lines' characters as one buffer, without a copy (each line ends with a newline)."""
    if len(lines) == 0:
        return memoryview(b"")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    return memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]
