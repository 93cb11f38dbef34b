"""The harness command as a user runs it: output, exit codes and error messages."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main

ROOT = Path(__file__).resolve().parents[1]
V214 = str(ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml")
V220 = str(ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml")


def _event(args: list[str], name: str = "appcmd.exe") -> dict[str, object]:
    return {
        "event": {"category": "process", "type": "start"},
        "host": {"os": {"type": "windows"}},
        "process": {"name": name, "args": args},
    }


DUMP = _event(["appcmd", "list", "apppool", "/text:*"])
UPPER = _event(["appcmd", "LIST", "apppool", "/TEXT:*"])
BENIGN = _event(["appcmd", "list", "sites"])


def _ndjson(path: Path, events: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_match_writes_the_matching_lines(tmp_path: Path) -> None:
    events = _ndjson(tmp_path / "e.ndjson", [DUMP, BENIGN, UPPER])
    code, out, _ = run("match", V214, str(events))
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [DUMP, UPPER]


def test_match_count_differs_between_versions(tmp_path: Path) -> None:
    events = _ndjson(tmp_path / "e.ndjson", [DUMP, BENIGN, UPPER])
    assert run("match", V214, str(events), "--count")[1] == "2\n"
    assert run("match", V220, str(events), "--count")[1] == "1\n"


def test_match_with_a_query_reads_gzip_and_arrays(tmp_path: Path) -> None:
    packed = tmp_path / "e.ndjson.gz"
    packed.write_bytes(gzip.compress((json.dumps(DUMP) + "\n" + json.dumps(BENIGN) + "\n").encode()))
    array = tmp_path / "e.json"
    array.write_text(json.dumps([UPPER, BENIGN]), encoding="utf-8")
    query = 'process where process.args : "list"'  # case-insensitive: UPPER's "LIST" counts too
    code, out, _ = run("match", "--query", query, "--count", str(packed), str(array))
    assert (code, out) == (0, "4\n")


def test_match_reads_standard_input() -> None:
    code, out, _ = run("match", V214, "--count", input=json.dumps(DUMP) + "\n\n" + json.dumps(BENIGN) + "\n")
    assert (code, out) == (0, "1\n")


def test_bad_line_names_file_line_and_column(tmp_path: Path) -> None:
    events = tmp_path / "e.ndjson"
    events.write_text(json.dumps(DUMP) + "\n" + '{"event": }\n', encoding="utf-8")
    code, out, err = run("match", V214, str(events))
    assert code == 2
    assert f"{events}:2:11: not valid JSON" in err
    assert "--skip-invalid" in err
    assert "Traceback" not in err + out


def test_skip_invalid_counts_and_reports(tmp_path: Path) -> None:
    events = tmp_path / "e.ndjson"
    events.write_text(json.dumps(DUMP) + "\n[1]\n42\n{oops\n" + json.dumps(UPPER) + "\n", encoding="utf-8")
    code, out, err = run("match", V214, "--count", "--skip-invalid", str(events))
    assert (code, out) == (0, "2\n")
    assert "skipped 3 invalid line(s) of 5" in err
    assert f"{events}:2:1: expected a JSON object per line, found list" in err
    assert f"{events}:4:" in err


def test_output_file_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    good = _ndjson(tmp_path / "good.ndjson", [DUMP, BENIGN])
    bad = tmp_path / "bad.ndjson"
    bad.write_text(json.dumps(DUMP) + "\nnot json\n", encoding="utf-8")
    out = tmp_path / "out.ndjson"
    assert run("match", V214, str(good), "-o", str(out))[0] == 0
    assert json.loads(out.read_text()) == DUMP
    assert run("match", V214, str(bad), "-o", str(out))[0] == 2
    assert json.loads(out.read_text()) == DUMP  # the earlier output is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ndjson", "good.ndjson", "out.ndjson"]


def test_missing_events_file(tmp_path: Path) -> None:
    code, _, err = run("match", V214, str(tmp_path / "nope.ndjson"))
    assert code == 2
    assert "nope.ndjson" in err and "cannot open" in err


def test_query_syntax_error_draws_a_caret() -> None:
    code, _, err = run("match", "--query", 'process where process.name = "x"', input="")
    assert code == 2
    assert err.splitlines() == [
        "error: syntax error at line 1, column 28: '=' is not an EQL operator",
        '  process where process.name = "x"',
        "                             ^",
        "hint: use == to compare (or : for a case-insensitive match)",
    ]


def test_match_needs_a_rule_or_a_query() -> None:
    code, _, err = run("match")
    assert code == 2
    assert "give a RULE file or --query TEXT" in err


def test_check_prints_the_rule_and_no_findings_for_v214() -> None:
    code, out, _ = run("check", V214)
    assert code == 0
    assert "rule:       Microsoft IIS Service Account Password Dumped (version 214)" in out
    assert "schedule:   every 5m over now-9m, at most 100 alerts per run" in out
    assert 'query:      process where host.os.type == "windows" and event.type == "start"' in out
    assert "findings:   none" in out


def test_check_flags_the_literal_star_in_v220() -> None:
    code, out, _ = run("check", V220)
    assert code == 0
    assert "warning: [literal-wildcard] '/text:*' is compared exactly and case-sensitively" in out
    assert run("check", V220, "--strict")[0] == 1


def _rule(tmp_path: Path, indices: list[str], query: str) -> str:
    rule = tmp_path / "r.toml"
    rule.write_text(
        f'[rule]\nname = "r"\nlanguage = "eql"\nindex = {json.dumps(indices)}\nquery = {json.dumps(query)}\n',
        encoding="utf-8",
    )
    return str(rule)


def test_check_flags_a_field_a_source_lacks(tmp_path: Path) -> None:
    rule = _rule(tmp_path, ["logs-system.security*"], 'process where process.pe.original_file_name == "x"')
    code, out, _ = run("check", rule)
    assert code == 0
    assert "warning: [field-not-in-source] process.pe.original_file_name is used without '?'" in out
    assert "Security 4688" in out


def test_check_says_nothing_of_fields_in_events_the_sources_do_not_model(tmp_path: Path) -> None:
    # The catalogue describes process starts: a registry rule's registry.path is not "never carried".
    indices = ["winlogbeat-*", "logs-windows.sysmon_operational-*"]
    code, out, _ = run("check", _rule(tmp_path, indices, 'registry where registry.path : "HKLM\\\\*"'))
    assert code == 0
    assert "findings:   none" in out


def test_check_rejects_a_broken_rule(tmp_path: Path) -> None:
    rule = tmp_path / "r.eql"
    rule.write_text("process where\n  process.name : 42\n", encoding="utf-8")
    code, _, err = run("check", str(rule))
    assert code == 2
    assert "line 2, column 18" in err
    assert "consider using [==] instead" in err


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["match", "--help"], ["check", "--help"]])
def test_help_and_version(args: list[str]) -> None:
    code, out, _ = run(*args)
    assert code == 0 and out


def test_module_entry_point_runs_without_traceback(tmp_path: Path) -> None:
    events = _ndjson(tmp_path / "e.ndjson", [DUMP])
    done = subprocess.run(
        [sys.executable, "-m", "harness", "match", "--query", "process where (", str(events)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: syntax error at line 1, column 16")
    assert "Traceback" not in done.stderr


def test_check_flags_an_unescaped_ends_with_argument(tmp_path: Path) -> None:
    rule = tmp_path / "r.eql"
    rule.write_text(
        'process where endsWith~(process.executable, "\\\\inetsrv\\\\appcmd.exe")\n', encoding="utf-8"
    )
    code, out, _ = run("check", str(rule))
    assert code == 0
    assert "warning: [unescaped-wildcard-argument]" in out
    assert "a backslash escapes the next character" in out


RULE_PAGE = (
    ROOT.parent / "shared" / "data" / "rule-pages" / "microsoft-iis-service-account-password-dumped.md"
)


@pytest.mark.skipif(
    not RULE_PAGE.exists(), reason=f"Elastic's rule page is not at {RULE_PAGE} (../shared is absent)"
)
def test_check_reads_elastics_published_rule_page() -> None:
    code, out, _ = run("check", str(RULE_PAGE))
    assert code == 0
    assert "(version 214)" in out
    assert 'process.args : "/text*"' in out


def test_match_with_an_ecs_mapping_applies_ignore_above(tmp_path: Path) -> None:
    long_name = _event(["appcmd", "list", "apppool", "/text:*"], name="appcmd.exe")
    long_name["process"]["args"].append("x" * 1025)  # type: ignore[index]
    events = _ndjson(tmp_path / "e.ndjson", [long_name])
    query = 'process where process.args : "x*"'
    assert run("match", "--query", query, "--count", str(events))[1] == "1\n"
    assert run("match", "--query", query, "--count", "--mapping", "ecs", str(events))[1] == "0\n"


def test_an_output_folder_that_does_not_exist_is_a_clear_error(tmp_path: Path) -> None:
    events = _ndjson(tmp_path / "e.ndjson", [DUMP])
    code, _, err = run("match", V214, str(events), "--output", str(tmp_path / "missing" / "out.ndjson"))
    assert code == 2
    assert f"check that the folder {tmp_path / 'missing'} exists" in err


def test_match_prints_each_sequence_as_one_line(tmp_path: Path) -> None:
    start = {"@timestamp": 1, "event": {"category": "process"}, "host": {"id": "h"}}
    written = {"@timestamp": 2, "event": {"category": "file"}, "host": {"id": "h"}}
    other = {"@timestamp": 3, "event": {"category": "file"}, "host": {"id": "x"}}
    events = _ndjson(tmp_path / "e.ndjson", [written, start, other])
    query = "sequence by host.id [process where true] [file where true]"
    code, out, _ = run("match", "--query", query, str(events))
    assert code == 0
    expected = [{"join_keys": ["h"], "events": [start, written]}]
    assert [json.loads(line) for line in out.splitlines()] == expected
    assert run("match", "--query", query, "--count", str(events))[1] == "1\n"
