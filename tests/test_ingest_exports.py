"""Events exported from Elasticsearch (hits, search responses) and Winlogbeat's file output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.errors import InputError
from harness.events import EventRecord, ReadStats, read_events

EVENT_A = {"@timestamp": "2024-01-01T00:00:00.000Z", "process": {"name": "appcmd.exe"}}
EVENT_B = {"@timestamp": "2024-01-01T00:00:01.000Z", "process": {"name": "cmd.exe"}}


def _hit(source: Any, id_: str) -> dict[str, Any]:
    return {
        "_index": ".ds-logs-windows.sysmon_operational-default-2024.01.01-000001",
        "_id": id_,
        "_source": source,
    }


def _write(tmp_path: Path, text: str, name: str = "export.ndjson") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _lines(*documents: Any) -> str:
    return "".join(orjson.dumps(document).decode() + "\n" for document in documents)


def _read(path: str) -> list[EventRecord]:
    return list(read_events([path]))


def test_hit_lines_give_their_sources_with_index_and_id(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines(_hit(EVENT_A, "a"), _hit(EVENT_B, "b")))
    records = _read(path)
    assert [record.event for record in records] == [EVENT_A, EVENT_B]
    assert [(record.line, record.id) for record in records] == [(1, "a"), (2, "b")]
    assert records[0].index == _hit(EVENT_A, "a")["_index"]
    # The line is a hit, not the event: a writer must serialise the source instead.
    assert records[0].raw is None


def test_raw_source_lines_are_still_events_with_their_raw_bytes(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines(EVENT_A))
    (record,) = _read(path)
    assert record.event == EVENT_A
    assert record.raw == orjson.dumps(EVENT_A)
    assert (record.index, record.id) == (None, None)


def test_a_pretty_printed_search_response_gives_each_hit(tmp_path: Path) -> None:
    response = {
        "took": 3,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": 2, "relation": "eq"},
            "max_score": 1.0,
            "hits": [_hit(EVENT_A, "a"), _hit(EVENT_B, "b")],
        },
    }
    path = _write(
        tmp_path, "\n" + orjson.dumps(response, option=orjson.OPT_INDENT_2).decode() + "\n", "response.json"
    )
    records = _read(path)
    assert [(record.event, record.id, record.line) for record in records] == [
        (EVENT_A, "a", 2),
        (EVENT_B, "b", 2),
    ]


def test_a_search_response_on_one_line_gives_each_hit(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines({"hits": {"hits": [_hit(EVENT_A, "a"), _hit(EVENT_B, "b")]}}))
    assert [record.event for record in _read(path)] == [EVENT_A, EVENT_B]


def test_an_array_of_hits_gives_their_sources(tmp_path: Path) -> None:
    path = _write(tmp_path, orjson.dumps([_hit(EVENT_A, "a"), _hit(EVENT_B, "b")]).decode(), "hits.json")
    assert [(record.event, record.id) for record in _read(path)] == [(EVENT_A, "a"), (EVENT_B, "b")]


def test_an_empty_search_response_gives_no_events(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines({"hits": {"total": {"value": 0}, "hits": []}}))
    assert _read(path) == []


@pytest.mark.parametrize(
    ("hit", "message"),
    [
        (
            {"_index": "logs", "_id": "x"},
            "the search hit (_id 'x') has no _source (was the search run with _source disabled?)",
        ),
        (
            {"_index": "logs", "_id": "x", "_source": "text"},
            "the search hit (_id 'x') has a _source that is a string, not an object",
        ),
        (
            {"_index": "logs", "_id": "x", "_source": None},
            "the search hit (_id 'x') has a _source that is null, not an object",
        ),
    ],
    ids=["missing", "string", "null"],
)
def test_a_hit_without_a_source_object_is_an_error_at_its_place(
    tmp_path: Path, hit: dict[str, Any], message: str
) -> None:
    path = _write(tmp_path, _lines(_hit(EVENT_A, "a")) + "  " + orjson.dumps(hit).decode() + "\n")
    with pytest.raises(InputError) as caught:
        _read(path)
    column = 3 + orjson.dumps(hit).find(b'"_source"') if "_source" in hit else 3
    assert str(caught.value) == f"{path}:2:{column}: {message}; fix the line or pass --skip-invalid"
    assert (caught.value.line, caught.value.column) == (2, column)


def test_a_bad_hit_is_counted_with_skip_invalid(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines({"_index": "logs", "_id": "x"}, _hit(EVENT_A, "a")))
    stats = ReadStats()
    records = list(read_events([path], skip_invalid=True, stats=stats))
    assert [record.event for record in records] == [EVENT_A]
    assert [(problem.line, problem.column) for problem in stats.invalid] == [(1, 1)]


def test_a_bad_hit_in_a_search_response_names_the_document_and_the_hit(tmp_path: Path) -> None:
    response = {"hits": {"hits": [_hit(EVENT_A, "a"), {"_index": "logs", "_id": "b"}]}}
    path = _write(
        tmp_path, "\n" + orjson.dumps(response, option=orjson.OPT_INDENT_2).decode(), "response.json"
    )
    with pytest.raises(InputError) as caught:
        _read(path)
    assert str(caught.value) == (
        f"{path}:2:1: the document: hit 1 of hits.hits (_id 'b') has no _source "
        "(was the search run with _source disabled?)"
    )


def test_match_reads_hits_and_writes_their_sources(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines(_hit(EVENT_A, "a"), _hit(EVENT_B, "b")))
    result = CliRunner().invoke(main, ["match", "--query", 'any where process.name == "cmd.exe"', path])
    assert result.exit_code == 0, result.output
    assert [orjson.loads(line) for line in result.output.splitlines()] == [EVENT_B]


def test_match_stops_at_a_bad_hit_naming_its_place(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines({"_index": "logs", "_id": "x", "_source": [1]}))
    result = CliRunner().invoke(main, ["match", "--query", "any where true", path])
    assert result.exit_code != 0
    assert f"{path}:1:28: the search hit (_id 'x') has a _source that is an array" in result.output
