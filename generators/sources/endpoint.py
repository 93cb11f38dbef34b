"""Elastic Defend: ``logs-endpoint.events.process-default``.

The sensor reads the process's real argument vector, so ``process.args`` is what
``CommandLineToArgvW`` gives. Its PE block carries only the original file name.
"""

from __future__ import annotations

from generators.model import Host, Image, Launch, User
from generators.sources.common import Doc, defend_entity, iso, iso_ingested, labels_part, part

NAME = "endpoint"
INDEX = "logs-endpoint.events.process-default"
_AGENT_VERSION = "8.15.3"


@part
def _host(host: Host) -> Doc:
    return {
        "hostname": host.name.lower(),
        "name": host.name.lower(),
        "id": host.id,
        "architecture": "x86_64",
        "ip": [host.ip],
        "mac": [host.mac],
        "os": {
            "Ext": {"variant": host.os_name},
            "kernel": f"{host.os_build} ({host.os_version})",
            "name": "Windows" if host.os_type == "windows" else "Linux",
            "family": host.os_type,
            "type": host.os_type,
            "version": host.os_build,
            "platform": host.os_type,
            "full": f"{host.os_name} {host.os_build} ({host.os_version})",
        },
    }


@part
def _agent(host: Host) -> Doc:
    return {"id": host.id, "type": "endpoint", "version": _AGENT_VERSION}


@part
def _user(user: User) -> Doc:
    return {"domain": user.domain, "name": user.name, "id": user.id}


@part
def _image(image: Image) -> Doc:
    signed = image.company == "Microsoft Corporation"
    signature = {
        "trusted": signed,
        "subject_name": "Microsoft Windows" if signed else image.company or "",
        "exists": signed,
        "status": "trusted" if signed else "errorCode_endpoint: Unsigned",
    }
    block: Doc = {
        "executable": image.executable,
        "name": image.name,
        "code_signature": signature,
        "hash": {"md5": image.md5, "sha1": image.sha1, "sha256": image.sha256},
    }
    if image.original_file_name is not None:
        block["pe"] = {"original_file_name": image.original_file_name}
    return block


_labels = labels_part(NAME, INDEX)
_DATA_STREAM = {"namespace": "default", "type": "logs", "dataset": "endpoint.events.process"}
_ECS = {"version": "8.10.0"}
_CATEGORY = ["process"]


def render(launch: Launch, fast: bool = False) -> Doc:
    host, parent = launch.host, launch.parent
    stamp = iso(launch.timestamp_ns, 7)
    return {
        "@timestamp": stamp,
        "agent": _agent.get(host, fast),
        "data_stream": _DATA_STREAM,
        "ecs": _ECS,
        "event": {
            "agent_id_status": "verified",
            "sequence": launch.record_id,
            "ingested": iso_ingested(launch, 0),
            "created": stamp,
            "kind": "event",
            "module": "endpoint",
            "action": launch.action,
            "category": _CATEGORY,
            "type": [launch.action],
            "dataset": "endpoint.events.process",
        },
        "host": _host.get(host, fast),
        "message": "Endpoint process event",
        "process": {
            "parent": {
                "args": parent.args,
                "args_count": len(parent.args),
                "command_line": parent.command_line,
                "entity_id": defend_entity(host, parent.pid, launch.timestamp_ns - 1_000_000_000),
                "executable": parent.image.executable,
                "name": parent.image.name,
                "pid": parent.pid,
            },
            "pid": launch.pid,
            "entity_id": defend_entity(host, launch.pid, launch.timestamp_ns),
            "args": launch.args,
            "args_count": len(launch.args),
            "command_line": launch.command_line,
            "working_directory": launch.working_directory,
            **_image.members(launch.image, fast),
        },
        "user": _user.get(launch.user, fast),
        "labels": _labels.get(launch.label, fast),
    }
