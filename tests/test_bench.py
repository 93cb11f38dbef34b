"""``harness bench``: every engine timed on the same events, with the answers they gave."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

from harness import load_rule
from harness.bench import run_bench
from harness.cli import main
from harness.corpus import open_corpus

from bundled import APPCMD

ROOT = Path(__file__).resolve().parents[1]
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
V220 = ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml"


@pytest.fixture(scope="module")
def bench_rows() -> list[dict[str, Any]]:
    result = CliRunner().invoke(
        main, ["bench", str(V214), "--events", "3000", "--seed", "3", "--repeat", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_every_engine_is_timed_on_the_same_events(bench_rows: list[dict[str, Any]]) -> None:
    engines = [row["engine"] for row in bench_rows]
    assert engines == [
        "empty loop",
        "reference",
        "compiled",
        "columnar (duckdb)",
        "hand-written",
        "eql (peer)",
    ]
    assert {row["events"] for row in bench_rows} == {3000}
    assert bench_rows[0]["matches"] == 0
    assert bench_rows[0]["ratio_to_empty_loop"] == pytest.approx(1.0)


def test_engines_that_give_elasticsearchs_answer_agree(bench_rows: list[dict[str, Any]]) -> None:
    by_engine = {row["engine"]: row for row in bench_rows}
    counts = {by_engine[e]["matches"] for e in ("reference", "compiled", "columnar (duckdb)", "hand-written")}
    assert len(counts) == 1
    # The mixed profile carries a tenth of its events from the scenario catalogue: some dumps.
    assert counts.pop() > 0
    for engine in ("reference", "compiled", "columnar (duckdb)"):
        assert by_engine[engine]["events_per_second"] > 0
        assert by_engine[engine]["ratio_to_empty_loop"] > 0


def test_the_peer_is_reported_even_when_absent(bench_rows: list[dict[str, Any]]) -> None:
    peer = bench_rows[-1]
    if peer["matches"] is None:
        assert "pip install eql" in peer["note"]
        assert peer["ratio_to_eql"] is None
    else:
        assert peer["ratio_to_eql"] == pytest.approx(1.0)


def test_the_table_shows_ratios() -> None:
    result = CliRunner().invoke(main, ["bench", str(V214), "--events", "200", "--repeat", "1"])
    assert result.exit_code == 0, result.output
    assert "x empty loop" in result.stdout
    assert "hand-written" in result.stdout


def test_the_hand_written_baseline_comes_from_the_catalogue_for_its_version_only() -> None:
    v214, v220 = load_rule(V214), load_rule(V220)
    assert v214.rule_id is not None and v220.rule_id is not None
    assert (v214.rule_id, 214) in APPCMD.baselines
    assert (v220.rule_id, v220.version) not in APPCMD.baselines
    events = list(open_corpus(profile="mixed", events=300, seed=2, catalogue=APPCMD))
    rows = {
        r.engine: r
        for r in run_bench(v214, events, repeat=1, hand_written=APPCMD.baselines[(v214.rule_id, 214)])
    }
    matches = rows["hand-written"].matches
    assert matches is not None and matches == rows["reference"].matches and matches > 0
    without = {r.engine: r for r in run_bench(v220, events, repeat=1)}
    assert without["hand-written"].seconds is None and "catalogue" in without["hand-written"].note


def test_a_query_duckdb_cannot_run_is_reported_not_dropped() -> None:
    rule = load_rule(V214)
    scripted = dataclasses.replace(rule, query="process where length(process.name) > 3")
    events = list(open_corpus(profile="mixed", events=50, seed=1, catalogue=APPCMD))
    rows = run_bench(scripted, events, repeat=1, table=pa.table({"x": [1]}))
    columnar = next(r for r in rows if r.engine == "columnar (duckdb)")
    assert columnar.seconds is None and columnar.matches is None
    assert "cannot translate" in columnar.note
    reference = next(r for r in rows if r.engine == "reference")
    compiled = next(r for r in rows if r.engine == "compiled")
    assert reference.matches == compiled.matches


DLLHOST = (
    Path(__file__).resolve().parents[2]
    / "shared/data/rules/elastic/windows/defense_evasion_unusual_network_connection_via_dllhost.toml"
)
SEARCH_ENGINES = ["empty loop", "reference", "compiled", "duckdb"]
# On a fleet's process events (a week of them): a service host, then a browser, on one host within the hour.
CHAINED = (
    "sequence by host.id with maxspan=1h "
    '[process where process.name : "svchost.exe"] [process where process.name : "chrome.exe"]'
)
SAMPLED = (
    'sample by host.id [process where process.name : "cmd.exe"] [process where process.name == "chrome.exe"]'
)


@pytest.fixture(scope="module")
def sequence_rows() -> list[dict[str, Any]]:
    if not DLLHOST.exists():
        pytest.skip(f"{DLLHOST} is not on this machine")
    result = CliRunner().invoke(
        main,
        [
            "bench",
            str(DLLHOST),
            "--profile",
            "fleet",
            "--events",
            "3000",
            "--seed",
            "3",
            "--repeat",
            "1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_a_sequence_rule_is_searched_by_every_engine(sequence_rows: list[dict[str, Any]]) -> None:
    """Elastic's dllhost rule (cidrMatch in its second stage: SQL filters, the row engine finishes)."""
    assert [row["engine"] for row in sequence_rows] == SEARCH_ENGINES
    assert {row["events"] for row in sequence_rows} == {3000}
    assert {row["found"] for row in sequence_rows} == {"sequences"}
    by_engine = {row["engine"]: row for row in sequence_rows}
    assert by_engine["reference"]["ratio_to_reference"] == pytest.approx(1.0)
    assert len({by_engine[e]["matches"] for e in SEARCH_ENGINES[1:]}) == 1
    for engine in SEARCH_ENGINES[1:]:
        assert by_engine[engine]["events_per_second"] > 0
        assert by_engine[engine]["ratio_to_reference"] > 0


@pytest.mark.parametrize(("query", "found"), [(CHAINED, "sequences"), (SAMPLED, "samples")])
def test_every_engine_finds_the_same_sequences_on_a_fleet(query: str, found: str) -> None:
    from harness import app
    from harness.vocabulary import Profile

    rule = dataclasses.replace(load_rule(V214), query=query)
    rows = {r.engine: r for r in app.bench(rule, events=4000, profile=Profile.FLEET, seed=5, repeat=1)}
    assert list(rows) == SEARCH_ENGINES
    (count,) = {rows[engine].matches for engine in SEARCH_ENGINES[1:]}
    assert count is not None and count > 0
    assert {r.found for r in rows.values()} == {found}


def test_a_sequence_stage_duckdb_cannot_filter_on_is_reported_not_dropped() -> None:
    from harness.bench import sequence_bench

    rule = dataclasses.replace(
        load_rule(V214), query="sequence [process where length(process.name) > 3] [process where true]"
    )
    events = [
        {"@timestamp": ms, "event": {"category": "process"}, "process": {"name": name}}
        for ms, name in enumerate(["cmd.exe", "a", "svchost.exe", "b"])
    ]
    rows = {r.engine: r for r in sequence_bench(rule, events, pa.Table.from_pylist(events), repeat=1)}
    assert rows["duckdb"].seconds is None and "cannot translate" in rows["duckdb"].note
    assert rows["reference"].matches == rows["compiled"].matches == 2


def test_the_sequence_table_shows_ratios_to_the_reference(tmp_path: Path) -> None:
    rule = tmp_path / "chained.eql"
    rule.write_text(CHAINED, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["bench", str(rule), "--profile", "fleet", "--events", "500", "--repeat", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "x reference" in result.stdout and "sequences" in result.stdout


@pytest.mark.spark
def test_spark_searches_a_sequence_rule_on_the_same_events(spark: Any, tmp_path: Path) -> None:
    from harness.bench import sequence_bench

    rule = dataclasses.replace(load_rule(V214), query=CHAINED)
    import pyarrow.parquet as pq

    from generators.corpus import write_corpus
    from generators.profiles import CorpusOptions

    write_corpus(CorpusOptions("fleet", 3000, 5), tmp_path / "fleet.parquet")
    table = pq.read_table(tmp_path / "fleet.parquet")
    events = list(open_corpus(profile="fleet", events=3000, seed=5))
    rows = sequence_bench(rule, events, table, repeat=1, spark=spark)
    assert rows[-1].engine.startswith("spark") and rows[-1].seconds is not None
    (count,) = {r.matches for r in rows[1:]}
    assert count is not None and count > 0


def test_a_sequence_rule_on_parquet_files_is_searched_by_every_engine(tmp_path: Path) -> None:
    from generators.corpus import write_corpus
    from generators.profiles import CorpusOptions

    write_corpus(CorpusOptions("fleet", 3000, 5), tmp_path / "fleet.parquet")
    rule = tmp_path / "chained.eql"
    rule.write_text(CHAINED, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["bench", str(rule), "--corpus", str(tmp_path / "fleet.parquet"), "--repeat", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["engine"] for row in rows] == SEARCH_ENGINES
    (count,) = {row["matches"] for row in rows[1:]}
    assert count > 0
