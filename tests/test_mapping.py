"""Field types: the bundled ECS subset and index mappings as Elasticsearch returns them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
    }


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
