"""The fast NDJSON writer for fleet corpora: background lines assembled in columns.

A fleet corpus is mostly background, and a background line differs from its
neighbours only in a time stamp, a few numbers and ids. So instead of building a
dict per event, each source's line is a fixed sequence of pieces: pre-serialized
blocks (per host, per user, per command line, per parent, per image) taken from the
renderers' own output and gathered with Arrow ``take``, and per-row values
formatted in columns; Arrow joins the pieces row by row in C++. The result is
byte for byte what the renderers give (``tests/test_fastpath.py`` holds it to
that); only the time it takes differs.
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
from generators.model import Image, Launch, User
from generators.profiles import CorpusOptions, fleet_plan, record_numbers
from generators.sources import SOURCES, Source, endgame, endpoint, security, sysmon
from generators.sources.common import Part, agent_host, defend_entity
from generators.winargs import pipeline_args, security_args

__all__ = ["fleet_chunks", "overlapped_writes", "write_fleet_ndjson"]

_WORKDIR = "C:\\Windows\\system32\\"
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
    """Every pre-serialized piece a background line can need, indexed by small integers."""

    def __init__(self, fleet: Fleet, pools: BackgroundPools) -> None:
        self.fleet = fleet
        self.pools = pools
        self.users: list[User] = []
        self._user_index: dict[int, int] = {}
        # (spec, variant) and (spec, parent option) flattened into single indices.
        self.variant_base = np.cumsum([0] + [len(v) for v in fleet.variants[:-1]])
        self.parent_base = np.cumsum([0] + [len(p) for p in pools.parents[:-1]])
        self.variants = [v for vs in fleet.variants for v in vs]
        self.parents = [p for ps in pools.parents for p in ps]
        self.spec_images = [image(spec.image) for spec in fleet.processes]
        self._cache: dict[tuple[Any, ...], pa.Array] = {}

    def user_index(self, user: User) -> int:
        index = self._user_index.get(id(user))
        if index is None:
            index = self._user_index[id(user)] = len(self.users)
            self.users.append(user)
        return index

    def pool(self, key: tuple[Any, ...], items: Sequence[Any], render: Callable[[Any], str]) -> pa.Array:
        """A column of pieces, one per pooled item, built once."""
        column = self._cache.get(key)
        if column is None or len(column) != len(items):
            column = self._cache[key] = pa.array([render(item) for item in items], type=pa.string())
        return column


class _Chunk:
    """The background rows of one chunk of a day, as columns."""

    def __init__(self, day: BackgroundDay, rows: np.ndarray, records: np.ndarray, pools: _Pools) -> None:
        fleet = pools.fleet
        self.rows = rows
        self.ts = day.timestamps[rows]
        self.spec = day.spec[rows]
        self.host = day.host[rows]
        self.pid = day.pid[rows]
        self.ppid = day.parent_pid[rows]
        self.hi = day.entity[rows, 0]
        self.lo = day.entity[rows, 1]
        self.records = records
        self.variant = pools.variant_base[self.spec] + day.variant[rows]
        self.parent = pools.parent_base[self.spec] + day.parent[rows]
        picks = day.user_pick[rows].tolist()
        self.user = np.array(
            [
                pools.user_index(user_for(fleet, fleet.processes[k].user, h, p))
                for k, h, p in zip(self.spec.tolist(), self.host.tolist(), picks, strict=True)
            ],
            dtype=np.int64,
        )
        lag_ms = 400 + (self.pid * 7919 + records * 104729 + self.ts // 1_000_000) % 5600
        self.ingested = self.ts + lag_ms * 1_000_000


def _take(column: pa.Array, index: np.ndarray) -> pa.Array:
    return column.take(pa.array(index))


def _labels(src: Source) -> str:
    return _json(
        {
            "scenario": BACKGROUND.scenario,
            "intent": BACKGROUND.intent,
            "role": BACKGROUND.role,
            "attack": "",
            "source": src.name,
            "index": src.index,
        }
    )


def _part(pools: _Pools, which: Part[Any], items: Sequence[Any], key: str, members: bool = False) -> pa.Array:
    render = (lambda obj: _members(which.get(obj))) if members else (lambda obj: _json(which.get(obj)))
    return pools.pool((key, id(which)), items, render)


def _endpoint(pools: _Pools, c: _Chunk, src: Source) -> list[Piece]:
    fleet = pools.fleet
    variant = pools.pool(
        ("ep-variant",),
        pools.variants,
        lambda v: _members(
            {
                "args": v.args,
                "args_count": len(v.args),
                "command_line": v.command_line,
                "working_directory": _WORKDIR,
            }
        ),
    )
    parent_head = pools.pool(
        ("ep-parent",),
        pools.parents,
        lambda p: _members({"args": p[1], "args_count": len(p[1]), "command_line": p[2]}),
    )
    parent_tail = pools.pool(
        ("ep-parent-tail",),
        pools.parents,
        lambda p: _members({"executable": image(p[0]).executable, "name": image(p[0]).name}),
    )
    hosts = [fleet.hosts[h] for h in c.host.tolist()]
    stamp = _iso(c.ts, 7)
    return [
        '{"@timestamp":"',
        stamp,
        'Z","agent":',
        _take(_part(pools, endpoint._agent, fleet.hosts, "host"), c.host),
        f',"data_stream":{_json(endpoint._DATA_STREAM)},"ecs":{_json(endpoint._ECS)},'
        '"event":{"agent_id_status":"verified","sequence":',
        _numbers(c.records),
        ',"ingested":"',
        _iso(c.ingested, 0),
        'Z","created":"',
        stamp,
        'Z","kind":"event","module":"endpoint","action":"start","category":["process"],"type":["start"],'
        '"dataset":"endpoint.events.process"},"host":',
        _take(_part(pools, endpoint._host, fleet.hosts, "host"), c.host),
        ',"message":"Endpoint process event","process":{"parent":{',
        _take(parent_head, c.parent),
        ',"entity_id":"',
        pa.array(
            [
                defend_entity(h, p, t - 1_000_000_000)
                for h, p, t in zip(hosts, c.ppid.tolist(), c.ts.tolist(), strict=True)
            ]
        ),
        '",',
        _take(parent_tail, c.parent),
        ',"pid":',
        _numbers(c.ppid),
        '},"pid":',
        _numbers(c.pid),
        ',"entity_id":"',
        pa.array(
            [defend_entity(h, p, t) for h, p, t in zip(hosts, c.pid.tolist(), c.ts.tolist(), strict=True)]
        ),
        '",',
        _take(variant, c.variant),
        ",",
        _take(_part(pools, endpoint._image, pools.spec_images, "image", members=True), c.spec),
        '},"user":',
        _take(_part(pools, endpoint._user, pools.users, "user"), c.user),
        f',"labels":{_labels(src)}}}\n',
    ]


def _sysmon(pools: _Pools, c: _Chunk, variant: sysmon.Variant, src: Source) -> list[Piece]:
    fleet = pools.fleet
    args = pools.pool(
        ("sm-args",),
        pools.variants,
        lambda v: _members(
            {
                "args": pipeline_args(v.command_line),
                "args_count": len(pipeline_args(v.command_line)),
                "command_line": v.command_line,
            }
        ),
    )
    parent_head = pools.pool(
        ("sm-parent",),
        pools.parents,
        lambda p: _members(
            {"args": pipeline_args(p[2]), "args_count": len(pipeline_args(p[2])), "command_line": p[2]}
        ),
    )
    parent_tail = pools.pool(
        ("ep-parent-tail",),
        pools.parents,
        lambda p: _members({"executable": image(p[0]).executable, "name": image(p[0]).name}),
    )
    agent = pools.pool(
        ("sm-agent", variant.beat),
        fleet.hosts,
        lambda h: _json(
            {"type": "winlogbeat", "version": "8.17.0", "name": h.name, "id": h.id}
            if variant.beat
            else {"type": "filebeat", "version": "8.15.3", "name": h.name, "id": h.id}
        ),
    )
    user = pools.pool(
        ("sm-user",), pools.users, lambda u: _json({"domain": u.domain, "id": "S-1-5-18", "name": u.name})
    )
    related_user = pools.pool(("sm-related-user",), pools.users, lambda u: _json([u.name]))
    fqdn = pools.pool(("fqdn",), fleet.hosts, lambda h: _json(h.fqdn))
    image_part = sysmon._image if variant.original_file_name else sysmon._image_sysmon9
    if variant.beat:
        head, tail = ',"ecs":{"version":"8.17.0"},', ',"module":"sysmon"'
    else:
        head = (
            ',"ecs":{"version":"8.0.0"},"data_stream":'
            + _json({"dataset": "windows.sysmon_operational", "namespace": "default", "type": "logs"})
            + ","
        )
        tail = ',"dataset":"windows.sysmon_operational","agent_id_status":"verified"'
    stamp = _iso(c.ts, 3)
    return [
        '{"@timestamp":"',
        stamp,
        'Z","agent":',
        _take(agent, c.host),
        head,
        '"event":{"action":"Process creation","category":["process"],"code":"1","kind":"event",'
        '"provider":"Microsoft-Windows-Sysmon","type":["start"],"created":"',
        stamp,
        'Z","ingested":"',
        _iso(c.ingested, 3),
        'Z"' + tail + '},"host":',
        _take(_part(pools, agent_host, fleet.hosts, "host"), c.host),
        ',"log":{"level":"information"},"process":{',
        _take(args, c.variant),
        ',"entity_id":"',
        _guids(c.hi, c.lo, reverse=False),
        '",',
        _take(_part(pools, image_part, pools.spec_images, "image", members=True), c.spec),
        ',"parent":{',
        _take(parent_head, c.parent),
        ',"entity_id":"',
        _guids(c.hi, c.lo, reverse=True),
        '",',
        _take(parent_tail, c.parent),
        ',"pid":',
        _numbers(c.ppid),
        '},"pid":',
        _numbers(c.pid),
        f',"working_directory":{_json(_WORKDIR)}}},"related":{{',
        _take(_part(pools, sysmon._related_hashes, pools.spec_images, "image", members=True), c.spec),
        ',"user":',
        _take(related_user, c.user),
        '},"user":',
        _take(user, c.user),
        ',"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","computer_name":',
        _take(fqdn, c.host),
        ',"event_data":',
        _take(_part(pools, sysmon._event_data, pools.spec_images, "image"), c.spec),
        f',"event_id":"1","opcode":"Info","process":{_json(sysmon._WINLOG_PROCESS)},'
        '"provider_guid":"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}","provider_name":"Microsoft-Windows-Sysmon",'
        '"record_id":"',
        _numbers(c.records),
        f'","task":"Process Create (rule: ProcessCreate)","user":{_json(sysmon._WINLOG_USER)},"version":5}},'
        f'"labels":{_labels(src)}}}\n',
    ]


def _security(pools: _Pools, c: _Chunk, variant: security.Variant, src: Source) -> list[Piece]:
    fleet = pools.fleet
    command = pools.pool(
        ("sec-args", variant.command_line),
        pools.variants,
        lambda v: (
            _members({"args": security_args(v.command_line), "command_line": v.command_line}) + ","
            if variant.command_line
            else ""
        ),
    )
    command_data = pools.pool(
        ("sec-data", variant.command_line),
        pools.variants,
        lambda v: _members({"CommandLine": v.command_line}) + "," if variant.command_line else "",
    )
    names = pools.pool(
        ("sec-proc",), pools.spec_images, lambda i: _members({"executable": i.executable, "name": i.name})
    )
    parent_tail = pools.pool(
        ("ep-parent-tail",),
        pools.parents,
        lambda p: _members({"executable": image(p[0]).executable, "name": image(p[0]).name}),
    )
    who = pools.pool(
        ("sec-who",),
        pools.users,
        lambda u: _members(
            {
                "SubjectDomainName": u.domain,
                "SubjectLogonId": "0x3e7",
                "SubjectUserName": u.name,
                "SubjectUserSid": u.id,
                "TargetDomainName": "-",
                "TargetLogonId": "0x0",
                "TargetUserName": "-",
                "TargetUserSid": "S-1-0-0",
                "TokenElevationType": "%%1936",
            }
        ),
    )
    user = pools.pool(
        ("sec-user",),
        pools.users,
        lambda u: _json({"domain": u.domain, "id": u.id, "name": u.name, "effective": {"id": "S-1-0-0"}}),
    )
    related_user = pools.pool(("sm-related-user",), pools.users, lambda u: _json([u.name]))
    agent = pools.pool(
        ("sec-agent",),
        fleet.hosts,
        lambda h: _json({"type": "filebeat", "version": "8.15.3", "name": h.name, "id": h.id}),
    )
    fqdn = pools.pool(("fqdn",), fleet.hosts, lambda h: _json(h.fqdn))
    stamp = _iso(c.ts, 3)
    data_stream = _json({"dataset": "system.security", "namespace": "default", "type": "logs"})
    return [
        '{"@timestamp":"',
        stamp,
        'Z","agent":',
        _take(agent, c.host),
        f',"data_stream":{data_stream},"ecs":{{"version":"8.11.0"}},"event":{{"action":"created-process",'
        '"category":["process"],"code":"4688","kind":"event","outcome":"success",'
        '"provider":"Microsoft-Windows-Security-Auditing","type":["start"],"dataset":"system.security",'
        '"agent_id_status":"verified","created":"',
        stamp,
        'Z","ingested":"',
        _iso(c.ingested, 3),
        'Z"},"host":',
        _take(_part(pools, agent_host, fleet.hosts, "host"), c.host),
        ',"log":{"level":"information"},"process":{',
        _take(command, c.variant),
        _take(names, c.spec),
        ',"parent":{',
        _take(parent_tail, c.parent),
        ',"pid":',
        _numbers(c.ppid),
        '},"pid":',
        _numbers(c.pid),
        '},"related":{"user":',
        _take(related_user, c.user),
        '},"user":',
        _take(user, c.user),
        ',"winlog":{"channel":"Security","computer_name":',
        _take(fqdn, c.host),
        ',"event_data":{',
        _take(command_data, c.variant),
        '"MandatoryLabel":"S-1-16-12288","ProcessId":"',
        pa.array([hex(p) for p in c.ppid.tolist()]),
        '",',
        _take(who, c.user),
        '},"event_id":"4688","keywords":["Audit Success"],"level":"information","logon":{"id":"0x3e7"},'
        '"opcode":"Info","outcome":"success","process":{"pid":4,"thread":{"id":5076}},'
        '"provider_guid":"{54849625-5478-4994-a5ba-3e3b0328c30d}",'
        '"provider_name":"Microsoft-Windows-Security-Auditing","record_id":"',
        _numbers(c.records),
        '","task":"Process Creation","time_created":"',
        stamp,
        f'Z","version":2}},"labels":{_labels(src)}}}\n',
    ]


def _endgame(pools: _Pools, c: _Chunk, src: Source, columnar: bool) -> list[Piece]:
    fleet = pools.fleet
    spec_of_variant = np.repeat(np.arange(len(fleet.variants)), [len(v) for v in fleet.variants])
    proc = pools.pool(
        ("eg-proc",),
        list(range(len(pools.variants))),
        lambda n: _members(
            {
                "name": pools.spec_images[spec_of_variant[n]].name,
                "executable": pools.spec_images[spec_of_variant[n]].executable,
                "command_line": pools.variants[n].command_line,
                "args": pools.variants[n].args,
                "args_count": len(pools.variants[n].args),
                "hash": _hashes(pools.spec_images[spec_of_variant[n]]),
            }
        ),
    )
    parent_static = pools.pool(
        ("eg-parent",),
        pools.parents,
        lambda p: _members({"name": image(p[0]).name, "executable": image(p[0]).executable}),
    )
    names = pools.pool(("eg-names",), pools.parents, lambda p: _json(image(p[0]).name))
    own_names = pools.pool(("eg-own",), pools.spec_images, lambda i: _json(i.name))
    agent = pools.pool(
        ("eg-agent",),
        fleet.hosts,
        lambda h: _json({"id": h.id, "version": "3.62.2", "name": "Endgame", "type": "Endgame"}),
    )
    user = pools.pool(
        ("eg-user",), pools.users, lambda u: _json({"domain": u.domain, "name": u.name, "id": u.id})
    )
    related_user = pools.pool(("sm-related-user",), pools.users, lambda u: _json([u.name]))
    related_host = pools.pool(("eg-related-host",), fleet.hosts, lambda h: _json([h.name]))
    records, pid, ppid = _numbers(c.records), _numbers(c.pid), _numbers(c.ppid)
    if columnar:  # one type per Parquet column: see generators.corpus
        stamp: list[Piece] = ['{"@timestamp":"', _iso(c.ts, 3), 'Z"']
        kinds = '"category":["process"],"dataset":"process","type":["start"]'
        host = pools.pool(
            ("eg-host-list-ip",), fleet.hosts, lambda h: _json({**endgame._host.get(h), "ip": [h.ip]})
        )
    else:
        stamp = ['{"@timestamp":', _numbers(c.ts // 1_000_000)]
        kinds = '"category":"process","dataset":"process","type":"start"'
        host = _part(pools, endgame._host, fleet.hosts, "host")
    return [
        *stamp,
        ',"agent":',
        _take(agent, c.host),
        ',"ecs":{"version":"1.9.0"},"event":{"kind":"event",' + kinds + ","
        '"action":"creation_event","module":"endgame","sequence":',
        records,
        '},"host":',
        _take(host, c.host),
        ',"observer":',
        _take(_part(pools, endgame._observer, fleet.hosts, "host"), c.host),
        ',"process":{"pid":',
        pid,
        ',"ppid":',
        ppid,
        ",",
        _take(proc, c.variant),
        ',"parent":{"pid":',
        ppid,
        ",",
        _take(parent_static, c.parent),
        '}},"user":',
        _take(user, c.user),
        ',"related":{"user":',
        _take(related_user, c.user),
        ',"hosts":',
        _take(related_host, c.host),
        '},"endgame":{"event_subtype_full":"creation_event","event_type_full":"process_event","opcode":1,"pid":',
        pid,
        ',"ppid":',
        ppid,
        ',"process_name":',
        _take(own_names, c.spec),
        ',"parent_process_name":',
        _take(names, c.parent),
        ',"serial_event_id":',
        records,
        f'}},"labels":{_labels(src)}}}\n',
    ]


def _hashes(img: Image) -> dict[str, str]:
    return {"md5": img.md5, "sha1": img.sha1, "sha256": img.sha256}


def _family(src: Source, columnar: bool) -> Callable[[_Pools, _Chunk], list[Piece]]:
    if src.name == "endpoint":
        return lambda pools, c: _endpoint(pools, c, src)
    if src.name == "endgame":
        return lambda pools, c: _endgame(pools, c, src, columnar)
    for variant in (sysmon.WINLOGBEAT, sysmon.WINDOWS, sysmon.SYSMON9):
        if src.name == variant.name:
            return lambda pools, c, v=variant: _sysmon(pools, c, v, src)  # type: ignore[misc]
    for svariant in (security.WITH_COMMAND_LINE, security.WITHOUT_COMMAND_LINE):
        if src.name == svariant.name:
            return lambda pools, c, v=svariant: _security(pools, c, v, src)  # type: ignore[misc]
    raise KeyError(src.name)


def _background_lines(
    pools: _Pools,
    day: BackgroundDay,
    rows: np.ndarray,
    records: np.ndarray,
    host_source: np.ndarray,
    families: list[Callable[[_Pools, _Chunk], list[Piece]]],
) -> pa.Array:
    """The lines of background ``rows`` (in that order), each source family joined in one go."""
    if len(rows) == 0:  # a chunk of scenario events only (a high attack rate)
        return pa.array([], type=pa.string())
    parts: list[pa.Array] = []
    positions: list[np.ndarray] = []
    sources = host_source[day.host[rows]]
    for s in np.unique(sources).tolist():
        mine = np.flatnonzero(sources == s)
        chunk = _Chunk(day, rows[mine], records[mine], pools)
        pieces = families[s](pools, chunk)
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
    families = [_family(SOURCES[name], columnar) for name in names]
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
                pools, day, part[is_background], part_records[is_background], host_source, families
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
