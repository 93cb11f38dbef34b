"""Tests derived from a query: witnesses match, near misses do not, findings say why, diffs show events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generators.derive import branches, derive
from generators.derive.compare import compare
from generators.sources import SOURCES
from generators.strategies import events_matching, near_misses
from harness.eql import Matcher, compile_query, parse_query
from harness.eql.fields import field_values
from harness.errors import HarnessError
from harness.rules import load_rule

from strategies import conditions

RULES = Path(__file__).resolve().parent.parent / "rules"


def _query(name: str) -> Any:
    return parse_query(load_rule(RULES / name).query)


@pytest.fixture(scope="module")
def v214() -> Any:
    return derive(_query("iis_appcmd_password_dumped_v214.toml"), name="v214")


def _args(document: dict[str, Any]) -> list[Any]:
    return field_values(document, ("process", "args"))


def test_every_witness_matches_and_every_near_miss_does_not(v214: Any) -> None:
    for engine in ("reference", "compiled"):
        matcher = Matcher(v214.query, category_field="event.category", mapping=None, engine=engine)
        assert v214.witnesses and all(matcher.matches(w.document) for w in v214.witnesses)
        assert v214.near_misses and not any(matcher.matches(n.document) for n in v214.near_misses)


def test_witnesses_cover_both_branches_a_case_variant_and_the_optional_field_absent(v214: Any) -> None:
    assert {w.branch for w in v214.witnesses} == {0, 1}
    variants = {w.variant for w in v214.witnesses}
    assert {"base", "case variant", "without ?process.pe.original_file_name"} <= variants
    upper = next(w for w in v214.witnesses if w.variant == "case variant" and w.branch == 0)
    assert "/TEXT:*" in _args(upper.document)
    absent = next(w for w in v214.witnesses if w.variant.startswith("without"))
    assert field_values(absent.document, ("process", "pe", "original_file_name")) == []


def test_a_witness_is_a_believable_launch(v214: Any) -> None:
    base = v214.witnesses[0].document
    assert base["process"]["executable"].lower().endswith("\\inetsrv\\appcmd.exe")
    assert base["host"]["name"] and base["user"]["name"] and base["process"]["parent"]["name"]
    assert base["process"]["hash"]["sha256"]
    assert base["labels"] == base["labels"] | {"intent": "malicious", "origin": "derived"}


def test_near_misses_are_the_smallest_change_to_one_predicate(v214: Any) -> None:
    changes = {n.change.split(" (fails ")[0] for n in v214.near_misses}
    assert "process.args: ['list', '/text:*'] -> ['list', '/tex:*']" in changes  # /tex for /text*
    assert "process.name: 'appcmd.exe' -> 'appcmd.ex'" in changes
    assert "process.pe.original_file_name: 'appcmd.exe' -> (absent)" in changes
    assert all(n.document["labels"]["intent"] == "benign" for n in v214.near_misses)


def test_sources_that_never_write_a_needed_field_are_explained_blind_spots(v214: Any) -> None:
    by_pe = next(w for w in v214.witnesses if w.branch == 1)
    status = {r.source: (r.status, r.reason) for r in by_pe.renderings}
    assert status["sysmon9-winlogbeat"] == (
        "blind-spot",
        "sysmon9-winlogbeat never writes process.pe.original_file_name",
    )
    assert status["endpoint"][0] == status["sysmon-windows"][0] == "alerts"
    by_name = v214.witnesses[0]
    nocmd = next(r for r in by_name.renderings if r.source == "security-4688-nocmdline")
    assert nocmd.status == "blind-spot" and "process.args" in nocmd.reason


def test_a_source_whose_shape_defeats_the_rule_is_reported_with_the_field() -> None:
    # 4688's splitter keeps quotes: an argument with a space is written '"C:\\Program' and 'Files\\x"'.
    query = parse_query('process where process.args : "C:\\\\Program Files\\\\*"')
    found = derive(query, name="quoted")
    witness = found.witnesses[0]
    rendering = next(r for r in witness.renderings if r.source == "security-4688")
    assert rendering.status == "silent" and "process.args" in rendering.reason
    assert next(r for r in witness.renderings if r.source == "endpoint").status == "alerts"


def test_an_exclusion_the_quotes_defeat_lets_its_near_miss_alert_in_4688() -> None:
    # why: the System integration's 4688 splitter keeps quotes (winargs.split_security_4688), so an
    # excluded path with a space, quoted on the command line, is '"C:\\Program Files\\x.mof"' in
    # process.args and no exclusion of Elastic's mofcomp rule ("?:\\Program Files\\...\\*.mof")
    # matches it: its near miss alerts there, a false positive the rule really has on 4688 data.
    query = parse_query(
        'process where process.name : "mofcomp.exe" and process.args : "*.mof" and '
        'not process.args : "?:\\\\Program Files\\\\Microsoft SQL Server\\\\*.mof"'
    )
    found = derive(query, name="mof")
    excluded = next(n for n in found.near_misses if n.predicate.startswith("not ("))
    status = {r.source: r.status for r in excluded.renderings}
    assert status["security-4688"] == "alerts"
    assert status["endpoint"] == "silent" and status["sysmon-windows"] == "silent"


def test_exclusions_hold_in_witnesses_and_near_misses_fall_into_them() -> None:
    query = parse_query('process where process.name : "cmd.exe" and not process.args : "/c"')
    found = derive(query, name="excl")
    assert all("/c" not in [a.lower() for a in _args(w.document)] for w in found.witnesses)
    dropped = [n for n in found.near_misses if n.predicate.startswith("not (")]
    assert dropped and "/c" in _args(dropped[0].document)


def test_numeric_bounds_are_met_exactly_and_missed_by_one() -> None:
    found = derive(parse_query("process where process.pid >= 5"), name="bound")
    assert found.witnesses[0].document["process"]["pid"] == 5
    assert any(n.document["process"]["pid"] == 4 for n in found.near_misses)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('process.name : "cmd.exe" and startsWith(process.executable, "C:\\\\Users\\\\")', "C:\\Users\\"),
        ('endsWith(process.command_line, " -enc")', " -enc"),
        ('stringContains(process.command_line, "DllRegisterServer")', "DllRegisterServer"),
        ("length(process.command_line) > 40", None),
        ('process.executable regex~ "c:\\\\\\\\windows\\\\\\\\[a-z]+\\\\.exe"', None),
        ('cidrMatch(source.ip, "10.0.0.0/8")', None),
    ],
)
def test_functions_and_regexes_are_solved(query: str, expected: str | None) -> None:
    parsed = parse_query(f"process where {query}")
    found = derive(parsed, name="fn")
    assert found.witnesses, [f.message for f in found.findings]
    if expected is not None:
        assert any(expected in str(value) for value in found.witnesses[0].values.values())


def test_contradictions_and_literal_wildcards_are_findings() -> None:
    found = derive(parse_query('process where process.name == "a.exe" and process.name == "b.exe"'), name="x")
    assert not found.witnesses
    assert [f.kind for f in found.findings] == ["unsatisfiable"]
    star = derive(parse_query('process where process.name == "*.exe"'), name="star")
    assert not star.witnesses  # Windows file names never hold a '*'
    assert {f.kind for f in star.findings} == {"literal-wildcard", "unsolved"}


def test_a_branch_its_own_exclusion_covers_is_unsatisfiable_but_a_case_can_slip_through() -> None:
    dead = derive(parse_query('process where process.name : "cmd.exe" and not process.name : "CMD.EXE"'))
    assert not dead.witnesses and [f.kind for f in dead.findings] == ["unsatisfiable"]
    # `in` is case-sensitive: "SH" passes `: "sh"` and is not in ("sh", "bash").
    slip = derive(parse_query('process where process.name : "sh" and not process.name in ("sh", "bash")'))
    assert [w.values["process.name"] for w in slip.witnesses] == ["SH"]


def test_a_field_no_source_writes_is_a_finding() -> None:
    found = derive(
        parse_query('process where process.Ext.effective_parent.executable : "C:\\\\x.exe"'), name="x"
    )
    assert any(f.kind == "unwritten-field" for f in found.findings)
    assert all(r.status == "blind-spot" for w in found.witnesses for r in w.renderings)


def test_the_branch_cap_is_reported_and_still_covers_every_alternative() -> None:
    text = " and ".join(f'(process.name : "a{i}.exe" or process.args : "b{i}")' for i in range(8))  # 256
    expansion = branches(parse_query(f"process where {text}").condition, cap=16)
    assert expansion.truncated and expansion.full_count == 256 and len(expansion.branches) <= 16
    covered = {str(atom) for branch in expansion.branches for atom in branch.atoms}
    assert all(
        f'process.name : "a{i}.exe"' in covered and f'process.args : "b{i}"' in covered for i in range(8)
    )
    found = derive(parse_query(f"process where {text}"), name="wide", branch_cap=16)
    assert found.truncated and found.findings[0].kind == "truncated"


def test_the_diff_of_the_two_shipped_versions_finds_the_four_changes() -> None:
    diff = compare(
        _query("iis_appcmd_password_dumped_v214.toml"), _query("iis_appcmd_password_dumped_v220.toml")
    )
    lost = [_args(c.witness.document) for c in diff.lost]
    gained = [_args(c.witness.document) for c in diff.gained]
    assert any("/TEXT:*" in args for args in lost)  # upper case: v220's == is case-sensitive
    # A /text: argument that names no credential attribute (the /text:name monitoring look-alike).
    credential = ("password", "username", "processmodel", "*")
    assert any(
        any(a.lower().startswith("/text:") and not any(k in a.lower() for k in credential) for a in args)
        for args in lost
    )
    assert any("/config" in [a.lower() for a in args] for args in gained)
    assert any(any("connectionstring" in a.lower() for a in args) for args in gained)
    assert all(c.sources for c in (*diff.lost, *diff.gained))


def test_a_query_compared_with_itself_has_no_crossing() -> None:
    query = _query("iis_appcmd_password_dumped_v214.toml")
    assert compare(query, query).identical


@given(st.data())
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_strategies_draw_witnesses_and_near_misses_per_source(data: st.DataObject) -> None:
    text = 'process where process.name : "appcmd.exe" and process.args : "list" and process.args : "/text*"'
    matcher = compile_query(text)
    source = data.draw(st.sampled_from(["endpoint", "sysmon-windows", "security-4688"]))
    assert matcher.matches(data.draw(events_matching(text, source=source)))
    assert not matcher.matches(data.draw(near_misses(text, source=source)))


def test_a_strategy_without_events_says_so() -> None:
    with pytest.raises(ValueError, match="no derived witness"):
        events_matching('process where process.name == "a" and process.name == "b"')
    with pytest.raises(ValueError, match="not one of"):
        events_matching('process where process.name : "x"', source="nowhere")


@given(condition=conditions())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_witnesses_match_and_near_misses_do_not(condition: str) -> None:
    try:
        query = parse_query(f"process where {condition}")
    except HarnessError:
        return  # the grammar draws some ill-typed conditions; the verifier rejects them first
    found = derive(query, name="p", sources=[SOURCES["endpoint"]])
    for engine in ("reference", "compiled"):
        matcher = Matcher(query, category_field="event.category", mapping=None, engine=engine)
        for witness in found.witnesses:
            assert _safe(matcher, witness.document), (witness.values, str(query))
        for near in found.near_misses:
            assert not _safe(matcher, near.document), (near.change, str(query))


def _safe(matcher: Matcher, document: dict[str, Any]) -> bool:
    try:
        return matcher.matches(document)
    except HarnessError:
        return False
