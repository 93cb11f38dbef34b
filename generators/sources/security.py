"""Security event 4688 (a new process has been created), as the System integration indexes it.

No hashes, no PE metadata, no entity ids. ``process.args`` comes from the
integration's own naive splitter, which keeps quotes. Without the audit policy
"Include command line in process creation events" the event has no command line,
so the document has neither ``process.command_line`` nor ``process.args``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from generators.model import Label, Launch, User
from generators.sources.common import (
    AGENT_HOST_FIELDS,
    Command,
    Doc,
    Part,
    agent_filebeat,
    agent_host,
    computer_name,
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
from generators.winargs import security_args

_INDEX = "logs-system.security-default"
_DATASET = "system.security"


@dataclass(frozen=True)
class Variant:
    name: str
    index: str
    command_line: bool
    labels: Part[Label] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", labels_part(self.name, self.index))


_WITH_COMMAND_LINE = Variant("security-4688", _INDEX, command_line=True)
_WITHOUT_COMMAND_LINE = Variant("security-4688-nocmdline", _INDEX, command_line=False)


# The leaf fields of event 4688 without the command line; auditing it adds the rest.
_FIELDS = AGENT_HOST_FIELDS | field_set(
    {
        "": "@timestamp",
        "agent": "id name type version",
        "data_stream": "dataset namespace type",
        "ecs": "version",
        "event": "action agent_id_status category code created dataset ingested kind outcome provider type",
        "log": "level",
        "process": "executable name pid",
        "process.parent": "executable name pid",
        "related": "user",
        "user": "domain effective.id id name",
        "winlog": "channel computer_name event_id keywords level logon.id opcode outcome provider_guid "
        "provider_name record_id task time_created version",
        "winlog.event_data": "MandatoryLabel ProcessId SubjectDomainName SubjectLogonId SubjectUserName "
        "SubjectUserSid TargetDomainName TargetLogonId TargetUserName TargetUserSid TokenElevationType",
        "winlog.process": "pid thread.id",
    }
)
_COMMAND_LINE_FIELDS = field_set({"process": "args command_line", "winlog.event_data": "CommandLine"})


@per_launch
def _command(command: Command) -> Doc:
    """The integration's own splitter keeps quotes; it reports no argument count."""
    return {"args": security_args(command.command_line), "command_line": command.command_line}


@per_launch
def _command_data(command: Command) -> Doc:
    return {"CommandLine": command.command_line}


@part
def _subject(user: User) -> Doc:
    return {
        "SubjectDomainName": user.domain,
        "SubjectLogonId": user.logon_id,
        "SubjectUserName": user.name,
        "SubjectUserSid": user.id,
    }


# The integrity levels' mandatory label SIDs, and the elevation types as the event's
# message-table references (%%1936: type 1, a full token not split by UAC; %%1937: type 2,
# elevated; %%1938: type 3, the limited half of a split token).
_MANDATORY_LABELS = {"system": "S-1-16-16384", "high": "S-1-16-12288", "medium": "S-1-16-8192"}
_ELEVATION_TYPES = {"default": "%%1936", "full": "%%1937", "limited": "%%1938"}


@part
def _token(user: User) -> Doc:
    return {
        "MandatoryLabel": _MANDATORY_LABELS[user.integrity],
        "TokenElevationType": _ELEVATION_TYPES[user.elevation],
    }


@part
def _logon(user: User) -> Doc:
    return {"id": user.logon_id}


@part
def _user(user: User) -> Doc:
    return {"domain": user.domain, "id": user.id, "name": user.name, "effective": {"id": "S-1-0-0"}}


def render(launch: Launch, variant: Variant, fast: bool = False) -> Doc:
    """Event 4688 for a start; 4689 (a process has exited: no command line, no parent) for an end."""
    if launch.action != "start":
        return _exited(launch, variant, fast)
    host, user, parent = launch.host, launch.user, launch.parent
    stamp = iso(launch.timestamp_ns)
    process: Doc = {}
    event_data: Doc = {}
    if variant.command_line:
        process.update(_command.members(launch, fast))
        event_data.update(_command_data.members(launch, fast))
    process.update(
        {
            **image_names.members(launch.image, fast),
            "parent": {**image_names.members(parent.image, fast), "pid": parent.pid},
            "pid": launch.pid,
        }
    )
    event_data.update(
        {
            **_token.members(user, fast),
            "ProcessId": hex(parent.pid),
            **_subject.members(user, fast),
            "TargetDomainName": "-",
            "TargetLogonId": "0x0",
            "TargetUserName": "-",
            "TargetUserSid": "S-1-0-0",
        }
    )
    return {
        "@timestamp": stamp,
        "agent": agent_filebeat.get(host, fast),
        "data_stream": {"dataset": _DATASET, "namespace": "default", "type": "logs"},
        "ecs": {"version": "8.11.0"},
        "event": {
            "action": "created-process",
            "category": ["process"],
            "code": "4688",
            "kind": "event",
            "outcome": "success",
            "provider": "Microsoft-Windows-Security-Auditing",
            "type": ["start"],
            "dataset": _DATASET,
            "agent_id_status": "verified",
            "created": stamp,
            "ingested": iso_ingested(launch),
        },
        "host": agent_host.get(host, fast),
        "log": {"level": "information"},
        "process": process,
        "related": related_user.get(user, fast),
        "user": _user.get(user, fast),
        "winlog": {
            "channel": "Security",
            **computer_name.members(host, fast),
            "event_data": event_data,
            "event_id": "4688",
            "keywords": ["Audit Success"],
            "level": "information",
            "logon": _logon.get(user, fast),
            "opcode": "Info",
            "outcome": "success",
            "process": {"pid": 4, "thread": {"id": 5076}},
            "provider_guid": "{54849625-5478-4994-a5ba-3e3b0328c30d}",
            "provider_name": "Microsoft-Windows-Security-Auditing",
            "record_id": str(launch.record_id),
            "task": "Process Creation",
            "time_created": stamp,
            "version": 2,
        },
        "labels": variant.labels.get(launch.label, fast),
    }


def _exited(launch: Launch, variant: Variant, fast: bool) -> Doc:
    host, user = launch.host, launch.user
    stamp = iso(launch.timestamp_ns)
    return {
        "@timestamp": stamp,
        "agent": agent_filebeat.get(host, fast),
        "data_stream": {"dataset": _DATASET, "namespace": "default", "type": "logs"},
        "ecs": {"version": "8.11.0"},
        "event": {
            "action": "exited-process",
            "category": ["process"],
            "code": "4689",
            "kind": "event",
            "outcome": "success",
            "provider": "Microsoft-Windows-Security-Auditing",
            "type": ["end"],
            "dataset": _DATASET,
            "created": stamp,
            "ingested": iso_ingested(launch),
        },
        "host": agent_host.get(host, fast),
        "process": {"executable": launch.image.executable, "name": launch.image.name, "pid": launch.pid},
        "user": {"domain": user.domain, "id": user.id, "name": user.name},
        "winlog": {
            "channel": "Security",
            "computer_name": host.fqdn,
            "event_data": {
                "ProcessId": hex(launch.pid),
                "ProcessName": launch.image.executable,
                "Status": "0x0",
                "SubjectDomainName": user.domain,
                "SubjectUserName": user.name,
                "SubjectUserSid": user.id,
            },
            "event_id": "4689",
            "provider_name": "Microsoft-Windows-Security-Auditing",
            "record_id": str(launch.record_id),
            "task": "Process Termination",
        },
        "labels": variant.labels.get(launch.label, fast),
    }


def _source(variant: Variant, label: str, description: str, share: float) -> Source:
    return Source(
        name=variant.name,
        label=label,
        description=description,
        index=variant.index,
        dataset=_DATASET,
        share=share,
        platforms=("windows",),
        fields=_FIELDS | _COMMAND_LINE_FIELDS if variant.command_line else _FIELDS,
        renderer=partial(render, variant=variant),
    )


WITH_COMMAND_LINE = _source(
    _WITH_COMMAND_LINE, "4688", "Security 4688 through the System integration, command-line auditing on", 0.15
)
WITHOUT_COMMAND_LINE = _source(
    _WITHOUT_COMMAND_LINE,
    "4688-nocmd",
    "Security 4688 through the System integration, command-line auditing off",
    0.05,
)
