"""Exceptions through validation: every engine gives the same result with a rule's exceptions.

The rule's alerts are its matches among the events no exception item excludes (Kibana's
``must_not`` filter in the EQL search); what the items removed is kept beside them, so reports
show the rule with and without its exceptions, and an exception that removes a malicious alert
fails the run unless the expectations accept the silence.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generators.catalogues import get_catalogue
from generators.corpus import write_corpus
from generators.profiles import CorpusOptions
from harness import app
from harness.app.setup import NO_EXCEPTIONS
from harness.cli import main
from harness.exceptions import load_exceptions
from harness.schedule import Simulation
from harness.validation.exception_effect import exception_effect
from harness.validation.reports import to_json, to_junit, to_markdown

ROOT = Path(__file__).resolve().parents[1]
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
SEQUENCE = ROOT / "rules" / "iis_webshell_appcmd_sequence.toml"

TEXT_NAME = """\
[list]
list_id = "v214-exceptions"
name = "v214 exceptions"

[[item]]
name = "Monitoring scripts"
description = "Reads the app pool names, no password"

[[item.entry]]
field = "process.args"
type = "match"
value = "/text:name"
"""

ALL_APPCMD = """\
[[item]]
name = "Every appcmd"
description = "hides every dump"

[[item.entry]]
field = "process.name"
type = "match"
value = "appcmd.exe"
"""


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A mixed corpus (fleet background, the monitoring look-alike, attacks) as NDJSON and Parquet."""
    folder = tmp_path_factory.mktemp("exceptions")
    options = CorpusOptions("mixed", 6_000, attack_rate=5_000.0, catalogue=get_catalogue("appcmd"))
    paths = {"ndjson": folder / "mixed.ndjson", "parquet": folder / "mixed.parquet"}
    for path in paths.values():
        write_corpus(options, path)
    (folder / "text_name.exceptions.toml").write_text(TEXT_NAME)
    (folder / "appcmd.exceptions.toml").write_text(ALL_APPCMD)
    paths["text_name"] = folder / "text_name.exceptions.toml"
    paths["appcmd"] = folder / "appcmd.exceptions.toml"
    return paths


def _cells(result: Any) -> dict[tuple[str, str], tuple[int, int, int]]:
    return {key: (c.events, c.alerts, c.removed) for key, c in result.cells.items()}


ENGINES = [("ndjson", "reference"), ("ndjson", "compiled"), ("parquet", "duckdb"), ("parquet", "auto")]


@pytest.mark.parametrize("which", ["text_name", "appcmd"])
def test_every_engine_gives_the_same_result_with_exceptions(corpora: dict[str, Path], which: str) -> None:
    runs = {
        engine: app.validate(V214, corpora[kind], engine=engine, derived=False, exceptions=corpora[which])
        for kind, engine in ENGINES
    }
    assert runs["auto"].engine == "duckdb"  # the exceptions went into DuckDB's scan, no fallback
    reference = runs["reference"].result
    for engine, run in runs.items():
        assert _cells(run.result) == _cells(reference), engine
        effect, expected = exception_effect(run.result), exception_effect(reference)
        assert effect is not None and expected is not None
        assert effect.as_dict() == expected.as_dict(), engine  # per item too: DuckDB counts each item


def test_an_exception_removes_the_false_positives_and_loses_no_detection(corpora: dict[str, Path]) -> None:
    without = app.validate(V214, corpora["parquet"], derived=False, exceptions=NO_EXCEPTIONS).result
    run = app.validate(V214, corpora["parquet"], derived=False, exceptions=corpora["text_name"])
    result, effect = run.result, exception_effect(run.result)
    assert without.false_positives > 0 and exception_effect(without) is None
    assert effect is not None
    assert result.false_positives == 0
    assert effect.false_positives_before == without.false_positives
    assert effect.per_million_before == pytest.approx(without.false_positives_per_million)
    assert effect.per_million_after == 0.0
    assert result.true_positives == without.true_positives  # the same detection
    assert effect.detections_lost == 0 and not effect.hides_detections
    (item,) = effect.per_item
    assert (item.name, item.false_positives, item.detections) == (
        "Monitoring scripts",
        without.false_positives,
        0,
    )
    assert result.violations == [] or all(v.kind != "hidden by exception" for v in result.violations)


def test_an_exception_that_hides_the_dumps_fails_the_run(corpora: dict[str, Path]) -> None:
    without = app.validate(V214, corpora["ndjson"], derived=True, exceptions=NO_EXCEPTIONS).result
    run = app.validate(V214, corpora["ndjson"], derived=True, exceptions=corpora["appcmd"])
    effect = exception_effect(run.result)
    assert effect is not None and effect.hides_detections
    assert not run.passed
    lost = {(h.scenario, h.source) for h in effect.hidden if not h.accepted}
    hidden = {(v.scenario, v.source) for v in run.result.violations if v.kind == "hidden by exception"}
    assert lost and hidden == lost
    assert effect.detections_lost == without.true_positives - run.result.true_positives
    # Derived witnesses name appcmd.exe too: each one lost is a derived violation.
    assert effect.derived_lost
    assert run.result.derived is not None and not run.result.derived.passed
    # Every format says so.
    document = json.loads(to_json(run.result))
    assert document["exceptions"]["hides_detections"] is True
    assert "hidden by exception" in {v["kind"] for v in document["violations"]}
    assert 'classname="exceptions"' in to_junit(run.result) and "HIDES DETECTIONS" in to_junit(run.result)
    assert "| false positives |" in to_markdown(run.result)


def test_expectations_that_accept_the_silence_accept_the_exception(
    tmp_path: Path, corpora: dict[str, Path]
) -> None:
    """A scenario the expectations expect silent (or mark a known gap) may be hidden: shown, not failed."""
    rule = tmp_path / V214.name
    shutil.copy(V214, rule)
    expect = (V214.with_suffix("").with_suffix(".expect.toml")).read_text()
    scenarios = ["appcmd-list-apppool-password"]
    expect += "".join(
        f'\n[scenarios.{name}]\nexpect = "silent"\nstatus = "known-gap"\nreason = "excepted"\n'
        for name in scenarios
    )
    (tmp_path / "iis_appcmd_password_dumped_v214.expect.toml").write_text(expect)
    run = app.validate(rule, corpora["ndjson"], derived=False, exceptions=corpora["appcmd"])
    effect = exception_effect(run.result)
    assert effect is not None
    accepted = {h.scenario for h in effect.hidden if h.accepted}
    assert accepted == set(scenarios)
    assert all(v.scenario not in scenarios for v in run.result.violations)


def test_the_sidecar_is_the_rules_own_and_no_exceptions_ignores_it(
    tmp_path: Path, corpora: dict[str, Path]
) -> None:
    rule = tmp_path / V214.name
    shutil.copy(V214, rule)
    shutil.copy(V214.with_suffix("").with_suffix(".expect.toml"), tmp_path)
    (tmp_path / "iis_appcmd_password_dumped_v214.exceptions.toml").write_text(TEXT_NAME)
    run = app.validate(rule, corpora["parquet"], derived=False)
    assert any("the rule's own" in notice for notice in run.notices)
    assert run.result.false_positives == 0 and exception_effect(run.result) is not None
    ignored = app.validate(rule, corpora["parquet"], derived=False, exceptions=NO_EXCEPTIONS)
    assert ignored.result.false_positives > 0 and exception_effect(ignored.result) is None
    # Many rules: each takes its own sidecar, and is judged alone (not in the shared scan).
    many = app.validate_many([rule, V214], corpora["parquet"], derived=False)
    by_path = {Path(r.path).resolve(): r.validation for r in many.runs}  # runs are in path order
    own, plain = by_path[rule.resolve()], by_path[V214.resolve()]
    assert own is not None and plain is not None
    assert own.result.false_positives == 0 and plain.result.false_positives > 0
    assert _cells(own.result) == _cells(run.result)


def test_a_rule_export_picks_each_rules_lists_by_rule_id(tmp_path: Path, corpora: dict[str, Path]) -> None:
    from harness.rules import load_rule

    rule_id = load_rule(V214).rule_id
    lines = [
        {
            "rule_id": "someone-else",
            "exceptions_list": [{"id": "x", "list_id": "other", "type": "detection"}],
        },
        {"rule_id": rule_id, "exceptions_list": [{"id": "y", "list_id": "v214", "type": "detection"}]},
        {"list_id": "v214", "name": "v214", "description": "d", "type": "detection"},
        {
            "item_id": "monitoring",
            "list_id": "v214",
            "name": "Monitoring scripts",
            "description": "d",
            "type": "simple",
            "entries": [
                {"field": "process.args", "type": "match", "operator": "included", "value": "/text:name"}
            ],
        },
        {"list_id": "other", "name": "other", "description": "d", "type": "detection"},
        {
            "item_id": "everything",
            "list_id": "other",
            "name": "Every appcmd",
            "description": "d",
            "type": "simple",
            "entries": [
                {"field": "process.name", "type": "match", "operator": "included", "value": "appcmd.exe"}
            ],
        },
        {"exported_count": 6},
    ]
    export = tmp_path / "rules_export.ndjson"
    export.write_text("".join(json.dumps(line) + "\n" for line in lines))
    run = app.validate(V214, corpora["parquet"], derived=False, exceptions=export)
    effect = exception_effect(run.result)
    assert effect is not None and [i.name for i in effect.per_item] == ["Monitoring scripts"]
    assert effect.detections_lost == 0 and run.result.false_positives == 0


def test_a_sequence_searched_without_its_excepted_events(corpora: dict[str, Path]) -> None:
    """An excepted event fills no stage: the sequence it completed is gone, in both engines."""
    stage_two = load_exceptions(corpora["appcmd"])
    rows = app.validate(SEQUENCE, corpora["ndjson"], engine="compiled", derived=False, exceptions=stage_two)
    auto = app.validate(SEQUENCE, corpora["parquet"], derived=False, exceptions=stage_two)
    plain = app.validate(
        SEQUENCE, corpora["ndjson"], engine="compiled", derived=False, exceptions=NO_EXCEPTIONS
    )
    assert plain.result.sequences is not None and plain.result.sequences.found > 0
    assert rows.result.sequences is not None and rows.result.sequences.found == 0
    assert _cells(auto.result) == _cells(rows.result)
    assert any("row engine" in notice for notice in auto.notices)  # DuckDB's candidate scan fell back
    # Every event of a sequence it took apart is counted removed, the shell as well as the dump.
    removed = sum(c.removed for c in rows.result.cells.values())
    in_sequences = sum(c.alerts for c in plain.result.cells.values())
    assert removed == in_sequences


def test_simulate_never_alerts_on_excepted_events(corpora: dict[str, Path]) -> None:
    plain = app.simulate(V214, corpora["ndjson"], exceptions=NO_EXCEPTIONS)
    excepted = app.simulate(V214, corpora["ndjson"], exceptions=corpora["appcmd"])
    assert plain.excepted is None and excepted.excepted is not None
    assert isinstance(plain.result, Simulation) and isinstance(excepted.result, Simulation)
    assert excepted.result.matching_events == plain.result.matching_events - excepted.excepted
    assert excepted.excepted > 0
    assert any("before the schedule" in notice for notice in excepted.notices)


def test_diff_applies_each_versions_exceptions(corpora: dict[str, Path]) -> None:
    v220 = ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml"
    rows = app.diff(
        V214, v220, corpora["ndjson"], engine="compiled", derived=False, exceptions=corpora["appcmd"]
    )
    table = app.diff(V214, v220, corpora["parquet"], derived=False, exceptions=corpora["appcmd"])
    assert rows.result is not None and table.result is not None
    assert table.engine == "duckdb"
    for change in rows.result.changes.values():
        # Both versions lose every appcmd.exe match: neither alerts on what the item names.
        assert change.old_alerts <= change.events and change.new_alerts <= change.events
    shape = {k: (c.old_alerts, c.new_alerts) for k, c in rows.result.changes.items()}
    assert shape == {k: (c.old_alerts, c.new_alerts) for k, c in table.result.changes.items()}


def test_the_cli_takes_exceptions_and_reports_a_bad_file_where_it_is(
    tmp_path: Path, corpora: dict[str, Path]
) -> None:
    runner = CliRunner()
    base = ["validate", str(V214), "--corpus", str(corpora["parquet"]), "--no-derived"]
    kept = runner.invoke(main, [*base, "--exceptions", str(corpora["text_name"]), "--format", "json"])
    assert kept.exit_code in (0, 1), kept.output
    document = json.loads(kept.stdout)
    assert document["exceptions"]["false_positives_after"] == 0
    assert document["exceptions"]["detections_lost"] == 0
    hidden = runner.invoke(main, [*base, "--exceptions", str(corpora["appcmd"])])
    assert hidden.exit_code == 1 and "HIDES DETECTIONS" in hidden.stdout
    bad = tmp_path / "bad.exceptions.toml"
    bad.write_text(
        '[[item]]\nname = "x"\ndescription = "y"\n\n[[item.entry]]\nfield = "process.name"\ntype = "bogus"\n'
    )
    broken = runner.invoke(main, [*base, "--exceptions", str(bad)])
    assert broken.exit_code == 2
    assert str(bad) in broken.output
    both = runner.invoke(main, [*base, "--exceptions", str(bad), "--no-exceptions"])
    assert both.exit_code == 2 and "not both" in both.output
