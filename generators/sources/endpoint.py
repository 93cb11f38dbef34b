"""Elastic Defend: ``logs-endpoint.events.process-default``.

The sensor reads the process's real argument vector, so ``process.args`` is what
``CommandLineToArgvW`` gives. Its PE block carries only the original file name.
"""

from __future__ import annotations

from generators.model import Host, Image, Launch, User
from generators.sources.common import Doc, cached, defend_entity, iso, iso_ingested, labels

NAME = "endpoint"
INDEX = "logs-endpoint.events.process-default"
_AGENT_VERSION = "8.15.3"


@cached
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


@cached
def _agent(host: Host) -> Doc:
    return {"id": host.id, "type": "endpoint", "version": _AGENT_VERSION}


@cached
def _user(user: User) -> Doc:
    return {"domain": user.domain, "name": user.name, "id": user.id}


@cached
def _image(image: Image) -> Doc:
    signed = image.company == "Microsoft Corporation"
    signature = {
        "trusted": signed,
        "subject_name": "Microsoft Windows" if signed else image.company or "",
        "exists": signed,
        "status": "trusted" if signed else "errorCode_endpoint: Unsigned",
    }
    part: Doc = {
        "executable": image.executable,
        "name": image.name,
        "code_signature": signature,
        "hash": {"md5": image.md5, "sha1": image.sha1, "sha256": image.sha256},
    }
    if image.original_file_name is not None:
        part["pe"] = {"original_file_name": image.original_file_name}
    return part


_DATA_STREAM = {"namespace": "default", "type": "logs", "dataset": "endpoint.events.process"}
_ECS = {"version": "8.10.0"}


def render(launch: Launch) -> Doc:
    host, parent = launch.host, launch.parent
    stamp = iso(launch.timestamp_ns, 7)
    image = _image(launch.image)
    return {
        "@timestamp": stamp,
        "agent": _agent(host),
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
            "category": ["process"],
            "type": [launch.action],
            "dataset": "endpoint.events.process",
        },
        "host": _host(host),
        "message": "Endpoint process event",
        "process": {
            "parent": {
                "args": list(parent.args),
                "args_count": len(parent.args),
                "command_line": parent.command_line,
                "entity_id": defend_entity(host, parent.pid, launch.timestamp_ns - 1_000_000_000),
                "executable": parent.image.executable,
                "name": parent.image.name,
                "pid": parent.pid,
            },
            "pid": launch.pid,
            "entity_id": defend_entity(host, launch.pid, launch.timestamp_ns),
            "args": list(launch.args),
            "args_count": len(launch.args),
            "command_line": launch.command_line,
            "working_directory": launch.working_directory,
            **image,
        },
        "user": _user(launch.user),
        "labels": labels(launch, NAME, INDEX),
    }
