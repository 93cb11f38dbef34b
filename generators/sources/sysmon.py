"""Sysmon events 1 and 5 (process created, terminated) as Winlogbeat and the Windows integration index them.

Both run the same pipeline logic: ECS fields from the event data, ``process.args``
from Elastic's painless ``SplitCommandLine`` (not ``CommandLineToArgvW``: the program
name is not special and ``""`` inside quotes closes them), ``user.id`` the Sysmon
service's SID. ``OriginalFileName`` exists from Sysmon 10 on: the ``sysmon9`` variant
has no ``process.pe.original_file_name``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from generators.model import Host, Image, Label, Launch, User
from generators.sources.common import (
    AGENT_HOST_FIELDS,
    Command,
    Doc,
    Part,
    agent_filebeat,
    agent_host,
    computer_name,
    entity_guid,
    field_set,
    image_names,
    iso,
    iso_ingested,
    labels_part,
    part,
    per_launch,
    related_user,
)
from generators.sources.source import Source
from generators.winargs import pipeline_args

_DATASET = "windows.sysmon_operational"


@dataclass(frozen=True)
class Variant:
    name: str
    index: str
    beat: bool  # Winlogbeat (True) or the Windows integration through Elastic Agent
    original_file_name: bool  # Sysmon 10 and later
    labels: Part[Label] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", labels_part(self.name, self.index))


_WINLOGBEAT = Variant("sysmon-winlogbeat", "winlogbeat-8.17.0", beat=True, original_file_name=True)
_WINDOWS = Variant(
    "sysmon-windows", "logs-windows.sysmon_operational-default", beat=False, original_file_name=True
)
_SYSMON9 = Variant("sysmon9-winlogbeat", "winlogbeat-8.17.0", beat=True, original_file_name=False)


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
    return data


@part
def _logon_data(user: User) -> Doc:
    """The token and logon session of the account that runs the process, as Sysmon names them."""
    return {
        "IntegrityLevel": user.integrity.capitalize(),
        "LogonId": user.logon_id,
        "TerminalSessionId": str(user.session),
    }


@part
def _related_hashes(image: Image) -> Doc:
    return {"hash": [image.sha1, image.md5, image.sha256]}


@per_launch
def _command(command: Command) -> Doc:
    """``process.args`` as the pipeline splits the command line, not as the launch has it."""
    args = pipeline_args(command.command_line)
    return {"args": args, "args_count": len(args), "command_line": command.command_line}


@part
def _winlogbeat_agent(host: Host) -> Doc:
    return {"type": "winlogbeat", "version": "8.17.0", "name": host.name, "id": host.id}


@part
def _user(user: User) -> Doc:
    return {"domain": user.domain, "id": "S-1-5-18", "name": user.name}


# The leaf fields of a Winlogbeat event 1 from Sysmon 10 or later; the variants differ below.
_FIELDS = AGENT_HOST_FIELDS | field_set(
    {
        "": "@timestamp",
        "agent": "id name type version",
        "ecs": "version",
        "event": "action category code created ingested kind module provider type",
        "log": "level",
        "process": "args args_count command_line entity_id executable name pid working_directory",
        "process.hash": "md5 sha1 sha256",
        "process.parent": "args args_count command_line entity_id executable name pid",
        "process.pe": "company description file_version original_file_name product",
        "related": "hash user",
        "user": "domain id name",
        "winlog": "channel computer_name event_id opcode provider_guid provider_name record_id task version",
        "winlog.event_data": "Company Description FileVersion IntegrityLevel LogonId Product "
        "TerminalSessionId",
        "winlog.process": "pid thread.id",
        "winlog.user": "domain identifier name type",
    }
)
_INTEGRATION_FIELDS = field_set({"data_stream": "dataset namespace type", "event": "dataset agent_id_status"})


def _fields(variant: Variant) -> frozenset[str]:
    fields = _FIELDS if variant.beat else (_FIELDS - {"event.module"}) | _INTEGRATION_FIELDS
    return fields if variant.original_file_name else fields - {"process.pe.original_file_name"}


_WINLOG_USER = {"domain": "NT AUTHORITY", "identifier": "S-1-5-18", "name": "SYSTEM", "type": "User"}
_WINLOG_PROCESS = {"pid": 2760, "thread": {"id": 3644}}


def _process(launch: Launch, variant: Variant, fast: bool) -> Doc:
    parent = launch.parent
    image_part = _image if variant.original_file_name else _image_sysmon9
    return {
        **_command.members(launch, fast),
        "entity_id": entity_guid(launch.entity_id),
        **image_part.members(launch.image, fast),
        "parent": {
            **_command.members(parent, fast),
            "entity_id": entity_guid(parent.entity_id),
            **image_names.members(parent.image, fast),
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
        doc["agent"] = _winlogbeat_agent.get(host, fast)
        doc["ecs"] = {"version": "8.17.0"}
        event["module"] = "sysmon"
    else:
        doc["agent"] = agent_filebeat.get(host, fast)
        doc["ecs"] = {"version": "8.0.0"}
        doc["data_stream"] = {"dataset": _DATASET, "namespace": "default", "type": "logs"}
        event["dataset"] = _DATASET
        event["agent_id_status"] = "verified"
    doc["event"] = event
    doc["host"] = agent_host.get(host, fast)
    doc["log"] = {"level": "information"}
    if start:
        doc["process"] = _process(launch, variant, fast)
        doc["related"] = {
            **_related_hashes.members(launch.image, fast),
            **related_user.members(user, fast),
        }
    else:
        doc["process"] = {
            "entity_id": entity_guid(launch.entity_id),
            "executable": launch.image.executable,
            "name": launch.image.name,
            "pid": launch.pid,
        }
        doc["related"] = related_user.get(user, fast)
    doc["user"] = _user.get(user, fast)
    doc["winlog"] = {
        "channel": "Microsoft-Windows-Sysmon/Operational",
        **computer_name.members(host, fast),
        "event_data": {**_event_data.members(launch.image, fast), **_logon_data.members(user, fast)}
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


# The categories the Windows integration's sysmon_operational pipeline sets, by event id
# (elastic/integrations packages/windows/data_stream/sysmon_operational/elasticsearch/
# ingest_pipeline/default.yml): image loads (7) are "process" events there, not "library".
_SYSMON_CATEGORIES = frozenset({"process", "file", "network", "driver", "configuration", "registry"})


def _source(variant: Variant, label: str, description: str, share: float) -> Source:
    return Source(
        name=variant.name,
        label=label,
        description=description,
        index=variant.index,
        dataset=None if variant.beat else _DATASET,
        share=share,
        platforms=("windows",),
        fields=_fields(variant),
        renderer=partial(render, variant=variant),
        # Winlogbeat's index also holds every other channel it reads: its categories are open.
        categories=None if variant.beat else _SYSMON_CATEGORIES,
    )


WINLOGBEAT = _source(_WINLOGBEAT, "sysmon-wlb", "Sysmon 15 event 1 through Winlogbeat 8", 0.10)
WINDOWS = _source(_WINDOWS, "sysmon", "Sysmon 15 event 1 through the Windows integration", 0.20)
SYSMON9 = _source(_SYSMON9, "sysmon9", "Sysmon 9 event 1 through Winlogbeat 8: no OriginalFileName", 0.05)
