"""Winlogbeat's file output turned back into the record shape the mappers read.

Winlogbeat 8 leaves the ECS mapping of Sysmon and Security events to ingest pipelines
in Elasticsearch ("Winlogbeat modules have changed in 8.0.0 to use Elasticsearch
Ingest Node for processing", winlogbeat-modules docs; ``x-pack/winlogbeat/module/
sysmon/ingest/sysmon.yml`` in elastic/beats), so ``output.file`` holds only the
``winlog`` block the beat collected (``test/testdata/collection/*.golden.json`` there).
Winlogbeat 7 ran the same mapping as JavaScript processors inside the beat
(``module/sysmon/config/winlogbeat-sysmon.js``), so its file output already carries
``process.*``: such a line is already a document and is kept as it is.
"""

from __future__ import annotations

from typing import Any

from harness.ingest.common import Doc

__all__ = ["is_mapped", "key", "to_record"]

# log.level as the beat names it, back to the event's level number.
_LEVELS = {"critical": 1, "error": 2, "warning": 3, "information": 4, "verbose": 5}
# The audit keyword bits behind winlog.keywords, so the mappers' outcome() reads them as in EVTX.
_KEYWORDS = {"Audit Success": 0x20000000000000, "Audit Failure": 0x10000000000000}


def key(line: Doc) -> tuple[str, str] | None:
    """Provider and event id of a Winlogbeat line, or None when it has no ``winlog`` block."""
    winlog = line.get("winlog")
    if not isinstance(winlog, dict) or "provider_name" not in winlog or "event_id" not in winlog:
        return None
    return str(winlog["provider_name"]), str(winlog["event_id"])


def is_mapped(line: Doc) -> bool:
    """Whether the line already carries ECS process fields (Winlogbeat 7, or an exported document)."""
    return isinstance(line.get("process"), dict) and bool(line["process"])


def to_record(line: Doc) -> Doc:
    """The ``{"Event": {"System": ..., "EventData": ...}}`` an EVTX reader gives for the same event.

    Raises ValueError for a line with no time at all: the pipelines cannot place it either.
    """
    winlog: dict[str, Any] = line["winlog"]
    process = winlog.get("process") or {}
    provider: Doc = {"Name": winlog["provider_name"]}
    if winlog.get("provider_guid"):
        provider["Guid"] = str(winlog["provider_guid"]).strip("{}")
    created = line.get("@timestamp") or winlog.get("time_created")
    if not created:
        raise ValueError("a Winlogbeat event with neither @timestamp nor winlog.time_created")
    keywords = 0
    for name in winlog.get("keywords") or []:
        keywords |= _KEYWORDS.get(name, 0)
    system: Doc = {
        "Provider": {"#attributes": provider},
        "EventID": winlog["event_id"],
        "Version": winlog.get("version", 0),
        "Level": _LEVELS.get(str((line.get("log") or {}).get("level", "")).lower(), 0),
        "Opcode": _opcode(winlog.get("opcode")),
        "Keywords": hex(keywords),
        "TimeCreated": {"#attributes": {"SystemTime": created}},
        "EventRecordID": winlog.get("record_id", ""),
        "Execution": {
            "#attributes": {
                "ProcessID": process.get("pid", 0),
                "ThreadID": (process.get("thread") or {}).get("id", 0),
            }
        },
        "Channel": winlog.get("channel", ""),
        "Computer": winlog.get("computer_name", ""),
    }
    identifier = (winlog.get("user") or {}).get("identifier")
    if identifier:
        system["Security"] = {"#attributes": {"UserID": identifier}}
    return {"Event": {"System": system, "EventData": dict(winlog.get("event_data") or {})}}


def _opcode(value: Any) -> Any:
    """The beat renders opcode 0 by its name, "Info"; the mappers render it back the same way."""
    return 0 if value in (None, "", "Info") else value
