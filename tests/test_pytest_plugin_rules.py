"""``pytest --rules PATH``: the standard battery over every rule a file, folder or glob names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# Imported before any test: pytester restores sys.modules, and numpy cannot be imported twice.
import generators.derive  # noqa: F401
from harness.pytest_plugin import rule_names

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
FAST = ("--rule-examples", "2", "--rule-budget-events", "2000", "-p", "no:cacheprovider")


def _copy_rule(stem: str, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".toml", ".expect.toml"):
        shutil.copy(ROOT / "rules" / f"{stem}{suffix}", folder / f"{name}{suffix}")


def test_a_name_is_the_stem_unless_two_rules_share_it() -> None:
    paths = [Path("a/x.toml"), Path("b/x.toml"), Path("c/y.toml"), Path("c/z.toml"), Path("c/z.md")]
    assert rule_names(paths) == ["a/x.toml", "b/x.toml", "y", "z.toml", "z.md"]
    assert rule_names([Path("deep/a/x.toml"), Path("deep/b/x.toml")]) == ["a/x.toml", "b/x.toml"]


def test_a_folder_gives_one_battery_per_rule_and_a_broken_rule_is_one_failing_test(
    pytester: pytest.Pytester,
) -> None:
    _copy_rule("iis_appcmd_password_dumped_v220", pytester.path / "rules", "one")
    _copy_rule("iis_appcmd_password_dumped_v214", pytester.path / "rules", "two")
    shutil.copy(
        ROOT / "tests" / "data" / "rules" / "bad_syntax.toml", pytester.path / "rules" / "broken.toml"
    )
    result = pytester.runpytest_subprocess("--rules", "rules", "--no-derived", "-v", *FAST)

    result.stdout.fnmatch_lines(["*broken::load FAILED*"])
    result.stdout.fnmatch_lines(["*one::golden-corpus PASSED*"])
    result.stdout.fnmatch_lines(["*two::golden-corpus PASSED*"])
    result.stdout.fnmatch_lines(["*the rule does not load: rules?broken.toml*"])
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1
    # Both good rules got the same battery: scenarios, golden corpus and budgets each (a scenario
    # the expectations accept whole, a known gap in every source, is skipped).
    single = pytester.runpytest_subprocess("--rule", "rules/one.toml", "--no-derived", *FAST).parseoutcomes()
    ran = outcomes["passed"] + outcomes.get("skipped", 0)
    assert ran == 2 * (single["passed"] + single.get("skipped", 0))


def test_a_glob_and_rule_together_each_rule_once(pytester: pytest.Pytester) -> None:
    _copy_rule("iis_appcmd_password_dumped_v220", pytester.path / "rules", "one")
    _copy_rule("iis_appcmd_password_dumped_v214", pytester.path / "rules", "two")
    result = pytester.runpytest_subprocess(
        "--rule", "rules/one.toml", "--rules", "rules/*.toml", "--no-derived", "-k", "golden", "-v", *FAST
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*one::golden-corpus PASSED*", "*two::golden-corpus PASSED*"])


def test_a_path_naming_no_rule_stops_the_run_saying_which(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--rules", "nowhere/*.toml", *FAST)
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*--rules: nowhere/[*].toml: no rule file matches this path*"])


def test_collect_only_counts_the_battery_and_k_selects_within_it(pytester: pytest.Pytester) -> None:
    _copy_rule("iis_appcmd_password_dumped_v220", pytester.path / "rules", "one")
    _copy_rule("iis_appcmd_password_dumped_v214", pytester.path / "rules", "two")
    listed = pytester.runpytest_subprocess("--rules", "rules", "--no-derived", "--collect-only", "-q", *FAST)
    names = [line for line in listed.stdout.lines if "::" in line]
    assert len(names) == 2 * len([n for n in names if "one::" in n]) > 0
    listed.stdout.fnmatch_lines([f"{len(names)} tests collected*"])
    assert listed.ret == 0
    chosen = pytester.runpytest_subprocess(
        "--rules", "rules", "--no-derived", "--collect-only", "-q", "-k", "budgets", *FAST
    )
    chosen.stdout.fnmatch_lines([f"2/{len(names)} tests collected ({len(names) - 2} deselected)*"])
