"""Each source renders the fields that source really carries, and no others."""

from __future__ import annotations

from typing import Any

import pytest

from generators.profiles import CorpusOptions, corpus_launches
from generators.sources import SOURCES

from bundled import APPCMD

DOCS = [
    (launch, src, src.render(launch))
    for launch, src in corpus_launches(CorpusOptions(seed=5, catalogue=APPCMD))
]


def _docs(source: str, scenario: str = "appcmd-list-apppool-text-star") -> list[dict[str, Any]]:
    return [doc for launch, src, doc in DOCS if src.name == source and launch.label.scenario == scenario]


def _get(doc: dict[str, Any], path: str) -> Any:
    node: Any = doc
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


EXPECTED = {
    # source: (event.action, event.code, data_stream.dataset, agent.type)
    "endpoint": ("start", None, "endpoint.events.process", "endpoint"),
    "sysmon-windows": ("Process creation", "1", "windows.sysmon_operational", "filebeat"),
    "sysmon-winlogbeat": ("Process creation", "1", None, "winlogbeat"),
    "sysmon9-winlogbeat": ("Process creation", "1", None, "winlogbeat"),
    "security-4688": ("created-process", "4688", "system.security", "filebeat"),
    "security-4688-nocmdline": ("created-process", "4688", "system.security", "filebeat"),
    "endgame": ("creation_event", None, None, "Endgame"),
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_categorization(source: str) -> None:
    (doc,) = _docs(source)
    action, code, dataset, agent = EXPECTED[source]
    assert _get(doc, "event.action") == action
    assert _get(doc, "event.code") == code
    assert _get(doc, "data_stream.dataset") == dataset
    assert _get(doc, "agent.type") == agent
    category = _get(doc, "event.category")
    assert category == ("process" if source == "endgame" else ["process"])
    assert _get(doc, "host.os.type") == "windows"
    assert _get(doc, "process.name") == "appcmd.exe"


@pytest.mark.parametrize(
    ("source", "field", "present"),
    [
        ("endpoint", "process.pe.original_file_name", True),
        ("sysmon-windows", "process.pe.original_file_name", True),
        ("sysmon9-winlogbeat", "process.pe.original_file_name", False),
        ("sysmon9-winlogbeat", "process.pe.company", True),
        ("security-4688", "process.pe", False),
        ("security-4688", "process.hash", False),
        ("security-4688", "process.entity_id", False),
        ("security-4688", "process.args_count", False),
        ("security-4688-nocmdline", "process.command_line", False),
        ("security-4688-nocmdline", "process.args", False),
        ("security-4688-nocmdline", "winlog.event_data.CommandLine", False),
        ("endgame", "process.pe", False),
        ("endgame", "process.entity_id", False),
        ("endpoint", "winlog", False),
        ("sysmon-windows", "winlog.event_data.Company", True),
        ("sysmon-windows", "winlog.event_data.CommandLine", False),
    ],
)
def test_field_presence(source: str, field: str, present: bool) -> None:
    (doc,) = _docs(source)
    assert (_get(doc, field) is not None) is present


def test_security_4688_keeps_quotes_in_args() -> None:
    (doc,) = _docs("security-4688", "appcmd-quoted-arguments")
    assert list(doc["process"]["args"]) == ["appcmd", '"list"', '"apppool"', '"/text:*"']
    (sysmon,) = _docs("sysmon-windows", "appcmd-quoted-arguments")
    assert list(sysmon["process"]["args"]) == ["appcmd", "list", "apppool", "/text:*"]


def test_end_events_are_end_events() -> None:
    for source in SOURCES:
        (doc,) = _docs(source, "appcmd-process-end")
        kind = _get(doc, "event.type")
        assert kind in ("end", ["end"]), source
        assert _get(doc, "process.args") is None or source in ("endpoint", "endgame")


def _leaves(doc: dict[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, value in doc.items():
        found |= _leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return found


# Every scenario in every source, and a fleet's background: optional fields (a version
# resource some images lack, a command line some audit policies drop) all turn up.
STARTS = [
    (src.name, src.render(launch))
    for options in (
        CorpusOptions(seed=5, catalogue=APPCMD),
        CorpusOptions("fleet", events=20_000, seed=5, catalogue=APPCMD),
    )
    for launch, src in corpus_launches(options)
    if launch.action == "start"
]


@pytest.mark.parametrize("source", list(SOURCES))
def test_declared_fields_are_the_rendered_fields(source: str) -> None:
    rendered: set[str] = set()
    for name, doc in STARTS:
        if name == source:
            rendered |= {f for f in _leaves(doc) if not f.startswith("labels.")}
    declared = SOURCES[source].fields
    assert not declared - rendered, "declared but never rendered"
    assert not rendered - declared, "rendered but not declared"


def test_sysmon_entity_ids_are_process_guids() -> None:
    (doc,) = _docs("sysmon-windows")
    guid = doc["process"]["entity_id"]
    assert guid.startswith("{") and guid.endswith("}") and len(guid) == 38
