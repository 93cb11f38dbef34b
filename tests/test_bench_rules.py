"""``harness bench --rules``: rule sets timed as whole validations, their copies, ratios, JSON and plot."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_cli import run

from harness import app
from harness.app.benchmarks import bench_rules, rule_set_sizes
from harness.app.rule_copies import copy_rules, distinct_query
from harness.bench_plot import rules_bench_svg
from harness.bench_rules import RulesBench, RuleSetRun, rules_bench_json
from harness.corpus import open_corpus
from harness.eql import Sequence, compile_query, parse_statement
from harness.errors import UsageError
from harness.rule_paths import expand_rule_paths
from harness.rules import load_rule
from harness.validation.reports.json import result_dict
from harness.validation.table_scan import TableScan

from bundled import APPCMD
from shared_rules import ELASTIC_RULES

RULES = Path(__file__).resolve().parents[1] / "rules"
V214 = RULES / "iis_appcmd_password_dumped_v214.toml"
SEQUENCE = RULES / "iis_webshell_appcmd_sequence.toml"


def test_sizes_read_all_as_the_rules_given_and_always_hold_the_baseline() -> None:
    assert rule_set_sizes([10, "all", 200, 10], 45) == [1, 10, 45, 200]
    assert rule_set_sizes(["all"], 1) == [1]
    for bad in (0, -3, "most", True):
        with pytest.raises(UsageError, match="positive number or 'all'"):
            rule_set_sizes([bad], 4)


def test_a_copy_is_a_different_query_with_the_same_verdicts() -> None:
    original = load_rule(V214).query
    copied = distinct_query(original, 7)
    assert copied.endswith('or process.name : "bench-copy-7.exe"')
    assert str(parse_statement(copied)) != str(parse_statement(original))
    # The scan of a Parquet corpus counts one query per distinct text: a copy is counted apart.
    assert len(TableScan([original, copied, distinct_query(original, 8)]).queries) == 3
    documents = list(open_corpus(catalogue=APPCMD))  # the scenarios: the dumps and their look-alikes
    before, after = compile_query(original), compile_query(copied)
    assert [before.matches(d) for d in documents] == [after.matches(d) for d in documents]
    assert any(before.matches(d) for d in documents)


def test_a_sequence_is_widened_in_every_stage_and_its_until() -> None:
    original = parse_statement(load_rule(SEQUENCE).query)
    copied = parse_statement(distinct_query(load_rule(SEQUENCE).query, 3))
    assert isinstance(original, Sequence) and isinstance(copied, Sequence)
    # why: the pass over many rules judges a stage text once for every rule holding it; a copy
    # sharing its original's later stages would cost less than a rule of its own
    pairs = list(zip(original.stages, copied.stages, strict=True))
    assert all(str(was.query) != str(now.query) for was, now in pairs)
    assert all('process.name : "bench-copy-3.exe"' in str(now.query) for _, now in pairs)
    until = parse_statement(
        distinct_query("sequence [process where true] [file where true] until [process where false]", 1)
    )
    assert isinstance(until, Sequence) and until.until is not None
    assert "bench-copy-1.exe" in str(until.until.query)


def test_copies_are_distinct_rules_that_load_and_judge_as_their_originals(tmp_path: Path) -> None:
    sources = [V214, SEQUENCE]
    copies = copy_rules(sources, 5, tmp_path)
    assert [path.name for path in copies] == sorted(path.name for path in copies)  # path order: copy order
    loaded = [load_rule(path) for path in copies]
    originals = {load_rule(path).rule_id for path in sources}
    assert len({rule.rule_id for rule in loaded} | originals) == 7
    assert len({rule.name for rule in loaded}) == 5
    assert len({rule.query for rule in loaded}) == 5
    assert loaded[2].name == f"{load_rule(V214).name} (bench copy 2)"
    # The expectations travel with the copy, naming it: same catalogue, no warning.
    setup = app.prepare_rule(copies[0])
    assert setup.catalogue is not None and setup.catalogue.name == "appcmd"
    assert setup.notices == []
    for source, copy in zip(sources, copies, strict=False):
        want, got = (result_dict(app.validate(path, derived=False).result) for path in (source, copy))
        for key in ("rule", "corpus"):
            want.pop(key), got.pop(key)
        assert got == want


def test_an_eql_file_is_copied_and_a_markdown_page_is_refused(tmp_path: Path) -> None:
    eql = RULES / "iis_appcmd_password_dumped_v214.eql"
    (copy,) = copy_rules([eql], 1, tmp_path)
    assert load_rule(copy).query.strip() == distinct_query(load_rule(eql).query, 0)
    page = tmp_path / "page.md"
    page.write_text("# A rule page\n")
    with pytest.raises(UsageError, match=r"page\.md: copies are made of TOML, \.eql and Sigma rules only"):
        copy_rules([page], 1, tmp_path)


def test_the_baseline_is_the_first_single_event_rule(tmp_path: Path) -> None:
    shutil.copy(SEQUENCE, tmp_path / "a_sequence.toml")
    shutil.copy(V214, tmp_path / "b_single.toml")
    bench = bench_rules([tmp_path], events=300, sizes=[1], formats=["ndjson"])
    assert bench.baseline == str(tmp_path / "b_single.toml")
    only_sequences = tmp_path / "only"
    only_sequences.mkdir()
    shutil.copy(SEQUENCE, only_sequences / "a.toml")
    with pytest.raises(UsageError, match="no single-event rule"):
        bench_rules([only_sequences], events=300, sizes=[1], formats=["ndjson"])


@pytest.fixture(scope="module")
def bench() -> RulesBench:
    return bench_rules([RULES], events=600, seed=3, sizes=[1, 2, "all", 6])


def test_every_size_runs_on_every_format_with_ratios_to_one_rule(bench: RulesBench) -> None:
    assert [(run.fmt, run.rules, run.kind) for run in bench.runs] == [
        (fmt, rules, kind)
        for fmt in ("parquet", "ndjson")
        for rules, kind in (
            (1, "given"),
            (2, "given"),
            (len(expand_rule_paths([RULES])), "given"),
            (6, "copies"),
        )
    ]
    assert bench.baseline == str(RULES / "iis_appcmd_password_dumped_v214.eql")  # the first, single-event
    for timed in bench.runs:
        base = bench.one_rule(timed.fmt)
        assert base is not None and bench.ratio(timed) == pytest.approx(timed.seconds / base.seconds)
        assert timed.seconds_per_rule == pytest.approx(timed.seconds / timed.rules)
        assert 0 <= timed.corpus_seconds <= timed.seconds
        assert timed.errors == 0
    assert bench.events == 600 and bench.seed == 3 and bench.repeat == 1


def test_json_names_the_baseline_and_each_run(bench: RulesBench) -> None:
    document = json.loads(rules_bench_json(bench))
    assert document["baseline_rule"] == bench.baseline
    assert document["events"] == 600
    assert "first N rules in path order" in document["subsets"]
    assert set(document["corpora"]) == {"parquet", "ndjson"}
    one, *_, largest = document["runs"]
    assert one["ratio_to_one_rule"] == 1.0
    assert set(largest) == {
        "format",
        "rules",
        "set",
        "seconds",
        "seconds_per_rule",
        "corpus_seconds",
        "ratio_to_one_rule",
        "failed",
        "errors",
    }
    assert (largest["format"], largest["rules"], largest["set"]) == ("ndjson", 6, "copies")


def test_the_plot_has_a_line_per_format_and_a_point_per_run(bench: RulesBench) -> None:
    svg = rules_bench_svg(bench, "a title")
    assert svg.startswith("<svg xmlns=") and svg.rstrip().endswith("</svg>")
    assert re.findall(r'<g class="series" data-format="(\w+)"', svg) == ["parquet", "ndjson"]
    points = re.findall(r'<circle data-format="(\w+)" data-rules="(\d+)" data-seconds="([\d.]+)"', svg)
    assert [(fmt, int(rules)) for fmt, rules, _ in points] == [(r.fmt, r.rules) for r in bench.runs]
    assert [float(seconds) for *_, seconds in points] == [round(r.seconds, 3) for r in bench.runs]


def test_the_plot_puts_more_seconds_higher() -> None:
    runs = (
        RuleSetRun("parquet", 1, "given", 1.0, 0.5, 0, 0),
        RuleSetRun("parquet", 10, "given", 4.0, 0.5, 0, 0),
    )
    svg = rules_bench_svg(RulesBench("r.toml", {"parquet": "generated"}, 10, 1, 1, runs), "t")
    (low, high) = (float(y) for y in re.findall(r'cy="([\d.]+)"', svg))
    assert high < low  # SVG's y grows downwards
    assert "4.00x one rule" in svg


def test_the_cli_writes_json_and_the_plot(tmp_path: Path) -> None:
    plot = tmp_path / "plot.svg"
    code, out, err = run(
        "bench", "--rules", str(V214), "--rules", str(SEQUENCE), "--events", "300", "--sizes", "1,all",
        "--formats", "ndjson", "--json", "--plot", str(plot),
    )  # fmt: skip
    assert code == 0, err
    document = json.loads(out)
    assert [(r["format"], r["rules"]) for r in document["runs"]] == [("ndjson", 1), ("ndjson", 2)]
    assert 'data-format="ndjson"' in plot.read_text()


def test_the_cli_runs_on_corpus_files_given(tmp_path: Path) -> None:
    corpus = tmp_path / "fleet.ndjson"
    assert run("generate", "--profile", "fleet", "--events", "300", "--out", str(corpus))[0] == 0
    code, out, err = run("bench", "--rules", str(V214), "--corpus", str(corpus), "--sizes", "3", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["corpora"] == {"ndjson": str(corpus)} and document["events"] is None
    assert {r["rules"]: r["set"] for r in document["runs"]} == {1: "given", 3: "copies"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([str(V214), "--rules", str(RULES)], "give RULE, --rules PATH"),
        ([], "give RULE, --rules PATH"),
        (["--rules", str(RULES), "--profile", "fleet"], "--profile: not an option"),
        ([str(V214), "--plot", "x.svg"], "--plot: not an option"),
        ([str(V214), "--corpus", "a.parquet", "--corpus", "b.parquet"], "one --corpus"),
        (["--rules", str(RULES), "--sizes", "1,ten"], "--sizes takes positive numbers"),
        (["--rules", str(RULES), "--formats", "csv"], "--formats takes parquet and ndjson, not csv"),
        (["--rules", str(RULES), "--formats", ","], "--formats needs a comma-separated list"),
        (["--rules", str(RULES), "--corpus", "f.parquet", "--formats", "ndjson"], "each file's format"),
        (["--rules", str(RULES), "--corpus", "missing.parquet"], "missing.parquet: no such file"),
        (["--rules", str(RULES), "--corpus", "f.csv"], "unknown corpus format"),
        (["--rules", "no/such/rules/"], "no/such/rules"),
    ],
)
def test_bad_input_is_one_clear_line(args: list[str], message: str, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run("bench", *args)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert out == ""


def test_two_corpus_files_of_one_format_are_refused(tmp_path: Path) -> None:
    for name in ("a.ndjson", "b.ndjson"):
        (tmp_path / name).write_text("")
    with pytest.raises(UsageError, match="a second ndjson corpus"):
        bench_rules([V214], corpora=[tmp_path / "a.ndjson", tmp_path / "b.ndjson"])


@pytest.mark.skipif(not ELASTIC_RULES.is_dir(), reason="needs ../shared/data/rules/elastic")
def test_two_hundred_copies_of_elastics_rules_load_as_distinct_rules(tmp_path: Path) -> None:
    from harness.rule_paths import expand_rule_paths

    rules = expand_rule_paths([ELASTIC_RULES])
    copies = copy_rules(rules, 200, tmp_path)
    loaded = [load_rule(path) for path in expand_rule_paths([tmp_path])]
    assert len(loaded) == 200
    assert len({rule.rule_id for rule in loaded}) == 200
    assert len({rule.query for rule in loaded}) == 200
    assert not {rule.rule_id for rule in loaded} & {load_rule(path).rule_id for path in rules}
    for copy, source in zip(copies, rules * 5, strict=False):
        original, copied = load_rule(source), load_rule(copy)
        assert copied.indices == original.indices and copied.interval == original.interval
        assert copied.threat == original.threat
