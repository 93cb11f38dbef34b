"""Linked multi-event scenarios: the events of one activity, joined on the keys real sources fill.

An EQL ``sequence`` or ``sample`` joins its events on key fields (``by host.id``,
``by process.entity_id``, a stage's own ``by process.parent.entity_id``): Elasticsearch reads
each key's doc values and groups events whose values are equal (``ordinals.join_keys``). A
linked chain is one value per key slot, written into every event in the field that stage
names for that slot, in the spelling of the source that writes it: Elastic Defend's entity id
is base64 of the agent id, pid and start time, Sysmon's ``ProcessGuid`` a braced GUID
(``sources/common.py``), so a chain takes the first event's value in each source.

Not every source can carry every key (``SOURCES[...].fields``, held to the renderers by
``tests/test_sources.py``): Security 4688 and Endgame write no ``process.entity_id`` nor
``process.parent.entity_id`` (4688 has process ids only; Endgame's own ``unique_pid`` is not
modelled), so a chain joined on an entity id is never linked in them; every source writes
``host.id`` and ``user.name``.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from generators.model import Launch
from generators.sources import SOURCES, Source
from harness.eql.fields import field_values

__all__ = [
    "LINK_FIELDS",
    "LinkedChain",
    "believable_value",
    "link",
    "render_chain",
    "same_actor",
    "timed",
    "unlinked",
    "write_field",
]

LINK_FIELDS = ("host.id", "process.entity_id", "process.parent.entity_id", "user.name")
"""The join keys real sources fill and Elastic's sequence rules join on most."""


@dataclass(frozen=True)
class LinkedChain:
    """A chain in one source: its documents in order, or none (and why) where the source cannot link it."""

    source: str
    documents: tuple[dict[str, Any], ...] = field(repr=False)
    values: tuple[object, ...] = ()  # one per key slot, as the source spells it
    reason: str = ""


def unlinked(source: Source, fields: Collection[str]) -> tuple[str, ...]:
    """The key fields ``source``'s documents never hold: a chain joined on them is not linked there."""
    return tuple(
        name
        for name in fields
        if name not in source.fields and not any(f.startswith(name + ".") for f in source.fields)
    )


def same_actor(
    launches: Sequence[Launch], *, anchor: int = 0, own_user: Collection[int] = ()
) -> list[Launch]:
    """Copies of ``launches`` on the anchor's host and, but for the indexes in ``own_user``, its account."""
    first = launches[anchor]
    return [
        _replace(launch, host=first.host, user=launch.user if index in own_user else first.user)
        for index, launch in enumerate(launches)
    ]


def timed(launches: Sequence[Launch], offsets_ms: Sequence[int], start_ns: int) -> list[Launch]:
    """Copies of ``launches`` started ``offsets_ms`` after ``start_ns``, each its own process."""
    if len(offsets_ms) != len(launches):
        raise ValueError(f"{len(launches)} launches need as many offsets, not {len(offsets_ms)}")
    out = []
    for index, (launch, offset) in enumerate(zip(launches, offsets_ms, strict=True)):
        entity = _entity(f"{launch.entity_id}/{index}/{offset}")
        parent = dataclasses.replace(launch.parent, entity_id=_entity(f"parent/{entity}"))
        out.append(
            _replace(launch, timestamp_ns=start_ns + offset * 1_000_000, entity_id=entity, parent=parent)
        )
    return out


def believable_value(name: str, launch: Launch) -> object:
    """A value for key ``name`` that no event of the chain holds yet: the launch's, where it has one."""
    if name == "host.id":
        return launch.host.id
    if name in ("host.name", "host.hostname"):
        return launch.host.name
    if name == "user.name":
        return launch.user.name
    if name == "user.id":
        return launch.user.id
    if name.endswith(".ip"):
        return launch.host.ip
    if name.endswith("pid"):
        return launch.pid
    if name.endswith("logon.id"):
        return launch.user.logon_id
    if name.endswith("computer_name"):
        return f"{launch.host.name}.{launch.host.domain}" if launch.host.domain else launch.host.name
    return _entity(f"{name}/{launch.entity_id}")


def link(
    documents: Sequence[Mapping[str, Any]],
    keys: Sequence[Sequence[str]],
    values: Sequence[object | None],
    *,
    fallback: Launch | None = None,
) -> tuple[list[dict[str, Any]], tuple[object, ...]]:
    """Copies of ``documents``, key slot ``j`` holding ``values[j]`` in field ``keys[i][j]`` of event ``i``.

    A None value is the first document's own value of its field for that slot (else the next
    document's, else :func:`believable_value` of ``fallback``): one shared value per slot.
    """
    width = len(values)
    if len(keys) != len(documents) or any(len(names) != width for names in keys):
        raise ValueError("every document needs one key field per slot")
    chosen = [_slot_value(documents, keys, slot, value, fallback) for slot, value in enumerate(values)]
    out = []
    for doc, names in zip(documents, keys, strict=True):
        linked = _plain(doc)
        for name, value in zip(names, chosen, strict=True):
            write_field(linked, name, copy.deepcopy(value))
        out.append(linked)
    return out, tuple(chosen)


def render_chain(
    launches: Sequence[Launch],
    source: Source | str,
    keys: Sequence[Sequence[str]],
    values: Sequence[object | None] | None = None,
) -> LinkedChain:
    """``launches`` as ``source`` writes them, linked on ``keys`` (one tuple of fields per launch).

    >>> keys = [("host.id", "process.entity_id")] * 2
    >>> render_chain(same_actor(launches), "endpoint", keys)  # doctest: +SKIP
    """
    chosen = SOURCES[source] if isinstance(source, str) else source
    missing = unlinked(chosen, dict.fromkeys(name for names in keys for name in names))
    if missing:
        return LinkedChain(chosen.name, (), (), f"{chosen.name} never writes {', '.join(missing)}")
    hosts = {launch.host.os_type for launch in launches} - set(chosen.platforms)
    if hosts:
        return LinkedChain(
            chosen.name, (), (), f"{chosen.name} does not report from {', '.join(sorted(hosts))} hosts"
        )
    width = len(keys[0]) if keys else 0
    documents, shared = link(
        [chosen.render(launch) for launch in launches],
        keys,
        list(values) if values is not None else [None] * width,
        fallback=launches[0],
    )
    return LinkedChain(chosen.name, tuple(documents), shared)


def _slot_value(
    documents: Sequence[Mapping[str, Any]],
    keys: Sequence[Sequence[str]],
    slot: int,
    value: object | None,
    fallback: Launch | None,
) -> object:
    if value is not None:
        return value
    for doc, names in zip(documents, keys, strict=True):
        held = _read(doc, names[slot])
        if held is not None:
            return held
    if fallback is None:
        raise ValueError(f"no document holds {keys[0][slot]} and no launch was given to invent one")
    return believable_value(keys[0][slot], fallback)


def write_field(document: dict[str, Any], name: str, value: object) -> None:
    """Set the dotted field ``name`` (nested objects made as needed); a flat key of that name is replaced."""
    if name in document:
        document[name] = value
        return
    *parents, leaf = name.split(".")
    node = document
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[leaf] = value


def _read(document: Mapping[str, Any], name: str) -> object | None:
    found = field_values(document, tuple(name.split(".")))
    if not found:
        return None
    return found[0] if len(found) == 1 else list(found)


def _entity(seed: str) -> str:
    """32 hex digits: what Sysmon's GUID and a stable id are made of (same seed, same id)."""
    return hashlib.sha1(seed.encode()).hexdigest()[:32]


def _plain(document: Mapping[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = orjson.loads(orjson.dumps(document))
    return copied


def _replace(launch: Launch, **changes: Any) -> Launch:
    return dataclasses.replace(launch, **changes)
