"""Every command under broken standard streams, and fuzzed options and corpus files: no traceback.

A command may succeed (0), find a violation (1) or refuse its input (2, one line); whatever
its streams and input, no traceback reaches the user. Subprocesses, since closed descriptors
and a full disk belong to a real process; small sizes and few examples (CI has two cores).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli import main

ROOT = Path(__file__).resolve().parents[1]
V214 = str(ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml")
V220 = str(ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml")
CORPUS = str(ROOT / "corpora" / "scenarios-seed7.ndjson")
EVTX = ROOT.parent / "shared/data/evtx" / "discovery_sysmon_1_iis_pwd_and_config_discovery_appcmd.evtx"

COMMANDS = {
    "check": ["check", V214],
    "match": ["match", V214, CORPUS],
    "generate": ["generate", "--events", "30", "-o", "{tmp}/g.ndjson"],
    "ingest": ["ingest", CORPUS, "-o", "{tmp}/i.ndjson"],
    "scenarios": ["scenarios"],
    "catalogues": ["catalogues"],
    "validate": ["validate", V214, "--corpus", CORPUS],
    "diff": ["diff", V214, V220, "--corpus", CORPUS],
    "simulate": ["simulate", V214, "--events", "300"],
    "mutate": ["mutate", V214, "--json"],
    "propose": ["propose", V214, "--fleet-events", "300", "--json"],
    "report": ["report", V214, "--events", "300", "--html", "{tmp}/r.html"],
    "bench": ["bench", V214, "--events", "300", "--repeat", "1", "--json"],
}
STREAMS = {
    "stdin-closed": "<&-",
    "stdout-closed": ">&-",
    "stderr-closed": "2>&-",
    "stdout-full": ">/dev/full",
}


@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_survives_broken_streams(tmp_path: Path, command: str, stream: str) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in COMMANDS[command]]
    line = " ".join(f"'{a}'" for a in [sys.executable, "-m", "harness", *args])
    # What cannot go to a closed stream is caught in a file beside it, so it can be read for tracebacks.
    catch = {"stdout-closed": f" 2>'{tmp_path}/err'", "stderr-closed": f" >'{tmp_path}/out'"}.get(stream, "")
    done = subprocess.run(
        ["bash", "-c", f"{line} {STREAMS[stream]}{catch}"],
        check=False,
        capture_output=stream not in ("stdout-closed", "stderr-closed"),
        timeout=300,
        cwd=ROOT,
    )
    said = b"".join(p.read_bytes() for p in tmp_path.glob("err")) + (done.stderr or b"")
    said += b"".join(p.read_bytes() for p in tmp_path.glob("out")) + (done.stdout or b"")
    assert b"Traceback" not in said, said.decode(errors="replace")
    assert done.returncode in (0, 1, 2), said.decode(errors="replace")
    if stream == "stdout-full" and command in ("check", "match", "validate", "diff", "mutate", "bench"):
        assert done.returncode == 2  # these print to stdout: a lost report is an error, not success
        assert b"No space left on device" in said


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


_FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "nan", "inf", "-inf", "1e309", "0x10", "7.5", " 3", "١٢"]),
)
_NUMERIC_OPTIONS = [
    ("generate", "--events"),
    ("generate", "--seed"),
    ("generate", "--days"),
    ("generate", "--attack-rate"),
    ("validate", "--events"),
    ("validate", "--seed"),
    ("propose", "--fleet-events"),
    ("bench", "--repeat"),
]


# Each command's sizes kept small, so that a fuzzed value that is valid starts only a short run.
_SMALL = {
    "generate": ["--events", "5", "-o", "{tmp}/g.ndjson"],
    "validate": [V214, "--events", "5"],
    "propose": [V214, "--fleet-events", "5"],
    "bench": [V214, "--events", "5", "--repeat", "1"],
}


@_FUZZ
@given(option=st.sampled_from(_NUMERIC_OPTIONS), value=_NUMBERS)
def test_fuzzed_numeric_options_never_crash(tmp_path: Path, option: tuple[str, str], value: str) -> None:
    command, flag = option
    rest = [a.replace("{tmp}", str(tmp_path)) for a in _SMALL[command]]
    if flag in rest:
        del rest[rest.index(flag) : rest.index(flag) + 2]
    if flag != "--seed" and value.strip().isdigit() and int(value) > 50:
        value = str(2**70)  # a large valid size would only be slow: keep to the refusals
    code, output = _run([command, *rest, flag, value])
    assert "Traceback" not in output
    assert code in (0, 1, 2), output


_EVENT = json.dumps({"event": {"category": "process"}, "process": {"name": "appcmd.exe"}}).encode() + b"\n"


def _whole_gzip() -> bytes:
    return gzip.compress(_EVENT * 50)


def _parquet_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "p.parquet"
    code, output = _run(["generate", "--events", "40", "-o", str(path)])
    assert code == 0, output
    return path.read_bytes()


@_FUZZ
@given(data=st.data())
def test_fuzzed_corpus_files_never_crash(tmp_path: Path, data: st.DataObject) -> None:
    kinds = ["random", "gzip", "parquet"] + (["evtx"] if EVTX.is_file() else [])
    kind = data.draw(st.sampled_from(kinds), label="kind")
    if kind == "random":
        content, suffix = bytearray(data.draw(st.binary(max_size=400), label="bytes")), ".ndjson"
    else:
        whole, suffix = {
            "gzip": (_whole_gzip, ".ndjson.gz"),
            "parquet": (lambda: _parquet_bytes(tmp_path), ".parquet"),
            "evtx": (EVTX.read_bytes, ".evtx"),
        }[kind]
        original = whole()
        cut = data.draw(st.integers(min_value=0, max_value=len(original)), label="cut")
        content = bytearray(original[:cut])
        for _ in range(data.draw(st.integers(min_value=0, max_value=3), label="flips")):
            if content:
                at = data.draw(st.integers(min_value=0, max_value=len(content) - 1), label="at")
                content[at] ^= data.draw(st.integers(min_value=1, max_value=255), label="mask")
    corpus = tmp_path / f"fuzzed{suffix}"
    corpus.write_bytes(bytes(content))
    command = data.draw(st.sampled_from(["validate", "simulate", "match"]), label="command")
    args = ["match", V214, str(corpus)] if command == "match" else [command, V214, "--corpus", str(corpus)]
    code, output = _run(args)
    assert "Traceback" not in output
    assert code in (0, 1, 2), output
