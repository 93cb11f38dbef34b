"""Writing corpora: NDJSON (plain or gzip) and Parquet, atomically and byte-for-byte reproducibly.

The same options give the same bytes: the fleet and every draw come from the seed,
time starts at a fixed instant unless told otherwise, gzip headers carry no time
stamp or file name, and Parquet files no creation time.

Parquet files are written by ``generators.parquet``.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from generators.fastpath import write_fleet_ndjson
from generators.model import Launch
from generators.parquet import write_parquet
from generators.profiles import CorpusOptions, corpus_launches, scenario_sources
from generators.scenarios import Catalogue
from generators.sources import Source
from harness.events import atomic_writer

__all__ = ["FORMATS", "CorpusStats", "corpus_format", "iter_documents", "write_corpus"]

FORMATS = ("ndjson", "ndjson.gz", "parquet")
_BATCH = 20_000


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
            write_parquet(options, stream, stats, on_progress, reference)
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
