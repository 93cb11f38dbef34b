"""Security event 4688 (a new process has been created), as the System integration indexes it.

No hashes, no PE metadata, no entity ids. ``process.args`` comes from the
integration's own naive splitter, which keeps quotes. Without the audit policy
"Include command line in process creation events" the event has no command line,
so the document has neither ``process.command_line`` nor ``process.args``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generators.model import Label, Launch
from generators.sources.common import Doc, Part, agent_host, iso, iso_ingested, labels_part
from generators.winargs import security_args


@dataclass(frozen=True)
class Variant:
    name: str
    index: str
    command_line: bool
    labels: Part[Label] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", labels_part(self.name, self.index))


WITH_COMMAND_LINE = Variant("security-4688", "logs-system.security-default", command_line=True)
WITHOUT_COMMAND_LINE = Variant("security-4688-nocmdline", "logs-system.security-default", command_line=False)


_AGENT = {"type": "filebeat", "version": "8.15.3"}


def render(launch: Launch, variant: Variant, fast: bool = False) -> Doc:
    """Event 4688 for a start; 4689 (a process has exited: no command line, no parent) for an end."""
    if launch.action != "start":
        return _exited(launch, variant, fast)
    host, user, parent = launch.host, launch.user, launch.parent
    stamp = iso(launch.timestamp_ns)
    process: Doc = {}
    event_data: Doc = {}
    if variant.command_line:
        process["args"] = security_args(launch.command_line)
        process["command_line"] = launch.command_line
        event_data["CommandLine"] = launch.command_line
    process.update(
        {
            "executable": launch.image.executable,
            "name": launch.image.name,
            "parent": {"executable": parent.image.executable, "name": parent.image.name, "pid": parent.pid},
            "pid": launch.pid,
        }
    )
    event_data.update(
        {
            "MandatoryLabel": "S-1-16-12288",
            "ProcessId": hex(parent.pid),
            "SubjectDomainName": user.domain,
            "SubjectLogonId": "0x3e7",
            "SubjectUserName": user.name,
            "SubjectUserSid": user.id,
            "TargetDomainName": "-",
            "TargetLogonId": "0x0",
            "TargetUserName": "-",
            "TargetUserSid": "S-1-0-0",
            "TokenElevationType": "%%1936",
        }
    )
    return {
        "@timestamp": stamp,
        "agent": {**_AGENT, "name": host.name, "id": host.id},
        "data_stream": {"dataset": "system.security", "namespace": "default", "type": "logs"},
        "ecs": {"version": "8.11.0"},
        "event": {
            "action": "created-process",
            "category": ["process"],
            "code": "4688",
            "kind": "event",
            "outcome": "success",
            "provider": "Microsoft-Windows-Security-Auditing",
            "type": ["start"],
            "dataset": "system.security",
            "agent_id_status": "verified",
            "created": stamp,
            "ingested": iso_ingested(launch),
        },
        "host": agent_host.get(host, fast),
        "log": {"level": "information"},
        "process": process,
        "related": {"user": [user.name]},
        "user": {"domain": user.domain, "id": user.id, "name": user.name, "effective": {"id": "S-1-0-0"}},
        "winlog": {
            "channel": "Security",
            "computer_name": host.fqdn,
            "event_data": event_data,
            "event_id": "4688",
            "keywords": ["Audit Success"],
            "level": "information",
            "logon": {"id": "0x3e7"},
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
        "agent": {**_AGENT, "name": host.name, "id": host.id},
        "data_stream": {"dataset": "system.security", "namespace": "default", "type": "logs"},
        "ecs": {"version": "8.11.0"},
        "event": {
            "action": "exited-process",
            "category": ["process"],
            "code": "4689",
            "kind": "event",
            "outcome": "success",
            "provider": "Microsoft-Windows-Security-Auditing",
            "type": ["end"],
            "dataset": "system.security",
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
