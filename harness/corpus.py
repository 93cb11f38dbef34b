"""Opening a corpus for a run: a file (NDJSON, gzip, JSON array, Parquet) or a generator profile."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError, InputError
from harness.events import read_events
from harness.vocabulary import DEFAULT_SEED, Profile

if TYPE_CHECKING:
    from generators.scenarios import Catalogue

__all__ = ["describe_corpus", "open_corpus"]


def open_corpus(
    path: str | None = None,
    *,
    profile: str | None = None,
    events: int | None = None,
    seed: int = DEFAULT_SEED,
    catalogue: Catalogue | None = None,
    notice: Callable[[str], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """The documents of a corpus file, or of a profile generated on the fly (the default: scenarios).

    A generated profile runs ``catalogue``'s scenarios (a fleet without one is background
    alone). An ``.evtx`` file is ingested on the fly; ``notice`` hears what was read and skipped.
    """
    if path is not None and profile is not None:
        raise HarnessError("give a corpus file or a profile, not both")
    if path is None:
        from generators.corpus import iter_documents
        from generators.profiles import CorpusOptions

        try:
            options = CorpusOptions(profile or Profile.SCENARIOS, events, seed, catalogue=catalogue)
        except ValueError as error:
            raise HarnessError(str(error)) from error
        return iter_documents(options)
    if path.lower().endswith(".parquet") or Path(path).is_dir():
        return _parquet(path)
    if path.lower().endswith(".evtx"):
        return _evtx(path, notice)
    from harness.ingest import as_indexed

    # A search hit's _index says where the event lives (harness.indices reads it); a _source never
    # holds the key itself, since Elasticsearch refuses metadata fields inside a document.
    return (
        as_indexed(record.event)
        if record.index is None
        else {**as_indexed(record.event), "_index": record.index}
        for record in read_events([path])
    )


def describe_corpus(
    path: str | None, profile: str | None, events: int | None, seed: int = DEFAULT_SEED
) -> str:
    if path is not None:
        return path
    size = f", {events:,} events" if events is not None else ""
    return f"profile {profile or 'scenarios'} (seed {seed}{size})"


def _parquet(path: str) -> Iterator[dict[str, Any]]:
    """Rows in batches, so memory stays bounded whatever the file's size."""
    import pyarrow.dataset as ds

    try:
        dataset = ds.dataset(path, format="parquet")
    except (OSError, ValueError) as error:
        raise InputError(path, 0, f"cannot read as Parquet: {error}") from error
    for batch in dataset.to_batches(batch_size=10_000):
        yield from batch.to_pylist()


def _evtx(path: str, notice: Callable[[str], None] | None) -> Iterator[dict[str, Any]]:
    """Records mapped as Elastic's integrations map them; a damaged file stops the run (IngestError)."""
    from harness.ingest import ingest_evtx

    result = ingest_evtx(path)
    if notice is not None:
        skipped = ", ".join(f"{n} {p} event {e}" for (p, e), n in sorted(result.skipped.items()))
        notice(
            f"{path}: {result.records} record(s), {len(result.documents)} process start(s) mapped"
            + (f"; skipped {skipped}" if skipped else "")
        )
    return iter(result.documents)
