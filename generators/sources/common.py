"""Pieces every source renderer shares: time stamps, labels, and per-object blocks.

A renderer reads a pooled object (a host, a user, an image, a parent, a command line)
only through a :class:`Part`, and a launch's own numbers (time, pids, ids, record
number) only through the formatting helpers here and in ``template.py``: that is what
lets the fast writer derive its line templates from the renderer
(``generators.sources.template``) instead of keeping a copy of each document.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import orjson

from generators.model import Host, Image, Label, Launch, User

__all__ = [
    "AGENT_HOST_FIELDS",
    "Command",
    "Part",
    "Placeholder",
    "agent_filebeat",
    "agent_host",
    "code_signature",
    "computer_name",
    "defend_entity",
    "defend_parent_entity",
    "entity_guid",
    "field_set",
    "image_names",
    "ingest_lag_ms",
    "iso",
    "iso_ingested",
    "labels_part",
    "part",
    "per_launch",
    "related_user",
]

K = TypeVar("K")
Doc = dict[str, Any]


class Command(Protocol):
    """What a command-line block reads: a launch, its parent, or a fleet's process variant."""

    @property
    def args(self) -> tuple[str, ...]: ...

    @property
    def command_line(self) -> str: ...


def field_set(groups: dict[str, str]) -> frozenset[str]:
    """Field names written compactly: ``{"": "@timestamp", "host.os": "name type"}``."""
    return frozenset(
        f"{prefix}.{leaf}" if prefix else leaf for prefix, leaves in groups.items() for leaf in leaves.split()
    )


def iso(ns: int, digits: int = 3) -> str:
    """``2026-11-27T10:00:00.123Z``: UTC, with ``digits`` of sub-second precision."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if digits == 0:
        return stamp + "Z"
    return f"{stamp}.{str(fraction).zfill(9)[:digits]}Z"


def ingest_lag_ms(pid: Any, record_id: Any, timestamp_ns: Any) -> Any:
    """Ingest lag in milliseconds, 0.4 to 6 s, fixed by the launch so the same seed gives the same bytes.

    Plain arithmetic, so the fast writer applies it to whole numpy columns at once.
    """
    return 400 + (pid * 7919 + record_id * 104729 + timestamp_ns // 1_000_000) % 5600


def iso_ingested(launch: Launch, digits: int = 3) -> str:
    lag = ingest_lag_ms(launch.pid, launch.record_id, launch.timestamp_ns)
    return iso(launch.timestamp_ns + lag * 1_000_000, digits)


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


def defend_parent_entity(host: Host, parent_pid: int, ns: int) -> str:
    """The parent's Defend entity id for a child started at ``ns``: its start taken as a second before."""
    return defend_entity(host, parent_pid, ns - 1_000_000_000)


class Placeholder:
    """A stand-in for a pooled object while a fast-path template is derived (``template.py``).

    A :class:`Part` given one returns the placeholder's marker instead of a block; it
    never builds from it or caches it.
    """

    __slots__ = ()

    def marker(self, which: Part[Any], members: bool) -> Any:
        raise NotImplementedError


class Part(Generic[K]):
    """A block of a document that depends on one pooled object (a host, a user, an image).

    ``get(obj, fast=False)`` is the block as a dict; ``get(obj, fast=True)`` the same block
    pre-serialized (an ``orjson.Fragment``), so that writing a million documents does not
    serialize the same host a million times. ``members(obj, fast)`` is for blocks whose
    keys are spread into an enclosing object: in the fast form each nested value is
    pre-serialized on its own. Both forms are cached by object identity: pooled objects
    live as long as the fleet, and each entry keeps its object so its id is not reused.
    A ``cached=False`` part (see :func:`per_launch`) is built every time instead.
    """

    def __init__(self, build: Callable[[K], Doc], cached: bool = True) -> None:
        self.build = build
        self.cached = cached
        self._plain: dict[int, tuple[K, Doc]] = {}
        self._fast: dict[int, tuple[K, Any]] = {}
        self._members: dict[int, tuple[K, Doc]] = {}

    def _cached(self, store: dict[int, tuple[K, Any]], obj: K, make: Callable[[], Any]) -> Any:
        hit = store.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        if isinstance(obj, Placeholder):
            raise TypeError("a placeholder is read only through a part's fast form")
        if len(store) > 100_000:  # objects made one at a time (Hypothesis): do not grow without bound
            store.clear()
        value = make()
        store[id(obj)] = (obj, value)
        return value

    def get(self, obj: K, fast: bool = False) -> Any:
        if fast and isinstance(obj, Placeholder):
            return obj.marker(self, members=False)
        if not self.cached:
            return self.build(obj)  # orjson serializes it in place: nothing to gain from a fragment
        if not fast:
            return self._cached(self._plain, obj, lambda: self.build(obj))
        return self._cached(self._fast, obj, lambda: orjson.Fragment(orjson.dumps(self.get(obj))))

    def members(self, obj: K, fast: bool = False) -> Doc:
        if fast and isinstance(obj, Placeholder):
            return obj.marker(self, members=True)  # type: ignore[no-any-return]
        if not fast or not self.cached:
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


def per_launch(build: Callable[[K], Doc]) -> Part[K]:
    """A part over an object made for each launch (a parent, a command line): built, never cached.

    The renderers gain nothing from caching it, but it is still a part: the fast writer
    takes it from its pools (a fleet's process variants, parent options) like any other.
    """
    return Part(build, cached=False)


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


AGENT_HOST_FIELDS = field_set(
    {
        "host": "name hostname architecture id ip mac",
        "host.os": "type family platform name kernel build version",
    }
)


@part
def agent_filebeat(host: Host) -> Doc:
    """``agent.*`` of the Elastic Agent's Filebeat, which ships the Windows and System integrations."""
    return {"type": "filebeat", "version": "8.15.3", "name": host.name, "id": host.id}


@part
def computer_name(host: Host) -> Doc:
    """``winlog.computer_name``: the host's DNS name, as the event log records it."""
    return {"computer_name": host.fqdn}


@part
def related_user(user: User) -> Doc:
    return {"user": [user.name]}


@part
def code_signature(image: Image) -> Doc:
    """``code_signature.*`` as Elastic's sensors verify a file: trusted, with its signer, or absent."""
    if image.signer is None:
        return {"exists": False, "trusted": False}
    return {"exists": True, "status": "trusted", "subject_name": image.signer, "trusted": True}


@part
def image_names(image: Image) -> Doc:
    """An image's ``executable`` and ``name``, in that order (Defend, Sysmon, 4688)."""
    return {"executable": image.executable, "name": image.name}
