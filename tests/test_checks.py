"""``harness check``: findings per event category and source, said once; versions and schedules as Kibana
has them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.checks import Finding, check_rule
from harness.cli import main
from harness.eql import parse_query
from harness.errors import RuleLoadError
from harness.rules import DEFAULT_FROM, DEFAULT_INTERVAL, DEFAULT_MAX_SIGNALS, Rule, load_rule
from harness.sources import sources_for
from harness.version_lock import find_version_lock

ROOT = Path(__file__).resolve().parents[1]
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
SHARED = ROOT.parent / "shared" / "data" / "rules" / "elastic"


def _findings(query: str, indices: tuple[str, ...]) -> list[Finding]:
    rule = Rule(name="r", query=query, language="eql", path="r.eql", indices=indices)
    return check_rule(rule, parse_query(query))


def test_a_missing_field_is_said_once_per_field_and_source() -> None:
    query = (
        'process where process.pe.imphash == "a" and process.pe.imphash != "b" and '
        'process.pe.imphash != "c" and process.name == "x"'
    )
    found = [f for f in _findings(query, ("logs-system.security*",)) if f.code == "field-not-in-source"]
    assert len(found) == 1
    assert "process.pe.imphash" in found[0].message and "used 3 times" in found[0].message


def test_fields_of_other_categories_draw_no_process_warning() -> None:
    query = 'registry where registry.value == "x" and file.path == "y"'
    assert not [
        f for f in _findings(query, ("logs-windows.sysmon_operational-*",)) if f.code.startswith("field")
    ]


def test_a_category_an_index_never_holds_is_named() -> None:
    # Sysmon's image loads are "process" events in the Windows integration, not "library" ones.
    found = _findings('library where dll.name == "x"', ("logs-windows.sysmon_operational-*",))
    codes = {f.code for f in found}
    assert codes == {"category-not-in-source", "category-in-no-source"}


def test_a_category_one_of_several_indices_holds_is_only_information() -> None:
    found = _findings(
        'registry where registry.value == "x"', ("logs-windows.sysmon_operational-*", "winlogbeat-*")
    )
    assert not [f for f in found if f.severity == "warning"]


def test_exclusions_are_resolved_not_reported_as_unknown() -> None:
    sources, unknown = sources_for(("logs-*", "-logs-system*"))
    assert unknown == []
    assert not any("logs-system.security-default" in s.indices for s in sources)
    assert any("logs-endpoint.events.process-default" in s.indices for s in sources)


def test_kibanas_defaults_fill_an_unset_schedule(tmp_path: Path) -> None:
    text = V214.read_text(encoding="utf-8")
    for key in ("interval", "from", "max_signals"):
        text = re.sub(rf"(?m)^{key} = .*\n", "", text)
    path = tmp_path / "r.toml"
    path.write_text(text, encoding="utf-8")
    schedule = load_rule(path).schedule
    assert (schedule.interval, schedule.from_, schedule.max_signals) == (
        DEFAULT_INTERVAL,
        DEFAULT_FROM,
        DEFAULT_MAX_SIGNALS,
    )
    assert schedule.defaulted == ("interval", "from", "max_signals")
    out = CliRunner().invoke(main, ["check", str(path)]).stdout
    assert "every 5m over now-6m, at most 100 alerts per run (Kibana's default for" in out
    assert "?" not in out.split("schedule:", 1)[1].splitlines()[0]


def _unversioned(folder: Path) -> Path:
    text = re.sub(r"(?m)^version = .*\n", "", V214.read_text(encoding="utf-8"))
    path = folder / "rules" / "windows" / "r.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def _lock(path: Path, version: int) -> None:
    rule_id = "0564fb9d-90b9-4234-a411-82a546dc1343"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({rule_id: {"rule_name": "x", "sha256": "0", "type": "eql", "version": version}})
    )


def test_a_version_comes_from_the_nearest_lock_above_the_rule(tmp_path: Path) -> None:
    rule = _unversioned(tmp_path)
    assert load_rule(rule).version is None
    _lock(tmp_path / "detection_rules" / "etc" / "version.lock.json", 219)
    assert load_rule(rule).version == 219
    _lock(tmp_path / "rules" / "version.lock.json", 221)
    assert find_version_lock(rule) == tmp_path / "rules" / "version.lock.json"
    assert load_rule(rule).version == 221
    other = tmp_path / "other.json"
    _lock(other, 5)
    assert load_rule(rule, version_lock=other).version == 5
    out = CliRunner().invoke(main, ["check", str(rule), "--version-lock", str(other)]).stdout
    assert "(version 5)" in out


def test_a_rules_own_version_wins_over_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "version.lock.json"
    _lock(lock, 1)
    assert load_rule(V214, version_lock=lock).version == 214


def test_a_broken_lock_names_its_file_and_line(tmp_path: Path) -> None:
    rule = _unversioned(tmp_path)
    lock = tmp_path / "version.lock.json"
    lock.write_text('{\n  "a": {"version": 1},\n  oops\n}', encoding="utf-8")
    with pytest.raises(RuleLoadError) as caught:
        load_rule(rule)
    assert caught.value.path == str(lock) and caught.value.line == 3


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data/rules/elastic")
def test_every_upstream_rule_of_the_sample_gets_its_locked_version() -> None:
    lock = json.loads((SHARED / "version.lock.json").read_text(encoding="utf-8"))
    rules = sorted(SHARED.rglob("*.toml"))
    assert rules
    for path in rules:
        rule = load_rule(path)
        assert rule.rule_id in lock, path
        assert rule.version == lock[rule.rule_id]["version"], path


@pytest.mark.parametrize(
    "field",
    [
        "process.code_signature.status",
        "process.parent.Ext.real.pid",
        "process.Ext.token.integrity_level_name",
    ],
)
def test_a_field_defends_process_stream_defines_is_never_called_missing(field: str) -> None:
    found = _findings(f'process where {field} == "x"', ("logs-endpoint.events.process-*",))
    assert not [f for f in found if f.code == "field-not-in-source"]


def test_a_field_defends_process_stream_does_not_define_is_named() -> None:
    found = _findings('process where process.no_such_field == "x"', ("logs-endpoint.events.process-*",))
    assert [f.code for f in found] == ["field-not-in-source"]


def test_a_source_whose_documents_are_not_published_draws_no_field_claim() -> None:
    assert not _findings('process where process.parent.args == "x"', ("endgame-*",))


def test_a_rule_without_a_schedule_is_simulated_on_kibanas_defaults(tmp_path: Path) -> None:
    from harness import Corpus, simulate

    text = V214.read_text(encoding="utf-8")
    for key in ("interval", "from"):
        text = re.sub(rf"(?m)^{key} = .*\n", "", text)
    path = tmp_path / "r.toml"
    path.write_text(text, encoding="utf-8")
    expectations = V214.with_name(V214.stem + ".expect.toml").read_text(encoding="utf-8")
    (tmp_path / "r.expect.toml").write_text(
        expectations, encoding="utf-8"
    )  # its catalogue: the fleet's attacks
    run = simulate(path, Corpus(events=3_000))
    assert (run.result.interval_s, run.result.lookback_s) == (300, 360)
    assert any("Kibana's defaults apply" in notice for notice in run.notices)


def _statement_findings(query: str, indices: tuple[str, ...], from_: str | None = None) -> list[Finding]:
    from harness.checks import check_statement
    from harness.eql import parse_statement

    extra = {"from_": from_} if from_ else {}
    rule = Rule(name="r", query=query, language="eql", path="r.eql", indices=indices, **extra)  # type: ignore[arg-type]
    return check_statement(rule, parse_statement(query))


def test_a_stages_findings_name_the_stage() -> None:
    query = (
        'sequence by host.id [process where process.pe.imphash == "a"] '
        '[process where process.name == "x" and process.pe.imphash == "b"]'
    )
    found = [
        f.message
        for f in _statement_findings(query, ("logs-system.security*",))
        if f.code == "field-not-in-source"
    ]
    assert len(found) == 2
    assert found[0].startswith("stage 1: process.pe.imphash") and found[1].startswith(
        "stage 2: process.pe.imphash"
    )


def test_a_join_key_the_source_never_writes_is_a_warning() -> None:
    # Security 4688 carries no entity ids: a sequence joined on them finds nothing there.
    query = "sequence by process.entity_id [process where true] [process where true]"
    found = [
        f for f in _statement_findings(query, ("logs-system.security*",)) if f.code == "key-not-in-source"
    ]
    assert [f.message.split(":")[0] for f in found] == ["stage 1", "stage 2"]
    assert "process.entity_id" in found[0].message
    optional = "sequence by ?process.entity_id [process where true] [process where true]"
    assert not [
        f for f in _statement_findings(optional, ("logs-system.security*",)) if f.code == "key-not-in-source"
    ]
    assert not [
        f
        for f in _statement_findings(query, ("logs-endpoint.events.process-*",))
        if f.code == "key-not-in-source"
    ]


def test_a_maxspan_longer_than_the_window_is_said() -> None:
    query = "sequence with maxspan=10m [process where true] [process where true]"
    codes = [f.code for f in _statement_findings(query, ("logs-endpoint.events.process-*",), "now-9m")]
    assert "maxspan-over-window" in codes
    inside = query.replace("10m", "9m")
    assert "maxspan-over-window" not in [
        f.code for f in _statement_findings(inside, ("logs-endpoint.events.process-*",), "now-9m")
    ]


def test_an_unknown_index_may_hold_what_the_known_ones_do_not() -> None:
    query = "network where destination.port == 3389"
    known = {f.code for f in _findings(query, ("logs-endpoint.events.process-*",))}
    assert "category-in-no-source" in known
    mixed = {
        f.code for f in _findings(query, ("logs-endpoint.events.process-*", "logs-endpoint.events.network-*"))
    }
    assert "category-in-no-source" not in mixed and "category-not-in-source" in mixed


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/rules/elastic")
def test_check_prints_a_sequence_rule_with_its_stage_findings() -> None:
    rule = SHARED / "windows" / "lateral_movement_rdp_sharprdp_target.toml"
    out = CliRunner().invoke(main, ["check", str(rule)])
    assert out.exit_code == 0, out.output
    assert "query:      sequence by host.id with maxspan=1m [network where" in out.output
    assert "stage 2: Elastic Defend process events" in out.output  # registry events live elsewhere
