"""No input crashes the harness: bad input is one line and exit 2, never a traceback (issue 13).

Each case is input that once raised a traceback, hung, or passed silently. Runs through
``CliRunner`` where the process's own descriptors do not matter, and as a subprocess where
they do (closed streams, a full disk, signals).
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.events import atomic_writer

ROOT = Path(__file__).resolve().parents[1]
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
HARNESS = [sys.executable, "-m", "harness"]
DUMP = {
    "@timestamp": "2026-11-02T10:00:00Z",
    "event": {"category": "process", "type": "start"},
    "host": {"os": {"type": "windows"}, "name": "web-1"},
    "process": {"name": "appcmd.exe", "args": ["appcmd", "list", "apppool", "/text:*"]},
}


def run(*args: str) -> tuple[int, str]:
    """The exit code and what was said on standard error."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stderr


def _rule_with(tmp_path: Path, old: str, new: str) -> str:
    text = V214.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rule.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return str(path)


def _one_error_line(output: str) -> str:
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: "), output
    return lines[0]


def _ndjson(path: Path, *events: object) -> str:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("max_signals = 100", "max_signals = 0", "rule.toml:28: max_signals is 0; it must be at least 1"),
        ('interval = "5m"', 'interval = "99999999999999d"', "rule.toml:25: interval '99999999999999d'"),
    ],
    ids=["max-signals-0", "interval-too-long"],
)
def test_a_schedule_no_simulation_can_run_is_one_line(tmp_path: Path, old: str, new: str, says: str) -> None:
    corpus = _ndjson(tmp_path / "c.ndjson", DUMP)
    code, output = run("simulate", _rule_with(tmp_path, old, new), "--corpus", corpus)
    assert code == 2
    assert says in _one_error_line(output)


def test_a_time_no_window_can_hold_names_the_line(tmp_path: Path) -> None:
    corpus = _ndjson(tmp_path / "c.ndjson", DUMP, {**DUMP, "@timestamp": 1e300})
    code, output = run("simulate", str(V214), "--corpus", corpus)
    assert code == 2
    assert f"{corpus}:2: the event's time (1e+300 ms" in _one_error_line(output)


def test_an_empty_folder_is_not_a_corpus(tmp_path: Path) -> None:
    code, output = run("validate", str(V214), "--corpus", str(tmp_path))
    assert code == 2
    assert "holds no .parquet file" in _one_error_line(output)


@pytest.mark.parametrize(
    "args",
    [
        ["validate", str(V214), "--events", "99999999999999999999999"],
        ["generate", "--seed", "-5", "-o", "{out}"],
        ["generate", "--start", "9999-12-31", "-o", "{out}"],
        ["generate", "--attack-rate", "inf", "-o", "{out}"],
        ["generate", "--attack-rate", "nan", "-o", "{out}"],
        ["generate", "--attack-rate", "1e12", "-o", "{out}"],
        ["generate", "--days", "100000000", "-o", "{out}"],
        ["propose", str(V214), "--fleet-events", "1000000000000"],
        ["bench", str(V214), "--repeat", "100000"],
    ],
    ids=lambda args: "-".join(args[:1] + [a for a in args if a.startswith("--")]),
)
def test_an_option_out_of_bounds_is_one_line(tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "out.ndjson"
    code, output = run(*(a.replace("{out}", str(out)) for a in args))
    assert code == 2
    assert "--help)" in _one_error_line(output)
    assert not out.exists()


def test_an_evaluation_error_names_the_file_and_line(tmp_path: Path) -> None:
    rule = tmp_path / "q.eql"
    rule.write_text("process where length(process.name) > 1\n", encoding="utf-8")
    corpus = _ndjson(tmp_path / "c.ndjson", DUMP, {**DUMP, "process": {"name": 42}})
    code, output = run("validate", str(rule), "--corpus", corpus)
    assert code == 2
    assert f"error: {corpus}:2: " in _one_error_line(output)


def test_only_match_offers_skip_invalid(tmp_path: Path) -> None:
    corpus = tmp_path / "c.ndjson"
    corpus.write_text(json.dumps(DUMP) + "\n{not json\n", encoding="utf-8")
    code, output = run("validate", str(V214), "--corpus", str(corpus))
    assert code == 2
    assert "--skip-invalid" not in _one_error_line(output)
    code, output = run("match", str(V214), str(corpus))
    assert code == 2
    assert _one_error_line(output).endswith("fix the line or pass --skip-invalid")


def test_a_truncated_gzip_is_reported_after_its_last_whole_line(tmp_path: Path) -> None:
    whole = gzip.compress(b"".join(json.dumps({**DUMP, "n": n}).encode() + b"\n" for n in range(200)))
    cut = tmp_path / "c.ndjson.gz"
    cut.write_bytes(whole[: len(whole) - 40])
    code, output = run("match", "--count", str(V214), str(cut))
    line = _one_error_line(output)
    assert code == 2
    read = int(line.split("after ")[1].split(" whole")[0])
    assert f"{cut}:{read + 1}: the gzip file is truncated" in line


def test_a_byte_that_is_not_utf8_is_pointed_at(tmp_path: Path) -> None:
    corpus = tmp_path / "c.ndjson"
    corpus.write_bytes(json.dumps(DUMP).encode() + b'\n{"process": {"name": "app\xffcmd"}}\n')
    code, output = run("match", str(V214), str(corpus))
    assert code == 2
    assert f"{corpus}:2:26: not UTF-8: byte 0xFF" in _one_error_line(output)


def test_expectations_for_another_rule_are_warned_of(tmp_path: Path) -> None:
    expect = tmp_path / "other.expect.toml"
    expect.write_text('rule = "someone_else.toml"\ncatalogue = "appcmd"\n', encoding="utf-8")
    code, output = run("validate", str(V214), "--expect", str(expect), "--events", "20")
    assert code in (0, 1)
    assert f"warning: {expect}:1: these expectations name rule 'someone_else.toml'" in output


def test_an_unwritable_report_folder_fails_before_the_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.app

    def work(*args: object, **kwargs: object) -> None:
        raise AssertionError("the report was computed before its folder was checked")

    monkeypatch.setattr(harness.app, "report", work)
    code, output = run("report", str(V214), "--html", str(tmp_path / "missing" / "r.html"))
    assert code == 2
    assert "cannot write here" in _one_error_line(output)


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    with atomic_writer(target) as stream:
        stream.write(b"new")
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.read_text(encoding="utf-8") == "new"


def test_a_symlink_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    with atomic_writer(link) as stream:
        stream.write(b"new")
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == "new"


def _shell(command: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["bash", "-c", command], check=False, capture_output=True, timeout=timeout, cwd=ROOT
    )


def _cmd(*args: str) -> str:
    return " ".join(f"'{a}'" for a in [*HARNESS, *args])


@pytest.mark.parametrize(
    ("redirect", "code", "says"),
    [
        ("<&-", 2, "cannot read standard input"),
        (">&-", 2, "a standard stream is closed"),
        (">/dev/full", 2, "No space left on device"),
    ],
    ids=["stdin-closed", "stdout-closed", "stdout-full"],
)
def test_match_on_broken_standard_streams(tmp_path: Path, redirect: str, code: int, says: str) -> None:
    corpus = _ndjson(tmp_path / "c.ndjson", *[DUMP] * 1000)
    args = [str(V214)] if redirect == "<&-" else [str(V214), corpus]
    done = _shell(f"{_cmd('match', *args)} {redirect}")
    assert done.returncode == code, done.stderr
    assert b"Traceback" not in done.stderr
    assert says in done.stderr.decode()
    assert len(done.stderr.decode().splitlines()) == 1


def test_generate_with_stderr_closed(tmp_path: Path) -> None:
    out = tmp_path / "c.ndjson"
    done = _shell(f"{_cmd('generate', '--events', '50', '-o', str(out))} 2>&-")
    assert done.returncode == 0
    assert out.exists()


@pytest.mark.parametrize(
    ("sig", "code", "says"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_leaves_no_temporary_file(tmp_path: Path, sig: int, code: int, says: str) -> None:
    out = tmp_path / "big.ndjson"
    args = ["generate", "--profile", "fleet", "--events", "5000000", "-o", str(out)]
    process = subprocess.Popen([*HARNESS, *args], stderr=subprocess.PIPE, cwd=ROOT)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".big.ndjson.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(process.pid, sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert err.decode().strip().splitlines() == [f"{says}: nothing half-written was left behind"]
    assert list(tmp_path.iterdir()) == []
