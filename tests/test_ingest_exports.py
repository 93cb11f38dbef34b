"""Events exported from Elasticsearch (hits, search responses) and Winlogbeat's file output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from evtx import PyEvtxParser

from harness.cli import main
from harness.errors import IngestError, InputError
from harness.events import EventRecord, ReadStats, read_events
from harness.ingest import IngestResult, ingest_winlogbeat, security, sysmon

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
    # The reader names no option: only `harness match` has --skip-invalid, and it adds the hint.
    assert str(caught.value) == f"{path}:2:{column}: {message}; fix the line"
    assert (caught.value.line, caught.value.column, caught.value.skippable) == (2, column, True)


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


# --- Winlogbeat's file output -------------------------------------------------------

EVTX = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "evtx"
APPCMD = EVTX / "discovery_sysmon_1_iis_pwd_and_config_discovery_appcmd.evtx"

SECURITY_4688: dict[str, Any] = {
    "Event": {
        "System": {
            "Provider": {
                "#attributes": {
                    "Name": "Microsoft-Windows-Security-Auditing",
                    "Guid": "54849625-5478-4994-A5BA-3E3B0328C30D",
                }
            },
            "EventID": 4688,
            "Version": 2,
            "Level": 0,
            "Opcode": 0,
            "Keywords": "0x8020000000000000",
            "TimeCreated": {"#attributes": {"SystemTime": "2024-03-01T10:00:00.123456Z"}},
            "EventRecordID": 991,
            "Execution": {"#attributes": {"ProcessID": 4, "ThreadID": 88}},
            "Channel": "Security",
            "Computer": "WEB01.corp.example",
        },
        "EventData": {
            "SubjectUserSid": "S-1-5-18",
            "SubjectUserName": "WEB01$",
            "SubjectDomainName": "CORP",
            "SubjectLogonId": "0x3e7",
            "NewProcessId": "0x1a2c",
            "NewProcessName": "C:\\Windows\\System32\\inetsrv\\appcmd.exe",
            "TokenElevationType": "%%1936",
            "ProcessId": "0x2f0",
            "CommandLine": 'appcmd.exe list apppool "DefaultAppPool" /text:*',
            "TargetUserSid": "S-1-0-0",
            "TargetUserName": "-",
            "TargetDomainName": "-",
            "TargetLogonId": "0x0",
            "ParentProcessName": "C:\\Windows\\System32\\cmd.exe",
            "MandatoryLabel": "S-1-16-16384",
        },
    }
}

_LEVEL_NAMES = {0: "information", 4: "information", 3: "warning", 2: "error"}


def _as_winlogbeat(record: dict[str, Any]) -> dict[str, Any]:
    """What Winlogbeat 8's file output writes for an EVTX record: ``winlog.*`` and no ECS process fields."""
    system, data = record["Event"]["System"], record["Event"].get("EventData") or {}
    provider = system["Provider"]["#attributes"]
    execution = system["Execution"]["#attributes"]
    keywords = int(system["Keywords"], 16)
    winlog: dict[str, Any] = {
        "channel": system["Channel"],
        "computer_name": system["Computer"],
        "event_data": {name: str(value) for name, value in data.items() if value is not None},
        "event_id": str(system["EventID"]),
        "opcode": "Info",
        "process": {"pid": execution["ProcessID"], "thread": {"id": execution["ThreadID"]}},
        "provider_guid": "{" + provider["Guid"] + "}",
        "provider_name": provider["Name"],
        "record_id": system["EventRecordID"],
        "version": system["Version"],
    }
    if keywords & 0x20000000000000:
        winlog["keywords"] = ["Audit Success"]
    if "Security" in system:
        winlog["user"] = {"identifier": system["Security"]["#attributes"]["UserID"]}
    return {
        "@timestamp": system["TimeCreated"]["#attributes"]["SystemTime"],
        "agent": {"type": "winlogbeat", "version": "8.12.0"},
        "ecs": {"version": "8.0.0"},
        "event": {"code": str(system["EventID"]), "kind": "event", "provider": provider["Name"]},
        "host": {"name": system["Computer"].lower()},
        "log": {"level": _LEVEL_NAMES[system["Level"]]},
        "winlog": winlog,
    }


def _ingest_lines(tmp_path: Path, *lines: dict[str, Any]) -> IngestResult:
    return ingest_winlogbeat(_write(tmp_path, _lines(*lines), "winlogbeat.ndjson"))


@pytest.mark.shared
@pytest.mark.skipif(not EVTX.is_dir(), reason=f"the real EVTX logs are not at {EVTX} (../shared is absent)")
def test_a_sysmon_1_line_maps_as_its_evtx_record(tmp_path: Path) -> None:
    record = next(
        orjson.loads(raw["data"])
        for raw in PyEvtxParser(str(APPCMD)).records_json()
        if raw is not None and '"EventID":1,' in raw["data"]
    )
    from_evtx = _evtx_document(record)
    result = _ingest_lines(tmp_path, _as_winlogbeat(record))
    # Both paths take every field, event.created included, from the same TimeCreated, so
    # nothing is known to one path only and the documents must be equal whole.
    assert result.documents == [from_evtx]
    assert (result.records, result.by_code()) == (1, {"1": 1})


def test_a_4688_line_maps_as_its_evtx_record(tmp_path: Path) -> None:
    from_evtx = _evtx_document(SECURITY_4688)
    result = _ingest_lines(tmp_path, _as_winlogbeat(SECURITY_4688))
    assert result.documents == [from_evtx]
    assert result.documents[0]["event"]["outcome"] == "success"
    assert result.documents[0]["process"]["args"] == [
        "appcmd.exe",
        "list",
        "apppool",
        '"DefaultAppPool"',
        "/text:*",
    ]


def test_a_line_with_ecs_process_fields_is_kept_as_it_is(tmp_path: Path) -> None:
    # Winlogbeat 7 mapped Sysmon in the beat (JavaScript processors), so its lines are documents already.
    line = _as_winlogbeat(SECURITY_4688) | {"process": {"name": "appcmd.exe", "args": ["appcmd.exe", "list"]}}
    assert _ingest_lines(tmp_path, line).documents == [line]


def test_other_events_are_counted_not_mapped(tmp_path: Path) -> None:
    other = _as_winlogbeat(SECURITY_4688)
    other["winlog"] = other["winlog"] | {"event_id": "4624"}
    result = _ingest_lines(tmp_path, other, _as_winlogbeat(SECURITY_4688))
    assert (result.records, len(result.documents)) == (2, 1)
    assert result.skipped == {("Microsoft-Windows-Security-Auditing", "4624"): 1}


def test_a_line_without_winlog_is_an_ingest_error_naming_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines(_as_winlogbeat(SECURITY_4688), EVENT_A), "winlogbeat.ndjson")
    with pytest.raises(IngestError) as caught:
        ingest_winlogbeat(path)
    assert (
        str(caught.value)
        == f"{path}: line 2: not a Winlogbeat event (no winlog.provider_name and winlog.event_id)"
    )
    assert len(caught.value.partial.documents) == 1


def test_ingest_command_reads_winlogbeat_files(tmp_path: Path) -> None:
    source = _write(tmp_path, _lines(_as_winlogbeat(SECURITY_4688)), "winlogbeat.ndjson")
    out = tmp_path / "out.ndjson"
    result = CliRunner().invoke(main, ["ingest", source, "--out", str(out)])
    assert result.exit_code == 0, result.output
    (document,) = [orjson.loads(line) for line in out.read_text().splitlines()]
    assert document == _evtx_document(SECURITY_4688)


def _evtx_document(record: dict[str, Any]) -> dict[str, Any]:
    """The EVTX path's document for one record, without writing an EVTX file."""
    provider = record["Event"]["System"]["Provider"]["#attributes"]["Name"]
    mapper = sysmon.map_process_create if provider == sysmon.PROVIDER else security.map_process_created
    return mapper(record)


@pytest.mark.shared
@pytest.mark.skipif(not EVTX.is_dir(), reason=f"the real EVTX logs are not at {EVTX} (../shared is absent)")
def test_validate_maps_a_winlogbeat_corpus_on_the_way_in(tmp_path: Path) -> None:
    records = [
        orjson.loads(raw["data"]) for raw in PyEvtxParser(str(APPCMD)).records_json() if raw is not None
    ]
    corpus = _write(tmp_path, _lines(*(_as_winlogbeat(r) for r in records)), "winlogbeat.ndjson")
    rule = Path(__file__).resolve().parents[1] / "rules" / "iis_appcmd_password_dumped_v214.toml"
    from_lines = CliRunner().invoke(main, ["validate", str(rule), "--corpus", corpus, "--format", "json"])
    from_evtx = CliRunner().invoke(main, ["validate", str(rule), "--corpus", str(APPCMD), "--format", "json"])
    lines_report, evtx_report = orjson.loads(from_lines.stdout), orjson.loads(from_evtx.stdout)
    assert lines_report["metrics"]["unlabelled_alerts"] == 39
    assert lines_report["metrics"] == evtx_report["metrics"]
    assert lines_report["unlabelled_alert_examples"] == evtx_report["unlabelled_alert_examples"]


def test_documents_already_mapped_or_not_process_starts_pass_through_unchanged() -> None:
    from harness.ingest import as_indexed

    assert as_indexed(EVENT_A) is EVENT_A
    raw = _as_winlogbeat(SECURITY_4688)
    assert as_indexed(raw) == _evtx_document(SECURITY_4688)
    other = {**raw, "winlog": {**raw["winlog"], "event_id": "4624"}}
    assert as_indexed(other) is other


def test_a_winlogbeat_line_without_any_time_is_a_problem_at_its_line(tmp_path: Path) -> None:
    raw = _as_winlogbeat(SECURITY_4688)
    del raw["@timestamp"]
    path = _write(tmp_path, _lines(raw), "winlogbeat.ndjson")
    with pytest.raises(IngestError) as caught:
        ingest_winlogbeat(path)
    assert "line 1: a Winlogbeat event with neither @timestamp nor winlog.time_created" in str(caught.value)
    with_time = {**raw, "winlog": {**raw["winlog"], "time_created": "2019-02-13T18:01:47.562Z"}}
    (document,) = _ingest_lines(tmp_path, with_time).documents
    assert document["@timestamp"] == "2019-02-13T18:01:47.562Z"
