"""The fast fleet writer gives byte for byte what rendering each event gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from generators.corpus import write_corpus
from generators.profiles import CorpusOptions
from generators.sources import SOURCES
from generators.sources.template import PartSlot, RowSlot

from bundled import APPCMD


@pytest.mark.parametrize(
    "options",
    [
        CorpusOptions("mixed", events=12_000, seed=21, catalogue=APPCMD),
        CorpusOptions("fleet", events=40_000, seed=4, days=3, attack_rate=500.0, catalogue=APPCMD),
        CorpusOptions("fleet", events=3, seed=1, catalogue=APPCMD),
        CorpusOptions("fleet", events=0, seed=1, catalogue=APPCMD),
    ],
    ids=["mixed", "fleet-with-attacks", "three-events", "empty"],
)
def test_fast_writer_matches_the_renderers(tmp_path: Path, options: CorpusOptions) -> None:
    fast, reference = tmp_path / "fast.ndjson", tmp_path / "reference.ndjson"
    fast_stats = write_corpus(options, fast)
    reference_stats = write_corpus(options, reference, reference=True)
    fast_lines = fast.read_bytes().splitlines()
    reference_lines = reference.read_bytes().splitlines()
    assert len(fast_lines) == len(reference_lines) == options.events
    mismatched = [i for i, (a, b) in enumerate(zip(fast_lines, reference_lines, strict=True)) if a != b]
    assert not mismatched, f"first different line: {mismatched[0] + 1}"
    assert fast_stats == reference_stats


def test_fast_parquet_matches_the_renderers(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    options = CorpusOptions("mixed", events=8_000, seed=17, catalogue=APPCMD)
    write_corpus(options, tmp_path / "fast.parquet")
    write_corpus(options, tmp_path / "reference.parquet", reference=True)
    assert pq.read_table(tmp_path / "fast.parquet").equals(pq.read_table(tmp_path / "reference.parquet"))


def test_a_failing_writer_reaches_the_caller() -> None:
    import io

    from generators.fastpath import overlapped_writes

    class DiskFull(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, data: object) -> int:
            raise OSError("no space left on device")

    with pytest.raises(OSError, match="no space left"), overlapped_writes(DiskFull()) as write:  # type: ignore[arg-type]
        for _ in range(100):
            write(b"line\n")


def test_a_failing_caller_stops_the_writer() -> None:
    import io

    from generators.fastpath import overlapped_writes

    sink = io.BytesIO()
    with pytest.raises(RuntimeError, match="interrupted"), overlapped_writes(sink) as write:
        write(b"first\n")
        raise RuntimeError("interrupted")
    assert sink.getvalue() == b"first\n"


def test_chunks_of_scenario_events_only(tmp_path: Path) -> None:
    options = CorpusOptions("fleet", events=200, seed=5, days=1, attack_rate=1_000_000.0, catalogue=APPCMD)
    write_corpus(options, tmp_path / "fast.ndjson")
    write_corpus(options, tmp_path / "reference.ndjson", reference=True)
    assert (tmp_path / "fast.ndjson").read_bytes() == (tmp_path / "reference.ndjson").read_bytes()


def test_fast_and_reference_parquet_files_are_identical(tmp_path: Path) -> None:
    options = CorpusOptions("fleet", events=3_000, seed=3, days=4, catalogue=APPCMD)
    write_corpus(options, tmp_path / "fast.parquet")
    write_corpus(options, tmp_path / "reference.parquet", reference=True)
    assert (tmp_path / "fast.parquet").read_bytes() == (tmp_path / "reference.parquet").read_bytes()


@pytest.mark.parametrize("columnar", [False, True], ids=["ndjson", "parquet"])
@pytest.mark.parametrize("source", list(SOURCES))
def test_a_template_is_derived_for_every_source_and_spelling(source: str, columnar: bool) -> None:
    pieces = SOURCES[source].template(columnar).pieces
    assert any(isinstance(p, PartSlot) for p in pieces)
    assert any(isinstance(p, RowSlot) for p in pieces)
    assert isinstance(pieces[-1], str) and pieces[-1].endswith("}\n")


def test_a_renderer_that_reads_a_pooled_object_outside_a_part_is_refused() -> None:
    import orjson

    from generators.model import Launch
    from generators.sources.template import TemplateError, derive

    def dumps(launch: Launch) -> bytes:
        return orjson.dumps({"host": launch.host.name, "pid": launch.pid})

    with pytest.raises(TemplateError, match="outside its parts"):
        derive(dumps)
