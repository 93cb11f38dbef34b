"""Elastic Defend: ``logs-endpoint.events.process-default``.

The sensor reads the process's real argument vector, so ``process.args`` is what
``CommandLineToArgvW`` gives. Its PE block carries only the original file name; it
verifies the signature of the process and of its parent, and reads the token's integrity
level and elevation (``process.Ext.token``).
"""

from __future__ import annotations

from generators.model import Host, Image, Launch, User
from generators.sources.common import (
    Command,
    Doc,
    code_signature,
    defend_entity,
    defend_parent_entity,
    field_set,
    iso,
    iso_ingested,
    labels_part,
    part,
    per_launch,
)
from generators.sources.source import Source

NAME = "endpoint"
INDEX = "logs-endpoint.events.process-default"
_DATASET = "endpoint.events.process"
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
def _token(user: User) -> Doc:
    """``process.Ext``: the token's integrity level and elevation, in the sensor's lower-case words."""
    return {"token": {"integrity_level_name": user.integrity, "elevation_level": user.elevation}}


@part
def _image(image: Image) -> Doc:
    block: Doc = {
        "executable": image.executable,
        "name": image.name,
        "code_signature": code_signature.get(image),
        "hash": {"md5": image.md5, "sha1": image.sha1, "sha256": image.sha256},
    }
    if image.original_file_name is not None:
        block["pe"] = {"original_file_name": image.original_file_name}
    return block


@part
def _parent_image(image: Image) -> Doc:
    return {"executable": image.executable, "name": image.name, "code_signature": code_signature.get(image)}


@per_launch
def _command(command: Command) -> Doc:
    """The sensor's own argument vector: ``CommandLineToArgvW``'s, as the launch has it."""
    return {"args": command.args, "args_count": len(command.args), "command_line": command.command_line}


# The leaf fields of its process-start documents (tests/test_sources.py holds them to render).
FIELDS = field_set(
    {
        "": "@timestamp message",
        "agent": "id type version",
        "data_stream": "dataset namespace type",
        "ecs": "version",
        "event": "action agent_id_status category created dataset ingested kind module sequence type",
        "host": "architecture hostname id ip mac name",
        "host.os": "Ext.variant family full kernel name platform type version",
        "process": "args args_count command_line entity_id executable name pid working_directory",
        "process.Ext.token": "elevation_level integrity_level_name",
        "process.code_signature": "exists status subject_name trusted",
        "process.hash": "md5 sha1 sha256",
        "process.parent": "args args_count command_line entity_id executable name pid",
        "process.parent.code_signature": "exists status subject_name trusted",
        "process.pe": "original_file_name",
        "user": "domain id name",
    }
)

_labels = labels_part(NAME, INDEX)
_DATA_STREAM = {"namespace": "default", "type": "logs", "dataset": _DATASET}
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
            "dataset": _DATASET,
        },
        "host": _host.get(host, fast),
        "message": "Endpoint process event",
        "process": {
            "parent": {
                **_command.members(parent, fast),
                "entity_id": defend_parent_entity(host, parent.pid, launch.timestamp_ns),
                **_parent_image.members(parent.image, fast),
                "pid": parent.pid,
            },
            "Ext": _token.get(launch.user, fast),
            "pid": launch.pid,
            "entity_id": defend_entity(host, launch.pid, launch.timestamp_ns),
            **_command.members(launch, fast),
            "working_directory": launch.working_directory,
            **_image.members(launch.image, fast),
        },
        "user": _user.get(launch.user, fast),
        "labels": _labels.get(launch.label, fast),
    }


SOURCE = Source(
    name=NAME,
    label="defend",
    description="Elastic Defend process events",
    index=INDEX,
    dataset=_DATASET,
    share=0.40,
    platforms=("windows", "linux"),
    fields=FIELDS,
    renderer=render,
    # Elastic Defend writes one data stream per category: this one holds process events only.
    categories=frozenset({"process"}),
)
