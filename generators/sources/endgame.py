"""Elastic Endgame: ``endgame-*``.

Endgame documents carry ``event.category``, ``event.type`` and ``event.action`` as
plain strings, epoch-millisecond time stamps, no PE version resource and no entity
ids; the sensor's own fields live under ``endgame.*``. It verifies the process's
signature (``process.code_signature``, in Endgame's ECS mapping), not its parent's. Parquet holds one type per
column, so :func:`render_columnar` spells the three fields other sources spell
differently their way (an ISO-8601 ``@timestamp``, lists for ``event.category``,
``event.type`` and ``host.ip``); Elasticsearch indexes both spellings alike.
"""

from __future__ import annotations

from generators.model import Host, Image, Launch, User
from generators.sources.common import (
    Command,
    Doc,
    code_signature,
    field_set,
    iso,
    labels_part,
    part,
    per_launch,
    related_user,
)
from generators.sources.source import Source

NAME = "endgame"
INDEX = "endgame-4.59.0-000001"


@part
def _host(host: Host) -> Doc:
    os = {
        "family": host.os_type,
        "name": "Windows" if host.os_type == "windows" else "Linux",
        "version": host.os_version.rsplit(".", 1)[0],
        "platform": host.os_type,
        "type": host.os_type,
    }
    return {"hostname": host.name, "name": host.name, "id": host.id, "ip": host.ip, "os": os}


@part
def _host_columnar(host: Host) -> Doc:
    return {**_host.get(host), "ip": [host.ip]}


@part
def _observer(host: Host) -> Doc:
    return {
        "hostname": host.name,
        "ip": host.ip,
        "product": "SMP",
        "vendor": "Endgame",
        "version": "3.27.1",
        "os": _host.get(host)["os"],
    }


@part
def _agent(host: Host) -> Doc:
    return {"id": host.id, "version": "3.62.2", "name": "Endgame", "type": "Endgame"}


@part
def _user(user: User) -> Doc:
    return {"domain": user.domain, "name": user.name, "id": user.id}


@part
def _related_host(host: Host) -> Doc:
    return {"hosts": [host.name]}


@part
def _names(image: Image) -> Doc:
    return {"name": image.name, "executable": image.executable}


@part
def _hashes(image: Image) -> Doc:
    return {"md5": image.md5, "sha1": image.sha1, "sha256": image.sha256}


@part
def _process_name(image: Image) -> Doc:
    return {"process_name": image.name}


@part
def _parent_process_name(image: Image) -> Doc:
    return {"parent_process_name": image.name}


@per_launch
def _command(command: Command) -> Doc:
    return {"command_line": command.command_line, "args": command.args, "args_count": len(command.args)}


# The leaf fields of its process-start documents (tests/test_sources.py holds them to render).
FIELDS = field_set(
    {
        "": "@timestamp",
        "agent": "id name type version",
        "ecs": "version",
        "endgame": "event_subtype_full event_type_full opcode parent_process_name pid ppid process_name "
        "serial_event_id",
        "event": "action category dataset kind module sequence type",
        "host": "hostname id ip name",
        "host.os": "family name platform type version",
        "observer": "hostname ip product vendor version",
        "observer.os": "family name platform type version",
        "process": "args args_count command_line executable name pid ppid",
        "process.code_signature": "exists status subject_name trusted",
        "process.hash": "md5 sha1 sha256",
        "process.parent": "executable name pid",
        "related": "hosts user",
        "user": "domain id name",
    }
)

_labels = labels_part(NAME, INDEX)


def render(launch: Launch, fast: bool = False, columnar: bool = False) -> Doc:
    host, user, image, parent = launch.host, launch.user, launch.image, launch.parent
    subtype = "creation_event" if launch.action == "start" else "termination_event"
    return {
        "@timestamp": iso(launch.timestamp_ns) if columnar else launch.timestamp_ns // 1_000_000,
        "agent": _agent.get(host, fast),
        "ecs": {"version": "1.9.0"},
        "event": {
            "kind": "event",
            "category": ["process"] if columnar else "process",
            "dataset": "process",
            "type": [launch.action] if columnar else launch.action,
            "action": subtype,
            "module": "endgame",
            "sequence": launch.record_id,
        },
        "host": (_host_columnar if columnar else _host).get(host, fast),
        "observer": _observer.get(host, fast),
        "process": {
            "pid": launch.pid,
            "ppid": parent.pid,
            **_names.members(image, fast),
            **_command.members(launch, fast),
            "hash": _hashes.get(image, fast),
            "code_signature": code_signature.get(image, fast),
            "parent": {"pid": parent.pid, **_names.members(parent.image, fast)},
        },
        "user": _user.get(user, fast),
        "related": {**related_user.members(user, fast), **_related_host.members(host, fast)},
        "endgame": {
            "event_subtype_full": subtype,
            "event_type_full": "process_event",
            "opcode": 1 if launch.action == "start" else 2,
            "pid": launch.pid,
            "ppid": parent.pid,
            **_process_name.members(image, fast),
            **_parent_process_name.members(parent.image, fast),
            "serial_event_id": launch.record_id,
        },
        "labels": _labels.get(launch.label, fast),
    }


def render_columnar(launch: Launch, fast: bool = False) -> Doc:
    return render(launch, fast, columnar=True)


SOURCE = Source(
    name=NAME,
    label="endgame",
    description="Elastic Endgame process events",
    index=INDEX,
    dataset=None,
    share=0.05,
    platforms=("windows",),
    fields=FIELDS,
    renderer=render,
    columnar_renderer=render_columnar,
    # Endgame's documents have no published field definitions: what the renderer leaves out
    # may still be in a real one.
    fields_complete=False,
)
