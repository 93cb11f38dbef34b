"""Security event 4688 (a new process has been created) as the System integration indexes it.

Follows the ``standard`` pipeline of the ``security`` data stream in elastic/integrations
(``packages/system/data_stream/security/elasticsearch/ingest_pipeline/standard.yml``,
script "Process Event 4688"): pids decoded from hex (``Long.decode``), the executable
from ``NewProcessName`` and its name after the last backslash, the parent from
``ParentProcessName`` (event version 2; absent before) and ``ProcessId``, and
``process.args`` from the integration's splitter, run whenever ``CommandLine`` is
present, even empty. The subject user is the document's user; the target user, when
there is one, its effective user. ``@timestamp`` is the record's ``SystemTime``.
"""

from __future__ import annotations

from generators.winargs import security_args
from harness.ingest.common import Doc, event_data, level, outcome, system_time, winlog

__all__ = ["PROVIDER", "map_process_created"]

PROVIDER = "Microsoft-Windows-Security-Auditing"

# Event data the pipeline moves into ECS fields, and so removes from winlog.event_data.
_CONSUMED = {"NewProcessId", "NewProcessName", "ParentProcessName"}


def _name(path: str) -> str:
    return path.rsplit("\\", maxsplit=1)[-1]


def map_process_created(event: Doc) -> Doc:
    """The document the System integration indexes for one event 4688 record."""
    data = event_data(event)
    process: Doc = {}
    if "NewProcessId" in data:
        process["pid"] = int(data["NewProcessId"], 0)
    if "NewProcessName" in data:
        process["executable"] = data["NewProcessName"]
        process["name"] = _name(data["NewProcessName"])
    parent: Doc = {}
    if "ParentProcessName" in data:
        parent["executable"] = data["ParentProcessName"]
        parent["name"] = _name(data["ParentProcessName"])
    if "ProcessId" in data:
        parent["pid"] = int(data["ProcessId"], 0)
    if parent:
        process["parent"] = parent
    if "CommandLine" in data:
        process["args"] = list(security_args(data["CommandLine"]))
        process["command_line"] = data["CommandLine"]

    user: Doc = {}
    for key, field in (
        ("SubjectUserSid", "id"),
        ("SubjectUserName", "name"),
        ("SubjectDomainName", "domain"),
    ):
        if key in data:
            user[field] = data[key]
    effective: Doc = {}
    for key, field in (("TargetUserSid", "id"), ("TargetUserName", "name"), ("TargetDomainName", "domain")):
        value = data.get(key)
        if value not in (None, "", "-"):
            effective[field] = value.split("@")[0] if field == "name" else value
    if effective:
        user["effective"] = effective
    related_users = [name for name in (user.get("name"), effective.get("name")) if name]

    event_block: Doc = {
        "action": "created-process",
        "category": ["process"],
        "code": "4688",
        "dataset": "system.security",
        "kind": "event",
        "provider": PROVIDER,
        "type": ["start"],
    }
    result = outcome(event)
    if result is not None:
        event_block["outcome"] = result
    doc: Doc = {
        "@timestamp": system_time(event),
        "data_stream": {"dataset": "system.security", "namespace": "default", "type": "logs"},
        "ecs": {"version": "8.0.0"},
        "event": event_block,
        "host": {"name": event["Event"]["System"]["Computer"], "os": {"type": "windows"}},
        "log": {"level": level(event)},
        "process": process,
    }
    if related_users:
        doc["related"] = {"user": list(dict.fromkeys(related_users))}
    if user:
        doc["user"] = user
    left = {key: value for key, value in data.items() if key not in _CONSUMED}
    block = winlog(event, left, "Process Creation")
    if "SubjectLogonId" in data:
        block["logon"] = {"id": data["SubjectLogonId"]}
    if result is not None:
        block["outcome"] = result
    doc["winlog"] = block
    return doc
