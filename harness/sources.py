"""The data sources a Windows process rule reads, and the ECS fields each one carries.

Each source is what one Elastic integration (or Beat) writes for a process start,
as its ingest pipeline maps it. The catalogue lets ``harness check`` say when a rule
uses, without ``?``, a field that one of its indices never receives: on that source
the rule can never match, which is rarely what its author meant.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

__all__ = ["SOURCES", "DataSource", "sources_for"]

_COMMON = frozenset(
    {
        "@timestamp",
        "event.category",
        "event.type",
        "event.action",
        "event.code",
        "event.kind",
        "event.module",
        "event.dataset",
        "event.provider",
        "event.created",
        "event.ingested",
        "host.name",
        "host.hostname",
        "host.id",
        "host.os.type",
        "host.os.family",
        "host.os.name",
        "host.os.platform",
        "host.os.version",
        "host.domain",
        "host.ip",
        "agent.type",
        "agent.version",
        "process.name",
        "process.executable",
        "process.command_line",
        "process.args",
        "process.args_count",
        "process.pid",
        "process.entity_id",
        "process.parent.name",
        "process.parent.executable",
        "process.parent.pid",
        "user.name",
        "user.domain",
        "user.id",
        "data_stream.dataset",
        "data_stream.namespace",
        "data_stream.type",
        "ecs.version",
    }
)
_SYSMON = _COMMON | {
    "process.pe.original_file_name",
    "process.pe.company",
    "process.pe.description",
    "process.pe.file_version",
    "process.pe.product",
    "process.hash.md5",
    "process.hash.sha1",
    "process.hash.sha256",
    "process.working_directory",
    "process.parent.command_line",
    "process.parent.args",
    "process.parent.entity_id",
    "winlog.channel",
    "winlog.computer_name",
    "winlog.event_id",
    "winlog.provider_name",
    "winlog.record_id",
}
_SECURITY_4688 = _COMMON | {
    "winlog.channel",
    "winlog.computer_name",
    "winlog.event_id",
    "winlog.provider_name",
    "winlog.record_id",
    "process.parent.command_line",
}
_WINLOG = frozenset(f for f in _SYSMON if f.startswith("winlog."))
_PE = frozenset(f for f in _SYSMON if f.startswith("process.pe."))
_DEFEND = (_SYSMON - _WINLOG) | {
    "process.code_signature.subject_name",
    "process.code_signature.trusted",
    "process.exit_code",
}


@dataclass(frozen=True)
class DataSource:
    """One producer of process events: its name, index patterns and the fields it fills."""

    name: str
    indices: tuple[str, ...]
    fields: frozenset[str]
    note: str


SOURCES: tuple[DataSource, ...] = (
    DataSource(
        "Elastic Defend",
        ("logs-endpoint.events.process-*",),
        _DEFEND,
        "endpoint process events; PE metadata from the binary's version resource",
    ),
    DataSource(
        "Sysmon via the Windows integration",
        ("logs-windows.sysmon_operational-*", "logs-windows.*", "logs-windows.forwarded*"),
        _SYSMON,
        "Sysmon event 1; OriginalFileName only from Sysmon 10 on",
    ),
    DataSource(
        "Winlogbeat",
        ("winlogbeat-*",),
        _SYSMON,
        "Winlogbeat's sysmon and security modules; the same ECS mapping as the integrations",
    ),
    DataSource(
        "Security 4688 via the System integration",
        ("logs-system.security*",),
        _SECURITY_4688,
        "process creation audit events: no PE metadata, no hashes",
    ),
    DataSource(
        "Elastic Endgame",
        ("endgame-*",),
        _DEFEND - _PE,
        "legacy Endgame sensor documents: no PE version resource fields",
    ),
)


def sources_for(indices: tuple[str, ...]) -> tuple[list[DataSource], list[str]]:
    """The catalogue sources a rule's index patterns cover, and the patterns none covers."""
    found: list[DataSource] = []
    unknown: list[str] = []
    for pattern in indices:
        matched = [
            source
            for source in SOURCES
            if any(fnmatch.fnmatchcase(index, pattern) or index == pattern for index in source.indices)
        ]
        if not matched:
            unknown.append(pattern)
        for source in matched:
            if source not in found:
                found.append(source)
    return found, unknown
