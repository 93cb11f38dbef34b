"""Labels sidecars: real events scored like synthetic ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.validation.expectations import ExpectationError
from harness.validation.labels import load_labels, source_from_shape

ROOT = Path(__file__).resolve().parents[1]
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
V220 = ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml"
EVTX = ROOT.parent / "shared" / "data" / "evtx"
APPCMD = EVTX / "discovery_sysmon_1_iis_pwd_and_config_discovery_appcmd.evtx"
APPCMD_LABELS = ROOT / "corpora" / "labels" / (APPCMD.stem + ".labels.toml")


def _doc(record_id: int, args: list[str], dataset: str = "windows.sysmon_operational") -> dict[str, Any]:
    return {
        "@timestamp": "2026-11-02T10:00:00.000Z",
        "data_stream": {"dataset": dataset},
        "event": {"category": ["process"], "type": ["start"]},
        "host": {"name": "web01", "os": {"type": "windows"}},
        "process": {"name": "appcmd.exe", "args": args, "command_line": " ".join(args)},
        "winlog": {"record_id": record_id},
    }


DUMP = _doc(11, ["appcmd.exe", "list", "apppool", "/text:*"])
ADMIN = _doc(12, ["appcmd.exe", "list", "sites"])
OTHER = _doc(13, ["cmd.exe", "/c", "whoami"], dataset="system.security")

SIDECAR = """\
[defaults]
scenario = "lab-background"
intent = "benign"

[[events]]
scenario = "appcmd-list-apppool-text-star"
intent = "malicious"
record_ids = [11]

[[events]]
scenario = "admin-list-site"
intent = "benign"
where = 'process.args : "sites"'
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_first_entry_that_selects_an_event_labels_it(tmp_path: Path) -> None:
    sidecar = load_labels(_write(tmp_path / "l.toml", SIDECAR))
    labelled = list(sidecar.apply([DUMP, ADMIN, OTHER]))
    assert [d["labels"]["scenario"] for d in labelled] == [
        "appcmd-list-apppool-text-star",
        "admin-list-site",
        "lab-background",
    ]
    assert [d["labels"]["intent"] for d in labelled] == ["malicious", "benign", "benign"]
    assert [d["labels"]["source"] for d in labelled] == ["sysmon-windows", "sysmon-windows", "security-4688"]
    assert all(d["labels"]["role"] == "target" for d in labelled)
    assert "labels" not in DUMP  # the input is not changed
    assert sidecar.selected == [1, 1] and sidecar.unused() == []


def test_without_defaults_unselected_events_stay_unlabelled(tmp_path: Path) -> None:
    text = SIDECAR.split("[[events]]", 1)[1]
    sidecar = load_labels(_write(tmp_path / "l.toml", "[[events]]" + text))
    labelled = list(sidecar.apply([OTHER]))
    assert "labels" not in labelled[0]
    assert [e.scenario for e in sidecar.unused()] == ["appcmd-list-apppool-text-star", "admin-list-site"]


@pytest.mark.parametrize(
    ("doc", "source"),
    [
        ({"data_stream": {"dataset": "windows.sysmon_operational"}}, "sysmon-windows"),
        ({"data_stream": {"dataset": "system.security"}, "process": {"command_line": "x"}}, "security-4688"),
        ({"data_stream": {"dataset": "system.security"}}, "security-4688-nocmdline"),
        ({"event": {"dataset": "endpoint.events.process"}}, "endpoint"),
        ({"event": {"module": "sysmon"}}, "sysmon-winlogbeat"),
        ({"event": {"module": "other"}}, "unknown"),
    ],
)
def test_the_source_is_read_from_the_dataset(doc: dict[str, Any], source: str) -> None:
    assert source_from_shape(doc) == source


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('[[events]]\nscenario = "x"\nintent = "evil"\nrecord_ids = [1]\n', 1, "intent must be one of"),
        ('[[events]]\nscenario = "x"\nintent = "benign"\n', 1, "needs record_ids or where"),
        ('[defaults]\nintent = "benign"\n', 1, "scenario is required"),
        (
            '[defaults]\nscenario = "a"\nintent = "benign"\n\n[[events]]\nscenario = "x"\nintent = "benign"\n'
            'where = "process.name ="\n',
            5,
            "where is not a valid EQL condition",
        ),
        ('[[events]]\nscenario = "x"\nintent = "benign"\nrecord_id = [1]\n', 1, "unknown key 'record_id'"),
        ('[[events]]\nscenario = "x"\nintent = "benign"\nrecord_ids = ["7"]\n', 1, "list of integers"),
        ("[labels]\nx = 1\n", None, "unknown table 'labels'"),
        ("[[events]\n", 1, "not valid TOML"),
    ],
)
def test_mistakes_name_the_file_and_line(tmp_path: Path, text: str, line: int | None, message: str) -> None:
    path = _write(tmp_path / "bad.toml", text)
    with pytest.raises(ExpectationError) as caught:
        load_labels(path)
    assert caught.value.line == line
    assert message in caught.value.message
    assert str(path) in str(caught.value)


def test_validate_scores_a_labelled_real_corpus(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "real.ndjson", "".join(json.dumps(d) + "\n" for d in (DUMP, ADMIN, OTHER)))
    labels = _write(
        tmp_path / "l.toml",
        SIDECAR + '\n[[events]]\nscenario = "typo"\nintent = "benign"\nrecord_ids = [99]\n',
    )
    result = CliRunner().invoke(
        main, ["validate", str(V214), "--corpus", str(corpus), "--labels", str(labels), "--format", "json"]
    )
    report = json.loads(result.stdout)
    assert report["metrics"]["true_positives"] == 1
    assert report["metrics"]["true_negatives"] == 2
    assert report["metrics"]["unlabelled_events"] == 0
    assert f"{labels}:15: this entry (typo) labelled no event" in result.stderr
    assert result.exit_code == 0


def test_diff_takes_labels_too(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "real.ndjson", "".join(json.dumps(d) + "\n" for d in (DUMP, ADMIN)))
    labels = _write(tmp_path / "l.toml", SIDECAR)
    result = CliRunner().invoke(
        main,
        ["diff", str(V214), str(V220), "--corpus", str(corpus), "--labels", str(labels), "--format", "json"],
    )
    changes = json.loads(result.stdout)["changes"]
    assert {c["scenario"] for c in changes} <= {"appcmd-list-apppool-text-star", "admin-list-site"}


@pytest.mark.shared
@pytest.mark.skipif(not EVTX.is_dir(), reason=f"the real EVTX logs are not at {EVTX} (../shared is absent)")
@pytest.mark.parametrize(("rule", "alerts"), [(V214, 39), (V220, 36)], ids=["v214", "v220"])
def test_the_shipped_labels_score_the_real_appcmd_log(rule: Path, alerts: int) -> None:
    result = CliRunner().invoke(
        main,
        ["validate", str(rule), "--corpus", str(APPCMD), "--labels", str(APPCMD_LABELS), "--format", "json"],
    )
    report = json.loads(result.stdout)
    metrics = report["metrics"]
    # 36 credential reads (pool and directory user names and passwords, 9 each), 3 enumeration
    # steps as context, the PowerShell that ran them as background.
    assert metrics["alerts"] == alerts
    assert metrics["true_positives"] == 36 and metrics["false_negatives"] == 0
    assert metrics["false_positives"] == 0 and metrics["true_negatives"] == 1
    assert metrics["context_events"] == 3 and metrics["context_alerts"] == alerts - 36
    assert "labelled no event" not in result.stderr
    assert result.exit_code == 0


def test_record_ids_match_the_string_the_integrations_store(tmp_path: Path) -> None:
    sidecar = load_labels(_write(tmp_path / "l.toml", SIDECAR))
    as_indexed = {**DUMP, "winlog": {"record_id": "11"}}  # the pipelines convert record_id to a string
    (labelled,) = sidecar.apply([as_indexed])
    assert labelled["labels"]["scenario"] == "appcmd-list-apppool-text-star"
    (other,) = sidecar.apply([{**DUMP, "winlog": {"record_id": "x11"}}])
    assert other["labels"]["scenario"] == "lab-background"


def test_entry_lines_survive_comments_on_headers(tmp_path: Path) -> None:
    text = (
        '[[events]]  # the dumps\nscenario = "a"\nintent = "malicious"\nrecord_ids = [1]\n\n'
        '[[ events ]]\nscenario = "b"\nintent = "bogus"\nrecord_ids = [2]\n'
    )
    with pytest.raises(ExpectationError) as caught:
        load_labels(_write(tmp_path / "l.toml", text))
    assert caught.value.line == 6


@pytest.mark.shared
@pytest.mark.skipif(not EVTX.is_dir(), reason=f"the real EVTX logs are not at {EVTX} (../shared is absent)")
def test_simulate_measures_attack_to_alert_delays_on_labelled_real_logs() -> None:
    result = CliRunner().invoke(
        main, ["simulate", str(V214), "--corpus", str(APPCMD), "--labels", str(APPCMD_LABELS), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    delays = report["malicious_delays"]
    # 36 credential reads plus 3 enumeration runs labelled malicious context: every one alerted
    # by the first execution, one interval after the first event.
    assert (delays["alerted"], delays["missed"]) == (39, 0)
    assert 0 < delays["min_s"] <= delays["max_s"] <= 300
    assert report["alerts"] == 39
