"""EVTX ingestion, held to Elastic's mapping and to counts taken from the raw XML."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from evtx import PyEvtxParser

from generators.model import Launch
from generators.profiles import CorpusOptions, corpus_launches
from generators.sources import sysmon as sysmon_source
from harness import compile_query, load_rule
from harness.errors import IngestError
from harness.ingest import IngestResult, ingest_evtx

from bundled import APPCMD as CATALOGUE

ROOT = Path(__file__).resolve().parents[1]
EVTX = ROOT.parent / "shared" / "data" / "evtx"
APPCMD = EVTX / "discovery_sysmon_1_iis_pwd_and_config_discovery_appcmd.evtx"
UNQUOTED = EVTX / "privesc_unquoted_svc_sysmon_1_11.evtx"
RDP = EVTX / "DE_RDP_Tunnel_5156.evtx"
NS = {"e": "http://schemas.microsoft.com/win/2004/08/events/event"}

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(
        not EVTX.is_dir(), reason=f"the real EVTX logs are not at {EVTX} (../shared is absent)"
    ),
]


def _xml_events(path: Path) -> list[ET.Element]:
    """The records as XML, through the parser's XML renderer: a path independent of the mapping."""
    return [
        ET.fromstring(record["data"]) for record in PyEvtxParser(str(path)).records() if record is not None
    ]


def _xml_key(event: ET.Element) -> tuple[str, str]:
    provider = event.find("e:System/e:Provider", NS)
    event_id = event.find("e:System/e:EventID", NS)
    assert provider is not None and event_id is not None
    return provider.attrib["Name"], (event_id.text or "").strip()


def _xml_data(event: ET.Element, name: str) -> str | None:
    node = event.find(f"e:EventData/e:Data[@Name='{name}']", NS)
    return None if node is None else node.text


@pytest.fixture(scope="module")
def appcmd() -> IngestResult:
    return ingest_evtx(APPCMD)


@pytest.mark.parametrize("path", [APPCMD, UNQUOTED, RDP], ids=lambda p: p.stem)
def test_records_are_mapped_or_counted(path: Path) -> None:
    kinds = Counter(_xml_key(event) for event in _xml_events(path))
    mapped = {("Microsoft-Windows-Sysmon", "1"), ("Microsoft-Windows-Security-Auditing", "4688")}
    result = ingest_evtx(path)
    assert result.records == sum(kinds.values())
    assert len(result.documents) == sum(count for key, count in kinds.items() if key in mapped)
    assert result.skipped == Counter({key: count for key, count in kinds.items() if key not in mapped})
    assert result.problems == []


def test_record_counts_per_file() -> None:
    assert [ingest_evtx(path).records for path in (APPCMD, UNQUOTED, RDP)] == [40, 87, 101]


def test_appcmd_log_holds_39_appcmd_starts(appcmd: IngestResult) -> None:
    images = [_xml_data(event, "Image") or "" for event in _xml_events(APPCMD)]
    expected = sum(image.lower().endswith("\\appcmd.exe") for image in images)
    assert expected == 39
    assert sum(doc["process"]["name"].lower() == "appcmd.exe" for doc in appcmd.documents) == expected


def test_sysmon_fields_come_from_the_record(appcmd: IngestResult) -> None:
    event = _xml_events(APPCMD)[1]
    doc = appcmd.documents[1]
    assert doc["process"]["command_line"] == _xml_data(event, "CommandLine")
    assert doc["process"]["args"] == [
        "C:\\Windows\\System32\\InetSRV\\appcmd.exe",
        "list",
        "vdir",
        "/text:physicalpath",
    ]
    assert doc["process"]["pid"] == int(_xml_data(event, "ProcessId") or "")
    assert doc["process"]["parent"]["executable"] == _xml_data(event, "ParentImage")
    assert doc["process"]["entity_id"] == "{365ABB72-3D6C-5CEB-0000-00107257FF00}"
    assert doc["process"]["hash"]["md5"] == "0e5bc786206a3762ce47a0a2dbd01d7b"
    assert doc["user"] == {"domain": "IIS APPPOOL", "name": "DefaultAppPool", "id": "S-1-5-18"}
    assert doc["@timestamp"] == "2019-05-27T01:29:16.960Z"
    assert doc["host"] == {"name": "IEWIN7", "os": {"type": "windows"}}
    assert "original_file_name" not in doc["process"]["pe"]  # Sysmon before 10 has no OriginalFileName


def test_security_4688_fields() -> None:
    (doc, *_) = ingest_evtx(RDP).documents
    assert doc["process"] == {
        "pid": 0x1FC,
        "executable": "C:\\Windows\\System32\\TSTheme.exe",
        "name": "TSTheme.exe",
        "parent": {"pid": 0x278},
        "args": [],
        "command_line": "",
    }
    assert doc["user"] == {"id": "S-1-5-18", "name": "PC01$", "domain": "EXAMPLE"}
    assert (doc["event"]["code"], doc["event"]["action"]) == ("4688", "created-process")


@pytest.mark.parametrize(("version", "alerts"), [("214", 39), ("220", 36)])
def test_rule_alerts_on_the_appcmd_log(appcmd: IngestResult, version: str, alerts: int) -> None:
    matcher = compile_query(load_rule(ROOT / "rules" / f"iis_appcmd_password_dumped_v{version}.toml").query)
    assert sum(matcher.matches(doc) for doc in appcmd.documents) == alerts


@pytest.mark.parametrize("version", ["214", "220"])
@pytest.mark.parametrize("path", [UNQUOTED, RDP], ids=lambda p: p.stem)
def test_rule_is_quiet_on_other_logs(path: Path, version: str) -> None:
    matcher = compile_query(load_rule(ROOT / "rules" / f"iis_appcmd_password_dumped_v{version}.toml").query)
    assert not any(matcher.matches(doc) for doc in ingest_evtx(path).documents)


def _keys(node: Any, prefix: str = "") -> set[str]:
    if not isinstance(node, dict):
        return {prefix}
    return (
        set().union(*(_keys(value, f"{prefix}{key}.") for key, value in node.items())) if node else {prefix}
    )


def _a_start() -> Launch:
    return next(
        launch
        for launch, src in corpus_launches(CorpusOptions(seed=5, catalogue=CATALOGUE))
        if launch.action == "start"
    )


def test_sysmon_document_has_the_generators_shape(appcmd: IngestResult) -> None:
    # The log predates Sysmon 10 (no OriginalFileName): compare with that variant,
    # as the Windows integration indexes it.
    variant = sysmon_source.Variant(
        "sysmon9-windows", "logs-windows.sysmon_operational-default", beat=False, original_file_name=False
    )
    rendered = sysmon_source.render(_a_start(), variant)
    mapped = appcmd.documents[1]
    # Set at index time by Fleet and Elasticsearch, not carried by the log.
    index_time = {"event.ingested.", "event.agent_id_status."}
    for block in ("event", "process", "user"):
        generated = _keys(rendered[block], f"{block}.") - index_time
        # The integration moves IMPHASH to process.pe.imphash; the generator's images carry none.
        ingested = _keys(mapped[block], f"{block}.") - {"process.pe.imphash."}
        assert ingested == generated, block
    assert mapped["host"]["os"]["type"] == rendered["host"]["os"]["type"] == "windows"


def _truncated(tmp_path: Path) -> Path:
    copy = tmp_path / "cut.evtx"
    copy.write_bytes(APPCMD.read_bytes()[: 4096 + 3 * 65536 + 1000])
    return copy


def test_truncated_file_names_file_and_chunk_and_keeps_documents(tmp_path: Path) -> None:
    path = _truncated(tmp_path)
    with pytest.raises(IngestError) as caught:
        ingest_evtx(path)
    assert str(caught.value).startswith(f"{path}: after record ")
    assert "chunk 3 ends past the end of the file" in str(caught.value)
    partial = caught.value.partial
    assert isinstance(partial, IngestResult)
    whole = ingest_evtx(APPCMD)
    assert 0 < len(partial.documents) < len(whole.documents)
    assert partial.documents == whole.documents[: len(partial.documents)]


def test_corrupt_record_names_file_and_record(tmp_path: Path) -> None:
    path = tmp_path / "flipped.evtx"
    shutil.copy(APPCMD, path)
    data = bytearray(path.read_bytes())
    for offset in range(6000, 6100):  # inside the first record of the first chunk
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IngestError) as caught:
        ingest_evtx(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: before the first record: chunk 0: its data CRC32 checksum")
    assert "its records (records 1 to 9, by its header) are left out" in message
    assert len(caught.value.partial.documents) == 31  # the other chunks' records are kept


def test_lenient_ingest_lists_the_problem(tmp_path: Path) -> None:
    result = ingest_evtx(_truncated(tmp_path), strict=False)
    assert len(result.problems) == 1
    assert result.documents


def test_cli_writes_documents_and_summary(tmp_path: Path) -> None:
    import gzip

    import orjson
    from click.testing import CliRunner

    from harness.cli import main

    out = tmp_path / "docs.ndjson.gz"
    outcome = CliRunner().invoke(main, ["ingest", str(APPCMD), str(RDP), "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    lines = gzip.decompress(out.read_bytes()).splitlines()
    assert Counter(orjson.loads(line)["event"]["code"] for line in lines) == {"1": 40, "4688": 17}
    assert "read 141 record(s) from 2 file(s)" in outcome.stderr
    assert "skipped 63 Microsoft-Windows-Security-Auditing event 5156" in outcome.stderr


def test_cli_fails_on_a_damaged_file_without_writing(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from harness.cli import main

    out = tmp_path / "docs.ndjson"
    outcome = CliRunner().invoke(main, ["ingest", str(_truncated(tmp_path)), "--out", str(out)])
    assert outcome.exit_code == 2
    assert "cut.evtx: after record" in outcome.stderr
    assert "could be read; nothing was written: --keep-going writes them" in outcome.stderr
    assert not out.exists()
    kept = CliRunner().invoke(main, ["ingest", str(_truncated(tmp_path)), "--out", str(out), "--keep-going"])
    assert kept.exit_code == 1
    written = out.read_text(encoding="utf-8").splitlines()
    assert f"{len(written)} document(s) could be read" in outcome.stderr
    assert len(written) > 0 and "unreadable:" in kept.stderr


@pytest.mark.parametrize(("rule", "alerts"), [("v214", 39), ("v220", 36)])
def test_validate_ingests_evtx_on_the_fly_and_lists_the_alerts(rule: str, alerts: int) -> None:
    from click.testing import CliRunner

    from harness.cli import main

    rule_path = ROOT / "rules" / f"iis_appcmd_password_dumped_{rule}.toml"
    result = CliRunner().invoke(
        main, ["validate", str(rule_path), "--corpus", str(APPCMD), "--format", "json"]
    )
    report = json.loads(result.stdout)
    assert report["metrics"]["events"] == 40
    assert report["metrics"]["unlabelled_alerts"] == alerts
    examples = report["unlabelled_alert_examples"]
    assert len(examples) == min(alerts, 20)
    assert all("appcmd.exe" in row["process.command_line"] for row in examples)
    assert {row["host.name"] for row in examples} == {"IEWIN7"}
    assert "40 record(s), 40 process start(s) mapped" in result.stderr
    assert result.exit_code == 1  # nothing labelled, so nothing judged: said, not passed


def test_validate_on_evtx_says_what_it_skipped() -> None:
    from click.testing import CliRunner

    from harness.cli import main

    rule_path = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
    result = CliRunner().invoke(main, ["validate", str(rule_path), "--corpus", str(RDP), "--format", "json"])
    assert json.loads(result.stdout)["metrics"]["unlabelled_alerts"] == 0
    assert "101 record(s), 17 process start(s) mapped" in result.stderr
    assert "63 Microsoft-Windows-Security-Auditing event 5156" in result.stderr
