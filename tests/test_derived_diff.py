"""``harness diff`` from the queries alone: derived events, grouped changes, accepted losses, exit codes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness import diff
from harness.cli import main
from harness.validation.derived_diff import DerivedChange

ROOT = Path(__file__).resolve().parents[1]
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
V220 = ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml"
V220_EXPECT = V220.with_name(V220.stem + ".expect.toml")
CREDENTIALS = ("password", "processmodel", "username")


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _text_args(change: dict[str, Any]) -> list[str]:
    """Every ``/text:`` argument of the change's events, as written."""
    return [
        arg
        for event in change["events"]
        for arg in event["values"].get("process.args") or []
        if arg.lower().startswith("/text:")
    ]


@pytest.fixture(scope="module")
def shipped() -> tuple[int, dict[str, Any]]:
    """``harness diff v214 v220 --no-catalogue --format json``: its exit code and report."""
    code, out, err = _cli("diff", str(V214), str(V220), "--no-catalogue", "--format", "json")
    assert err == ""
    return code, json.loads(out)


def test_the_shipped_versions_differ_by_four_changes_from_the_queries_alone(
    shipped: tuple[int, dict[str, Any]],
) -> None:
    code, report = shipped
    assert code == 0 and report["corpus"] is None and "changes" not in report  # no corpus was compared
    changes = report["derived"]["changes"]
    assert [c["direction"] for c in changes] == ["lost", "lost", "gained", "gained"]
    upper, text_name, config, connection = changes
    # An upper-case /TEXT:* argument: every variant is /text: in another case than lower.
    assert _text_args(upper) and all(not a.startswith("/text:") for a in _text_args(upper))
    # A /text: argument, in lower case, that names no credential attribute (the /text:name noise).
    assert "/text:name" in _text_args(text_name)
    assert all(
        a.startswith("/text:") and not any(c in a.lower() for c in CREDENTIALS) for a in _text_args(text_name)
    )
    assert all("/config" in [a.lower() for a in e["values"]["process.args"]] for e in config["events"])
    assert all(
        any("connectionstring" in a.lower() for a in e["values"]["process.args"])
        for e in connection["events"]
    )


def test_variants_of_one_change_are_counted_under_it(shipped: tuple[int, dict[str, Any]]) -> None:
    upper = shipped[1]["derived"]["changes"][0]
    variants = [e["variant"] for e in upper["events"]]
    assert upper["variants"] == len(upper["events"]) - 1 >= 3
    assert "case variant" in variants
    # The same loss through the ?process.pe.original_file_name branch is a variant, not another change.
    assert any(e["values"].get("process.pe.original_file_name") == "appcmd.exe" for e in upper["events"])
    assert upper["example"] == upper["events"][0]
    assert upper["example"]["summary"].startswith("process.args=")  # the field that changed comes first


def test_changes_are_counted_per_source_the_rules_read(shipped: tuple[int, dict[str, Any]]) -> None:
    derived = shipped[1]["derived"]
    read = {s["name"] for s in derived["sources"] if s["read_by_old"] or s["read_by_new"]}
    assert {s["name"] for s in derived["sources"]} == read
    for change in derived["changes"]:
        assert set(change["per_source"]) <= read
        assert change["per_source"]["endpoint"] == len(change["events"])  # Defend writes every field
        assert "security-4688-nocmdline" not in change["per_source"]  # no process.args there
        # Sources without process.pe.original_file_name count only the process.name variants.
        assert change["per_source"]["security-4688"] < change["per_source"]["endpoint"]


def test_v220s_expectations_accept_its_losses_each_with_its_own_status(
    shipped: tuple[int, dict[str, Any]],
) -> None:
    derived = shipped[1]["derived"]
    upper, text_name = derived["changes"][:2]
    assert [(a["entry"], a["status"]) for a in upper["accepted_by"]] == [
        ("diff.lost.upper-case-text", "known-gap")
    ]
    assert [(a["entry"], a["status"]) for a in text_name["accepted_by"]] == [
        ("diff.lost.text-attribute-monitoring", "expected")
    ]
    assert derived["passed"] is True and derived["lost_not_accepted"] == 0
    assert derived["unused_entries"] == []


def test_each_version_shows_its_witnesses_and_near_misses_per_source(
    shipped: tuple[int, dict[str, Any]],
) -> None:
    old, new = shipped[1]["derived"]["versions"]
    assert (old["name"], new["name"]) == ("v214", "v220")
    assert old["witnesses"] > 0 and old["near_misses"] > 0 and new["branches"] > old["branches"]
    for version in (old, new):
        for source in version["sources"]:
            assert source["witnesses_alerting"] == source["witnesses"]  # every writable witness alerts
            assert source["near_misses_silent"] == source["near_misses"]
    nocmd = next(s for s in old["sources"] if s["name"] == "security-4688-nocmdline")
    assert nocmd["witnesses"] == 0 and nocmd["blind_spots"] == old["witnesses"]
    assert [f["kind"] for f in new["findings"]] == ["literal-wildcard"]  # == "/text:*" is literal


def _without_entry(tmp_path: Path, name: str) -> Path:
    """v220 beside a copy of its expectations that lacks ``[diff.lost.NAME]``."""
    text = V220_EXPECT.read_text(encoding="utf-8")
    text = re.sub(rf"\[diff\.lost\.{name}\]\n(?:[^\[\n][^\n]*\n?)*", "", text)
    assert f"diff.lost.{name}" not in text
    shutil.copy(V220, tmp_path / V220.name)
    (tmp_path / V220_EXPECT.name).write_text(text, encoding="utf-8")
    return tmp_path / V220.name


def test_a_loss_no_entry_accepts_exits_1(tmp_path: Path) -> None:
    new = _without_entry(tmp_path, "upper-case-text")
    code, out, _ = _cli("diff", str(V214), str(new), "--no-catalogue", "--format", "json")
    assert code == 1
    derived = json.loads(out)["derived"]
    upper, text_name = derived["changes"][:2]
    assert upper["verdict"] == "not accepted" and upper["accepted_by"] == []
    assert upper["not_accepted"] == sum(upper["per_source"].values())
    assert text_name["verdict"] == "accepted"
    assert derived["lost_not_accepted"] == upper["not_accepted"] and derived["passed"] is False


def test_a_gain_never_fails_the_diff(tmp_path: Path) -> None:
    empty = tmp_path / "none.expect.toml"
    empty.write_text("", encoding="utf-8")
    run = diff(V220, V214, expect=empty, no_catalogue=True)  # backwards: 214 gains what 220 lost
    assert run.derived is not None and run.result is None
    assert run.derived.gained and all(c.unaccepted == 0 for c in run.derived.gained)
    assert not run.passed  # what 214 loses of 220 (/config, connection strings) is not accepted


def test_identical_rules_show_no_change() -> None:
    run = diff(V214, V214, no_catalogue=True)
    assert run.derived is not None and run.derived.changes == () and run.passed
    code, out, _ = _cli("diff", str(V214), str(V214), "--no-catalogue", "--format", "markdown")
    assert code == 0 and "No derived event tells old and new apart." in out


def test_a_strictly_wider_version_only_gains(tmp_path: Path) -> None:
    wider = tmp_path / "wider.toml"
    text = V214.read_text(encoding="utf-8").replace(
        'process.args : "/text*"', 'process.args : ("/text*", "/config", "-text:*")'
    )
    wider.write_text(text, encoding="utf-8")
    run = diff(V214, wider, no_catalogue=True)
    assert run.derived is not None
    assert run.derived.lost == () and run.passed
    added = [_changed_pattern(c) for c in run.derived.gained]
    assert added == ['process.args : "/config"', 'process.args : "-text:*"']


def _changed_pattern(change: DerivedChange) -> str:
    found: list[str] = re.findall(r"`([^`]+)`", change.why)
    assert len(found) == 1, change.why
    return found[0]


def _endpoint_only(tmp_path: Path, expectations: str) -> Path:
    rule = tmp_path / "v214_endpoint.toml"
    text = re.sub(
        r"index = \[[^\]]*\]", 'index = ["logs-endpoint.events.process-*"]', V214.read_text("utf-8")
    )
    rule.write_text(text, encoding="utf-8")
    (tmp_path / "v214_endpoint.expect.toml").write_text(expectations, encoding="utf-8")
    return rule


def test_a_source_new_stops_reading_loses_olds_witnesses_there(tmp_path: Path) -> None:
    run = diff(V214, _endpoint_only(tmp_path, ""), no_catalogue=True)
    assert run.derived is not None and not run.passed
    (change,) = run.derived.changes
    assert change.direction == "lost" and "does not read" in change.why
    assert "endpoint" not in change.per_source() and change.per_source()["sysmon-windows"] == len(
        change.events
    )
    accepting = """
[diff.lost.defend-only]
sources = ["sysmon-winlogbeat", "sysmon-windows", "sysmon9-winlogbeat", "security-4688", "endgame"]
status = "expected"
reason = "this copy reads Elastic Defend only"
"""
    run = diff(V214, _endpoint_only(tmp_path, accepting), no_catalogue=True)
    assert run.derived is not None and run.passed and run.derived.changes[0].verdict == "accepted"


def test_a_change_of_query_is_counted_only_where_both_versions_read(tmp_path: Path) -> None:
    text = re.sub(
        r"index = \[[^\]]*\]", 'index = ["logs-endpoint.events.process-*"]', V220.read_text("utf-8")
    )
    new = tmp_path / "v220_endpoint.toml"
    new.write_text(text, encoding="utf-8")
    run = diff(V214, new, no_catalogue=True)
    assert run.derived is not None
    unread = [c for c in run.derived.changes if "does not read" in c.why]
    crossings = [c for c in run.derived.changes if c not in unread]
    assert len(unread) == 1 and len(crossings) == 4
    assert all(set(c.per_source()) == {"endpoint"} for c in crossings)
    assert "endpoint" not in unread[0].per_source()


def test_with_the_catalogue_the_corpus_diff_is_unchanged_and_the_derived_diff_is_added() -> None:
    code, out, _ = _cli("diff", str(V214), str(V220), "--format", "json")
    old_code, old_out, _ = _cli("diff", str(V214), str(V220), "--format", "json", "--no-derived")
    assert code == old_code == 0
    report, before = json.loads(out), json.loads(old_out)
    assert "derived" not in before and {k: v for k, v in report.items() if k != "derived"} == before
    assert [c["direction"] for c in report["derived"]["changes"]] == ["lost", "lost", "gained", "gained"]


def test_markdown_and_table_show_each_change_once() -> None:
    code, out, _ = _cli("diff", str(V214), str(V220), "--no-catalogue", "--format", "markdown")
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith(("| lost |", "| gained |"))]
    assert len(rows) == 4 and "/TEXT:*" in rows[0] and "/text:name" in rows[1]
    assert "accepted (known-gap: upper-case-text)" in rows[0]
    code, table, _ = _cli("diff", str(V214), str(V220), "--no-catalogue")
    assert code == 0 and "0 losses not accepted by the new expectations" in table
    assert table.count("gained ") >= 2 and "upper-case-text" in table


def test_a_rule_no_catalogue_covers_is_compared_from_its_queries(tmp_path: Path) -> None:
    rule = tmp_path / "copy.toml"
    shutil.copy(V214, rule)  # no .expect.toml: nothing binds it to a catalogue
    code, out, err = _cli("diff", str(V214), str(rule), "--format", "json")
    assert code == 0 and "compared from the queries alone" in err
    assert json.loads(out)["derived"]["changes"] == []
    code, _, err = _cli("diff", str(V214), str(rule), "--no-derived")
    assert code == 2 and "no scenario catalogue covers this rule" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--no-catalogue", "--catalogue", "appcmd"], "not both"),
        (["--no-catalogue", "--profile", "fleet"], "--no-catalogue leaves no catalogue"),
        (["--no-catalogue", "--no-derived"], "leave out --no-derived"),
    ],
    ids=["catalogue-and-no-catalogue", "no-catalogue-profile", "nothing-to-compare"],
)
def test_contradicting_options_exit_2(args: list[str], message: str) -> None:
    code, out, err = _cli("diff", str(V214), str(V220), *args)
    assert code == 2 and out == "" and message in err
