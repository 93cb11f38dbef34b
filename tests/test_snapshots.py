"""The shipped commands print the same figures as before: JSON held to snapshots.

Each case of ``snapshots/cases.toml`` runs one command and compares its JSON with the
snapshot taken before the refactoring that introduced the application layer. Every
key a snapshot holds must keep its value (lists element by element); new keys may
appear, so reports can grow without rewriting history. ``HARNESS_UPDATE_SNAPSHOTS=1``
rewrites the snapshots instead, for a change that means to move the figures.
"""

from __future__ import annotations

import gzip
import json
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.cli import main

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = Path(__file__).parent / "snapshots"
SHARED = ROOT.parent / "shared" / "data"
CASES = tomllib.loads((SNAPSHOTS / "cases.toml").read_text(encoding="utf-8"))
_SCRUBBED = {"seconds"}  # timings


@pytest.fixture(scope="module")
def mixed_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snapshots") / "mixed.parquet"
    code = CliRunner().invoke(
        main, ["generate", "--profile", "mixed", "--events", "20000", "--seed", "7", "-o", str(path)]
    )
    assert code.exit_code == 0, code.output
    return path


def _places(mixed_parquet: Path) -> dict[str, str]:
    return {
        "rules": str(ROOT / "rules"),
        "corpora": str(ROOT / "corpora"),
        "shared": str(SHARED),
        "mixed_parquet": str(mixed_parquet),
    }


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in _SCRUBBED}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _held(snapshot: Any, now: Any, where: str) -> list[str]:
    """Where ``now`` departs from ``snapshot``: changed values, lost keys, lists of another length."""
    if isinstance(snapshot, dict):
        if not isinstance(now, dict):
            return [f"{where}: was an object, now {now!r:.80}"]
        problems = []
        for key, value in snapshot.items():
            if key not in now:
                problems.append(f"{where}.{key}: missing")
            else:
                problems.extend(_held(value, now[key], f"{where}.{key}"))
        return problems
    if isinstance(snapshot, list):
        if not isinstance(now, list) or len(now) != len(snapshot):
            return [f"{where}: was a list of {len(snapshot)}, now {now!r:.80}"]
        return [
            p
            for i, (a, b) in enumerate(zip(snapshot, now, strict=True))
            for p in _held(a, b, f"{where}[{i}]")
        ]
    return [] if snapshot == now else [f"{where}: was {snapshot!r:.80}, now {now!r:.80}"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_command_output_matches_its_snapshot(name: str, mixed_parquet: Path) -> None:
    places = _places(mixed_parquet)
    raw_args = CASES[name]["args"]
    if any("{shared}" in a for a in raw_args) and not SHARED.is_dir():
        pytest.skip("needs ../shared/data (real EVTX logs)")
    args = [a.format(**places) for a in raw_args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    text = result.stdout
    for placeholder, path in places.items():
        text = text.replace(json.dumps(path)[1:-1], "{" + placeholder + "}")
    output = _scrub(json.loads(text))
    snapshot_path = SNAPSHOTS / f"{name}.json.gz"
    if os.environ.get("HARNESS_UPDATE_SNAPSHOTS"):
        snapshot_path.write_bytes(gzip.compress(json.dumps(output, indent=1).encode(), mtime=0))
    snapshot = json.loads(gzip.decompress(snapshot_path.read_bytes()))
    problems = _held(snapshot, output, name)
    assert not problems, "\n".join(problems[:30])
