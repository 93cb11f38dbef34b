"""Pieces every source renderer shares: time stamps, labels, and per-object caches."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import orjson

from generators.model import Host, Label, Launch

__all__ = ["Part", "agent_host", "entity_guid", "iso", "iso_ingested", "labels_part", "ms_ingested", "part"]

K = TypeVar("K")
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


def labels_part(source: str, index: str) -> Part[Label]:
    """The ground truth, under ECS ``labels`` (keyword values only), for one source."""

    def build(label: Label) -> Doc:
        return {
            "scenario": label.scenario,
            "intent": label.intent,
            "role": label.role,
            "attack": ",".join(label.attack),
            "source": source,
            "index": index,
        }

    return Part(build)


def entity_guid(entity_id: str) -> str:
    """A Sysmon ProcessGuid, ``{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}``, from a 32-hex-digit id."""
    h = entity_id.upper().ljust(32, "0")
    return f"{{{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}}}"


def defend_entity(host: Host, pid: int, ns: int) -> str:
    """Elastic Defend's entity id: base64 of agent id, pid and start time."""
    return base64.b64encode(f"{host.id}-{pid}-{ns // 100}".encode()).decode()


class Part(Generic[K]):
    """A block of a document that depends on one pooled object (a host, a user, an image).

    ``get(obj, fast=False)`` is the block as a dict; ``get(obj, fast=True)`` the same block
    pre-serialized (an ``orjson.Fragment``), so that writing a million documents does not
    serialize the same host a million times. ``members(obj, fast)`` is for blocks whose
    keys are spread into an enclosing object: in the fast form each nested value is
    pre-serialized on its own. Both forms are cached by object identity: pooled objects
    live as long as the fleet, and each entry keeps its object so its id is not reused.
    """

    def __init__(self, build: Callable[[K], Doc]) -> None:
        self.build = build
        self._plain: dict[int, tuple[K, Doc]] = {}
        self._fast: dict[int, tuple[K, Any]] = {}
        self._members: dict[int, tuple[K, Doc]] = {}

    def _cached(self, store: dict[int, tuple[K, Any]], obj: K, make: Callable[[], Any]) -> Any:
        hit = store.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        if len(store) > 100_000:  # objects made one at a time (Hypothesis): do not grow without bound
            store.clear()
        value = make()
        store[id(obj)] = (obj, value)
        return value

    def get(self, obj: K, fast: bool = False) -> Any:
        if not fast:
            return self._cached(self._plain, obj, lambda: self.build(obj))
        return self._cached(self._fast, obj, lambda: orjson.Fragment(orjson.dumps(self.get(obj))))

    def members(self, obj: K, fast: bool = False) -> Doc:
        if not fast:
            return self.get(obj)  # type: ignore[no-any-return]
        return self._cached(  # type: ignore[no-any-return]
            self._members,
            obj,
            lambda: {
                key: orjson.Fragment(orjson.dumps(value)) if isinstance(value, (dict, list, tuple)) else value
                for key, value in self.get(obj).items()
            },
        )


def part(build: Callable[[K], Doc]) -> Part[K]:
    return Part(build)


@part
def agent_host(host: Host) -> Doc:
    """``host.*`` as the Elastic Agent (and Winlogbeat) add it: the same for every Windows integration."""
    return {
        "name": host.fqdn,
        "hostname": host.name.lower(),
        "architecture": "x86_64",
        "id": host.id,
        "ip": [host.ip],
        "mac": [host.mac.upper().replace(":", "-")],
        "os": {
            "type": host.os_type,
            "family": host.os_type,
            "platform": host.os_type,
            "name": host.os_name,
            "kernel": f"{host.os_version}.{host.os_build.split('.')[-1]} (WinBuild.160101.0800)",
            "build": host.os_build,
            "version": host.os_version.rsplit(".", 1)[0],
        },
    }
