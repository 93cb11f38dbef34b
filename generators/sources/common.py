"""Pieces every source renderer shares: time stamps, labels, and per-object caches."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any, TypeVar

from generators.model import Host, Launch

__all__ = ["cached", "entity_guid", "iso", "iso_ingested", "labels", "ms_ingested"]

T = TypeVar("T")
Doc = dict[str, Any]


def iso(ns: int, digits: int = 3) -> str:
    """``2026-11-27T10:00:00.123Z``: UTC, with ``digits`` of sub-second precision."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if digits == 0:
        return stamp + "Z"
    return f"{stamp}.{str(fraction).zfill(9)[:digits]}Z"


def ms_ingested(launch: Launch) -> int:
    """Ingest lag in milliseconds: 0.4 to 6 s, fixed by the launch so the same seed gives the same bytes."""
    return 400 + (launch.pid * 7919 + launch.record_id * 104729 + launch.timestamp_ns // 1_000_000) % 5600


def iso_ingested(launch: Launch, digits: int = 3) -> str:
    return iso(launch.timestamp_ns + ms_ingested(launch) * 1_000_000, digits)


def labels(launch: Launch, source: str, index: str) -> Doc:
    """The ground truth, under ECS ``labels`` (keyword values only)."""
    label = launch.label
    return {
        "scenario": label.scenario,
        "intent": label.intent,
        "role": label.role,
        "attack": ",".join(label.attack),
        "source": source,
        "index": index,
    }


def entity_guid(entity_id: str) -> str:
    """A Sysmon ProcessGuid, ``{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}``, from a 32-hex-digit id."""
    h = entity_id.upper().ljust(32, "0")
    return f"{{{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}}}"


def defend_entity(host: Host, pid: int, ns: int) -> str:
    """Elastic Defend's entity id: base64 of agent id, pid and start time."""
    return base64.b64encode(f"{host.id}-{pid}-{ns // 100}".encode()).decode()


def cached(build: Callable[[Any], T]) -> Callable[[Any], T]:
    """Memoize a per-host (or per-user, per-image) part of a document by object identity.

    Pooled objects live as long as the fleet, so identity is a cheap, exact key; the
    object is kept in the cache entry so that its id cannot be reused.
    """
    store: dict[int, tuple[Any, T]] = {}

    def lookup(obj: Any) -> T:
        hit = store.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        if len(store) > 100_000:  # objects made one at a time (Hypothesis): do not grow without bound
            store.clear()
        value = build(obj)
        store[id(obj)] = (obj, value)
        return value

    return lookup
