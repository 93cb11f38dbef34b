"""The application layer: what the CLI prints is what a Python caller gets, and a rule is judged only
on what it reads and on its own catalogue's scenarios."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from junitparser import JUnitXml

from harness import Corpus, diff, validate
from harness.cli import main
from harness.errors import NoCatalogueError
from harness.validation.reports import to_junit, to_markdown
from harness.validation.reports.json import result_dict
from harness.vocabulary import DEFAULT_SEED, Profile

ROOT = Path(__file__).resolve().parents[1]
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
V220 = ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml"
SHARED_RULES = ROOT.parent / "shared" / "data" / "rules" / "elastic"
ENDPOINT = "logs-endpoint.events.process-*"


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def endpoint_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Version 214 reading only Elastic Defend's process data stream, with v214's expectations."""
    folder = tmp_path_factory.mktemp("endpoint")
    text = re.sub(r"index = \[[^\]]*\]", f'index = ["{ENDPOINT}"]', V214.read_text(encoding="utf-8"))
    (folder / "v214_endpoint.toml").write_text(text, encoding="utf-8")
    shutil.copy(V214.with_name(V214.stem + ".expect.toml"), folder / "v214_endpoint.expect.toml")
    return folder / "v214_endpoint.toml"


def test_the_library_gives_the_clis_result() -> None:
    code, out, _ = _cli("validate", str(V214), "--format", "json")
    run = validate(V214)
    assert code == (0 if run.passed else 1)
    assert json.loads(out) == json.loads(json.dumps(result_dict(run.result)))
    assert run.engine == "compiled"


def test_every_command_defaults_to_the_one_seed() -> None:
    assert validate(V214).result.corpus == f"profile scenarios (seed {DEFAULT_SEED})"
    assert DEFAULT_SEED == 7  # the README's figures are printed with it


def test_a_rule_reading_one_data_stream_is_scored_on_it_alone(endpoint_only: Path) -> None:
    result = validate(endpoint_only).result
    assert {cell.source for cell in result.cells.values()} == {"endpoint"}
    read = {s.name: s.read for s in result.sources.values()}
    assert read.pop("endpoint") is True
    assert len(read) == 6 and not any(read.values())
    assert all(v.source == "endpoint" for v in result.violations)
    everywhere = validate(V214).result
    assert result.unread_events == everywhere.events - result.events > 0
    endpoint_cells = {k: (c.events, c.alerts) for k, c in everywhere.cells.items() if k[1] == "endpoint"}
    assert {k: (c.events, c.alerts) for k, c in result.cells.items()} == endpoint_cells


def test_reports_say_which_sources_the_rule_reads(endpoint_only: Path) -> None:
    result = validate(endpoint_only).result
    sources = result_dict(result)["sources"]
    assert {s["name"] for s in sources if s["read"]} == {"endpoint"}
    assert all(set(s) >= {"name", "index", "read"} for s in sources)
    markdown = to_markdown(result)
    assert "| endgame | `endgame-4.59.0-000001` | not read |" in markdown
    junit = to_junit(result)
    assert 'name="source endgame" value="not read: endgame-4.59.0-000001' in junit
    suite = next(iter(JUnitXml.fromstring(junit)))
    assert all(case.name == "endpoint" for case in suite if case.classname != "budgets")


def test_duckdb_scores_the_same_sources_as_the_row_engine(endpoint_only: Path, tmp_path: Path) -> None:
    path = tmp_path / "mixed.parquet"
    assert _cli("generate", "--profile", "mixed", "--events", "4000", "-o", str(path))[0] == 0
    sql = validate(endpoint_only, path)
    rows = validate(endpoint_only, path, engine="compiled")
    assert sql.engine == "duckdb" and rows.engine == "compiled"
    assert result_dict(sql.result)["metrics"] == result_dict(rows.result)["metrics"]
    assert result_dict(sql.result)["sources"] == result_dict(rows.result)["sources"]
    assert result_dict(sql.result)["cells"] == result_dict(rows.result)["cells"]


def test_diff_judges_each_version_on_its_own_indices(endpoint_only: Path) -> None:
    result = diff(V214, endpoint_only).result
    assert result is not None  # a catalogue's scenarios were compared
    # Everything v214 caught outside Defend, the endpoint-only copy cannot see: newly missed there.
    assert result.changed and all(c.source != "endpoint" for c in result.changed)
    assert all(c.new_alerts == 0 for c in result.changed)
    assert {name for (name, _), (_, old, new) in result.sources.items() if old and not new} >= {"endgame"}


def test_a_rule_no_catalogue_covers_is_not_scored_on_another_rules_scenarios(tmp_path: Path) -> None:
    rule = tmp_path / "vssadmin.toml"
    shutil.copy(V214, rule)  # no .expect.toml beside it: nothing binds it to a catalogue
    run = validate(rule)  # its derived scenarios, never the AppCmd catalogue
    assert not run.result.corpus_run and not run.result.cells and run.result.derived is not None
    with pytest.raises(NoCatalogueError, match="no scenario catalogue covers this rule"):
        validate(rule, derived=False)
    code, out, err = _cli("validate", str(rule), "--no-derived")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--catalogue NAME" in err
    with pytest.raises(NoCatalogueError, match="no scenario catalogue covers this rule"):
        validate(rule, Corpus(profile=Profile.SCENARIOS))  # asked for by name: it would be another rule's
    assert validate(rule, catalogue="appcmd").result.judged > 0  # the user asked


@pytest.mark.shared
@pytest.mark.skipif(not SHARED_RULES.is_dir(), reason="needs ../shared/data/rules/elastic")
@pytest.mark.parametrize(
    "name",
    [
        "windows/impact_volume_shadow_copy_deletion_or_resized_via_vssadmin.toml",
        "windows/defense_evasion_unusual_system_vp_child_program.toml",
        "windows/credential_access_iis_apppoolsa_pwd_appcmd.toml",
    ],
)
def test_elastics_rules_without_a_catalogue_are_judged_on_their_derived_scenarios(name: str) -> None:
    code, out, err = _cli("validate", str(SHARED_RULES / name))
    assert code in (0, 1) and "appcmd-" not in out + err
    assert "judged on its derived scenarios" in out and "derived, per source" in out
    code, _, err = _cli("validate", str(SHARED_RULES / name), "--no-derived")
    assert code == 2 and err.count("\n") == 1 and "no scenario catalogue covers this rule" in err


def test_a_labelled_corpus_needs_no_catalogue(tmp_path: Path) -> None:
    rule = tmp_path / "bare.toml"
    shutil.copy(V214, rule)
    result = validate(rule, ROOT / "corpora" / "scenarios-seed7.ndjson").result
    assert result.judged > 0 and result.scope.catalogue is None


def _labelled(scenario: str, intent: str, args: list[str]) -> dict[str, Any]:
    return {
        "event": {"category": "process", "type": "start"},
        "host": {"os": {"type": "windows"}, "name": "web01"},
        "process": {"name": "appcmd.exe", "args": args},
        "labels": {"scenario": scenario, "intent": intent, "source": "endpoint", "role": "target"},
    }


def test_another_techniques_attacks_are_neither_detections_nor_misses() -> None:
    documents = [
        _labelled("appcmd-list-apppool-text-star", "malicious", ["appcmd", "list", "apppool", "/text:*"]),
        _labelled("vssadmin-delete-shadows", "malicious", ["appcmd", "list", "apppool", "/text:*"]),
        _labelled("vssadmin-delete-shadows", "malicious", ["vssadmin", "delete", "shadows"]),
        _labelled("backup-software", "benign", ["appcmd", "list", "apppool", "/text:name"]),
    ]
    result = validate(V214, Corpus(documents=documents)).result
    assert (result.other_technique_events, result.other_technique_alerts) == (2, 1)
    assert (result.true_positives, result.false_negatives, result.false_positives) == (1, 0, 1)
    assert result.alerts == 3 and result.events == 4
    assert result_dict(result)["metrics"]["other_technique_events"] == 2


def test_without_a_catalogue_a_known_catalogues_attacks_are_another_techniques(tmp_path: Path) -> None:
    rule = tmp_path / "bare.toml"  # no expectations beside it: no catalogue
    shutil.copy(V214, rule)
    dump = ["appcmd", "list", "apppool", "/text:*"]
    documents = [
        _labelled("appcmd-list-apppool-text-star", "malicious", dump),  # the appcmd catalogue's
        _labelled("appcmd-at-t", "malicious", ["appcmd", "list", "apppool", "/@t:*"]),  # ditto, silent
        _labelled("my-own-dump", "malicious", dump),  # a label no catalogue holds: the rule's
    ]
    result = validate(rule, Corpus(documents=documents)).result
    # why: a generated corpus carries one catalogue's attacks; a rule of no catalogue (another
    # technique) was being scored as missing them; only labels of the corpus's own are its own
    assert (result.other_technique_events, result.other_technique_alerts) == (2, 1)
    assert (result.true_positives, result.false_negatives) == (1, 0)
    named = validate(rule, Corpus(documents=documents), catalogue="appcmd").result
    assert named.other_technique_events == 1 and named.false_negatives == 1  # my-own-dump; appcmd-at-t


def test_a_fleet_without_a_catalogue_is_background_only() -> None:
    from generators.profiles import CorpusOptions, corpus_launches

    launches = [launch for launch, _ in corpus_launches(CorpusOptions(Profile.FLEET, events=2_000))]
    assert len(launches) == 2_000
    assert {launch.label.scenario for launch in launches} == {"fleet-background"}


def test_another_catalogues_benign_events_are_pooled_in_one_cell(tmp_path: Path) -> None:
    rule = tmp_path / "bare.toml"  # no expectations beside it: no catalogue
    shutil.copy(V214, rule)
    documents = [
        _labelled("admin-add-site", "benign", ["appcmd", "add", "site", "/name:shop"]),  # appcmd's
        _labelled("monitor-list-apppools-text-name", "benign", ["appcmd", "list", "apppool", "/text:*"]),
        _labelled("my-own-admin", "benign", ["appcmd", "list", "apppool", "/text:*"]),  # the corpus's own
        _labelled("fleet-background", "benign", ["appcmd", "list", "site"]),
    ]
    result = validate(rule, Corpus(documents=documents)).result
    # why: a fleet corpus holds the appcmd catalogue's benign scenarios; a rule of no catalogue
    # listed them as rows of its own. They are still its noise: counted, in one pooled cell.
    cells = {key: (cell.events, cell.alerts) for key, cell in result.cells.items()}
    assert cells == {
        ("other-benign", "endpoint"): (2, 1),
        ("my-own-admin", "endpoint"): (1, 1),
        ("fleet-background", "endpoint"): (1, 0),
    }
    assert result.false_positives == 2 and result.background_events == 1
    pooled = result.cells[("other-benign", "endpoint")]
    assert pooled.example_alert is not None and pooled.example_alert["labels"]["scenario"].startswith(
        "monitor-"
    )
    assert (
        pooled.example_silent is not None and pooled.example_silent["labels"]["scenario"] == "admin-add-site"
    )
    named = validate(rule, Corpus(documents=documents), catalogue="appcmd").result
    assert {scenario for scenario, _ in named.cells} == {
        "admin-add-site",
        "monitor-list-apppools-text-name",
        "my-own-admin",
        "fleet-background",
    }


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_every_engine_pools_another_catalogues_benign_events_alike(tmp_path: Path, engine: str) -> None:
    rule = tmp_path / "appcmd_anything.toml"  # no catalogue; alerts on every AppCmd event
    text = V214.read_text(encoding="utf-8")
    start = text.index("query = '''") + len("query = '''")
    end = text.index("'''", start)
    rule.write_text(
        text[:start] + '\nprocess where process.name : "appcmd.exe"\n' + text[end:], encoding="utf-8"
    )
    fleet = tmp_path / "fleet.parquet"
    code, _, err = _cli(
        "generate", "--profile", "fleet", "--events", "20000", "--seed", "3", "--out", str(fleet)
    )
    assert code == 0, err
    compiled = validate(rule, fleet, engine="compiled").result
    other = validate(rule, fleet, engine=engine).result
    assert ("other-benign", "endpoint") in compiled.cells
    assert {scenario for scenario, _ in compiled.cells} <= {"other-benign", "fleet-background"}
    assert result_dict(other)["cells"] == result_dict(compiled)["cells"]
    assert [v.example for v in other.violations] == [v.example for v in compiled.violations]
    assert any(v.scenario == "other-benign" and v.example is not None for v in compiled.violations)
