"""``harness validate RULE...``: a rule repository in one run, on one corpus read once."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import generators.corpus
from harness import app
from harness.app import validate_many
from harness.cli import main
from harness.errors import UsageError
from harness.rule_paths import expand_rule_paths, names_one_rule
from harness.validation.reports.json import result_dict
from harness.vocabulary import Profile

from shared_rules import ELASTIC_RULES

RULES = Path(__file__).resolve().parents[1] / "rules"
V214 = RULES / "iis_appcmd_password_dumped_v214.toml"
V220 = RULES / "iis_appcmd_password_dumped_v220.toml"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _tree(root: Path) -> Path:
    """A rule folder as detection-rules lays one out, with the files that are not rules beside them."""
    for name in ("a/one.toml", "a/one.expect.toml", "a/b/two.md", "a/b/three.eql", "a/notes.txt"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    (root / "version.lock.json").write_text("{}")
    return root


def _copy(rule: Path, folder: Path, *, expectations: Path | None = None) -> Path:
    """``rule`` copied into ``folder`` with its expectations (or ``expectations`` in their place)."""
    folder.mkdir(parents=True, exist_ok=True)
    copied = Path(shutil.copy(rule, folder / rule.name))
    source = expectations or rule.with_name(rule.stem + ".expect.toml")
    text = source.read_text().replace(f'rule = "{source.stem.removesuffix(".expect")}.toml"', "")
    (folder / (rule.stem + ".expect.toml")).write_text(text)
    return copied


# -- discovery --------------------------------------------------------------------------


def test_a_folder_gives_its_rules_recursively_and_no_expectations_or_lock_file(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    found = [p.relative_to(root).as_posix() for p in expand_rule_paths([root])]
    # why: a detection-rules folder holds .expect.toml and version.lock.json beside the rules
    assert found == ["a/b/three.eql", "a/b/two.md", "a/one.toml"]


def test_a_glob_gives_the_rules_it_matches(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    found = expand_rule_paths([f"{root}/**/*.toml"])
    assert [p.name for p in found] == ["one.toml"]  # one.expect.toml matches the glob, and is no rule


def test_a_rule_named_twice_is_validated_once(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    found = expand_rule_paths([root / "a" / "one.toml", root, f"{root}/a/*.toml", root / "a" / ".." / "a"])
    assert [p.name for p in found] == ["three.eql", "two.md", "one.toml"]


@pytest.mark.parametrize("given", ["missing.toml", "nothing/*.toml", "empty"])
def test_a_path_naming_no_rule_is_refused(tmp_path: Path, given: str) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no rule file matches"):
        expand_rule_paths([tmp_path / "a.toml", tmp_path / given] if given != "empty" else [tmp_path / given])


def test_one_rule_is_a_file_or_a_missing_path_and_never_a_folder_or_glob(tmp_path: Path) -> None:
    assert names_one_rule([str(V214)])
    assert names_one_rule([str(tmp_path / "missing.toml")])  # loading it says what is wrong, as before
    assert not names_one_rule([str(RULES)])
    assert not names_one_rule([f"{RULES}/*.toml"])
    assert not names_one_rule([str(V214), str(V220)])


# -- the application layer --------------------------------------------------------------


def test_each_rule_gets_what_its_own_validation_gives_it() -> None:
    many = validate_many([RULES])
    assert [Path(r.path).name for r in many.runs] == sorted(p.name for p in expand_rule_paths([RULES]))
    for ran in many.runs:
        alone = app.validate(ran.path)
        assert ran.validation is not None
        # why: sharing the corpus must change nothing of a rule's result (corpus description included)
        assert result_dict(ran.validation.result) == result_dict(alone.result)
    assert many.exit_code == 0 and many.corpus == "profile scenarios (seed 7)"


@pytest.mark.parametrize("profile", [None, "fleet"])
def test_the_corpus_is_generated_once_for_every_rule(
    monkeypatch: pytest.MonkeyPatch, profile: str | None
) -> None:
    calls = []
    generate = generators.corpus.iter_documents

    def counted(options: Any) -> Iterator[dict[str, Any]]:
        calls.append(options)
        return generate(options)

    monkeypatch.setattr(generators.corpus, "iter_documents", counted)
    corpus = app.Corpus(profile=None if profile is None else Profile(profile), events=800)
    many = validate_many([RULES], corpus)
    assert len(many.runs) == 5 and len(calls) == 1  # five rules of one catalogue: one corpus
    events = {r.validation.result.events for r in many.runs if r.validation is not None}
    assert len(events) == 1 and events.pop() > 0  # every rule read the same documents


def test_documents_handed_in_as_an_iterator_reach_every_rule() -> None:
    documents = list(generators.corpus.iter_documents(_options()))
    many = validate_many([V214, V220], iter(documents))  # an iterator is read once, then shared
    assert [r.validation.result.events if r.validation else None for r in many.runs] == [len(documents)] * 2


def _options() -> Any:
    from generators.catalogues import get_catalogue
    from generators.profiles import CorpusOptions

    return CorpusOptions("scenarios", None, 7, catalogue=get_catalogue("appcmd"))


def test_a_broken_rule_is_its_own_error_and_the_others_still_run(tmp_path: Path) -> None:
    _copy(V220, tmp_path)
    (tmp_path / "broken.toml").write_text("[rule\nquery = ")
    many = validate_many([tmp_path])
    broken, good = many.runs
    assert broken.error is not None and broken.validation is None and "broken.toml" in broken.path
    assert good.passed and many.exit_code == 2


def test_a_failing_rule_fails_the_run(tmp_path: Path) -> None:
    _copy(V220, tmp_path)
    # v214 judged by v220's expectations: its false positives break them
    _copy(V214, tmp_path, expectations=V220.with_name(V220.stem + ".expect.toml"))
    many = validate_many([tmp_path])
    assert [r.passed for r in many.runs] == [False, True] and many.exit_code == 1


# -- the command ------------------------------------------------------------------------


def test_the_command_on_the_repositorys_rules() -> None:
    code, out, _ = run("validate", str(RULES))
    assert code == 0
    assert "5 passed, 0 failed, 0 error" in out
    for name in ("v214.eql", "v214.toml", "v220.toml", "sequence.toml", "dumped.yml"):
        assert name in out.replace("\n", "").replace("│", "").replace(" ", "")


def test_json_is_an_array_of_one_object_per_rule(tmp_path: Path) -> None:
    _copy(V220, tmp_path)
    (tmp_path / "broken.toml").write_text("[rule\n")
    code, out, err = run("validate", str(tmp_path), "--format", "json")
    assert code == 2 and "broken.toml" in err  # exit 2 names the rule file
    rules = json.loads(out)
    assert [Path(r["path"]).name for r in rules] == ["broken.toml", V220.name]
    assert [r["status"] for r in rules] == ["error", "passed"]
    assert rules[0]["result"] is None and rules[0]["error"]
    assert rules[1]["result"]["rule"]["version"] == 220 and rules[1]["result"]["passed"] is True
    assert rules[1]["error"] is None and rules[1]["seconds"] >= 0


def test_junit_has_one_testsuite_per_rule(tmp_path: Path) -> None:
    _copy(V220, tmp_path)
    _copy(V214, tmp_path, expectations=V220.with_name(V220.stem + ".expect.toml"))
    out = tmp_path / "report.xml"
    code, _, _ = run("validate", str(tmp_path / "*.toml"), "--format", "junit", "-o", str(out))
    assert code == 1
    suites = ET.parse(out).getroot()
    per_rule = suites.findall("testsuite")
    assert [s.get("file", "").rsplit("/", 1)[-1] for s in per_rule] == [V214.name, V220.name]
    failures = [int(s.get("failures", "0")) for s in per_rule]
    assert failures[0] > 0 and failures[1] == 0
    assert int(suites.get("failures", "0")) == sum(failures)
    assert all(int(s.get("tests", "0")) == len(s.findall("testcase")) for s in per_rule)


def test_markdown_puts_failing_rules_first(tmp_path: Path) -> None:
    _copy(V220, tmp_path)
    _copy(V214, tmp_path / "z", expectations=V220.with_name(V220.stem + ".expect.toml"))
    code, out, _ = run("validate", str(tmp_path), "--format", "markdown")
    assert code == 1
    assert out.index("## " + str(tmp_path / "z" / V214.name)) < out.index("## " + str(tmp_path / V220.name))


def test_detail_adds_each_rules_report() -> None:
    _, summary, _ = run("validate", str(V214), str(V220))
    _, detail, _ = run("validate", str(V214), str(V220), "--detail")
    assert detail.count("false positives per million") > summary.count("false positives per million")


def test_expectations_name_one_rule() -> None:
    code, _, err = run("validate", str(V214), str(V220), "--expect", str(V220.with_suffix(".expect.toml")))
    assert code == 2 and "--expect" in err


@pytest.mark.skipif(not ELASTIC_RULES.is_dir(), reason="../shared is absent")
def test_elastics_rules_in_one_run_on_a_fleet() -> None:
    code, out, err = run(
        "validate", str(ELASTIC_RULES), "--profile", "fleet", "--events", "5000", "--format", "json"
    )
    assert "Traceback" not in err
    rules = json.loads(out)
    assert len(rules) == len(expand_rule_paths([ELASTIC_RULES]))
    statuses = {r["status"] for r in rules}
    assert code == (2 if "error" in statuses else 1 if "failed" in statuses else 0)


@pytest.fixture(scope="module")
def fleet_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "fleet.parquet"
    code, _, err = run("generate", "--profile", "mixed", "--events", "3000", "--out", str(path))
    assert code == 0, err
    return path


def _recorded_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement DuckDB tables run from now on (``monkeypatch.undo()`` stops the recording)."""
    from harness.validation.tables import DuckDbTable

    statements: list[str] = []
    rows = DuckDbTable.rows

    def counted(self: DuckDbTable, statement: str, what: str = "a query") -> list[tuple[Any, ...]]:
        statements.append(statement)
        return rows(self, statement, what)

    monkeypatch.setattr(DuckDbTable, "rows", counted)
    return statements


def test_parquet_rules_are_counted_in_one_scan_with_each_rules_own_result(
    fleet_parquet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = _recorded_statements(monkeypatch)
    many = validate_many([RULES], str(fleet_parquet))
    scans = [s for s in statements if "count_if" in s]
    # why: four single-event rules (Sigma's among them), one scan; v214's .eql and .toml share one
    # query, so one count
    assert len(scans) == 1 and scans[0].count("count_if") == 3
    assert any("4 rules counted in one scan" in notice for notice in many.notices)
    # why: the sequence is searched on the candidates of a second scan, and the notice says so
    assert "; 1 searched (sequences, samples, pipes, queries SQL holds in part)" in many.notices[0]
    assert "ran alone" not in many.notices[0]
    monkeypatch.undo()
    for ran in many.runs:
        alone = app.validate(ran.path, str(fleet_parquet))
        assert ran.validation is not None
        # why: the one scan must give exactly what the rule's own queries give, examples included
        assert result_dict(ran.validation.result) == result_dict(alone.result)


def test_sequence_rules_of_a_parquet_run_share_the_tables_groups(
    fleet_parquet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.app.rule_copies import copy_rules

    copy_rules([RULES / "iis_webshell_appcmd_sequence.toml"], 3, tmp_path)
    # The same statement reading one index only: its flags are limited to that index's rows.
    text = (RULES / "iis_webshell_appcmd_sequence.toml").read_text()
    narrow = re.sub(r"^index = .*$", 'index = ["logs-endpoint.events.process-*"]', text, flags=re.M)
    (tmp_path / "narrow.toml").write_text(narrow.replace('name = "', 'name = "Narrow ', 1))
    statements = _recorded_statements(monkeypatch)
    many = validate_many([tmp_path], str(fleet_parquet))
    grouped = [s for s in statements if "GROUP BY" in s and "LEFT JOIN" not in s]
    # why: the events per group and the indices are the table's, aggregated once for four rules
    assert len(grouped) == 1 and sum("SELECT DISTINCT" in s for s in statements) == 1
    # why: their candidates are selected by one more scan, each rule's flags limited to its indices
    assert "4 searched (" in many.notices[0] and "ran alone" not in many.notices[0]
    monkeypatch.undo()
    assert len(many.runs) == 4
    for ran in many.runs:
        alone = app.validate(ran.path, str(fleet_parquet))
        assert ran.validation is not None and ran.validation.result.sequences is not None
        # why: what a rule reads of the shared groups is what it aggregates alone, examples included
        assert result_dict(ran.validation.result) == result_dict(alone.result)


def test_every_rule_of_a_parquet_run_reads_one_table(
    fleet_parquet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.validation.tables import DuckDbTable

    opened: list[str] = []
    init = DuckDbTable.__init__

    def counted(self: DuckDbTable, path: str) -> None:
        opened.append(path)
        init(self, path)

    monkeypatch.setattr(DuckDbTable, "__init__", counted)
    many = validate_many([RULES], str(fleet_parquet))
    # why: single-event rules, the one scan and the sequence's candidate scan share one connection
    assert opened == [str(fleet_parquet)]
    assert {r.validation.engine for r in many.runs if r.validation is not None} == {"duckdb"}
    assert len(many.runs) > 3


def test_a_rule_the_sql_engine_holds_in_part_is_searched_on_its_candidates(
    fleet_parquet: Path, tmp_path: Path
) -> None:
    shutil.copy(V214, tmp_path / "v214.toml")
    text = V214.read_text()
    query = text[text.index("query = ") : text.index("'''", text.index("query = ") + 12) + 3]
    long = text.replace('process.args : "list"', 'length(process.command_line) > 0 and process.args : "list"')
    (tmp_path / "long.toml").write_text(long.replace('name = "', 'name = "Long ', 1))
    # A condition SQL holds nothing of: every row would be a candidate, so the row engine reads them.
    only = text.replace(query, "query = '''\nprocess where length(process.command_line) > 40\n'''")
    (tmp_path / "only.toml").write_text(only.replace('name = "', 'name = "Only ', 1))
    many = validate_many([tmp_path], str(fleet_parquet))
    engines = {Path(r.path).name: r.validation.engine for r in many.runs if r.validation is not None}
    # why: the conjuncts DuckDB expresses select the candidates, the compiled engine judges them
    assert engines == {"long.toml": "duckdb", "only.toml": "compiled", "v214.toml": "duckdb"}
    assert "1 rules counted in one scan" in many.notices[0]
    assert "; 1 searched (" in many.notices[0] and many.notices[0].endswith(
        "; ran alone: " + str(tmp_path / "only.toml")
    )
    for ran in many.runs:
        assert ran.validation is not None
        if ran.path.endswith("v214.toml"):
            continue  # counted in the scan: its examples are the SQL engines' (the test above)
        alone = app.validate(ran.path, str(fleet_parquet), engine="compiled")
        # why: the candidates' verdicts, examples included, are the row engine's over every row
        assert result_dict(ran.validation.result) == result_dict(alone.result)
        assert ran.validation.result.alerts > 0


def test_a_sequence_on_parquet_is_searched_by_duckdb_not_read_as_rows(
    fleet_parquet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.corpus

    def no_rows(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the Parquet corpus was read as rows")

    monkeypatch.setattr(harness.corpus, "open_corpus", no_rows)
    many = validate_many([RULES / "iis_webshell_appcmd_sequence.toml", V214], str(fleet_parquet))
    engines = {Path(r.path).name: None if r.validation is None else r.validation.engine for r in many.runs}
    # why: the sequence's candidate scan reads the file in DuckDB; decoding every row is what it avoids
    assert engines == {"iis_webshell_appcmd_sequence.toml": "duckdb", V214.name: "duckdb"}
