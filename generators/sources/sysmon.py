"""Sysmon events 1 and 5 (process created, terminated) as Winlogbeat and the Windows integration index them.

Both run the same pipeline logic: ECS fields from the event data, ``process.args``
from Elastic's painless ``SplitCommandLine`` (not ``CommandLineToArgvW``: the program
name is not special and ``""`` inside quotes closes them), ``user.id`` the Sysmon
service's SID. ``OriginalFileName`` exists from Sysmon 10 on: the ``sysmon9`` variant
has no ``process.pe.original_file_name``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generators.model import Image, Label, Launch
from generators.sources.common import Doc, Part, agent_host, entity_guid, iso, iso_ingested, labels_part, part
from generators.winargs import pipeline_args


@dataclass(frozen=True)
class Variant:
    name: str
    index: str
    beat: bool  # Winlogbeat (True) or the Windows integration through Elastic Agent
    original_file_name: bool  # Sysmon 10 and later
    labels: Part[Label] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", labels_part(self.name, self.index))


WINLOGBEAT = Variant("sysmon-winlogbeat", "winlogbeat-8.17.0", beat=True, original_file_name=True)
WINDOWS = Variant(
    "sysmon-windows", "logs-windows.sysmon_operational-default", beat=False, original_file_name=True
)
SYSMON9 = Variant("sysmon9-winlogbeat", "winlogbeat-8.17.0", beat=True, original_file_name=False)


def _version_resource(image: Image, with_original: bool) -> Doc:
    pe: Doc = {}
    for key, value in (
        ("company", image.company),
        ("description", image.description),
        ("file_version", image.file_version),
        ("product", image.product),
    ):
        if value is not None:
            pe[key] = value
    if with_original and image.original_file_name is not None:
        pe["original_file_name"] = image.original_file_name
    return pe


@part
def _image(image: Image) -> Doc:
    return {
        "executable": image.executable,
        "hash": {"md5": image.md5, "sha1": image.sha1, "sha256": image.sha256},
        "name": image.name,
        "pe": _version_resource(image, True),
    }


@part
def _image_sysmon9(image: Image) -> Doc:
    block = {**_image.get(image), "pe": _version_resource(image, False)}
    if not block["pe"]:
        del block["pe"]
    return block


@part
def _event_data(image: Image) -> Doc:
    data: Doc = {}
    for key, value in (
        ("Company", image.company),
        ("Description", image.description),
        ("FileVersion", image.file_version),
        ("Product", image.product),
    ):
        if value is not None:
            data[key] = value
    data.update({"IntegrityLevel": "High", "LogonId": "0x3e7", "TerminalSessionId": "0"})
    return data


@part
def _related_hashes(image: Image) -> Doc:
    return {"hash": [image.sha1, image.md5, image.sha256]}


_TASKS = {True: "Process Create (rule: ProcessCreate)", False: "Process terminated (rule: ProcessTerminate)"}
_WINLOG_USER = {"domain": "NT AUTHORITY", "identifier": "S-1-5-18", "name": "SYSTEM", "type": "User"}
_WINLOG_PROCESS = {"pid": 2760, "thread": {"id": 3644}}


def _process(launch: Launch, variant: Variant, fast: bool) -> Doc:
    parent = launch.parent
    args = pipeline_args(launch.command_line)
    parent_args = pipeline_args(parent.command_line)
    image_part = _image if variant.original_file_name else _image_sysmon9
    return {
        "args": args,
        "args_count": len(args),
        "command_line": launch.command_line,
        "entity_id": entity_guid(launch.entity_id),
        **image_part.members(launch.image, fast),
        "parent": {
            "args": parent_args,
            "args_count": len(parent_args),
            "command_line": parent.command_line,
            "entity_id": entity_guid(parent.entity_id),
            "executable": parent.image.executable,
            "name": parent.image.name,
            "pid": parent.pid,
        },
        "pid": launch.pid,
        "working_directory": launch.working_directory,
    }


def render(launch: Launch, variant: Variant, fast: bool = False) -> Doc:
    """Event 1 for a start; event 5 (process terminated: no command line, no parent) for an end."""
    host, user = launch.host, launch.user
    stamp = iso(launch.timestamp_ns)
    start = launch.action == "start"
    event: Doc = {
        "action": "Process creation" if start else "Process terminated",
        "category": ["process"],
        "code": "1" if start else "5",
        "kind": "event",
        "provider": "Microsoft-Windows-Sysmon",
        "type": ["start" if start else "end"],
        "created": stamp,
        "ingested": iso_ingested(launch),
    }
    doc: Doc = {"@timestamp": stamp}
    if variant.beat:
        doc["agent"] = {"type": "winlogbeat", "version": "8.17.0", "name": host.name, "id": host.id}
        doc["ecs"] = {"version": "8.17.0"}
        event["module"] = "sysmon"
    else:
        doc["agent"] = {"type": "filebeat", "version": "8.15.3", "name": host.name, "id": host.id}
        doc["ecs"] = {"version": "8.0.0"}
        doc["data_stream"] = {"dataset": "windows.sysmon_operational", "namespace": "default", "type": "logs"}
        event["dataset"] = "windows.sysmon_operational"
        event["agent_id_status"] = "verified"
    doc["event"] = event
    doc["host"] = agent_host.get(host, fast)
    doc["log"] = {"level": "information"}
    if start:
        doc["process"] = _process(launch, variant, fast)
        doc["related"] = {**_related_hashes.members(launch.image, fast), "user": [user.name]}
    else:
        doc["process"] = {
            "entity_id": entity_guid(launch.entity_id),
            "executable": launch.image.executable,
            "name": launch.image.name,
            "pid": launch.pid,
        }
        doc["related"] = {"user": [user.name]}
    doc["user"] = {"domain": user.domain, "id": "S-1-5-18", "name": user.name}
    doc["winlog"] = {
        "channel": "Microsoft-Windows-Sysmon/Operational",
        "computer_name": host.fqdn,
        "event_data": _event_data.get(launch.image, fast)
        if start
        else {"User": f"{user.domain}\\{user.name}"},
        "event_id": "1" if start else "5",
        "opcode": "Info",
        "process": _WINLOG_PROCESS,
        "provider_guid": "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}",
        "provider_name": "Microsoft-Windows-Sysmon",
        "record_id": str(launch.record_id),
        "task": "Process Create (rule: ProcessCreate)"
        if start
        else "Process terminated (rule: ProcessTerminate)",
        "user": _WINLOG_USER,
        "version": 5,
    }
    doc["labels"] = variant.labels.get(launch.label, fast)
    return doc
