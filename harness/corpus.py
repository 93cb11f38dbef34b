"""Opening a corpus for a run: a file (NDJSON, gzip, JSON array, Parquet) or a generator profile."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from harness.errors import HarnessError, InputError
from harness.events import EventRecord, read_events, read_line_range
from harness.vocabulary import DEFAULT_SEED, Profile

if TYPE_CHECKING:
    from generators.scenarios import Catalogue

__all__ = [
    "Placed",
    "Places",
    "as_document",
    "check_parquet_folder",
    "describe_corpus",
    "open_corpus",
    "open_line_range",
]


def open_corpus(
    path: str | None = None,
    *,
    profile: str | None = None,
    events: int | None = None,
    seed: int = DEFAULT_SEED,
    catalogue: Catalogue | None = None,
    notice: Callable[[str], None] | None = None,
) -> Placed[dict[str, Any]]:
    """The documents of a corpus file, or of a profile generated on the fly (the default: scenarios).

    A generated profile runs ``catalogue``'s scenarios (a fleet without one is background
    alone). An ``.evtx`` file is ingested on the fly; ``notice`` hears what was read and skipped.
    The result says where its last document came from (:class:`Placed`).
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
        return Placed("generated document", enumerate(iter_documents(options), start=1))
    if path.lower().endswith(".parquet") or Path(path).is_dir():
        return Placed(f"{path}: row", enumerate(_parquet(path), start=1))
    if path.lower().endswith(".evtx"):
        return Placed(f"{path}: mapped record", enumerate(_evtx(path, notice), start=1))
    return Placed(f"{path}:", _indexed(read_events([path])))


def open_line_range(path: str, start: int, end: int) -> Placed[dict[str, Any]]:
    """The documents of the lines from byte ``start`` to ``end`` of a plain NDJSON corpus file
    (``harness.events.line_ranges`` cuts one), read and mapped as :func:`open_corpus` reads the file."""
    return Placed(f"{path}:", _indexed(read_line_range(path, start, end)))


def as_document(record: EventRecord) -> dict[str, Any]:
    """The document a corpus file holds as ``record``: a raw Winlogbeat line mapped as its ingest
    pipeline would, a search hit's ``_source`` placed in the hit's ``_index``."""
    from harness.ingest import as_indexed

    return _document(record, as_indexed)


def _indexed(records: Iterator[EventRecord]) -> Iterator[tuple[int, dict[str, Any]]]:
    from harness.ingest import as_indexed

    for record in records:
        yield record.line, _document(record, as_indexed)


def _document(record: EventRecord, as_indexed: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    event = record.event
    # Only a line with a ``winlog`` block is a Winlogbeat event to map: the rest pass as they are.
    document = as_indexed(event) if "winlog" in event else event
    # A search hit's _index says where the event lives (harness.indices reads it); a _source never
    # holds the key itself, since Elasticsearch refuses metadata fields inside a document.
    return document if record.index is None else {**document, "_index": record.index}


Document = TypeVar("Document", bound=dict[str, Any])


@dataclass(frozen=True)
class Places:
    """Where each of a list of documents came from: a file's lines, a table's rows, a caller's
    documents, written as an error names them (``file:line``, ``file: row N``, ``document N``).

    ``numbers`` holds each document's number in order (a file's line numbers, where blank lines
    and a JSON array make them differ from the document's position); None numbers them 1, 2, 3.
    """

    prefix: str
    numbers: Sequence[int] | None = None

    def where(self, at: int) -> str:
        """The place of the document at position ``at`` (0-based) of the list."""
        return written(self.prefix, at + 1 if self.numbers is None else self.numbers[at])

    def placed(self, documents: Iterable[Document]) -> Placed[Document]:
        """``documents``, the list these places are of, handed out remembering where each came from."""
        if self.numbers is None:
            return Placed(self.prefix, enumerate(documents, start=1))
        return Placed(self.prefix, zip(self.numbers, documents, strict=True))


def written(prefix: str, number: int) -> str:
    separator = "" if prefix.endswith(":") else " "
    return f"{prefix}{separator}{number}"


class Placed(Iterator[Document], Generic[Document]):
    """Documents that remember where the last one handed out came from, so an error on it can say.

    The place is kept as a number and written out only when asked for (:attr:`where`), so
    the common case, no error, costs a tuple per document.
    """

    def __init__(self, prefix: str, items: Iterator[tuple[int, Document]]) -> None:
        self._prefix = prefix
        self._items = items
        self._last: int | None = None
        self._places: dict[int, int] | None = None  # by the document's identity, once remembering

    def __iter__(self) -> Placed[Document]:
        return self

    def __next__(self) -> Document:
        self._last, document = next(self._items)
        if self._places is not None:
            self._places[id(document)] = self._last
        return document

    def remembering(self) -> Placed[Document]:
        """Keep every document's place from now on, for a search that may fail on any of them once
        all are read (the caller keeps the documents, so their identities stay theirs)."""
        self._places = {}
        return self

    def listed(self) -> tuple[list[Document], Places]:
        """Every document left, as a list, and their places (for documents read once, used many times)."""
        documents: list[Document] = []
        numbers = array("q")
        for number, document in self._items:
            numbers.append(number)
            documents.append(document)
        return documents, Places(self._prefix, numbers)

    @property
    def where(self) -> str | None:
        """``file:line``, ``file: row N``, ``generated document N``; None before the first document."""
        return self._written(self._last)

    def where_of(self, document: object) -> str | None:
        """Where ``document`` came from, when remembering; None when it is not one handed out."""
        if self._places is None:
            return None
        return self._written(self._places.get(id(document)))

    def _written(self, place: int | None) -> str | None:
        return None if place is None else written(self._prefix, place)


def describe_corpus(
    path: str | None, profile: str | None, events: int | None, seed: int = DEFAULT_SEED
) -> str:
    if path is not None:
        return path
    size = f", {events:,} events" if events is not None else ""
    return f"profile {profile or 'scenarios'} (seed {seed}{size})"


def check_parquet_folder(path: str) -> None:
    """A folder corpus is a Parquet dataset: one without a ``.parquet`` file is a mistake, not zero events."""
    folder = Path(path)
    if folder.is_dir() and not any(folder.rglob("*.parquet")):
        raise InputError(path, 0, "a folder corpus is read as Parquet, and this one holds no .parquet file")


def _parquet(path: str) -> Iterator[dict[str, Any]]:
    """Rows in batches, so memory stays bounded whatever the file's size."""
    import pyarrow.dataset as ds

    check_parquet_folder(path)

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
