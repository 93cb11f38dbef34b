"""What every mapped document shares: the ``winlog`` block the Elastic Agent's winlog input builds."""

from __future__ import annotations

from typing import Any

__all__ = [
    "Doc",
    "event_data",
    "event_id",
    "iso_millis",
    "level",
    "outcome",
    "provider",
    "system_time",
    "user_sid",
    "winlog",
]

Doc = dict[str, Any]

# Standard event levels, named as the winlog input names them (log.level).
_LEVELS = {0: "information", 1: "critical", 2: "error", 3: "warning", 4: "information", 5: "verbose"}
_AUDIT_SUCCESS = 0x20000000000000
_AUDIT_FAILURE = 0x10000000000000


def _system(event: Doc) -> Doc:
    system: Doc = event["Event"]["System"]
    return system


def _text(value: Any) -> Any:
    """An element with attributes is ``{"#attributes": ..., "#text": ...}``; its text is the value."""
    return value.get("#text") if isinstance(value, dict) else value


def provider(event: Doc) -> str:
    return str(_system(event)["Provider"]["#attributes"]["Name"])


def event_id(event: Doc) -> str:
    return str(_text(_system(event)["EventID"]))


def event_data(event: Doc) -> dict[str, str]:
    """``EventData`` as the winlog input gives it: every value a string."""
    data = event["Event"].get("EventData") or {}
    return {
        key: "" if value is None else str(value)
        for key, value in data.items()
        if not key.startswith("#") and not isinstance(value, dict | list)
    }


def iso_millis(stamp: str) -> str:
    """An EVTX ``SystemTime`` (microseconds) as Elasticsearch's ``date`` stores it: milliseconds, UTC."""
    date, _, rest = stamp.partition("T")
    clock = rest.rstrip("Z")
    seconds, _, fraction = clock.partition(".")
    return f"{date}T{seconds}.{(fraction + '000')[:3]}Z"


def system_time(event: Doc) -> str:
    return iso_millis(str(_system(event)["TimeCreated"]["#attributes"]["SystemTime"]))


def level(event: Doc) -> str:
    return _LEVELS.get(int(_system(event).get("Level") or 0), "information")


def outcome(event: Doc) -> str | None:
    """``event.outcome`` from the audit keywords, as the winlog input sets it."""
    keywords = int(str(_system(event).get("Keywords") or "0"), 16)
    if keywords & _AUDIT_SUCCESS:
        return "success"
    if keywords & _AUDIT_FAILURE:
        return "failure"
    return None


def winlog(event: Doc, data: Doc, task: str | None) -> Doc:
    """The ``winlog`` block: what the log record says about itself, event data as left by the pipeline."""
    system = _system(event)
    execution = (system.get("Execution") or {}).get("#attributes", {})
    guid = str(system["Provider"]["#attributes"].get("Guid", "")).strip("{}")
    block: Doc = {
        "channel": system["Channel"],
        "computer_name": system["Computer"],
        "event_data": data,
        "event_id": event_id(event),
        "opcode": "Info" if int(system.get("Opcode") or 0) == 0 else str(system["Opcode"]),
        "process": {
            "pid": int(execution.get("ProcessID", 0)),
            "thread": {"id": int(execution.get("ThreadID", 0))},
        },
        "provider_name": provider(event),
        "record_id": str(system["EventRecordID"]),
        "version": int(system.get("Version") or 0),
    }
    if guid:
        block["provider_guid"] = f"{{{guid}}}"
    if task is not None:
        block["task"] = task
    security = (system.get("Security") or {}).get("#attributes", {})
    if security.get("UserID"):
        block["user"] = {"identifier": security["UserID"]}
    return block


def user_sid(event: Doc) -> str | None:
    security = (_system(event).get("Security") or {}).get("#attributes", {})
    sid = security.get("UserID")
    return None if sid is None else str(sid)
