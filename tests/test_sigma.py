"""Sigma rules through pySigma: the conversion, its errors, and every command taking the result."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.errors import RuleLoadError
from harness.rule_paths import expand_rule_paths
from harness.rules import load_rule

ROOT = Path(__file__).resolve().parents[1]
SIGMA = ROOT / "rules" / "sigma_iis_appcmd_password_dumped.yml"
PUBLISHED = ROOT / "tests" / "data" / "sigma" / "sigmahq_as_published.yml"
V220 = ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml"

pytestmark = pytest.mark.usefixtures("sigma_installed")

# pySigma 1.5 / pysigma-backend-elasticsearch 2.1 with ecs_windows: the shipped rule's EQL.
CONVERTED = (
    'any where ((process.executable.caseless:"*\\\\appcmd.exe" or '
    'process.pe.original_file_name:"appcmd.exe") and process.command_line:"*list *") and '
    '((process.command_line like~ ("* /config*", "* /xml*", '
    '"* -config*", "* -xml*")) or ((process.command_line like~ ("* /@t*", "* /text*", "* /show*", "* -@t*", '
    '"* -text*", "* -show*")) and (process.command_line regex~ ".*:\\\\*.*" or '
    'process.command_line:"*password*")))'
)

MINIMAL = """title: t
id: 5a0f3b5e-1c1f-4a6e-9a55-1b2f7d6c0e01
status: test
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        {item}
    condition: selection
level: medium
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _sigma(tmp_path: Path, item: str, name: str = "r.yml") -> Path:
    path = tmp_path / name
    path.write_text(MINIMAL.format(item=item), encoding="utf-8")
    return path


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_the_shipped_rule_converts_to_the_backends_eql_with_its_indices_and_notes() -> None:
    rule = load_rule(SIGMA)
    assert rule.query == CONVERTED
    assert rule.rule_id == "2d3cdeec-c0db-45b4-aa86-082f7eb75701"
    assert rule.name == "Microsoft IIS Service Account Password Dumped"
    assert {"winlogbeat-*", "logs-*", "endgame-*"} <= set(rule.indices)
    assert (rule.interval, rule.from_, rule.severity, rule.risk_score) == ("5m", "now-5m", "high", 73)
    conversion = rule.conversion
    assert conversion is not None and conversion.language == "sigma"
    assert conversion.pipeline.startswith("ecs_windows")
    assert "pysigma-backend-elasticsearch" in conversion.converter
    assert conversion.authors == "Tim Rauch, Janantha Marasinghe, Elastic (original idea)"
    assert dict(conversion.fields) == {
        "Image": "process.executable.caseless",
        "OriginalFileName": "process.pe.original_file_name",
        "CommandLine": "process.command_line",
    }
    assert [note.code for note in conversion.notes] == ["sigma-any-category", "sigma-multi-field"]


def test_the_converted_query_is_evaluated_as_any_eql() -> None:
    from harness.eql import compile_query

    matcher = compile_query(load_rule(SIGMA).query)
    base = {"process": {"pe": {"original_file_name": "AppCmd.exe"}}}

    def doc(command_line: str) -> dict[str, object]:
        return {"process": {**base["process"], "command_line": command_line}}

    assert matcher.matches(doc(r"C:\Windows\System32\inetsrv\appcmd.exe list apppool /text:*"))
    assert matcher.matches(doc("appcmd LIST apppool /TEXT:processModel.PASSWORD"))
    assert matcher.matches(doc("appcmd list config /xml"))
    assert not matcher.matches(doc("appcmd list apppool /text:name"))
    assert not matcher.matches(doc('appcmd "list" "apppool" "/text:*"'))  # no 'list ' with its space
    # Image's multi-field is in no _source: by executable alone the rule finds nothing here.
    exe_only = {"process": {"executable": r"C:\x\appcmd.exe", "command_line": "appcmd list apppool /text:*"}}
    assert not matcher.matches(exe_only)


def test_the_rule_as_published_is_refused_naming_the_detection_item() -> None:
    with pytest.raises(RuleLoadError) as raised:
        load_rule(PUBLISHED)
    error = raised.value
    assert error.line == _line_of(PUBLISHED, "selection_cmd_grep:")
    assert "detection item 'selection_cmd_grep'" in error.message
    assert "Kibana would not create the rule" in error.message
    assert '"*:\\**"' in error.message


def test_an_unknown_field_names_the_item_and_its_line(tmp_path: Path) -> None:
    path = _sigma(tmp_path, "OrigFileName: 'appcmd.exe'")
    with pytest.raises(RuleLoadError) as raised:
        load_rule(path)
    assert raised.value.line == _line_of(path, "selection:")  # the detection item the field is in
    assert "'selection'" in raised.value.message and "OrigFileName" in raised.value.message


def test_a_bad_modifier_names_it_and_its_line(tmp_path: Path) -> None:
    path = _sigma(tmp_path, "CommandLine|contians: 'list'")
    with pytest.raises(RuleLoadError) as raised:
        load_rule(path)
    assert raised.value.line == _line_of(path, "contians")
    assert "contians" in raised.value.message


def test_bad_yaml_gives_line_and_column(tmp_path: Path) -> None:
    path = _sigma(tmp_path, "CommandLine: 'list\n      - oops: [")
    with pytest.raises(RuleLoadError) as raised:
        load_rule(path)
    assert raised.value.line is not None and raised.value.column is not None
    assert "invalid YAML" in raised.value.message


def test_a_file_of_two_rules_is_refused(tmp_path: Path) -> None:
    one = MINIMAL.format(item="CommandLine|contains: 'list'")
    path = tmp_path / "two.yml"
    path.write_text(one + "---\n" + one.replace("5a0f3b5e", "6b0f3b5e"), encoding="utf-8")
    with pytest.raises(RuleLoadError, match="exactly one detection rule"):
        load_rule(path)


def test_without_pysigma_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sigma.backends.elasticsearch.elasticsearch_eql", None)
    with pytest.raises(RuleLoadError, match=r"detection-harness\[sigma\]"):
        load_rule(SIGMA)


def test_a_folder_takes_sigma_yaml_and_leaves_other_yaml(tmp_path: Path) -> None:
    shutil.copy(SIGMA, tmp_path / "sigma.yml")
    (tmp_path / "ci.yaml").write_text("steps:\n  - run: pytest\n", encoding="utf-8")
    shutil.copy(V220, tmp_path / "v220.toml")
    assert [p.name for p in expand_rule_paths([tmp_path])] == ["sigma.yml", "v220.toml"]


def test_check_shows_the_conversion_and_a_broken_rule_is_one_error_line(tmp_path: Path) -> None:
    code, out, _ = run("check", str(SIGMA))
    assert code == 0
    assert "pipeline:   ecs_windows" in out and "field:      Image -> process.executable.caseless" in out
    assert "[sigma-multi-field]" in out
    broken = _sigma(tmp_path, "CommandLine|contians: 'list'")
    code, out, err = run("check", str(broken))
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and err.startswith(f"error: {broken}:")


def test_validate_judges_the_sigma_rule_by_its_expectations(tmp_path: Path) -> None:
    code, out, _ = run("validate", str(SIGMA), "--no-derived", "--format", "json")
    assert code == 0, out
    result = json.loads(out)
    assert result["passed"] is True
    metrics = result["metrics"]
    assert 0.25 < metrics["detection_rate"] < 0.35 and metrics["false_positives"] == 2
    # Without its expectations the gaps are violations: exit 1.
    shutil.copy(SIGMA, tmp_path / "bare.yml")
    assert run("validate", str(tmp_path / "bare.yml"), "--no-derived", "--catalogue", "appcmd")[0] == 1


def test_diff_compares_across_languages() -> None:
    code, out, _ = run("diff", str(V220), str(SIGMA), "--no-derived")
    assert code == 0, out
    assert "improvements" in out and "regressions (0 not accepted by the new expectations)" in out


def test_many_rules_with_sigma_in_one_run(tmp_path: Path) -> None:
    for path in (SIGMA, SIGMA.with_suffix(".expect.toml"), V220, V220.with_suffix(".expect.toml")):
        shutil.copy(path, tmp_path / path.name)
    code, out, _ = run("validate", str(tmp_path), "--no-derived", "--format", "json")
    assert code == 0, out
    runs = json.loads(out)
    assert sorted(Path(run_["path"]).name for run_ in runs) == [V220.name, SIGMA.name]
    assert all(run_["status"] == "passed" for run_ in runs)


def test_report_page_says_what_the_conversion_relies_on(tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    code, _, err = run("report", str(SIGMA), "--html", str(page), "--no-mutations", "--events", "20000")
    assert code == 0, err
    html = page.read_text()
    assert "[sigma-multi-field]" in html and "ecs_windows" in html


def test_bench_copies_of_a_sigma_rule_are_its_converted_eql(tmp_path: Path) -> None:
    from harness.app.rule_copies import copy_rules

    copies = copy_rules([SIGMA], 2, tmp_path)
    assert [p.name for p in copies] == [f"copy0-{SIGMA.stem}.eql", f"copy1-{SIGMA.stem}.eql"]
    queries = [load_rule(p).query for p in copies]
    assert len(set(queries)) == 2 and all(q.startswith("any where") for q in queries)
