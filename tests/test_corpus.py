"""Corpora: the same arguments give the same bytes, in every format, and files are whole or absent."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from generators.corpus import catalogue_rows, iter_documents, write_corpus
from generators.profiles import CorpusOptions
from harness.cli import main

from bundled import APPCMD

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "corpora" / "scenarios-seed7.ndjson"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("suffix", [".ndjson", ".ndjson.gz", ".parquet"])
def test_same_options_same_bytes(tmp_path: Path, suffix: str) -> None:
    options = CorpusOptions("mixed", events=3_000, seed=11, catalogue=APPCMD)
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    write_corpus(options, first)
    write_corpus(options, second)
    assert _digest(first) == _digest(second)
    write_corpus(CorpusOptions("mixed", events=3_000, seed=12, catalogue=APPCMD), second)
    assert _digest(first) != _digest(second)


def test_ndjson_holds_exactly_the_documents(tmp_path: Path) -> None:
    options = CorpusOptions("fleet", events=2_000, seed=5, days=2, catalogue=APPCMD)
    out = tmp_path / "f.ndjson"
    stats = write_corpus(options, out)
    lines = out.read_bytes().splitlines()
    assert stats.events == len(lines) == 2_000
    assert [orjson.loads(line) for line in lines] == orjson.loads(orjson.dumps(list(iter_documents(options))))


def test_gzip_has_no_timestamp_or_name(tmp_path: Path) -> None:
    out = tmp_path / "s.ndjson.gz"
    write_corpus(CorpusOptions(events=50, seed=1, catalogue=APPCMD), out)
    header = out.read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0"  # MTIME
    assert not header[3] & 0x08  # no FNAME
    assert len(gzip.decompress(out.read_bytes()).splitlines()) == 50


def test_parquet_rows_match_the_documents(tmp_path: Path) -> None:
    options = CorpusOptions("mixed", events=1_500, seed=2, catalogue=APPCMD)
    out = tmp_path / "m.parquet"
    write_corpus(options, out)
    table = pq.read_table(out)
    assert table.num_rows == 1_500
    docs = list(iter_documents(options))
    rows = table.to_pylist()
    for doc, row in zip(docs, rows, strict=True):
        assert row["labels"] == doc["labels"]
        assert row["process"]["pid"] == doc["process"]["pid"]
        assert row["process"].get("command_line") == doc["process"].get("command_line")
        assert "process" in row["event"]["category"]


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "never.ndjson"
    out.write_bytes(b"previous\n")

    def boom(done: int) -> None:
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_corpus(CorpusOptions("fleet", events=50_000, seed=1, catalogue=APPCMD), out, on_progress=boom)
    assert out.read_bytes() == b"previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["never.ndjson"]


def test_cli_generate_twice_gives_identical_files(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("s1.ndjson", "s2.ndjson"):
        result = runner.invoke(
            main, ["generate", "--profile", "scenarios", "--seed", "7", "--out", str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.output
        assert "wrote 491 events" in result.stderr
    assert _digest(tmp_path / "s1.ndjson") == _digest(tmp_path / "s2.ndjson")


def test_cli_rejects_an_unknown_format(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate", "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert "use .ndjson, .ndjson.gz or .parquet" in result.stderr


def test_golden_scenarios_corpus_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.ndjson"
    write_corpus(CorpusOptions("scenarios", seed=7, catalogue=APPCMD), fresh)
    assert _digest(fresh) == _digest(GOLDEN), (
        "the generators changed what they write: if intended, regenerate with "
        "`harness generate --profile scenarios --seed 7 --out corpora/scenarios-seed7.ndjson`"
    )


def test_catalogue_in_the_readme_lists_every_scenario() -> None:
    readme = (ROOT / "corpora" / "README.md").read_text(encoding="utf-8")
    for row in catalogue_rows(APPCMD):
        assert f"| `{row['id']}` | {row['intent']} |" in readme, row["id"]
