"""Parquet corpora: fleet background built as Arrow columns, in row groups written as they are made.

A fleet's background is built column by column from each source's document tree
(``generators.columnar``); the few scenario events, a scenarios corpus and the reference
route are rendered, serialized in Parquet's spelling and read by Arrow's JSON reader
with the same schema. Row groups have a fixed size whatever the chunks, so the same
corpus gives the same file whichever route made the rows, and at most a few row groups
are held at once: memory does not grow with the corpus. Writing (encoding, zstd) runs
in a second thread while the next chunk is built.

Parquet holds one type per column, so the fields that Endgame spells differently are
written in its columnar spelling (``Source.dumps(columnar=True)``): ``@timestamp``
always an ISO-8601 string, ``event.category`` and ``event.type`` always lists.
Elasticsearch indexes both spellings identically.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import IO, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from generators.columnar import Gathered, Group, TableBuilder, document_tree
from generators.fastpath import background_groups, fleet_plan_chunks, overlapped
from generators.model import Launch
from generators.profiles import CorpusOptions, corpus_launches
from generators.scenarios import Catalogue
from generators.sources import SOURCES, Source

__all__ = ["ROW_GROUP", "json_tables", "parquet_schema", "write_parquet"]

ROW_GROUP = 65_536
_BATCH = 20_000  # rendered documents read by the JSON reader at once


class Counter(Protocol):
    """What counts a corpus's events (``CorpusStats``)."""

    events: int

    def count(self, launch: Launch, src: Source) -> None: ...

    def tally(self, source: str, intent: str, n: int = 1) -> None: ...


def parquet_schema(catalogue: Catalogue | None) -> pa.Schema:
    """One schema for every source: inferred from every scenario of ``catalogue`` in every source.

    Without a catalogue, from a sample of fleet background (every source, every host role).
    """
    if catalogue is not None:
        sample = CorpusOptions("scenarios", seed=0, catalogue=catalogue)
    else:
        sample = CorpusOptions("fleet", events=5_000, seed=0)
    lines = [src.dumps(launch, columnar=True) for launch, src in corpus_launches(sample)]
    table = pa_json.read_json(
        io.BytesIO(b"\n".join(lines)), read_options=pa_json.ReadOptions(use_threads=False)
    )
    return table.schema


def _read_json(lines: list[bytes], schema: pa.Schema) -> pa.Table:
    """Rendered documents in Parquet's spelling as a table of ``schema``; a key it lacks is an error."""
    parse = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
    read = pa_json.ReadOptions(block_size=1 << 26)
    table = pa_json.read_json(pa.BufferReader(b"\n".join(lines)), read_options=read, parse_options=parse)
    return table.select(schema.names).cast(schema)


def json_tables(options: CorpusOptions, schema: pa.Schema, stats: Counter) -> Iterator[pa.Table]:
    """Every event rendered and read back by Arrow's JSON reader: the reference route, and the scenarios'."""
    lines: list[bytes] = []
    for launch, src in corpus_launches(options):
        lines.append(src.dumps(launch, columnar=True))
        stats.count(launch, src)
        if len(lines) == _BATCH:
            yield _read_json(lines, schema)
            lines.clear()
    if lines:
        yield _read_json(lines, schema)


def _column_tables(options: CorpusOptions, schema: pa.Schema, stats: Counter) -> Iterator[pa.Table]:
    """A fleet or mixed corpus chunk by chunk: background built in columns, scenario events read as JSON."""
    trees = {name: document_tree(src.template(columnar=True)) for name, src in SOURCES.items()}
    names = list(SOURCES)
    builder: TableBuilder | None = None
    for chunk, pools, host_source in fleet_plan_chunks(options, stats.tally):
        builder = builder or TableBuilder(schema, pools)
        places = np.flatnonzero(chunk.is_background)
        groups = [
            Group(names[s], places[mine], trees[names[s]], rows)
            for s, mine, rows in background_groups(chunk, pools, host_source)
        ]
        if chunk.injected:
            lines = [src.dumps(launch, columnar=True) for launch, src in chunk.injected]
            read = _read_json(lines, schema).combine_chunks().to_struct_array().combine_chunks()
            scenario = Gathered(read, np.arange(len(read)))
            groups.append(Group("scenario events", np.flatnonzero(~chunk.is_background), scenario))
        stats.events += chunk.length
        yield builder.table(chunk.length, groups)


def write_parquet(
    options: CorpusOptions,
    stream: IO[bytes],
    stats: Counter,
    on_progress: Callable[[int], None] | None,
    reference: bool,
) -> None:
    """Write the corpus as Parquet (zstd, statistics), in row groups of :data:`ROW_GROUP` rows."""
    schema = parquet_schema(options.catalogue)
    fast = options.profile != "scenarios" and not reference
    tables = _column_tables(options, schema, stats) if fast else json_tables(options, schema, stats)
    with (
        pq.ParquetWriter(stream, schema, compression="zstd", write_statistics=True) as writer,
        # A row group is some 100 MB in memory: one waits while another is written.
        overlapped(writer.write_table, depth=1) as write,
    ):
        pending: list[pa.Table] = []
        held = 0
        for table in tables:
            pending.append(table)
            held += table.num_rows
            while held >= ROW_GROUP:
                combined = pa.concat_tables(pending)
                # One chunk per column: where pages end must not depend on how the rows were made.
                write(combined.slice(0, ROW_GROUP).combine_chunks())
                pending, held = [combined.slice(ROW_GROUP)], held - ROW_GROUP
            if on_progress:
                on_progress(stats.events)
        if held:
            write(pa.concat_tables(pending).combine_chunks())
