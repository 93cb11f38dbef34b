"""Expectations, runs, metrics, reports and diffs on the shipped rules and generated corpora."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness import compile_query, load_rule
from harness.app.setup import known_names
from harness.cli import main
from harness.corpus import open_corpus
from harness.validation import (
    ExpectationError,
    Expectations,
    diff_rules,
    load_expectations,
    run_validation,
)
from harness.validation.reports import to_json, to_junit, to_markdown

from bundled import APPCMD

ROOT = Path(__file__).resolve().parents[1]
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
V220 = ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml"
HISTORICAL = ROOT / "tests" / "data" / "rules" / "historical_slash_list.toml"


def _validate(rule_path: Path, expectations: Expectations | None = None, **corpus: object):  # type: ignore[no-untyped-def]
    rule = load_rule(rule_path)
    if expectations is None:
        expectations = load_expectations(rule_path.with_name(rule_path.stem + ".expect.toml"))
    documents = (
        open_corpus(**corpus, catalogue=APPCMD)  # type: ignore[arg-type]  # the test's own keywords
        if corpus
        else open_corpus(profile="scenarios", seed=7, catalogue=APPCMD)
    )
    return run_validation(
        compile_query(rule.query), documents, expectations, rule_name=rule.name, rule_version=rule.version
    )


@pytest.mark.parametrize("rule_path", [V214, V220], ids=["v214", "v220"])
def test_shipped_rules_meet_their_expectations(rule_path: Path) -> None:
    result = _validate(rule_path)
    assert result.violations == []
    assert result.passed
    assert 0.65 <= (result.detection_rate or 0) < 0.8


def test_metrics_add_up() -> None:
    result = _validate(V214)
    malicious = sum(c.events for c in result.cells.values() if c.intent == "malicious")
    assert result.true_positives + result.false_negatives == malicious
    assert result.false_positives == 12  # the two /text:name monitoring scenarios in six sources
    assert result.precision == pytest.approx(result.true_positives / (result.true_positives + 12))
    assert result.out_of_scope_alerts == 0


def test_fleet_noise_is_measured_per_million() -> None:
    result = _validate(V214, profile="fleet", events=60_000, seed=3)
    assert result.background_events > 50_000
    assert result.false_positives_per_million is not None
    assert result.false_positives == sum(c.alerts for c in result.cells.values() if c.intent == "benign")
    (fp_budget,) = [c for c in result.budget_checks if "false positives" in c.name]
    assert not fp_budget.skipped
    # The fleet's attacks are a weighted sample: the detection budget belongs to the catalogue.
    (detection,) = [c for c in result.budget_checks if "detection" in c.name]
    assert detection.skipped and detection.passed
    assert detection.actual == result.detection_rate
    assert result.alerts_per_host_per_day is not None and result.alerts_per_host_per_day < 1


def test_the_detection_budget_is_judged_on_the_catalogue() -> None:
    strict = load_expectations(V214.with_name(V214.stem + ".expect.toml"))
    strict = dataclasses.replace(strict, budgets=dataclasses.replace(strict.budgets, min_detection_rate=0.9))
    result = _validate(V214, strict)
    (detection,) = [c for c in result.budget_checks if "detection" in c.name]
    assert not detection.skipped and not detection.passed
    assert not result.passed


def test_a_rule_that_misses_breaks_its_expectations() -> None:
    result = _validate(HISTORICAL, Expectations())
    assert result.detection_rate is not None and result.detection_rate < 0.05
    assert not result.passed
    missed = {v.scenario for v in result.violations if v.kind == "missed"}
    assert "appcmd-list-apppool-text-star" in missed


def test_known_gaps_are_not_violations_but_still_count_as_misses() -> None:
    result = _validate(V214)
    gap = result.cells[("appcmd-dash-text", "endpoint")]
    assert gap.alerts == 0 and gap.expectation.status == "known-gap"
    assert all(v.scenario != "appcmd-dash-text" for v in result.violations)


def test_source_blind_spots_override_scenario_entries() -> None:
    expectations = load_expectations(ROOT / "rules" / "iis_appcmd_password_dumped_v214.expect.toml")
    assert (
        expectations.expect("appcmd-list-apppool-text-star", "security-4688-nocmdline", "malicious").status
        == "known-gap"
    )
    benign = expectations.expect("monitor-list-apppools-text-name", "security-4688-nocmdline", "benign")
    assert (benign.verdict, benign.status) == ("silent", "expected")
    assert expectations.expect("appcmd-renamed", "security-4688", "malicious").origin.endswith(
        "security-4688"
    )
    assert expectations.expect("fleet-background", "endpoint", "benign").verdict == "silent"


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ('[scenarios.appcmd-xml]\nexpect = "maybe"\n', "expected verdict must be one of", 2),
        (
            '[scenarios.appcmd-xml]\nexpect = "alert"\nstatus = "known-gap"\nreason = "r"\n',
            "known-gap is a miss",
            3,
        ),
        ('[scenarios.appcmd-xml]\nexpect = "silent"\nstatus = "known-gap"\n', "needs a reason", 1),
        ("[budgets]\nmin_detection_rate = 3\n", "between 0 and 1", 2),
        ("[budgets]\nmin_detection_rate = true\n", "between 0 and 1", 2),
        ("[budgets]\nmax_false_positives_per_million = nan\n", "a number >= 0", 2),
        ('[defaults]\nevil = "alert"\n', "has no intent", 2),
        ("defaults = 3\n", "defaults must be a table", 1),
        ('[scenarios.appcmd-xml]\nexpected = "alert"\n', "unknown key 'expected'", 2),
        ('[scenarios.appcmd-xm]\nexpect = "alert"\n', "did you mean 'appcmd-xml'?", 1),
        ('[sources.sysmon]\nexpect = "silent"\n', "unknown source 'sysmon'", 1),
        ("[scenarios.appcmd-xml]\nsources = 3\n", "must be a table of sources", 2),
        (
            '[scenarios.appcmd-xml]\nexpect = "silent"\n\n[scenarios.appcmd-at-t]\nexpect = "alert"\n'
            'status = "known-gap"\nreason = "r"\n',
            "known-gap is a miss",
            6,
        ),
        ("[scenarios.appcmd-xml\n", "not valid TOML", 1),
    ],
)
def test_bad_expectations_name_file_and_line(tmp_path: Path, content: str, message: str, line: int) -> None:
    path = tmp_path / "x.expect.toml"
    # Every case names its catalogue on the first line, as the shipped files do.
    path.write_text('catalogue = "appcmd"\n' + content, encoding="utf-8")
    with pytest.raises(ExpectationError) as caught:
        load_expectations(path, known_names())
    assert message in str(caught.value)
    assert caught.value.line == line + 1
    assert str(path) in str(caught.value)


def test_diff_shows_what_changed_between_versions() -> None:
    result = diff_rules(
        compile_query(load_rule(V214).query),
        compile_query(load_rule(V220).query),
        open_corpus(profile="scenarios", seed=7, catalogue=APPCMD),
        load_expectations(V220.with_name(V220.stem + ".expect.toml")),
        old_name="v214",
        new_name="v220",
    )
    kinds = {(c.scenario, c.kind) for c in result.changed}
    assert ("monitor-list-apppools-text-name", "noise removed") in kinds
    assert ("appcmd-config", "newly detected") in kinds
    assert ("appcmd-list-config-connectionstrings", "newly detected") in kinds
    assert ("appcmd-upper-case", "newly missed") in kinds
    assert not result.unaccepted_regressions  # v220's expectations accept the upper-case gap


def test_diff_regressions_fail_without_accepting_expectations() -> None:
    result = diff_rules(
        compile_query(load_rule(V214).query),
        compile_query(load_rule(V220).query),
        open_corpus(profile="scenarios", seed=7, catalogue=APPCMD),
        Expectations(),
        old_name="v214",
        new_name="v220",
    )
    assert {c.scenario for c in result.unaccepted_regressions} == {"appcmd-upper-case", "appcmd-mixed-case"}


def test_json_report_round_trips() -> None:
    data = json.loads(to_json(_validate(V214)))
    assert data["passed"] is True
    assert data["metrics"]["false_positives"] == 12
    assert {c["status"] for c in data["cells"]} == {"expected", "known-gap", "known-noise"}


def test_junit_report_is_well_formed_and_counts_failures() -> None:
    root = ET.fromstring(to_junit(_validate(HISTORICAL, Expectations())))
    suite = root.find("testsuite")
    assert suite is not None
    failures = suite.findall("testcase/failure")
    assert int(suite.get("failures", "0")) == len(failures) > 0
    assert int(suite.get("tests", "0")) == len(suite.findall("testcase"))
    assert all(f.get("message", "").startswith("missed") or f.get("type") == "budget" for f in failures)


def test_markdown_report_has_the_headline_numbers() -> None:
    text = to_markdown(_validate(V220))
    assert "passed" in text.splitlines()[0]
    assert "| detection rate (in-scope malicious) |" in text
    assert "`appcmd-upper-case`" in text


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_validate_exit_codes(tmp_path: Path) -> None:
    assert _cli("validate", str(V214), "--seed", "7")[0] == 0
    code, out, _ = _cli("validate", str(HISTORICAL), "--catalogue", "appcmd", "--format", "json")
    assert code == 1
    assert json.loads(out)["passed"] is False


def test_cli_validate_writes_junit_atomically(tmp_path: Path) -> None:
    out = tmp_path / "report.xml"
    code, _, _ = _cli("validate", str(V220), "--format", "junit", "--output", str(out), "--seed", "7")
    assert code == 0
    assert ET.parse(out).getroot().tag == "testsuites"


def test_cli_validate_on_a_corpus_file(tmp_path: Path) -> None:
    corpus = ROOT / "corpora" / "scenarios-seed7.ndjson"
    code, out, _ = _cli("validate", str(V214), "--corpus", str(corpus), "--format", "markdown")
    assert code == 0
    assert "Corpus: " + str(corpus) in out


def test_cli_diff_exit_codes(tmp_path: Path) -> None:
    assert _cli("diff", str(V214), str(V220), "--seed", "7")[0] == 0
    empty = tmp_path / "none.expect.toml"
    empty.write_text("", encoding="utf-8")
    code, out, _ = _cli(
        "diff",
        str(V214),
        str(V220),
        "--seed",
        "7",
        "--expect",
        str(empty),
        "--catalogue",
        "appcmd",
        "--format",
        "json",
    )
    assert code == 1
    assert json.loads(out)["regressions_not_accepted"] == 12


def test_cli_reports_a_bad_expectations_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.expect.toml"
    bad.write_text("[budgets]\nmin_detection_rate = 7\n", encoding="utf-8")
    code, _, err = _cli("validate", str(V214), "--expect", str(bad))
    assert code == 2
    assert f"{bad}:2: " in err


def test_junit_report_is_read_by_a_junit_consumer(tmp_path: Path) -> None:
    from junitparser import Failure, JUnitXml, Skipped

    path = tmp_path / "report.xml"
    path.write_text(to_junit(_validate(HISTORICAL, Expectations())), encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert len(suites) == 1
    cases = list(suites[0])
    failed = [case for case in cases if any(isinstance(r, Failure) for r in case.result)]
    assert suites[0].failures == len(failed) > 0
    assert suites[0].tests == len(cases)
    shipped = tmp_path / "v214.xml"
    shipped.write_text(to_junit(_validate(V214)), encoding="utf-8")
    (ok,) = list(JUnitXml.fromfile(str(shipped)))
    assert ok.failures == 0
    assert any(isinstance(r, Skipped) for case in ok for r in case.result)  # known gaps show as skipped


def test_custom_scenarios_of_ones_own_corpus_are_allowed(tmp_path: Path) -> None:
    path = tmp_path / "mine.expect.toml"
    path.write_text('[scenarios.my-lab-dump]\ncustom = true\nexpect = "alert"\n', encoding="utf-8")
    assert (
        load_expectations(path).expect("my-lab-dump", "endpoint", "malicious").origin
        == "scenarios.my-lab-dump"
    )


def test_a_noisy_source_accepts_benign_alerts_but_excuses_no_miss(tmp_path: Path) -> None:
    path = tmp_path / "noisy.expect.toml"
    path.write_text(
        '[sources.endpoint]\nexpect = "alert"\nstatus = "known-noise"\nreason = "r"\n', encoding="utf-8"
    )
    expectations = load_expectations(path)
    assert expectations.expect("admin-add-site", "endpoint", "benign").status == "known-noise"
    assert expectations.expect("appcmd-xml", "endpoint", "malicious").verdict == "alert"


def test_violation_kinds_follow_the_expectation(tmp_path: Path) -> None:
    path = tmp_path / "wrong.expect.toml"
    path.write_text('[scenarios.appcmd-list-apppool-password]\nexpect = "silent"\n', encoding="utf-8")
    result = _validate(V214, load_expectations(path))
    kinds = {v.kind for v in result.violations if v.scenario == "appcmd-list-apppool-password"}
    assert kinds == {"unexpected alert"}


def test_nothing_judged_is_not_a_pass(tmp_path: Path) -> None:
    unlabelled = tmp_path / "plain.ndjson"
    unlabelled.write_text(
        '{"event": {"category": "process"}, "process": {"name": "appcmd.exe"}}\n', encoding="utf-8"
    )
    result = _validate(V214, Expectations(), path=str(unlabelled))
    assert result.judged == 0 and result.unlabelled_events == 1
    assert not result.passed


@pytest.fixture(scope="module")
def mixed_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from generators.corpus import write_corpus
    from generators.profiles import CorpusOptions

    path = tmp_path_factory.mktemp("corpus") / "mixed.parquet"
    write_corpus(CorpusOptions("mixed", events=6_000, seed=13, catalogue=APPCMD), path)
    return path


@pytest.mark.parametrize("rule_path", [V214, V220], ids=["v214", "v220"])
def test_duckdb_validation_equals_the_row_engines(mixed_parquet: Path, rule_path: Path) -> None:
    columnar = _cli("validate", str(rule_path), "--corpus", str(mixed_parquet), "--format", "json")
    rows = _cli(
        "validate", str(rule_path), "--corpus", str(mixed_parquet), "--format", "json", "--engine", "compiled"
    )
    a, b = json.loads(columnar[1]), json.loads(rows[1])
    assert a["metrics"] == b["metrics"]
    assert a["cells"] == b["cells"]
    assert columnar[0] == rows[0]


def test_duckdb_diff_equals_the_row_engines(mixed_parquet: Path) -> None:
    columnar = json.loads(
        _cli("diff", str(V214), str(V220), "--corpus", str(mixed_parquet), "--format", "json")[1]
    )
    rows = json.loads(
        _cli(
            "diff",
            str(V214),
            str(V220),
            "--corpus",
            str(mixed_parquet),
            "--format",
            "json",
            "--engine",
            "compiled",
        )[1]
    )

    def strip(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in c.items() if k != "example"} for c in changes]

    assert strip(columnar["changes"]) == strip(rows["changes"])


def test_duckdb_needs_a_parquet_corpus() -> None:
    code, _, err = _cli("validate", str(V214), "--engine", "duckdb")
    assert code == 2
    assert "--engine duckdb reads Parquet corpora" in err


def test_a_query_duckdb_cannot_run_falls_back_unless_duckdb_was_asked_for(
    mixed_parquet: Path, tmp_path: Path
) -> None:
    rule = tmp_path / "scripted.eql"
    rule.write_text(
        'process where length(process.name) == 10 and process.args : "/text*"\n', encoding="utf-8"
    )
    auto = _cli("validate", str(rule), "--corpus", str(mixed_parquet), "--format", "json")
    compiled = _cli(
        "validate", str(rule), "--corpus", str(mixed_parquet), "--format", "json", "--engine", "compiled"
    )
    assert json.loads(auto[1])["metrics"] == json.loads(compiled[1])["metrics"]
    assert json.loads(auto[1])["metrics"]["alerts"] > 0
    # why: DuckDB asked for by name selects the candidates by the conjunct it expresses
    duckdb = _cli(
        "validate", str(rule), "--corpus", str(mixed_parquet), "--format", "json", "--engine", "duckdb"
    )
    assert json.loads(duckdb[1])["metrics"] == json.loads(compiled[1])["metrics"]
    nothing = tmp_path / "only-scripted.eql"
    nothing.write_text("process where length(process.name) == 10\n", encoding="utf-8")
    code, _, err = _cli("validate", str(nothing), "--corpus", str(mixed_parquet), "--engine", "duckdb")
    assert code == 2
    assert "cannot run in the columnar engine" in err


def test_alerts_on_unlabelled_events_are_listed_with_their_key_fields(tmp_path: Path) -> None:
    dump = {
        "@timestamp": "2026-11-02T10:00:00Z",
        "event": {"category": "process", "type": "start"},
        "host": {"name": "web01", "os": {"type": "windows"}},
        "user": {"name": "DefaultAppPool"},
        "process": {
            "name": "appcmd.exe",
            "args": ["appcmd", "list", "apppool", "/text:*"],
            "command_line": "appcmd list apppool /text:*",
            "parent": {"name": "w3wp.exe"},
        },
    }
    corpus = tmp_path / "real.ndjson"
    corpus.write_text(json.dumps(dump) + "\n", encoding="utf-8")
    code, out, _ = _cli("validate", str(V214), "--corpus", str(corpus))
    assert code == 1
    assert "alerts on events without labels (1)" in out
    assert "appcmd list apppool /text:*" in out and "w3wp.exe" in out and "web01" in out
    report = json.loads(_cli("validate", str(V214), "--corpus", str(corpus), "--format", "json")[1])
    # One alert on one host in an instant: one a day, not extrapolated from the instant.
    assert report["metrics"]["alerts_per_host_per_day"] == 1.0
    assert report["unlabelled_alert_examples"] == [
        {
            "@timestamp": "2026-11-02T10:00:00Z",
            "host.name": "web01",
            "user.name": "DefaultAppPool",
            "process.parent.name": "w3wp.exe",
            "process.command_line": "appcmd list apppool /text:*",
        }
    ]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_a_time_without_a_zone_is_utc_whatever_the_machines_zone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, zone: str
) -> None:
    import time

    import pyarrow as pa
    import pyarrow.parquet as pq

    from harness.eql import parse_query
    from harness.timestamps import epoch_ms
    from harness.validation.columnar_runner import validate_parquet

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        expected = 1_795_773_600_000  # 2026-11-27T10:00:00Z
        assert epoch_ms("2026-11-27T10:00:00") == epoch_ms("2026-11-27T10:00:00Z") == expected
        path = tmp_path / "typed.parquet"
        stamps = pa.array([datetime(2026, 11, 27, 10, 0), datetime(2026, 11, 28, 10, 0)], pa.timestamp("ms"))
        pq.write_table(
            pa.table({"@timestamp": stamps, "host": pa.array([{"name": "a"}, {"name": "b"}])}), path
        )
        result = validate_parquet(parse_query("any where true"), str(path), Expectations(), rule_name="r")
        assert (result.first_ms, result.last_ms) == (expected, expected + 86_400_000)
        assert result.hosts == {"a", "b"}
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_an_example_with_binary_and_decimal_values_is_a_json_document(tmp_path: Path) -> None:
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    from harness.validation.tables import DuckDbTable

    path = tmp_path / "odd.parquet"
    pq.write_table(
        pa.table(
            {
                "blob": pa.array([b"\x00\xff"], pa.binary()),
                "amount": pa.array([Decimal("1.50")], pa.decimal128(5, 2)),
                "nested": pa.array([{"raw": b"ab"}]),
            }
        ),
        path,
    )
    (document,) = DuckDbTable(str(path)).documents("TRUE", limit=5)
    assert document == {"blob": "AP8=", "amount": "1.50", "nested": {"raw": "YWI="}}
    json.dumps(document)


@pytest.mark.parametrize(("role", "context"), [(None, 0), ("target", 0), ("", 1), ("context", 1)])
def test_the_row_and_sql_runners_read_a_role_alike(tmp_path: Path, role: str | None, context: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from harness.eql import parse_query
    from harness.validation.columnar_runner import validate_parquet

    labels = {"scenario": "s", "source": "endpoint", "intent": "benign", "role": role}
    events = [{"event": {"category": "process"}, "labels": labels}]
    ndjson, parquet = tmp_path / "e.ndjson", tmp_path / "e.parquet"
    ndjson.write_text(json.dumps(events[0]) + "\n", encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(events), parquet)
    rows = _validate(V214, Expectations(), path=str(ndjson))
    sql = validate_parquet(parse_query(load_rule(V214).query), str(parquet), Expectations(), rule_name="r")
    assert rows.context_events == sql.context_events == context
    assert (
        sum(c.events for c in rows.cells.values()) == sum(c.events for c in sql.cells.values()) == 1 - context
    )


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ('catalogue = "apcmd"\n', "no scenario catalogue 'apcmd'; did you mean 'appcmd'?", 1),
        ("catalogue = 3\n", "catalogue must be the name of a scenario catalogue", 1),
        (
            '[defaults]\nbenign = "silent"\n\n[scenarios.appcmd-xml]\nexpect = "alert"\n',
            "name the catalogue",
            4,
        ),
    ],
)
def test_expectations_name_a_catalogue_that_exists(
    tmp_path: Path, content: str, message: str, line: int
) -> None:
    path = tmp_path / "x.expect.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ExpectationError) as caught:
        load_expectations(path, known_names())
    assert message in str(caught.value)
    assert caught.value.line == line


def test_custom_scenarios_need_no_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "x.expect.toml"
    path.write_text('[scenarios.lab-run]\ncustom = true\nexpect = "alert"\n', encoding="utf-8")
    expectations = load_expectations(path, known_names())
    assert expectations.catalogue is None
    assert expectations.expect("lab-run", "endpoint", "benign").verdict == "alert"
