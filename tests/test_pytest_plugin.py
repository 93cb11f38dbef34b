"""``pytest --rule`` on a rule written outside the repository, as a user runs it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# Imported before any test: pytester restores sys.modules after each test, and numpy (which the
# derivation loads) cannot be imported a second time in one process.
import generators.derive  # noqa: F401

from bundled import SCENARIOS

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
FAST = ("--rule-examples", "3", "--rule-budget-events", "3000", "-p", "no:cacheprovider")


def _derived_counts(rule: Path) -> tuple[int, int]:
    """(judged, blind spots): the derived tests the battery runs and the ones it skips."""
    from harness.app import derived_result, derived_suite, prepare_rule

    setup = prepare_rule(rule)
    outcomes = derived_result(setup, derived_suite(setup)).outcomes
    blind = sum(1 for o in outcomes if o.blind_spot)
    return len(outcomes) - blind, blind


def _accepted_scenarios(rule: Path) -> int:
    """Scenarios whose every cell is a known gap or known noise: the battery skips them, as
    `harness validate` accepts whatever the rule does there."""
    from generators.sources import SOURCES
    from harness.app import prepare_rule

    expectations = prepare_rule(rule).expectations
    return sum(
        all(expectations.expect(s.id, source, s.intent).status != "expected" for source in SOURCES)
        for s in SCENARIOS.values()
    )


def test_battery_passes_for_a_rule_that_meets_its_expectations(pytester: pytest.Pytester) -> None:
    shutil.copy(ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml", pytester.path / "my_rule.toml")
    shutil.copy(
        ROOT / "rules" / "iis_appcmd_password_dumped_v220.expect.toml", pytester.path / "my_rule.expect.toml"
    )
    result = pytester.runpytest_subprocess("--rule", "my_rule.toml", *FAST)

    judged, blind = _derived_counts(pytester.path / "my_rule.toml")
    accepted = _accepted_scenarios(pytester.path / "my_rule.toml")
    assert judged > 0 and blind > 0 and accepted > 0
    result.assert_outcomes(passed=len(SCENARIOS) - accepted + 2 + judged, skipped=blind + accepted)


def test_no_derived_leaves_the_catalogue_battery(pytester: pytest.Pytester) -> None:
    shutil.copy(ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml", pytester.path / "my_rule.toml")
    shutil.copy(
        ROOT / "rules" / "iis_appcmd_password_dumped_v220.expect.toml", pytester.path / "my_rule.expect.toml"
    )
    result = pytester.runpytest_subprocess("--rule", "my_rule.toml", "--no-derived", *FAST)
    accepted = _accepted_scenarios(pytester.path / "my_rule.toml")
    result.assert_outcomes(passed=len(SCENARIOS) - accepted + 2, skipped=accepted)


def test_battery_fails_with_the_shrunk_event_and_the_query(pytester: pytest.Pytester) -> None:
    shutil.copy(ROOT / "tests" / "data" / "rules" / "historical_slash_list.toml", pytester.path / "old.toml")
    result = pytester.runpytest_subprocess(
        "--rule", "old.toml", "--catalogue", "appcmd", "-k", "apppool-text-star or golden", *FAST
    )
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*appcmd-list-apppool-text-star in *: expected alert (default for malicious), the rule stayed*",
            '*query: process where * process.args : "/list"*',
            "*the whole (shrunk) event:*",
            "*the golden scenarios corpus breaks expectations:*",
        ]
    )


def test_fixtures_for_tests_of_ones_own(pytester: pytest.Pytester) -> None:
    shutil.copy(ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml", pytester.path / "rule.toml")
    pytester.makepyfile(
        test_mine="""
        from hypothesis import given, settings

        def test_rule_fixture(rule, matcher, expectations):
            assert rule.version == 214
            assert str(matcher.query).startswith("process where")

        def test_strategies(malicious_events, matcher):
            @given(malicious_events(source="endpoint"))
            @settings(max_examples=5, deadline=None)
            def inner(event):
                assert event["labels"]["intent"] == "malicious"
            inner()
        """
    )
    result = pytester.runpytest_subprocess(
        "--rule", "rule.toml", "--catalogue", "appcmd", "-m", "not rule_battery", *FAST
    )
    result.assert_outcomes(passed=2)


def test_without_rule_the_plugin_adds_nothing(pytester: pytest.Pytester) -> None:
    # A trivial test of the user's own: the point is that without --rule nothing else is collected.
    pytester.makepyfile(test_x="def test_x():\n    assert True is not False\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_rule_no_catalogue_covers_gets_its_derived_battery_not_another_rules(
    pytester: pytest.Pytester,
) -> None:
    shutil.copy(ROOT / "tests" / "data" / "rules" / "historical_slash_list.toml", pytester.path / "old.toml")
    result = pytester.runpytest_subprocess("--rule", "old.toml", "-v", "-rs", *FAST)
    judged, blind = _derived_counts(pytester.path / "old.toml")
    result.assert_outcomes(passed=judged, skipped=blind)
    result.stdout.fnmatch_lines(
        [
            "*old::derived?b0w0-endpoint? PASSED*",  # ? for the brackets, which fnmatch reads as a class
            "*old::derived?b0w0n*-sysmon-winlogbeat? PASSED*",
            "*SKIPPED*blind spot: * never writes process.pe.original_file_name*",
        ]
    )
    assert "appcmd-list-apppool" not in result.stdout.str()


def test_without_derived_tests_a_rule_no_catalogue_covers_gets_one_line(pytester: pytest.Pytester) -> None:
    shutil.copy(ROOT / "tests" / "data" / "rules" / "historical_slash_list.toml", pytester.path / "old.toml")
    result = pytester.runpytest_subprocess("--rule", "old.toml", "--no-derived", *FAST)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no scenario catalogue covers this rule*--catalogue NAME*"])


def test_a_derived_witness_a_source_defeats_fails_with_the_reason_and_the_document(
    pytester: pytest.Pytester,
) -> None:
    shutil.copy(ROOT / "tests" / "data" / "rules" / "sc_create_not_system.toml", pytester.path / "sc.toml")
    result = pytester.runpytest_subprocess("--rule", "sc.toml", "-k", "b0w0-sysmon", *FAST)
    result.assert_outcomes(failed=2)  # Sysmon through Winlogbeat, and Sysmon 9
    result.stdout.fnmatch_lines(
        [
            "*derived witness b0w0 in sysmon-winlogbeat: expected alert, the rule stayed silent*",
            "*why: user.id: sysmon-winlogbeat wrote 'S-1-5-18', the witness has 'S-1-5-21-*",
            '*query: process where * not user.id : "S-1-5-18"*',
            '*"origin": "derived"*',
        ]
    )


def test_a_sequence_rules_scenarios_are_searched_with_the_golden_corpus(pytester: pytest.Pytester) -> None:
    shutil.copy(ROOT / "rules" / "iis_webshell_appcmd_sequence.toml", pytester.path / "seq.toml")
    expectations = (ROOT / "rules" / "iis_webshell_appcmd_sequence.expect.toml").read_text(encoding="utf-8")
    # Claim that PowerUp's dumps are caught: its target events are in no found sequence.
    wrong = expectations.replace(
        '[scenarios.appcmd-powerup-enumeration]\nexpect = "silent"\nstatus = "known-gap"',
        '[scenarios.appcmd-powerup-enumeration]\nexpect = "alert"\nstatus = "expected"',
    )
    assert wrong != expectations
    (pytester.path / "seq.expect.toml").write_text(
        wrong.replace('rule = "iis_webshell', 'rule = "seq'), encoding="utf-8"
    )
    result = pytester.runpytest_subprocess("--rule", "seq.toml", "--no-derived", "-k", "scenario", *FAST)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1, result.stdout.str()
    text = result.stdout.str()
    assert "FAILED ::seq::scenario[appcmd-powerup-enumeration]" in text
    assert "appcmd-powerup-enumeration, searched with the whole golden corpus: missed in" in text
    assert "missed in endpoint: 18 of 18 (expected alert)" in text
    assert outcomes.get("passed", 0) >= 50
