"""Writing corpora: NDJSON (plain or gzip) and Parquet, atomically and byte-for-byte reproducibly.

The same options give the same bytes: the fleet and every draw come from the seed,
time starts at a fixed instant unless told otherwise, gzip headers carry no time
stamp or file name, and Parquet files no creation time.

Parquet holds one type per column, so the fields that Endgame spells differently
are written in its columnar spelling (``Source.dumps(columnar=True)``): ``@timestamp``
always an ISO-8601 string, ``event.category`` and ``event.type`` always lists.
Elasticsearch indexes both spellings identically.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from generators.fastpath import fleet_chunks, write_fleet_ndjson
from generators.model import Launch
from generators.profiles import CorpusOptions, corpus_launches, scenario_sources
from generators.scenarios import Catalogue
from generators.sources import Source
from harness.events import atomic_writer

__all__ = ["FORMATS", "CorpusStats", "corpus_format", "iter_documents", "write_corpus"]

FORMATS = ("ndjson", "ndjson.gz", "parquet")
_BATCH = 20_000
_ROW_GROUP = 65_536


@dataclass
class CorpusStats:
    events: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    by_intent: dict[str, int] = field(default_factory=dict)

    def count(self, launch: Launch, src: Source) -> None:
        self.events += 1
        self.tally(src.name, launch.label.intent)

    def tally(self, source: str, intent: str, n: int = 1) -> None:
        self.by_source[source] = self.by_source.get(source, 0) + n
        self.by_intent[intent] = self.by_intent.get(intent, 0) + n


def corpus_format(path: str | Path) -> str:
    """The format a path's suffix asks for."""
    name = str(path).lower()
    for suffix, fmt in (
        (".ndjson.gz", "ndjson.gz"),
        (".jsonl.gz", "ndjson.gz"),
        (".ndjson", "ndjson"),
        (".jsonl", "ndjson"),
        (".parquet", "parquet"),
    ):
        if name.endswith(suffix):
            return fmt
    raise ValueError(f"{path}: unknown corpus format; use .ndjson, .ndjson.gz or .parquet")


def iter_documents(options: CorpusOptions) -> Iterator[dict[str, Any]]:
    """The corpus as plain documents, in order (for tests and small corpora)."""
    for launch, src in corpus_launches(options):
        yield src.render(launch)


def write_corpus(
    options: CorpusOptions,
    path: str | Path,
    *,
    on_progress: Callable[[int], None] | None = None,
    reference: bool = False,
) -> CorpusStats:
    """Write the corpus ``options`` describes to ``path``; nothing is left behind on failure.

    ``reference=True`` renders every event through its source's renderer even where the
    fast writer would be used; the bytes are the same (the tests hold both to it).
    """
    fmt = corpus_format(path)
    stats = CorpusStats()
    with atomic_writer(path) as stream:
        if fmt == "parquet":
            _write_parquet(options, stream, stats, on_progress, reference)
        elif fmt == "ndjson.gz":
            # Level 1 compresses twice as fast as the default 6 for 1.5 times the size: corpora
            # are regenerated from a seed, not archived, so time matters more than bytes.
            with gzip.GzipFile(filename="", mode="wb", fileobj=stream, mtime=0, compresslevel=1) as packed:
                _write_ndjson(options, packed, stats, on_progress, reference)  # type: ignore[arg-type]
        else:
            _write_ndjson(options, stream, stats, on_progress, reference)
    return stats


def _write_ndjson(
    options: CorpusOptions,
    stream: IO[bytes],
    stats: CorpusStats,
    on_progress: Callable[[int], None] | None,
    reference: bool,
) -> None:
    if options.profile != "scenarios" and not reference:
        stats.events = write_fleet_ndjson(options, stream, stats.tally, on_progress)
        return
    lines: list[bytes] = []
    for launch, src in corpus_launches(options):
        lines.append(src.dumps(launch))
        stats.count(launch, src)
        if len(lines) == _BATCH:
            stream.write(b"\n".join(lines) + b"\n")
            lines.clear()
            if on_progress:
                on_progress(stats.events)
    if lines:
        stream.write(b"\n".join(lines) + b"\n")
    if on_progress:
        on_progress(stats.events)


def _parquet_line(launch: Launch, src: Source) -> bytes:
    return src.dumps(launch, columnar=True)


def parquet_schema(catalogue: Catalogue | None) -> pa.Schema:
    """One schema for every source: inferred from every scenario of ``catalogue`` in every source.

    Without a catalogue, from a sample of fleet background (every source, every host role).
    """
    if catalogue is not None:
        sample = CorpusOptions("scenarios", seed=0, catalogue=catalogue)
    else:
        sample = CorpusOptions("fleet", events=5_000, seed=0)
    lines = [_parquet_line(launch, src) for launch, src in corpus_launches(sample)]
    table = pa_json.read_json(
        io.BytesIO(b"\n".join(lines)), read_options=pa_json.ReadOptions(use_threads=False)
    )
    return table.schema


def _write_parquet(
    options: CorpusOptions,
    stream: IO[bytes],
    stats: CorpusStats,
    on_progress: Callable[[int], None] | None,
    reference: bool,
) -> None:
    schema = parquet_schema(options.catalogue)
    parse = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
    read = pa_json.ReadOptions(block_size=1 << 26)
    pending: list[pa.Table] = []
    held = 0
    with pq.ParquetWriter(stream, schema, compression="zstd", write_statistics=True) as writer:
        # Row groups of a fixed size, whatever the chunks: the same corpus gives the same file
        # whichever writer made the chunks.
        for chunk, _ in _parquet_chunks(options, stats, reference):
            table = pa_json.read_json(pa.BufferReader(chunk), read_options=read, parse_options=parse)
            pending.append(table.select(schema.names).cast(schema))
            held += table.num_rows
            while held >= _ROW_GROUP:
                combined = pa.concat_tables(pending)
                writer.write_table(combined.slice(0, _ROW_GROUP))
                pending, held = [combined.slice(_ROW_GROUP)], held - _ROW_GROUP
            if on_progress:
                on_progress(stats.events)
        if held:
            writer.write_table(pa.concat_tables(pending))


def _parquet_chunks(options: CorpusOptions, stats: CorpusStats, reference: bool) -> Iterator[tuple[Any, int]]:
    """NDJSON text in Parquet's spelling, chunk by chunk."""
    if options.profile != "scenarios" and not reference:
        for chunk, count in fleet_chunks(options, stats.tally, _parquet_line, columnar=True):
            stats.events += count
            yield chunk, count
        return
    lines: list[bytes] = []
    for launch, src in corpus_launches(options):
        lines.append(_parquet_line(launch, src))
        stats.count(launch, src)
        if len(lines) == _BATCH:
            yield b"\n".join(lines), len(lines)
            lines.clear()
    if lines:
        yield b"\n".join(lines), len(lines)


def catalogue_rows(catalogue: Catalogue) -> list[dict[str, str]]:
    """One row per scenario of ``catalogue``, with the sources it is rendered in (corpora/README.md)."""
    return [
        {
            "id": s.id,
            "intent": s.intent,
            "attack": ", ".join(s.attack),
            "sources": ", ".join(src.name for src in scenario_sources(s)),
            "description": s.description,
            "reference": s.reference,
        }
        for s in catalogue.scenarios.values()
    ]
