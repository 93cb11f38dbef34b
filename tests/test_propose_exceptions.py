"""``harness propose --exceptions``: items that remove a rule's false positives and hide no detection."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.app.analysis import ExceptionProposals, propose_exceptions
from harness.app.corpora import Corpus, open_for_rule
from harness.app.setup import prepare_rule
from harness.cli import main
from harness.eql import compile_query
from harness.eql.mapping import ECS
from harness.errors import UsageError
from harness.exception_candidates import candidate_entries, escape_wildcard
from harness.exception_proposals import Labelled, toml_copy_path, write_proposal
from harness.exception_proposals import propose_exceptions as cover
from harness.exceptions import ExceptionSet, Match, MatchAny, Wildcard, load_exceptions
from harness.exceptions.match import entry_matches
from harness.validation.runner import standing
from harness.vocabulary import Profile

ROOT = Path(__file__).resolve().parents[1]
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
SEQUENCE = ROOT / "rules" / "iis_webshell_appcmd_sequence.toml"
EVENTS = 20_000

# Kibana's import schemas for the lines of POST /api/exception_lists/_import (io-ts
# ``import_exception_list_schema`` and ``import_exception_item_schema``, both under exactCheck),
# and the summary line the export writes and the import drops (``filterExportedCounts``).
AUDIT = {"id", "created_at", "created_by", "updated_at", "updated_by", "_version", "tie_breaker_id", "meta"}
LIST_REQUIRED = {"description", "name", "type", "list_id"}
LIST_ALLOWED = LIST_REQUIRED | AUDIT | {"immutable", "namespace_type", "os_types", "tags", "version"}
ITEM_REQUIRED = {"description", "entries", "item_id", "list_id", "name", "type"}
ITEM_ALLOWED = ITEM_REQUIRED | AUDIT | {"comments", "namespace_type", "os_types", "tags", "expire_time"}
SUMMARY_KEYS = {
    "exported_exception_list_count",
    "exported_exception_list_item_count",
    "missing_exception_list_item_count",
    "missing_exception_list_items",
    "missing_exception_lists",
    "missing_exception_lists_count",
}
ENTRY_KEYS = {
    "match": {"field", "operator", "type", "value"},
    "match_any": {"field", "operator", "type", "value"},
    "wildcard": {"field", "operator", "type", "value"},
    "exists": {"field", "operator", "type"},
}


@pytest.fixture(scope="module")
def run() -> ExceptionProposals:
    return propose_exceptions(V214, Corpus(profile=Profile.FLEET, events=EVENTS))


@pytest.fixture(scope="module")
def fleet_alerts() -> list[dict[str, Any]]:
    setup = prepare_rule(V214)
    matcher = compile_query(setup.rule.query, engine="compiled")
    documents = open_for_rule(Corpus(profile=Profile.FLEET, events=EVENTS)).documents(setup.catalogue)
    return [d for d in documents if setup.scope.reads(d) and matcher.matches(d)]


def _kinds(alerts: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    scope = prepare_rule(V214).scope
    out: dict[str, list[dict[str, Any]]] = {"benign": [], "malicious": []}
    for alert in alerts:
        out.setdefault(standing(alert, scope).kind, []).append(alert)
    return out


def test_v214_on_a_fleet_proposes_the_monitoring_scripts_text_name(run: ExceptionProposals) -> None:
    proposal = run.proposal
    assert proposal.false_positives >= 1
    assert [m.item.entries for m in proposal.accepted] == [(Match("process.args", "/text:name"),)]
    assert proposal.removed == proposal.false_positives and proposal.left == ()
    assert (
        proposal.after == 0.0 and proposal.before == proposal.false_positives / proposal.benign_events * 1e6
    )
    assert all(m.lost == () for m in proposal.accepted)
    # Guarded: every malicious alert of the catalogue in every source, and every derived witness.
    assert proposal.guarded["catalogue"] > 100 and proposal.guarded["derived"] > 0
    # The catalogue's look-alikes of both monitoring scripts go too, though the fleet drew one of them.
    assert proposal.accepted[0].look_alikes_removed == proposal.look_alikes > 0


def test_a_tempting_item_on_the_process_name_is_refused_with_the_dumps_it_hides(
    run: ExceptionProposals,
) -> None:
    refused = {m.item.entries[0].field: m for m in run.proposal.refused}
    name = refused["process.name"]
    assert name.item.entries == (Match("process.name", "appcmd.exe"),)
    assert name.false_positives_removed == run.proposal.false_positives
    lost = {loss.scenario for loss in name.lost}
    assert {"appcmd-list-apppool-password", "appcmd-powerup-enumeration"} <= lost
    assert any(loss.origin == "derived" for loss in name.lost)
    assert {loss.source for loss in name.lost if loss.scenario == "appcmd-list-apppool-password"} >= {
        "endpoint",
        "sysmon-windows",
    }
    assert "process.args" in refused and refused["process.args"].lost  # "list" or the path: both dumps


def test_the_written_ndjson_round_trips_and_leaves_no_false_positive(
    run: ExceptionProposals, fleet_alerts: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "v214-exceptions.ndjson"
    toml_path = write_proposal(run.proposal, out)
    assert toml_path == tmp_path / "v214-exceptions.exceptions.toml" and toml_path.is_file()
    loaded = load_exceptions(out)
    assert loaded.items == run.proposal.exceptions.items
    assert load_exceptions(toml_path).items == loaded.items
    kinds = _kinds(fleet_alerts)
    assert kinds["benign"], "the fleet must hold the noise this test removes"
    kept = [alert for alert in fleet_alerts if not loaded.excludes(alert)]
    after = _kinds(kept)
    assert after["benign"] == []
    assert after["malicious"] == kinds["malicious"]


def test_the_ndjson_has_the_shape_kibanas_import_takes(run: ExceptionProposals, tmp_path: Path) -> None:
    out = tmp_path / "x.ndjson"
    write_proposal(run.proposal, out)
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n") and "\n\n" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    *data, summary = lines
    assert set(summary) == SUMMARY_KEYS
    lists = [x for x in data if "entries" not in x and "item_id" not in x]  # sortExceptionsStream
    items = [x for x in data if "entries" in x or "item_id" in x]
    assert len(lists) == summary["exported_exception_list_count"] == 1
    assert len(items) == summary["exported_exception_list_item_count"] == len(run.proposal.accepted)
    for exception_list in lists:
        assert LIST_REQUIRED <= set(exception_list) <= LIST_ALLOWED
        assert exception_list["type"] == "detection" and exception_list["immutable"] is False
    for item in items:
        assert ITEM_REQUIRED <= set(item) <= ITEM_ALLOWED
        assert item["type"] == "simple" and item["name"] and item["list_id"] == lists[0]["list_id"]
        assert item["entries"]
        for entry in item["entries"]:
            assert set(entry) == ENTRY_KEYS[entry["type"]]
            assert entry["operator"] in ("included", "excluded")
            value = entry.get("value", "x")
            assert all(isinstance(v, str) and v for v in (value if isinstance(value, list) else [value]))


def test_same_fleet_same_bytes(run: ExceptionProposals, tmp_path: Path) -> None:
    again = propose_exceptions(V214, Corpus(profile=Profile.FLEET, events=EVENTS))
    write_proposal(run.proposal, tmp_path / "a.ndjson")
    write_proposal(again.proposal, tmp_path / "b.ndjson")
    assert (tmp_path / "a.ndjson").read_bytes() == (tmp_path / "b.ndjson").read_bytes()
    assert (tmp_path / "a.exceptions.toml").read_bytes() == (tmp_path / "b.exceptions.toml").read_bytes()


def _process(args: list[str], user: str = "svc", parent: str = "cmd.exe") -> dict[str, Any]:
    return {
        "process": {
            "args": args,
            "command_line": " ".join(args),
            "name": "tool.exe",
            "parent": {"name": parent},
        },
        "user": {"name": user},
    }


def _labelled(origin: str, document: Mapping[str, Any], scenario: str = "s") -> Labelled:
    return Labelled(origin, scenario, "endpoint", document)


def _cover(fps: list[dict[str, Any]], guarded: list[dict[str, Any]]) -> Any:
    return cover(
        [_labelled("corpus", d, "noise") for d in fps],
        [_labelled("catalogue", d, "attack") for d in guarded],
        benign_events=1000,
        list_id="l",
        list_name="L",
    )


def test_no_false_positives_propose_nothing_and_write_nothing(tmp_path: Path) -> None:
    benign = {**_process(["appcmd", "list", "sites"]), "labels": {"scenario": "fleet-background"}}
    run = propose_exceptions(V214, Corpus(documents=[benign]))
    assert run.proposal.false_positives == 0 and run.proposal.accepted == ()
    assert run.proposal.exceptions.items == () and run.proposal.after == 0.0
    assert write_proposal(run.proposal, tmp_path / "none.ndjson") is None
    assert list(tmp_path.iterdir()) == []


def test_values_of_one_field_merge_into_one_match_any() -> None:
    fps = [_process(["a.exe", "/x:one"], user="u1"), _process(["a.exe", "/x:two"], user="u2")]
    guarded = [_process(["a.exe", "/x:three"], user="u1"), _process(["b.exe"], user="u2")]
    proposal = _cover(fps, guarded)
    assert [m.item.entries for m in proposal.accepted] == [(MatchAny("process.args", ("/x:one", "/x:two")),)]
    assert proposal.removed == 2 and proposal.accepted[0].lost == ()


def test_a_false_positive_no_single_entry_separates_gets_two_entries() -> None:
    fp = _process(["run.exe", "/q"], user="alice", parent="svc.exe")
    # Each of the noise's values is also an attack's, but not the account and the parent together.
    guarded = [
        _process(["run.exe", "/q"], user="alice", parent="cmd.exe"),
        _process(["run.exe", "/q"], user="bob", parent="svc.exe"),
    ]
    proposal = _cover([fp], guarded)
    (item,) = proposal.accepted
    assert len(item.item.entries) == 2 and item.lost == () and proposal.left == ()
    ids = ExceptionSet((item.item,))
    assert ids.excludes(fp) and not any(ids.excludes(g) for g in guarded)


def test_a_false_positive_nothing_separates_is_left_and_said() -> None:
    fp = _process(["run.exe"], user="alice")
    proposal = _cover([fp], [_process(["run.exe"], user="alice")])
    assert proposal.accepted == () and proposal.left == ("noise in endpoint",) and proposal.removed == 0


def test_a_command_line_wildcard_covers_every_spelling_of_the_program() -> None:
    def doc(program: str) -> dict[str, Any]:
        return {"process": {"command_line": program + r" list site /text:C:\x*"}}

    fps = [doc("appcmd"), doc(r"C:\Windows\System32\inetsrv\appcmd.exe"), doc('"C:\\a b\\appcmd.exe"')]
    proposal = _cover(fps, [{"process": {"command_line": "appcmd list site /text:*"}}])
    (item,) = proposal.accepted
    assert item.item.entries == (Wildcard("process.command_line", r"* list site /text:C:\\x\*"),)
    assert item.false_positives_removed == 3


def test_candidates_are_the_documents_own_values_on_keyword_fields() -> None:
    document = _process(["tool.exe", "/a?b"])
    found = candidate_entries(document, ECS)
    assert Match("process.args", "/a?b") in found and Match("user.name", "svc") in found
    assert Wildcard("process.command_line", "* /a\\?b") in found
    assert all(entry_matches(e, document, ECS, {}) for e in found)
    assert escape_wildcard("a\\*?") == "a\\\\\\*\\?"


def test_the_cli_writes_both_files_and_prints_the_table(tmp_path: Path) -> None:
    out = tmp_path / "v214-exceptions.ndjson"
    args = ["propose", str(V214), "--exceptions", "--events", str(EVENTS), "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert out.is_file() and (tmp_path / "v214-exceptions.exceptions.toml").is_file()
    assert '"/text:name"' in result.stdout and "proposed" in result.stdout and "refused" in result.stdout
    as_json = CliRunner().invoke(main, [*args[:-2], "--json"])
    data = json.loads(as_json.stdout)
    assert data["false_positives_per_million_after"] == 0.0
    assert data["accepted"][0]["item"]["entries"][0]["value"] == "/text:name"
    assert any(r["detections_lost"] for r in data["refused"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--exceptions", "--out", "x.json"], "X.ndjson"),
        (["--events", "10"], "only with --exceptions"),
        (["--exceptions", "--labels", "l.toml"], "--corpus FILE"),
        (["--exceptions", "--corpus", "c.ndjson", "--events", "5"], "drop them"),
        (["--exceptions", "--corpus", "c.ndjson", "--profile", "fleet"], "drop them"),
    ],
)
def test_bad_input_is_refused_with_what_to_do(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["propose", str(V214), *args])
    assert result.exit_code == 2 and message in result.output


def test_a_sequence_rule_and_the_scenarios_profile_are_refused() -> None:
    with pytest.raises(UsageError, match="single-event rules only"):
        propose_exceptions(SEQUENCE, Corpus(profile=Profile.FLEET, events=10))
    with pytest.raises(UsageError, match="look-alikes"):
        propose_exceptions(V214, Corpus(profile=Profile.SCENARIOS))
    with pytest.raises(UsageError, match=r"X\.ndjson"):
        toml_copy_path("out.json")


def test_a_labelled_log_on_disk_gives_the_proposal_the_generated_fleet_gives(
    run: ExceptionProposals, tmp_path: Path
) -> None:
    corpus = tmp_path / "fleet.ndjson"
    made = CliRunner().invoke(
        main, ["generate", "--profile", "fleet", "--events", str(EVENTS), "-o", str(corpus)]
    )
    assert made.exit_code == 0, made.output
    from_file = propose_exceptions(V214, Corpus(path=str(corpus)))
    assert from_file.proposal.exceptions.items == run.proposal.exceptions.items
    assert from_file.proposal.false_positives == run.proposal.false_positives


def test_a_full_stdout_is_no_traceback(tmp_path: Path) -> None:
    line = f"'{sys.executable}' -m harness propose '{V214}' --exceptions --events 300 --json >/dev/full"
    done = subprocess.run(["bash", "-c", line], check=False, capture_output=True, timeout=300, cwd=ROOT)
    assert b"Traceback" not in done.stderr
    assert done.returncode == 2 and b"No space left on device" in done.stderr  # a lost report is an error


def test_repeated_noise_is_judged_once_and_counted_every_time() -> None:
    # 40 runs of one script and 3 of another: each group judged by its first event, all counted.
    fps = [_process(["a.exe", "/x:one"], user="u1")] * 40 + [_process(["a.exe", "/x:two"], user="u2")] * 3
    proposal = _cover(fps, [_process(["a.exe", "/x:three"], user="u1"), _process(["b.exe"], user="u2")])
    assert proposal.removed == 43 and proposal.accepted[0].false_positives_removed == 43
    assert proposal.after == 0.0 and proposal.before == 43 / 1000 * 1e6
