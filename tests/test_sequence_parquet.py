"""Sequence, sample and piped rules on Parquet: DuckDB's candidate scan gives the row runner's result.

The corpus is a folder of two Parquet files (so rows are numbered across files): a generated
fleet with the catalogue's scenarios, and the chains derived from each of Elastic's
multi-event rules (their witnesses and near misses, some left unlabelled), so that every
rule finds sequences, misses some and sees events it does not read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import harness.corpus
from harness import app
from harness.app.derived import derived_suite
from harness.app.setup import prepare_rule
from harness.cli import main
from harness.eql import Query, parse_query, parse_statement
from harness.errors import UsageError
from harness.rule_paths import expand_rule_paths
from harness.rules import Rule, load_rule
from harness.timestamps import epoch_ms
from harness.validation import sequence_table

from shared_rules import multi_event_rules, single_event_rules

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [
    path
    for path in expand_rule_paths([ROOT / "rules"])
    if not isinstance(parse_statement(load_rule(path).query), Query)
]
ELASTIC = multi_event_rules()
INDEX = "logs-endpoint.events.process-*"


def _rule(tmp_path: Path, name: str, query: str) -> Rule:
    """A rule with no file of its own, so no expectations: every scenario judged by its intent."""
    return Rule(name, query, "eql", str(tmp_path / f"{name}.toml"), indices=(INDEX,))


def _shifted(document: dict[str, Any], by: int) -> dict[str, Any]:
    ms = epoch_ms(document["@timestamp"])
    assert ms is not None
    moved = datetime.fromtimestamp((ms + by) / 1000, UTC).isoformat(timespec="milliseconds")
    return {**document, "@timestamp": moved.replace("+00:00", "Z")}


def _chains() -> list[dict[str, Any]]:
    """Every derived chain document of Elastic's multi-event rules, each case an hour of its own (a
    day per rule), the canonical ones in an index their rule reads; one rule's left unlabelled."""
    documents: list[dict[str, Any]] = []
    for number, path in enumerate(ELASTIC):
        setup = prepare_rule(path)
        index = setup.rule.indices[0].replace("*", "default")
        for hour, case in enumerate(derived_suite(setup).cases, start=number * 24):
            for rendering in case.renderings:
                for document in rendering.events:
                    moved = _shifted(document, hour * 3_600_000)
                    if rendering.source == "query":  # the statement's own reading, in no source's index
                        moved["_index"] = index
                    if number == 1:
                        moved.pop("labels", None)  # real telemetry: no labels, its alerts listed
                    documents.append(moved)
    return documents


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("seqscan")
    generated = folder.parent / "mixed.parquet"
    result = CliRunner().invoke(
        main,
        [
            "generate",
            "--profile",
            "mixed",
            "--events",
            "6000",
            "--attack-rate",
            "5000",
            "--out",
            str(generated),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = pq.read_table(generated).to_pylist() + _chains()
    table = pa.Table.from_struct_array(pa.array(rows))
    half = table.num_rows // 2
    pq.write_table(table.slice(0, half), folder / "1.parquet", row_group_size=1000)
    pq.write_table(table.slice(half), folder / "2.parquet", row_group_size=1000)
    return folder


def _both(rule: Rule | Path, corpus: Path) -> tuple[app.Validation, app.Validation]:
    scanned = app.validate(rule, str(corpus), derived=False)
    searched = app.validate(rule, str(corpus), derived=False, engine="compiled")
    return scanned, searched


@pytest.mark.parametrize("path", [*SHIPPED, *ELASTIC], ids=lambda path: path.stem)
def test_a_multi_event_rule_on_parquet_gets_the_row_runners_result_from_duckdb(
    path: Path, corpus: Path
) -> None:
    scanned, searched = _both(path, corpus)
    assert scanned.engine == "duckdb" and searched.engine == "compiled"
    assert scanned.result.sequences is not None and scanned.result.sequences.found > 0
    # why: every field, examples and each sequence's attribution included, is the row runner's
    assert scanned.result == searched.result


@pytest.mark.skipif(not ELASTIC, reason="Elastic's rules (../shared) are not on this machine")
def test_the_corpus_exercises_what_the_result_holds(corpus: Path) -> None:
    results = [app.validate(path, str(corpus), derived=False).result for path in ELASTIC]
    assert any(r.unlabelled_alert_count and r.unlabelled_alerts for r in results)
    assert any(r.sequences is not None and r.sequences.malicious for r in results)
    assert any(r.false_negatives for r in results)  # near misses and fleet events in no sequence
    assert any(r.unread_events for r in results)


@pytest.mark.parametrize(
    "query",
    [
        # A stage SQL holds in part: the rest judged on the candidate's document.
        'sequence by host.id [process where process.name : "cmd.exe" and length(process.command_line) > 0] '
        '[process where process.name : "appcmd.exe"]',
        'sequence by host.id with maxspan=1m [process where process.name : "cmd.exe"] '
        '![process where process.name : "whoami.exe"] [process where process.name : "appcmd.exe"]',
        'sequence by host.id [process where process.name : "w3wp.exe"] [process where true] '
        'until [process where process.name : "conhost.exe"]',
        'sample by host.id [process where process.name : "cmd.exe"] '
        '[process where process.name : "appcmd.exe"]',
        'process where process.name : "appcmd.exe" | tail 7',
    ],
    ids=["residual", "missing-event", "until", "sample", "piped"],
)
def test_each_statement_shape_on_parquet_matches_the_row_runner(
    query: str, corpus: Path, tmp_path: Path
) -> None:
    scanned, searched = _both(_rule(tmp_path, "shape", query), corpus)
    assert scanned.engine == "duckdb"
    assert scanned.result.sequences is not None and scanned.result.sequences.found > 0
    assert scanned.result == searched.result


def test_only_the_documents_a_result_shows_are_decoded(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_: Any) -> Any:
        raise AssertionError("the corpus was read row by row")

    decoded: list[int] = []
    documents = sequence_table._Numbered.documents

    def counted(self: Any, positions: list[int]) -> Any:
        decoded.extend(positions)
        return documents(self, positions)

    monkeypatch.setattr(harness.corpus, "_parquet", refused)
    monkeypatch.setattr(sequence_table._Numbered, "documents", counted)
    result = app.validate(SHIPPED[0], str(corpus), derived=False).result
    assert result.sequences is not None and result.sequences.found > 0
    # why: the examples and the first sequences' events, a few dozen of the corpus's thousands
    assert 0 < len(decoded) <= 2 * 20 + 2 * len(result.cells) + 20
    assert len(decoded) < result.events / 20


def _split(tmp_path: Path, first: list[dict[str, Any]], second: list[dict[str, Any]]) -> Path:
    folder = tmp_path / "split"
    folder.mkdir()
    for name, rows in (("1.parquet", first), ("2.parquet", second)):
        pq.write_table(pa.Table.from_pylist(rows), folder / name)
    return folder


def _event(name: str) -> dict[str, Any]:
    return {
        "@timestamp": "2026-11-02T10:00:00.000Z",  # one instant: only the order of the rows decides
        "event": {"category": ["process"]},
        "host": {"id": "h1", "name": "h1"},
        "process": {"name": name},
        "_index": "logs-endpoint.events.process-default",
        "labels": {"scenario": "chain", "intent": "malicious", "source": "endpoint", "role": "target"},
    }


@pytest.mark.parametrize(
    ("first", "second", "found"),
    [(["x.exe", "b.exe"], ["a.exe"], 0), (["x.exe", "a.exe"], ["b.exe"], 1)],
    ids=["b-file-before-a", "a-file-before-b"],
)
def test_rows_are_numbered_across_files_as_the_row_runner_reads_them(
    first: list[str], second: list[str], found: int, tmp_path: Path
) -> None:
    query = (
        'sequence by host.id [process where process.name == "a.exe"] [process where process.name == "b.exe"]'
    )
    folder = _split(tmp_path, [_event(n) for n in first], [_event(n) for n in second])
    scanned, searched = _both(_rule(tmp_path, "order", query), folder)
    assert scanned.result.sequences is not None
    # why: with equal timestamps the implicit tiebreaker is the row's place in the whole corpus
    assert scanned.result.sequences.found == found
    assert scanned.result == searched.result


def test_a_stage_duckdb_cannot_filter_on_falls_back_with_a_notice(corpus: Path, tmp_path: Path) -> None:
    query = "sequence by host.id [process where length(process.command_line) > 1] [process where true]"
    fallen = app.validate(_rule(tmp_path, "long", query), str(corpus), derived=False)
    assert fallen.engine == "compiled"
    assert any("SQL engine cannot run this query" in notice for notice in fallen.notices)


def test_a_stage_duckdb_cannot_filter_on_is_refused_when_duckdb_was_asked_for(
    corpus: Path, tmp_path: Path
) -> None:
    from harness.errors import EqlUnsupportedError

    query = "sequence by host.id [process where length(process.command_line) > 1] [process where true]"
    with pytest.raises(EqlUnsupportedError):
        app.validate(_rule(tmp_path, "long", query), str(corpus), derived=False, engine="duckdb")


@pytest.mark.parametrize(
    ("engine", "where"),
    [("duckdb", lambda corpus: [_event("a.exe")]), ("spark", str)],
    ids=["duckdb-on-documents", "spark"],
)
def test_a_sql_engine_that_cannot_search_is_refused_by_name(
    engine: str, where: Callable[[Path], Any], corpus: Path, tmp_path: Path
) -> None:
    rule = _rule(tmp_path, "seq", "sequence by host.id [process where true] [process where true]")
    with pytest.raises(UsageError, match="row engines"):
        app.validate(rule, where(corpus), derived=False, engine=engine)


def test_a_column_that_hides_duckdbs_row_numbers_falls_back(tmp_path: Path) -> None:
    rows = [{**_event("a.exe"), "filename": "x"}, {**_event("b.exe"), "filename": "y"}]
    rows[1]["@timestamp"] = "2026-11-02T10:00:01.000Z"
    path = tmp_path / "named.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    rule = _rule(
        tmp_path, "seq", 'sequence by host.id [process where process.name == "a.exe"] [process where true]'
    )
    validation = app.validate(rule, str(path), derived=False)
    assert validation.engine == "compiled"
    assert any("'filename'" in notice for notice in validation.notices)
    assert validation.result.sequences is not None and validation.result.sequences.found == 1


def _partly_sql(corpus: Path) -> list[Path]:
    """Elastic's single-event rules DuckDB holds only in part on this corpus (``length``, ``substring``)."""
    from harness.errors import EqlUnsupportedError
    from harness.validation.columnar_runner import condition_for
    from harness.validation.tables import DuckDbTable

    table, found = DuckDbTable(str(corpus)), []
    for path in single_event_rules():
        try:
            condition_for(table, parse_query(load_rule(path).query))
        except EqlUnsupportedError:
            found.append(path)
    return found


@pytest.mark.skipif(not ELASTIC, reason="Elastic's rules (../shared) are not on this machine")
def test_single_event_rules_duckdb_holds_in_part_get_the_row_runners_result(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    partly = _partly_sql(corpus)
    # why: the sample's three (length() and substring() are scripts in Elasticsearch, not SQL)
    assert {path.stem for path in partly} >= {
        "defense_evasion_dll_hijack",
        "defense_evasion_suspicious_msiexec_execution",
        "persistence_via_hidden_run_key_valuename",
    }
    searched = [app.validate(path, str(corpus), derived=False, engine="compiled") for path in partly]

    def refused(*_: Any) -> Any:
        raise AssertionError("the corpus was read row by row")

    monkeypatch.setattr(harness.corpus, "_parquet", refused)
    for path, alone in zip(partly, searched, strict=True):
        scanned = app.validate(path, str(corpus), derived=False)
        assert scanned.engine == "duckdb" and scanned.result.sequences is None
        assert scanned.result == alone.result


@pytest.mark.parametrize(
    "query",
    [
        'process where process.name : ("cmd.exe", "appcmd.exe") and length(process.command_line) > 30',
        'process where process.name : "appcmd.exe" and not length(process.command_line) > 30',
        'process where process.name : "appcmd.exe" and (length(process.command_line) < 20 or '
        'process.args : "list")',
        # an or over the whole condition: each disjunct's expressible part, ORed, picks the candidates
        'process where (process.name : ("cmd.exe", "appcmd.exe") and length(process.command_line) > 30) '
        'or process.name : "bench-copy-1.exe"',
    ],
    ids=["residual", "negated", "residual-disjunct", "widened"],
)
def test_a_single_event_condition_sql_holds_in_part_is_judged_on_its_candidates(
    query: str, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.sql import stages

    monkeypatch.setattr(stages, "_BATCH", 7)  # the candidates' documents fetched a few at a time
    scanned, searched = _both(_rule(tmp_path, "part", query), corpus)
    assert scanned.engine == "duckdb" and scanned.result.sequences is None
    assert 0 < scanned.result.alerts < scanned.result.events
    # why: every field, examples and unlabelled alerts included, is the row runner's
    assert scanned.result == searched.result


def test_a_single_event_condition_sql_holds_nothing_of_falls_back_with_a_notice(
    corpus: Path, tmp_path: Path
) -> None:
    rule = _rule(tmp_path, "long", "process where length(process.command_line) > 30")
    fallen = app.validate(rule, str(corpus), derived=False)
    assert fallen.engine == "compiled"
    assert any("SQL engine cannot run this query" in notice for notice in fallen.notices)
