"""Candidate rule changes from known gaps, measured on the catalogue and on fleet background."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness import compile_query, load_rule
from harness.cli import main
from harness.corpus import open_corpus
from harness.proposals import Proposal, _without_subsumed, propose
from harness.validation import default_expectations_path, load_expectations

from bundled import APPCMD

ROOT = Path(__file__).resolve().parents[1]
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
V220 = ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml"


@pytest.fixture(scope="module")
def catalogue() -> list[dict[str, Any]]:
    return list(open_corpus(profile="scenarios", seed=7, catalogue=APPCMD))


@pytest.fixture(scope="module")
def fleet() -> list[dict[str, Any]]:
    return list(open_corpus(profile="fleet", events=20_000, seed=7, catalogue=APPCMD))


def _propose(rule_path: Path, catalogue: list[dict[str, Any]], fleet: list[dict[str, Any]]) -> list[Proposal]:
    found = default_expectations_path(rule_path)
    assert found is not None
    return propose(load_rule(rule_path).query, load_expectations(found), catalogue, fleet)


def test_v214_proposals_are_the_flag_spellings_it_misses(
    catalogue: list[dict[str, Any]], fleet: list[dict[str, Any]]
) -> None:
    proposals = _propose(V214, catalogue, fleet)
    baseline, *singles, together = proposals
    assert baseline.description == "the rule as it is" and baseline.newly_detected == ()
    added = [p.description.split("'")[1] for p in singles]
    assert added == ["/@t*", "-text*", "/config*", "/xml*", "/section*"]  # '/@text*' is under '/@t*'
    for proposal in singles:
        assert proposal.detection_rate is not None and baseline.detection_rate is not None
        assert proposal.detection_rate > baseline.detection_rate
        assert proposal.newly_detected
    section = singles[-1]
    assert section.new_noise == ("admin-list-config (6 sources)",)
    assert together.description.startswith("add all of")
    assert together.detection_rate == max(p.detection_rate or 0 for p in proposals)


def test_a_proposal_is_a_query_that_does_what_it_says(
    catalogue: list[dict[str, Any]], fleet: list[dict[str, Any]]
) -> None:
    dash = next(p for p in _propose(V214, catalogue, fleet) if "'-text*'" in p.description)
    matcher = compile_query(dash.query)
    dumps = [e for e in catalogue if e["labels"]["scenario"] == "appcmd-dash-text"]
    assert dumps and all(
        matcher.matches(e) for e in dumps if e["labels"]["source"] != "security-4688-nocmdline"
    )
    assert dash.newly_detected == ("appcmd-dash-text (6 sources)",)


def test_widening_v220_to_any_text_flag_costs_the_monitoring_noise(
    catalogue: list[dict[str, Any]], fleet: list[dict[str, Any]]
) -> None:
    proposals = {p.description.split("'")[1]: p for p in _propose(V220, catalogue, fleet)[1:-1]}
    assert proposals["/text*"].new_noise == (
        "monitor-list-apppools-text-name (6 sources)",
        "monitor-list-site-text-name (6 sources)",
    )
    assert proposals["/xml*"].new_noise == ()
    assert proposals["/text*"].false_positives_per_million is not None
    assert proposals["/text*"].false_positives_per_million > (
        proposals["/xml*"].false_positives_per_million or 0
    )


def test_subsumed_and_case_variant_patterns_are_dropped() -> None:
    assert _without_subsumed(["/@text*", "/@t*", "-text*", "/@t*"]) == ["/@t*", "-text*"]


def test_propose_command_prints_json() -> None:
    result = CliRunner().invoke(main, ["propose", str(V214), "--fleet-events", "2000", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["description"] == "the rule as it is"
    assert {"query", "detection_rate", "false_positives_per_million", "new_noise"} <= set(rows[1])


def test_a_pattern_under_not_is_never_widened(
    catalogue: list[dict[str, Any]], fleet: list[dict[str, Any]]
) -> None:
    found = default_expectations_path(V214)
    assert found is not None
    query = load_rule(V214).query + ' and not process.args : "/xml"'
    proposals = propose(query, load_expectations(found), catalogue, fleet)
    assert all('"/xml"' not in p.description.split(" to ", 1)[-1] for p in proposals[1:])
    assert all((p.detection_rate or 0) >= (proposals[0].detection_rate or 0) for p in proposals)
