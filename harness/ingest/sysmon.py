"""Sysmon event 1 (process creation) as the Windows integration indexes it.

Follows the ``sysmon_operational`` ingest pipeline of elastic/integrations
(``packages/windows/data_stream/sysmon_operational/elasticsearch/ingest_pipeline/default.yml``):
empty event data dropped, ``@timestamp`` from ``UtcTime``, ``event.action``
"Process creation", hashes lower-cased (``IMPHASH`` to ``process.pe.imphash``),
``process.args`` from the painless ``SplitCommandLine``, names from the last
backslash, ``user.id`` the record's security SID, user name and domain from ``User``.
"""

from __future__ import annotations

from generators.winargs import pipeline_args
from harness.ingest.common import Doc, event_data, iso_millis, level, system_time, user_sid, winlog

__all__ = ["PROVIDER", "map_process_create"]

PROVIDER = "Microsoft-Windows-Sysmon"

# Values the pipeline's first script removes from event data.
_EMPTY = {"", "-", "{00000000-0000-0000-0000-000000000000}"}
# Event data the pipeline renames into ECS fields (and so removes), or removes outright.
_CONSUMED = {
    "ProcessGuid", "ProcessId", "Image", "CommandLine", "CurrentDirectory", "ParentProcessGuid",
    "ParentProcessId", "ParentImage", "ParentCommandLine", "OriginalFileName", "RuleName", "User",
    "UtcTime", "Hashes",
}  # fmt: skip
_PE = (
    ("Company", "company"),
    ("Description", "description"),
    ("FileVersion", "file_version"),
    ("Product", "product"),
)


def _guid(value: str) -> str:
    """The GUID as Windows renders it in event data, in braces; the EVTX decoder drops them."""
    return value if value.startswith("{") else f"{{{value}}}"


def _name(path: str) -> str | None:
    index = path.rfind("\\")
    return path[index + 1 :] or None if index > -1 else None


def _hashes(text: str) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for pair in text.split(","):
        key, sep, value = pair.partition("=")
        value = value.lower()
        if sep and value.strip("0"):
            hashes[key.lower()] = value
    return hashes


def _process(data: dict[str, str], prefix: str) -> Doc:
    """The fields event 1 gives for the new process (``prefix`` "") or its parent ("Parent")."""
    block: Doc = {}
    command_line = data.get(f"{prefix}CommandLine")
    if command_line:
        args = pipeline_args(command_line)
        block.update(args=list(args), args_count=len(args), command_line=command_line)
    if data.get(f"{prefix}ProcessGuid"):
        block["entity_id"] = _guid(data[f"{prefix}ProcessGuid"])
    executable = data.get(f"{prefix}Image")
    if executable:
        block["executable"] = executable
        name = _name(executable)
        if name is not None:
            block["name"] = name
    if data.get(f"{prefix}ProcessId"):
        block["pid"] = int(data[f"{prefix}ProcessId"])
    return block


def map_process_create(event: Doc) -> Doc:
    """The document the Windows integration indexes for one Sysmon event 1 record."""
    data = {key: value for key, value in event_data(event).items() if value not in _EMPTY}
    process = _process(data, "")
    hashes = _hashes(data.get("Hashes", ""))
    pe = {field: data[key] for key, field in _PE if key in data}
    if "OriginalFileName" in data:  # Sysmon 10 and later
        pe["original_file_name"] = data["OriginalFileName"]
    if "imphash" in hashes:
        pe["imphash"] = hashes.pop("imphash")
    if hashes:
        process["hash"] = hashes
    if pe:
        process["pe"] = pe
    parent = _process(data, "Parent")
    if parent:
        process["parent"] = parent
    if data.get("CurrentDirectory"):
        process["working_directory"] = data["CurrentDirectory"]

    user: Doc = {}
    sid = user_sid(event)
    if sid is not None:
        user["id"] = sid
    domain, sep, name = data.get("User", "").partition("\\")
    if sep and "\\" not in name:
        if domain:
            user["domain"] = domain
        if name:
            user["name"] = name

    created = system_time(event)
    doc: Doc = {
        "@timestamp": _utc_time(data["UtcTime"]) if "UtcTime" in data else created,
        "data_stream": {"dataset": "windows.sysmon_operational", "namespace": "default", "type": "logs"},
        "ecs": {"version": "8.0.0"},
        "event": {
            "action": "Process creation",
            "category": ["process"],
            "code": "1",
            "created": created,
            "dataset": "windows.sysmon_operational",
            "kind": "event",
            "provider": PROVIDER,
            "type": ["start"],
        },
        "host": {"name": event["Event"]["System"]["Computer"], "os": {"type": "windows"}},
        "log": {"level": level(event)},
        "process": process,
    }
    related: Doc = {}
    if hashes or "imphash" in pe:
        related["hash"] = [*hashes.values(), *([pe["imphash"]] if "imphash" in pe else [])]
    if user.get("name"):
        related["user"] = [user["name"]]
    if related:
        doc["related"] = related
    if data.get("RuleName"):
        doc["rule"] = {"name": data["RuleName"]}
    if user:
        doc["user"] = user
    left = {key: value for key, value in data.items() if key not in _CONSUMED}
    doc["winlog"] = winlog(event, left, "Process Create (rule: ProcessCreate)")
    return doc


def _utc_time(text: str) -> str:
    """Sysmon's ``UtcTime`` (``2019-05-27 01:28:42.700``) as a date: the pipeline's ``@timestamp``."""
    return iso_millis(text.replace(" ", "T", 1))
