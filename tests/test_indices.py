"""Which documents a rule reads: index patterns as Elasticsearch resolves them, and where a document lives."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from harness.indices import IndexSelection, document_index, stream_name

CASES = tomllib.loads((Path(__file__).parent / "data" / "index_patterns.toml").read_text(encoding="utf-8"))[
    "case"
]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_index_patterns_select_as_elasticsearch_does(case: dict[str, Any]) -> None:
    selection = IndexSelection.of(case["patterns"])
    assert selection.reads(case["index"]) is case["reads"], case["why"]


def test_a_rule_without_index_reads_everything() -> None:
    assert IndexSelection.of(None).reads("anything-at-all")
    assert IndexSelection.of([]).reads_everything


def test_a_document_without_index_information_is_read_by_every_rule() -> None:
    assert IndexSelection.of(["logs-endpoint.events.process-*"]).reads(None)


@pytest.mark.parametrize(
    ("document", "index"),
    [
        (
            {"_index": ".ds-logs-x-default-2026.01.01-000001", "labels": {"index": "other"}},
            ".ds-logs-x-default-2026.01.01-000001",
        ),
        ({"labels": {"index": "winlogbeat-8.17.0"}, "data_stream": {"type": "logs"}}, "winlogbeat-8.17.0"),
        (
            {"data_stream": {"type": "logs", "dataset": "system.security", "namespace": "default"}},
            "logs-system.security-default",
        ),
        ({"data_stream.type": "logs", "data_stream.dataset": "a", "data_stream.namespace": "b"}, "logs-a-b"),
        ({"data_stream": {"type": "logs", "dataset": "system.security"}}, None),
        ({"process": {"name": "x"}}, None),
    ],
)
def test_where_a_document_lives(document: dict[str, Any], index: str | None) -> None:
    assert document_index(document) == index


def test_backing_index_names_give_their_stream() -> None:
    assert stream_name(".ds-logs-endpoint.events.process-default-2026.11.02-000001") == (
        "logs-endpoint.events.process-default"
    )
    assert stream_name("endgame-4.59.0-000001") == "endgame-4.59.0-000001"
