"""Mutation testing: the operators, deduplication, and the shipped rules' measured scores."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from harness import load_rule
from harness.corpus import open_corpus
from harness.mutation import (
    MutationReport,
    generate_mutants,
    mutants,
    mutation_test,
    print_mutation_report,
)
from harness.validation import Expectation, load_expectations

from bundled import APPCMD

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"

SMALL = 'process where a : "x*" and (b == "y" or c : "Z")'
SMALL_MUTANTS = [
    ("drop-conjunct", 'process where b == "y" or c : "Z"'),
    ("drop-conjunct", 'process where a : "x*"'),
    ("swap-and-or", 'process where a : "x*" or (b == "y" or c : "Z")'),
    ("match-to-equals", 'process where a == "x*" and (b == "y" or c : "Z")'),
    ("drop-wildcard", 'process where a : "x" and (b == "y" or c : "Z")'),
    ("negate", 'process where not a : "x*" and (b == "y" or c : "Z")'),
    ("drop-branch", 'process where a : "x*" and c : "Z"'),
    ("drop-branch", 'process where a : "x*" and b == "y"'),
    ("swap-and-or", 'process where a : "x*" and (b == "y" and c : "Z")'),
    ("equals-to-match", 'process where a : "x*" and (b : "y" or c : "Z")'),
    ("upper-case", 'process where a : "x*" and (b == "Y" or c : "Z")'),
    ("negate", 'process where a : "x*" and (not b == "y" or c : "Z")'),
    ("match-to-equals", 'process where a : "x*" and (b == "y" or c == "Z")'),
    ("negate", 'process where a : "x*" and (b == "y" or not c : "Z")'),
]

# Measured on the scenarios profile, seed 7. A change here is a change in what the
# expectation suite can notice: look at the survivors before updating.
V214_SURVIVORS = [
    'drop conjunct process.args : "list"',
    '"==" to ":" in host.os.type == "windows"',
    '"==" to ":" in event.type == "start"',
    '"==" to ":" in ?process.pe.original_file_name == "appcmd.exe"',
]
_V220_LIST = 'process.args : ("/text:*password*", "/text:*processModel*...'
V220_SURVIVORS = [
    'drop conjunct process.name : "appcmd.exe" or ?process.pe.original_file_name == "appcmd.exe"',
    'drop conjunct process.args : "list"',
    '"==" to ":" in host.os.type == "windows"',
    '"==" to ":" in event.type == "start"',
    '"==" to ":" in ?process.pe.original_file_name == "appcmd.exe"',
    f'drop the * at 15 of "/text:*password*" in {_V220_LIST}',
    f'drop the * at 6 of "/text:*processModel*" in {_V220_LIST}',
    f'drop the * at 19 of "/text:*processModel*" in {_V220_LIST}',
    f'drop the * at 15 of "/text:*userName*" in {_V220_LIST}',
]


@pytest.fixture(scope="module")
def scenarios() -> list[dict[str, Any]]:
    return list(open_corpus(profile="scenarios", seed=7, catalogue=APPCMD))


def _run(version: int, documents: list[dict[str, Any]], **changes: Any) -> MutationReport:
    path = RULES / f"iis_appcmd_password_dumped_v{version}.toml"
    expectations = load_expectations(path.with_name(path.stem + ".expect.toml"))
    if changes:
        expectations = dataclasses.replace(expectations, **changes)
    return mutation_test(load_rule(path), expectations, documents)


def test_each_operator_on_a_small_query() -> None:
    assert [(m.operator, m.query) for m in mutants(SMALL)] == SMALL_MUTANTS


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # `:` ignores case: upper-casing its pattern is no change and is not offered.
        ('process where a : "x"', ['process where a == "x"', 'process where not a : "x"']),
        ('process where a like "x"', ['process where a like "X"', 'process where not a like "x"']),
        (
            'process where a : ("x", "y")',
            ['process where a in ("x", "y")', 'process where not a : ("x", "y")'],
        ),
    ],
    ids=["colon", "like", "colon-list"],
)
def test_pattern_operators(query: str, expected: list[str]) -> None:
    assert [m.query for m in mutants(query)] == expected


def test_mutants_printing_alike_are_kept_once() -> None:
    # Dropping either copy of the same conjunct prints the same query; so does swapping and/or
    # on a pair of identical operands, and then it equals the original.
    found = generate_mutants('process where a == "x" and a == "x"')
    printed = [m.query for m in found.mutants]
    assert printed.count('process where a == "x"') == 1
    assert found.original not in printed
    assert len(printed) == len(set(printed))


def test_shipped_v214_score_and_survivors(scenarios: list[dict[str, Any]]) -> None:
    report = _run(214, scenarios)
    assert report.original_passed
    assert (len(report.killed), len(report.results), report.invalid) == (21, 25, 0)
    assert [s.description for s in report.survivors] == V214_SURVIVORS


def test_shipped_v220_score_and_survivors(scenarios: list[dict[str, Any]]) -> None:
    report = _run(220, scenarios)
    assert report.original_passed
    assert (len(report.killed), len(report.results), report.invalid) == (29, 38, 0)
    assert [s.description for s in report.survivors] == V220_SURVIVORS


def test_a_loose_expectation_lets_a_mutant_survive(scenarios: list[dict[str, Any]]) -> None:
    dropped = 'drop conjunct host.os.type == "windows"'
    shipped = _run(214, scenarios)
    assert dropped in {m.description for m in shipped.killed}
    excused = Expectation("silent", "known-gap", "a deliberately weak entry", "test")
    weak = _run(214, scenarios, scenarios={**shipped_scenarios(), "non-windows-host": excused})
    survivor = next(s for s in weak.survivors if s.description == dropped)
    assert [(c.scenario, c.source, c.mutant_alerts) for c in survivor.changed_cells] == [
        ("non-windows-host", "endpoint", 1)
    ]
    assert survivor.reason.startswith("expectation too loose: alert counts change in non-windows-host")


def shipped_scenarios() -> dict[str, Expectation]:
    return dict(load_expectations(RULES / "iis_appcmd_password_dumped_v214.expect.toml").scenarios)


def test_changed_alert_counts_alone_do_not_kill(scenarios: list[dict[str, Any]]) -> None:
    # Without the name test, v220 alerts on the renamed copies its expectations list as
    # known gaps: the counts change, the verdict does not.
    report = _run(220, scenarios)
    survivor = report.survivors[0]
    assert survivor.changed_cells
    assert all(c.status == "known-gap" for c in survivor.changed_cells)
    assert not survivor.killed


def test_report_renders_and_serializes(scenarios: list[dict[str, Any]]) -> None:
    report = _run(214, scenarios)
    out = io.StringIO()
    print_mutation_report(report, Console(file=out, width=200))
    assert "21 of 25 mutants killed, score 84%" in out.getvalue()
    data = report.as_dict()
    assert (data["mutants"], data["killed"], data["score"]) == (25, 21, 0.84)
    assert [s["description"] for s in data["survivors"]] == V214_SURVIVORS


def test_mutate_command_reports_the_score_and_survivors() -> None:
    import json

    from click.testing import CliRunner

    from harness.cli import main

    rule = Path(__file__).resolve().parents[1] / "rules" / "iis_appcmd_password_dumped_v214.toml"
    result = CliRunner().invoke(main, ["mutate", str(rule), "--json", "--no-derived"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["killed"], report["mutants"]) == (21, 25)
    assert len(report["survivors"]) == 4
    table = CliRunner().invoke(main, ["mutate", str(rule), "--no-derived"])
    assert "21 of 25 mutants killed, score 84%" in table.stdout
    assert "both" not in table.stdout  # the catalogue alone: one score


def test_mutate_scores_the_catalogue_the_derived_scenarios_and_both() -> None:
    import json

    from click.testing import CliRunner

    from harness.cli import main

    rule = Path(__file__).resolve().parents[1] / "rules" / "iis_appcmd_password_dumped_v214.toml"
    report = json.loads(CliRunner().invoke(main, ["mutate", str(rule), "--json"]).stdout)
    assert report["suites"] == ["catalogue", "derived"]
    assert {name: s["killed"] for name, s in report["scores"].items()} == {
        "catalogue": 21,
        "derived": 23,
        "both": 23,
    }
    assert report["killed"] == 23  # the headline is what the whole suite catches
    by_derived_only = [m["description"] for m in report["killed_mutants"] if m["killed_by"] == ["derived"]]
    assert by_derived_only == [  # the near misses "lis" and "APPCMD.EXE" kill them
        'drop conjunct process.args : "list"',
        '"==" to ":" in ?process.pe.original_file_name == "appcmd.exe"',
    ]
    table = CliRunner().invoke(main, ["mutate", str(rule)]).stdout
    scores = "the catalogue: 21 of 25 (84%); the derived scenarios: 23 of 25 (92%); both: 23 of 25 (92%)"
    assert scores in table
