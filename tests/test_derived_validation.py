"""Derived scenarios in ``harness validate``: judged apart from the corpus, per source read.

A witness must alert in each source that writes the fields it needs (else the source's
document shape defeats the rule: a violation with the field and what the source wrote),
a near miss must stay silent, and a blind spot is explained, never a violation.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from junitparser import JUnitXml

from harness import Corpus, validate
from harness.app import derived_suite, prepare_rule
from harness.cli import main
from harness.eql import compile_query
from harness.errors import NoCatalogueError
from harness.indices import IndexSelection
from harness.validation import Expectation, ExpectationError, Expectations, load_expectations
from harness.validation.derived import (
    NEAR_MISS,
    WITNESS,
    DerivedCase,
    DerivedRendering,
    DerivedSuite,
    judge_derived,
)
from harness.validation.reports import to_junit, to_markdown
from harness.validation.reports.json import result_dict
from harness.vocabulary import Profile

ROOT = Path(__file__).resolve().parents[1]
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
SC = ROOT / "tests" / "data" / "rules" / "sc_create_not_system.toml"  # Sysmon's user.id defeats it
SYSTEM_SID = "S-1-5-18"


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _copy(rule: Path, folder: Path, expect: str | None = None) -> Path:
    copy = folder / rule.name
    shutil.copy(rule, copy)
    if expect is not None:
        copy.with_name(copy.stem + ".expect.toml").write_text(expect, encoding="utf-8")
    return copy


# -- a rule with a catalogue: its catalogue's figures, and its derived scenarios beside them ------------


def test_the_catalogue_part_is_the_same_with_or_without_derived_scenarios() -> None:
    with_derived = result_dict(validate(V214).result)
    without = result_dict(validate(V214, derived=False).result)
    assert without.pop("derived") is None and with_derived.pop("derived") is not None
    assert with_derived == without


def test_every_v214_witness_alerts_wherever_its_fields_are_written() -> None:
    derived = validate(V214).result.derived
    assert derived is not None and derived.passed and not derived.violations
    written = [o for o in derived.outcomes if o.case.kind == WITNESS and not o.blind_spot]
    assert written and all(o.alerted for o in written)
    assert not any(o.alerted for o in derived.outcomes if o.case.kind == NEAR_MISS)
    # Blind spots are the sources' known gaps, explained: no args without command-line auditing,
    # no PE original file name in Sysmon 9, 4688 and Endgame.
    assert set(derived.blind_spots()) == {
        "security-4688-nocmdline never writes process.args",
        "sysmon9-winlogbeat never writes process.pe.original_file_name",
        "security-4688 never writes process.pe.original_file_name",
        "security-4688-nocmdline never writes process.pe.original_file_name, process.args",
        "endgame never writes process.pe.original_file_name",
    }


def test_derived_documents_are_rendered_only_into_the_sources_the_rule_reads(tmp_path: Path) -> None:
    text = re.sub(r"index = \[[^\]]*\]", 'index = ["logs-endpoint.events.process-*"]', V214.read_text())
    rule = tmp_path / "endpoint_only.toml"
    rule.write_text(text, encoding="utf-8")
    suite = derived_suite(prepare_rule(rule))
    assert suite.sources == ("endpoint",)
    reads = IndexSelection.of(["logs-endpoint.events.process-*"])
    documents = [r.document for case in suite.cases for r in case.renderings if r.document is not None]
    assert documents and all(reads.reads(d["labels"]["index"]) for d in documents)
    assert {d["labels"]["origin"] for d in documents} == {"derived"}


def test_the_reports_keep_derived_scenarios_apart() -> None:
    result = validate(V214).result
    data = result_dict(result)
    assert not any(c["scenario"].startswith("derived/") for c in data["cells"])
    derived = data["derived"]
    assert derived["name"] == "v214" and derived["passed"] is True
    assert {row["name"] for row in derived["sources"]} == {s.name for s in result.sources.values()}
    endpoint = next(row for row in derived["sources"] if row["name"] == "endpoint")
    assert endpoint["witnesses"] == endpoint["witnesses_alerting"] > 0 and endpoint["blind_spots"] == 0
    assert "Derived scenarios: derived from the query (v214)" in to_markdown(result)
    suites = list(JUnitXml.fromstring(to_junit(result)))
    assert [s.name for s in suites][1].endswith(": derived scenarios")
    assert all(not case.classname.startswith("derived/") for case in suites[0])


def test_no_derived_leaves_them_out_of_every_report() -> None:
    code, out, _ = _cli("validate", str(V214), "--no-derived", "--format", "json")
    assert code == 0 and json.loads(out)["derived"] is None
    code, out, _ = _cli("validate", str(V214), "--no-derived")
    assert code == 0 and "derived" not in out


# -- a rule no catalogue covers: judged on its derived scenarios ---------------------------------------


def test_a_source_whose_document_shape_defeats_the_rule_is_a_violation_with_its_reason() -> None:
    code, out, _ = _cli("validate", str(SC))
    assert code == 1
    assert "no scenario catalogue covers this rule; judged on its derived scenarios" in out
    assert re.search(r"b0w0, b0w1 in sysmon-winlogbeat: user\.id: sysmon-winlogbeat wrote 'S-1-5-18'", out)
    data = json.loads(_cli("validate", str(SC), "--format", "json")[1])
    assert data["corpus"] is None and data["passed"] is False and data["cells"] == []
    violations = data["derived"]["violations"]
    assert {v["source"] for v in violations} == {"sysmon-winlogbeat", "sysmon9-winlogbeat"}
    assert all(v["kind"] == "witness silent" and "user.id" in v["reason"] for v in violations)
    assert all(v["example"]["user"]["id"] == SYSTEM_SID for v in violations)
    rows = {row["name"]: row for row in data["derived"]["sources"]}
    assert rows["endpoint"]["witnesses_alerting"] == rows["endpoint"]["witnesses"] == 2
    assert rows["sysmon-winlogbeat"]["witnesses_alerting"] == 0


def test_junit_and_markdown_show_the_derived_violation() -> None:
    result = validate(SC).result
    suites = list(JUnitXml.fromstring(to_junit(result)))
    assert len(suites) == 1 and suites[0].failures == 4  # two witnesses in two Sysmon sources
    markdown = to_markdown(result)
    assert markdown.startswith("### Service created by a user (test rule) (version 1): FAILED")
    assert "- derived witness stays silent: b0w0, b0w1 in sysmon9-winlogbeat: user.id:" in markdown


def test_a_derived_violation_is_accepted_by_a_derived_table(tmp_path: Path) -> None:
    expect = """
[derived.sources.sysmon-winlogbeat]
expect = "silent"
status = "known-gap"
reason = "Sysmon's user.id is the account Sysmon runs as"

[derived.b0.sources.sysmon9-winlogbeat]
expect = "silent"
status = "known-gap"
reason = "the same in Sysmon 9"
"""
    rule = _copy(SC, tmp_path, expect)
    run = validate(rule)
    derived = run.result.derived
    assert run.passed and derived is not None and not derived.violations
    assert {(o.case.key, o.source) for o in derived.accepted} == {
        (key, source) for key in ("b0w0", "b0w1") for source in ("sysmon-winlogbeat", "sysmon9-winlogbeat")
    }
    code, out, _ = _cli("validate", str(rule))
    assert (
        code == 0
        and "accepted: b0w0 in sysmon-winlogbeat: known-gap (derived.sources.sysmon-winlogbeat)" in out
    )


def test_an_entry_naming_no_derived_case_is_told(tmp_path: Path) -> None:
    expect = """
[derived.b7w0]
expect = "silent"
status = "known-gap"
reason = "a witness an older solver found"
"""
    run = validate(_copy(SC, tmp_path, expect))
    assert any("[derived.b7w0] matches no derived case of this rule" in n for n in run.notices)


def test_a_rule_whose_witnesses_are_all_blind_spots_judged_nothing(tmp_path: Path) -> None:
    # 4688 never writes the PE original file name: nothing can be judged, which is not a pass.
    rule = tmp_path / "renamed.toml"
    rule.write_text(
        '[rule]\nname = "renamed"\nindex = ["logs-system.security*"]\nlanguage = "eql"\ntype = "eql"\n'
        "query = '''process where process.pe.original_file_name == \"appcmd.exe\"'''\n",
        encoding="utf-8",
    )
    run = validate(rule)
    assert run.result.derived is not None and run.result.derived.judged == 0 and not run.passed
    code, out, _ = _cli("validate", str(rule))
    assert code == 1 and "no derived witness was judged" in out
    assert "blind spot: security-4688 never writes process.pe.original_file_name" in out


def test_a_fleet_without_a_catalogue_gives_the_noise_beside_the_derived_scenarios(tmp_path: Path) -> None:
    rule = _copy(SC, tmp_path)
    result = validate(rule, Corpus(profile=Profile.FLEET, events=2_000)).result
    assert result.corpus_run and {c.scenario for c in result.cells.values()} == {"fleet-background"}
    assert result.false_positives_per_million is not None and result.derived is not None


def test_without_derived_scenarios_a_rule_no_catalogue_covers_still_refuses(tmp_path: Path) -> None:
    with pytest.raises(NoCatalogueError):
        validate(_copy(SC, tmp_path), derived=False)


# -- [derived] in the expectations file ------------------------------------------------------------


def _expectations(tmp_path: Path, text: str) -> Expectations:
    path = tmp_path / "x.expect.toml"
    path.write_text(text, encoding="utf-8")
    return load_expectations(path)


def test_the_most_specific_derived_entry_wins_and_each_kind_accepts_its_own(tmp_path: Path) -> None:
    expectations = _expectations(
        tmp_path,
        """
[derived.b0]
expect = "silent"
status = "known-gap"
reason = "branch"

[derived.b0w1.sources.endgame]
expect = "silent"
status = "known-gap"
reason = "witness in source"

[derived.sources.endgame]
expect = "alert"
status = "known-noise"
reason = "source"
""",
    )
    assert expectations.expect_derived("b0w1", "endgame", "malicious").reason == "witness in source"
    assert expectations.expect_derived("b0w0", "endgame", "malicious").reason == "branch"
    assert expectations.expect_derived("b0w0n3", "endgame", "benign").reason == "source"
    # A known-gap never excuses a near miss, a known-noise never a witness.
    assert expectations.expect_derived("b0w0n3", "endpoint", "benign") == Expectation(
        "silent", origin="derived near miss"
    )
    assert expectations.expect_derived("b1w0", "endgame", "malicious") == Expectation(
        "alert", origin="derived witness"
    )


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('[derived.witness1]\nexpect = "silent"\n', "name a derived case as the report does", 1),
        ('[derived.b0w0]\nexpect = "silent"\n', 'status = "known-gap"', 1),
        ('[derived.sources.sysmonn]\nexpect = "silent"\nstatus = "known-gap"\nreason = "x"\n', "sysmon", 1),
        ('[derived.b0w0n1]\nexpect = "alert"\nstatus = "known-noise"\n', "needs a reason", 1),
    ],
)
def test_a_bad_derived_entry_names_the_line(tmp_path: Path, text: str, message: str, line: int) -> None:
    from harness.app.setup import known_names

    path = tmp_path / "x.expect.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExpectationError, match=re.escape(message)) as caught:
        load_expectations(path, known_names())
    assert caught.value.line == line


# -- the judging itself, on hand-made cases ------------------------------------------------------------


def _document(name: str, args: list[str]) -> dict[str, object]:
    return {"event": {"category": "process"}, "process": {"name": name, "args": args}}


def test_a_near_miss_that_alerts_is_a_violation_and_a_blind_spot_is_not() -> None:
    matcher = compile_query('process where process.name : "x.exe" and process.args : "/a*"')
    witness = DerivedCase(
        "derived/r/b0w0",
        "b0w0",
        WITNESS,
        0,
        "base",
        (
            DerivedRendering("endpoint", _document("x.exe", ["/ab"])),
            DerivedRendering("security-4688", None, "security-4688 never writes process.args"),
        ),
        _document("x.exe", ["/ab"]),
    )
    near = DerivedCase(
        "derived/r/b0w0n0",
        "b0w0n0",
        NEAR_MISS,
        0,
        "process.args: ['/ab'] -> ['/b']",
        (DerivedRendering("endpoint", _document("x.exe", ["/ab", "/b"])),),  # still holds /ab
    )
    suite = DerivedSuite("r", ("endpoint", "security-4688"), 1, False, (witness, near))
    result = judge_derived(matcher, suite, Expectations())
    assert [(o.case.key, o.source) for o in result.violations] == [("b0w0n0", "endpoint")]
    assert result.violations[0].explanation().startswith("the near miss still alerts")
    assert result.blind_spots() == {"security-4688 never writes process.args": ["b0w0"]}
    assert result.judged == 1 and not result.passed


def test_a_silent_witness_is_explained_by_the_field_that_would_make_it_alert() -> None:
    matcher = compile_query('process where process.name : "x.exe" and not user.id : "S-1-5-18"')
    canonical = {**_document("x.exe", []), "user": {"id": "S-1-5-21-1"}}
    shaped = {**_document("x.exe", ["C:\\x.exe"]), "user": {"id": SYSTEM_SID}}
    case = DerivedCase(
        "derived/r/b0w0", "b0w0", WITNESS, 0, "base", (DerivedRendering("s", shaped),), canonical
    )
    result = judge_derived(matcher, DerivedSuite("r", ("s",), 1, False, (case,)), Expectations())
    (violation,) = result.violations
    # process.args differs too, but only user.id, as the witness has it, makes the document alert.
    assert violation.explanation() == "user.id: s wrote 'S-1-5-18', the witness has 'S-1-5-21-1'"
    assert shaped["user"] == {"id": SYSTEM_SID}  # the source's document is not changed


def test_a_sql_engine_without_a_corpus_is_refused_for_derived_scenarios_too() -> None:
    code, out, err = _cli("validate", str(SC), "--engine", "duckdb")
    assert code == 2 and out == "" and "give --corpus PATH" in err


# -- sequence and sample rules: chains judged by the searcher ---------------------------------------

SEQUENCE_RULE = """[rule]
name = "cmd then whoami on one host"
index = ["logs-endpoint.events.*", "logs-system.security*"]
language = "eql"
type = "eql"
query = '''
sequence by host.id with maxspan=1m
  [process where process.name == "cmd.exe"] by process.entity_id
  [process where process.name == "whoami.exe"] by process.parent.entity_id
'''
"""


def test_a_sequence_rule_is_judged_on_its_chains_with_the_query_column_first(tmp_path: Path) -> None:
    rule = tmp_path / "seq.toml"
    rule.write_text(SEQUENCE_RULE, encoding="utf-8")
    run = validate(rule)
    derived = run.result.derived
    assert run.passed and derived is not None and derived.suite.kind == "sequence"
    assert derived.suite.sources == ("query", "endpoint", "security-4688", "security-4688-nocmdline")
    endpoint = [o for o in derived.outcomes if o.source == "endpoint" and o.case.kind == WITNESS]
    assert endpoint and all(o.alerted for o in endpoint)  # Defend writes both entity ids
    witnesses = [c.key for c in derived.suite.witnesses]
    assert derived.blind_spots() == {
        f"{s} never writes process.entity_id, the join key of stage 1": witnesses
        for s in ("security-4688", "security-4688-nocmdline")
    }
    code, out, _ = _cli("validate", str(rule))
    assert code == 0 and "stage 2 (process) at 2026-01-01T10:01:01.000Z" in out


def test_a_single_event_rules_cases_carry_no_chain_events() -> None:
    cases = result_dict(validate(V214).result)["derived"]["cases"]
    assert cases and all("events" not in case for case in cases)


def test_a_near_miss_whose_change_a_source_cannot_write_is_a_blind_spot_there(tmp_path: Path) -> None:
    # Without command-line auditing 4688 writes no process.args: the near miss that adds the excluded
    # argument renders as the witness again, and alerting there would be no finding about the rule.
    rule = tmp_path / "r.toml"
    rule.write_text(
        '[metadata]\n[rule]\nname = "r"\ntype = "eql"\nlanguage = "eql"\nindex = ["logs-system.security*"]\n'
        'query = """process where process.name : "rundll32.exe" and not process.args : "url.dll*" """\n',
        encoding="utf-8",
    )
    from harness import app

    derived = app.validate(rule).result.derived
    assert derived is not None
    added = [o for o in derived.outcomes if o.case.kind == "near miss" and "url.dll" in o.case.summary]
    nocmd = [o for o in added if o.source == "security-4688-nocmdline"]
    assert nocmd and all(o.blind_spot for o in nocmd), [(o.source, o.alerted, o.reason) for o in added]
    assert "never writes process.args" in nocmd[0].reason
    assert [o for o in added if o.source == "security-4688" and o.alerted is False]  # judged where written
    assert not derived.violations
