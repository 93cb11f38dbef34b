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
from dataclasses import dataclass
from typing import IO, Any, TypeAlias

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from generators.background import BACKGROUND, BackgroundDay, BackgroundPools, user_choices
from generators.columns import base64_column, guid_column, iso_column
from generators.fleet import Fleet
from generators.images import image
from generators.model import Host, Launch, Parent, User
from generators.profiles import CorpusOptions, fleet_plan, record_numbers
from generators.sources import SOURCES, Source
from generators.sources.common import ingest_lag_ms
from generators.sources.template import PartSlot, Template

__all__ = [
    "FleetChunk",
    "Pools",
    "Rows",
    "background_groups",
    "chunk_order",
    "fleet_chunks",
    "fleet_plan_chunks",
    "overlapped",
    "overlapped_writes",
    "row_number",
    "row_text",
    "write_fleet_ndjson",
]

_CHUNK = 50_000  # lines joined at once: bounds memory, and keeps string offsets far below 2 GiB
Piece: TypeAlias = Any  # an Arrow string column, or a str repeated on every row


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _members(mapping: dict[str, Any]) -> str:
    """``{"a":1,"b":2}`` without its braces, for splicing into an enclosing object."""
    return _json(mapping)[1:-1]


def _numbers(values: np.ndarray) -> pa.Array:
    return pa.array(values).cast(pa.string())


class Pools:
    """The pooled objects a background line's parts stand on, by role, and each part's column of blocks."""

    def __init__(self, fleet: Fleet, pools: BackgroundPools) -> None:
        self.fleet = fleet
        self.users: list[User] = []
        self._user_index: dict[int, int] = {}
        # (spec, variant) and (spec, variant, parent option) flattened into single indices.
        self.variant_base = np.cumsum([0] + [len(v) for v in fleet.variants[:-1]])
        options = [per_variant for per_spec in pools.parents for per_variant in per_spec]
        self.parent_base = np.cumsum([0] + [len(o) for o in options[:-1]])
        # The kind of account of each flattened variant, numbered.
        kinds = [v.user for vs in fleet.variants for v in vs]
        self._kinds = sorted(set(kinds))
        self.variant_kind = np.array([self._kinds.index(k) for k in kinds], dtype=np.int64)
        # Every account a background process may run as, each once, and per (kind, host) where its
        # choices start among ``_choices`` (user indices) and how many: the user pool is whole from
        # the start, so its blocks are converted once.
        hosts = len(fleet.hosts)
        self._choice_start = np.zeros(len(self._kinds) * hosts, dtype=np.int64)
        self._choice_count = np.zeros(len(self._kinds) * hosts, dtype=np.int64)
        choices: list[int] = []
        for k, kind in enumerate(self._kinds):
            for h in range(hosts):
                accounts = user_choices(fleet, kind, h)
                self._choice_start[k * hosts + h], self._choice_count[k * hosts + h] = (
                    len(choices),
                    len(accounts),
                )
                choices.extend(self.user_index(user) for user in accounts)
        self._choices = np.array(choices, dtype=np.int64)
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

    def users_of(self, variant: np.ndarray, host: np.ndarray, pick: np.ndarray) -> np.ndarray:
        """Vectorized ``user_for``: each row's account as an index into the user pool."""
        key = self.variant_kind[variant] * len(self.fleet.hosts) + host
        # pick * count truncated, in doubles: user_for's int(pick * len(choices)), row by row.
        chosen = self._choice_start[key] + (pick * self._choice_count[key]).astype(np.int64)
        users: np.ndarray = self._choices[chosen]
        return users

    def items(self, role: str) -> Sequence[Any]:
        """The pooled objects of ``role``, in the order :meth:`Rows.index` counts them."""
        return self._roles[role]

    def column(self, slot: PartSlot) -> pa.Array:
        """The part's block for every pooled object of its role, built once (again when users join)."""
        items = self._roles[slot.role]
        column = self._columns.get(slot)
        if column is None or len(column) != len(items):
            text = _members if slot.members else _json
            column = pa.array([text(slot.part.get(item)) for item in items], type=pa.string())
            self._columns[slot] = column
        return column


class Rows:
    """The background rows of one chunk of a day, as columns."""

    def __init__(self, day: BackgroundDay, rows: np.ndarray, records: np.ndarray, pools: Pools) -> None:
        self.ts: np.ndarray = day.timestamps[rows]
        self.spec: np.ndarray = day.spec[rows]
        self.host: np.ndarray = day.host[rows]
        self.pid: np.ndarray = day.pid[rows]
        self.ppid: np.ndarray = day.parent_pid[rows]
        self.hi = day.entity[rows, 0]
        self.lo = day.entity[rows, 1]
        self.records = records
        self.variant = pools.variant_base[self.spec] + day.variant[rows]
        self.parent = pools.parent_base[self.variant] + day.parent[rows]
        self.user = pools.users_of(self.variant, self.host, day.user_pick[rows])
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


def row_number(c: Rows, name: str) -> np.ndarray | None:
    """The column of a numeric one of ``template.ROW_VALUES`` (None for one written as text)."""
    if name == "timestamp:ms":
        return c.ts // 1_000_000
    if name in ("record", "record:str"):
        return c.records
    if name == "pid":
        return c.pid
    if name == "parent.pid":
        return c.ppid
    return None


def row_text(c: Rows, hosts: Sequence[Host], name: str) -> list[Piece]:
    """The column of one of ``template.ROW_VALUES`` for a chunk as text, as its renderers format it."""
    kind, _, digits = name.partition(":")
    if kind in ("timestamp", "ingested") and digits.isdigit():
        return [iso_column(c.ts if kind == "timestamp" else c.ingested, int(digits)), "Z"]
    number = row_number(c, name)
    if number is not None:
        return [_numbers(number)]
    if name == "parent.pid:hex":
        return [pa.array([hex(p) for p in c.ppid.tolist()])]
    if name in ("entity:guid", "parent.entity:guid"):
        # A background parent's entity id is its child's reversed (background_launches).
        return [guid_column(c.hi, c.lo, reverse=name.startswith("parent."))]
    if name in ("entity:defend", "parent.entity:defend"):
        # Vectorized common.defend_entity and defend_parent_entity (the parent started a second before).
        parent = name.startswith("parent.")
        pids, started = (c.ppid, c.ts - 1_000_000_000) if parent else (c.pid, c.ts)
        ids = pa.array([h.id for h in hosts], type=pa.string()).take(pa.array(c.host))
        text = pc.binary_join_element_wise(ids, "-", _numbers(pids), "-", _numbers(started // 100), "")
        return [base64_column(text)]
    raise KeyError(f"no column for the row value {name!r}")


def _pieces(pools: Pools, c: Rows, template: Template) -> list[Piece]:
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
                rows[piece.name] = row_text(c, pools.fleet.hosts, piece.name)
            pieces.extend(rows[piece.name])
    return pieces


@dataclass(frozen=True)
class FleetChunk:
    """One chunk of a fleet corpus in time order: which rows are background, which are scenario events.

    ``background`` holds the chunk's background rows (in order) with their record numbers;
    ``injected`` the scenario launches with their positions in the chunk, record numbers set.
    """

    day: BackgroundDay
    length: int
    is_background: np.ndarray  # per position of the chunk
    rows: np.ndarray  # the background rows' indices into the day
    records: np.ndarray  # the background rows' record numbers
    injected: list[tuple[Launch, Source]]


def fleet_plan_chunks(
    options: CorpusOptions, count: Callable[[str, str, int], None]
) -> Iterator[tuple[FleetChunk, Pools, np.ndarray]]:
    """A fleet or mixed corpus chunk by chunk in time order, with the pools and each host's source index.

    Every event is counted through ``count`` as its chunk is handed out; both fast writers
    (NDJSON lines, Arrow columns) fill the same chunks.
    """
    plan = fleet_plan(options)
    pools = Pools(plan.fleet, plan.pools)
    names = list(SOURCES)
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
            injected = []
            for position in np.flatnonzero(~is_background).tolist():
                launch, src = todays[int(part[position]) - n]
                launch.record_id = int(part_records[position])
                injected.append((launch, src))
                count(src.name, launch.label.intent, 1)
            tallies = np.bincount(host_source[day.host[part[is_background]]], minlength=len(names))
            for s, tally in enumerate(tallies.tolist()):
                if tally:
                    count(names[s], BACKGROUND.intent, tally)
            written += len(part)
            chunk = FleetChunk(
                day, len(part), is_background, part[is_background], part_records[is_background], injected
            )
            yield chunk, pools, host_source


def background_groups(
    chunk: FleetChunk, pools: Pools, host_source: np.ndarray
) -> Iterator[tuple[int, np.ndarray, Rows]]:
    """A chunk's background rows source by source: the source's index, the rows' positions, their columns."""
    sources = host_source[chunk.day.host[chunk.rows]]
    for s in np.unique(sources).tolist():
        mine = np.flatnonzero(sources == s)
        yield s, mine, Rows(chunk.day, chunk.rows[mine], chunk.records[mine], pools)


def chunk_order(chunk: FleetChunk, background: np.ndarray) -> np.ndarray:
    """Where each position of ``chunk`` is found in its background rows (in ``background`` order) and then its
    injected events appended after them."""
    inverse = np.empty(chunk.length, dtype=np.int64)
    places = np.flatnonzero(chunk.is_background)
    inverse[places[background]] = np.arange(len(background))
    inverse[np.flatnonzero(~chunk.is_background)] = len(background) + np.arange(len(chunk.injected))
    return inverse


def fleet_chunks(
    options: CorpusOptions,
    count: Callable[[str, str, int], None],
    render_injected: Callable[[Launch, Source], bytes],
) -> Iterator[tuple[memoryview, int]]:
    """A fleet or mixed corpus as NDJSON text, chunk by chunk in time order, with each chunk's line count.

    ``render_injected`` renders the few scenario events.
    """
    templates = [source.template() for source in SOURCES.values()]
    for chunk, pools, host_source in fleet_plan_chunks(options, count):
        parts: list[pa.Array] = []
        positions: list[np.ndarray] = []
        for s, mine, columns in background_groups(chunk, pools, host_source):
            parts.append(pc.binary_join_element_wise(*_pieces(pools, columns, templates[s]), ""))
            positions.append(mine)
        extra = [render_injected(launch, src).decode() + "\n" for launch, src in chunk.injected]
        parts.append(pa.array(extra, type=pa.string()))
        background = np.concatenate(positions) if positions else np.empty(0, dtype=np.int64)
        lines = pa.concat_arrays(parts).take(pa.array(chunk_order(chunk, background)))
        yield _text(lines), chunk.length


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
    """Write in a second thread, so that making the next chunk overlaps writing (or gzipping) this one."""
    with overlapped(stream.write) as write:
        yield write


@contextmanager
def overlapped(consume: Callable[[Any], object], depth: int = 2) -> Iterator[Callable[[Any], None]]:
    """Hand items to ``consume`` in a second thread, so that making the next overlaps consuming this one.

    At most ``depth`` items wait; an error in ``consume`` is raised in the caller at its next
    hand-over or on exit, and an error in the caller stops the consumer.
    """
    pending: queue.Queue[Any] = queue.Queue(maxsize=depth)
    failures: list[BaseException] = []

    def drain() -> None:
        while True:
            item = pending.get()
            if item is None:
                return
            if not failures:
                try:
                    consume(item)
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
