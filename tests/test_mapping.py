"""Field types: the bundled ECS subset and index mappings as Elasticsearch returns them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness.eql as harness_eql
from harness.eql import ECS, FieldMapping, compile_query, load_index_mapping
from harness.errors import HarnessError

MAPPING = {
    "logs-endpoint.events.process-default": {
        "mappings": {
            "properties": {
                "process": {
                    "properties": {
                        "name": {"type": "keyword", "ignore_above": 1024},
                        "pid": {"type": "long"},
                        "command_line": {"type": "wildcard"},
                        "parent": {"type": "object", "properties": {"name": {"type": "keyword"}}},
                    }
                },
                "source": {"properties": {"ip": {"type": "ip"}}},
                "@timestamp": {"type": "date"},
            }
        }
    }
}


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(MAPPING), encoding="utf-8")
    return path


def test_index_mapping_is_flattened(mapping_file: Path) -> None:
    mapping = load_index_mapping(mapping_file)
    assert dict(mapping.types) == {
        "process.name": "keyword",
        "process.pid": "long",
        "process.command_line": "wildcard",
        "process.parent.name": "keyword",
        "source.ip": "ip",
        "@timestamp": "date",
        "process": "object",
        "process.parent": "object",
        "source": "object",
    }


def test_index_mapping_reads_limits_and_multi_fields(tmp_path: Path) -> None:
    properties = {
        "file": {
            "properties": {
                "path": {
                    "type": "keyword",
                    "ignore_above": 8,
                    "fields": {"text": {"type": "match_only_text"}},
                },
                "note": {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 4}}},
            }
        }
    }
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({"mappings": {"properties": properties}}), encoding="utf-8")
    mapping = load_index_mapping(path)
    assert mapping.type_of("@timestamp") == "date"  # a date in every mapping
    assert mapping.type_of("file.path.text") is None  # a text multi-field without an exact subfield
    assert mapping.limit("file.path") == 8
    assert mapping.indexed("file.note", ["abcd", "abcde"]) == ["abcd"]  # through file.note.raw


def test_types_change_verdicts(mapping_file: Path) -> None:
    mapping = load_index_mapping(mapping_file)
    event = {"process": {"pid": "42"}, "source": {"ip": "10.1.2.3"}, "@timestamp": "2026-11-27T10:00:00Z"}
    assert compile_query("any where process.pid == 42", mapping=mapping).matches(event)
    assert not compile_query("any where process.pid == 42").matches(event)  # without a mapping: JSON's "42"
    assert compile_query('any where @timestamp > "2026-11-27T09:59:59.999Z"', mapping=mapping).matches(event)
    assert compile_query('any where source.ip == "::ffff:10.1.2.3"', mapping=mapping).matches(event)


@pytest.mark.parametrize(("length", "matches"), [(1024, True), (1025, False)])
def test_ignore_above_is_the_ecs_limit(length: int, matches: bool) -> None:
    event = {"process": {"name": "a" * length, "command_line": "a" * length}}
    assert compile_query('any where process.name : "a*"', mapping=ECS).matches(event) is matches
    assert compile_query('any where process.command_line : "a*"', mapping=ECS).matches(
        event
    )  # wildcard: no limit


def test_ignore_above_can_be_switched_off() -> None:
    event = {"process": {"name": "a" * 2000}}
    lenient = FieldMapping(ECS.types, ignore_above=None)
    assert compile_query('any where process.name : "a*"', mapping=lenient).matches(event)
    assert not compile_query('any where process.name : "a*"', mapping=ECS).matches(event)


def test_ignore_above_counts_utf16_units() -> None:
    event = {"process": {"name": "\U0001f600" * 513}}  # 513 code points, 1,026 UTF-16 units
    assert not compile_query('any where process.name : "*"', mapping=ECS).matches(event)


@pytest.mark.parametrize("content", ["{not json", '{"no": "properties"}'])
def test_bad_mapping_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(HarnessError, match=str(path)):
        load_index_mapping(path)


def test_timestamp_is_a_date_in_the_catalogue() -> None:
    assert ECS.type_of("@timestamp") == "date"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("file.path", "keyword"),
        ("file.extension", "keyword"),
        ("registry.value", "keyword"),
        ("dll.name", "keyword"),
        ("container.id", "keyword"),
        ("process.command_line", "wildcard"),
        ("process.Ext.effective_parent.executable", "keyword"),  # Elastic Defend
        ("winlog.event_data.TargetImage", "keyword"),  # Winlogbeat
        ("aws.cloudtrail.request_parameters", "keyword"),  # Filebeat's AWS module
        ("process.pid", "long"),
        ("source.ip", "ip"),
        ("labels.anything", "keyword"),  # an object_type dynamic template
    ],
)
def test_catalogue_types(name: str, kind: str) -> None:
    assert ECS.type_of(name) == kind


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("message", "No keyword/multi-field defined exact matches for [message]"),
        ("file.path.text", "No keyword/multi-field defined exact matches"),
        ("process", "type [object] only its subfields"),
        ("threat.enrichments", "due to nested fields not being supported yet"),
        ("threat.enrichments.matched.field", "with unsupported nested type in hierarchy"),
        ("aws.cloudtrail.flattened.request_parameters", "with unsupported type [flattened]"),
        ("host.geo.location", "with unsupported type [geo_point]"),
    ],
)
def test_fields_eql_refuses(name: str, words: str) -> None:
    assert ECS.type_of(name) is None
    assert words in str(ECS.problem(name))


def test_catalogue_states_its_sources() -> None:
    document = json.loads((Path(harness_eql.__file__).parent / "ecs_fields.json").read_text("utf-8"))
    assert document["sources"]["ecs"]["version"] == "9.3.0"
    assert "endpoint" in document["sources"]["packages"]
