"""Elastic Endgame: ``endgame-*``.

Endgame documents carry ``event.category``, ``event.type`` and ``event.action`` as
plain strings, epoch-millisecond time stamps, no PE version resource and no entity
ids; the sensor's own fields live under ``endgame.*``.
"""

from __future__ import annotations

from generators.model import Host, Launch
from generators.sources.common import Doc, labels_part, part

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
def _observer(host: Host) -> Doc:
    return {
        "hostname": host.name,
        "ip": host.ip,
        "product": "SMP",
        "vendor": "Endgame",
        "version": "3.27.1",
        "os": _host.get(host)["os"],
    }


_labels = labels_part(NAME, INDEX)


def render(launch: Launch, fast: bool = False) -> Doc:
    host, user, image, parent = launch.host, launch.user, launch.image, launch.parent
    subtype = "creation_event" if launch.action == "start" else "termination_event"
    return {
        "@timestamp": launch.timestamp_ns // 1_000_000,
        "agent": {"id": host.id, "version": "3.62.2", "name": "Endgame", "type": "Endgame"},
        "ecs": {"version": "1.9.0"},
        "event": {
            "kind": "event",
            "category": "process",
            "dataset": "process",
            "type": launch.action,
            "action": subtype,
            "module": "endgame",
            "sequence": launch.record_id,
        },
        "host": _host.get(host, fast),
        "observer": _observer.get(host, fast),
        "process": {
            "pid": launch.pid,
            "ppid": parent.pid,
            "name": image.name,
            "executable": image.executable,
            "command_line": launch.command_line,
            "args": launch.args,
            "args_count": len(launch.args),
            "hash": {"md5": image.md5, "sha1": image.sha1, "sha256": image.sha256},
            "parent": {"pid": parent.pid, "name": parent.image.name, "executable": parent.image.executable},
        },
        "user": {"domain": user.domain, "name": user.name, "id": user.id},
        "related": {"user": [user.name], "hosts": [host.name]},
        "endgame": {
            "event_subtype_full": subtype,
            "event_type_full": "process_event",
            "opcode": 1 if launch.action == "start" else 2,
            "pid": launch.pid,
            "ppid": parent.pid,
            "process_name": image.name,
            "parent_process_name": parent.image.name,
            "serial_event_id": launch.record_id,
        },
        "labels": _labels.get(launch.label, fast),
    }
