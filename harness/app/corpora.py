"""Where a run's events come from, and which engine reads them.

A corpus is a file or folder (NDJSON, gzip, JSON array, Parquet, EVTX), a profile
generated on the fly from the rule's catalogue, or documents a Python caller hands in;
a labels sidecar may label a real log. ``auto`` runs Parquet in DuckDB and everything
else in the compiled engine; a query a SQL engine cannot run falls back to the compiled
engine unless that engine was asked for by name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from harness.errors import EqlEvaluationError, EqlUnsupportedError, UsageError
from harness.vocabulary import DEFAULT_SEED, Engine, Profile

if TYPE_CHECKING:
    from generators.scenarios import Catalogue
    from harness.corpus import Placed, Places
    from harness.validation.labels import LabelSidecar
    from harness.validation.tables import EventTable

__all__ = ["Corpus", "Notice", "Opened", "run_in_sql"]

Notice = Callable[[str], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Corpus:
    """A corpus to run on: ``path``, or ``documents``, or a generated ``profile`` (default: scenarios)."""

    path: str | None = None
    profile: Profile | None = None
    events: int | None = None
    seed: int = DEFAULT_SEED
    documents: Iterable[Mapping[str, Any]] | None = field(default=None, compare=False)
    labels: str | os.PathLike[str] | None = None  # a sidecar that labels a real log
    # Where each of ``documents`` came from, when they were read from a file for many rules.
    places: Places | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.path is not None and self.profile is not None:
            raise UsageError("give a corpus file or a profile, not both")
        if self.documents is not None and (self.path is not None or self.profile is not None):
            raise UsageError("give documents, a corpus file or a profile: one of them")

    @classmethod
    def of(cls, value: Corpus | str | os.PathLike[str] | Iterable[Mapping[str, Any]] | None) -> Corpus:
        if value is None:
            return cls()
        if isinstance(value, Corpus):
            return value
        if isinstance(value, (str, os.PathLike)):
            return cls(path=os.fspath(value))
        return cls(documents=value)

    @property
    def generated(self) -> bool:
        return self.path is None and self.documents is None

    @property
    def is_parquet(self) -> bool:
        return self.path is not None and (self.path.lower().endswith(".parquet") or Path(self.path).is_dir())

    @property
    def is_json_file(self) -> bool:
        """Whether this is a file read as JSON (NDJSON, gzip, a JSON array, an export), with no
        sidecar labelling it: not standard input, Parquet or EVTX, which are read their own ways."""
        from harness.events import STDIN

        path = self.path
        if path is None or path == STDIN or self.labels is not None or self.is_parquet:
            return False
        return not path.lower().endswith(".evtx")

    def describe(self) -> str:
        from harness.corpus import describe_corpus

        if self.documents is not None:
            return "documents"
        return describe_corpus(self.path, self.profile, self.events, self.seed)

    def with_profile(self, profile: Profile) -> Corpus:
        """This corpus, or ``profile`` when nothing was chosen (a command's own default)."""
        if self.generated and self.profile is None:
            return Corpus(None, profile, self.events, self.seed, None, self.labels)
        return self


@dataclass
class Opened:
    """A corpus opened for a rule: its documents (labelled by the sidecar, if any) and what to tell."""

    corpus: Corpus
    sidecar: LabelSidecar | None
    notices: list[str] = field(default_factory=list)
    # The documents last handed out, which know where each came from.
    placed: Placed[dict[str, Any]] | None = None

    def documents(
        self, catalogue: Catalogue | None, notice: Notice | None = None, *, searched: bool = False
    ) -> Iterator[dict[str, Any]]:
        """The documents, each remembering its place when ``searched`` (an error of a search over all
        of them names the document it failed on, not the last one read)."""
        from harness.corpus import Places, open_corpus
        from harness.validation.runner import is_partial

        corpus = self.corpus
        if corpus.documents is not None:
            # Copied, but a projected document (harness.projection) stays one: it gives itself whole.
            kept = (
                doc if isinstance(doc, dict) and is_partial(doc) else dict(doc) for doc in corpus.documents
            )
            stream = (corpus.places or Places("document")).placed(kept)
        else:
            stream = open_corpus(
                corpus.path,
                profile=corpus.profile,
                events=corpus.events,
                seed=corpus.seed,
                catalogue=catalogue,
                notice=notice,
            )
        self.placed = stream.remembering() if searched else stream
        return stream if self.sidecar is None else self.sidecar.apply(stream)

    @contextmanager
    def placing_errors(self) -> Iterator[None]:
        """An evaluation error raised while reading the documents names the document it failed on:
        the one a search noted (``remembering`` documents), else the last one read."""
        try:
            yield
        except EqlEvaluationError as error:
            placed = self.placed
            where = None
            if placed is not None:
                where = placed.where if error.event is None else placed.where_of(error.event)
            if where is None:
                raise
            raise EqlEvaluationError(f"{where}: {error}") from error

    def unused_label_notices(self) -> list[str]:
        """One line per sidecar entry that labelled nothing (read after the documents were consumed)."""
        if self.sidecar is None:
            return []
        return [
            f"{self.sidecar.path}:{entry.line}: this entry ({entry.scenario}) labelled no event: check it"
            for entry in self.sidecar.unused()
        ]


def open_for_rule(corpus: Corpus) -> Opened:
    sidecar = None
    if corpus.labels is not None:
        from harness.validation.labels import load_labels

        sidecar = load_labels(corpus.labels)
    return Opened(corpus, sidecar)


def sql_table(engine: Engine, opened: Opened, mapping: str | None, spark_master: str) -> EventTable | None:
    """The corpus as a SQL engine's table when the run belongs there (asked for, or auto on Parquet)."""
    from harness.validation.tables import DuckDbTable

    corpus = opened.corpus
    if corpus.is_parquet and engine != Engine.SPARK:  # Spark reads paths its own way, and says so
        from harness.corpus import check_parquet_folder

        assert corpus.path is not None
        check_parquet_folder(corpus.path)
    if engine.is_sql:
        if corpus.path is None or (engine == Engine.DUCKDB and not corpus.is_parquet):
            where = "a file or folder" + (
                ", or any path Spark reads: s3a://..." if engine == Engine.SPARK else ""
            )
            raise UsageError(f"--engine {engine} reads Parquet corpora: give --corpus PATH ({where})")
        if mapping is not None:
            raise UsageError(f"--engine {engine} takes types from the Parquet schema; leave out --mapping")
        if opened.sidecar is not None:
            raise UsageError(f"--labels runs on the row engines; leave out --engine {engine}")
        if engine == Engine.SPARK:
            from harness.spark import SparkTable

            return SparkTable(corpus.path, master=spark_master)
        return DuckDbTable(corpus.path)
    if engine == Engine.AUTO and corpus.is_parquet and mapping is None and opened.sidecar is None:
        assert corpus.path is not None
        return DuckDbTable(corpus.path)
    return None


def run_in_sql(engine: Engine, run: Callable[[], T]) -> tuple[T | None, str | None]:
    """``run()`` in a SQL engine; (None, why) for a query it cannot run, unless it was asked for by name."""
    try:
        return run(), None
    except EqlUnsupportedError as error:
        if engine.is_sql:
            raise
        return None, f"the SQL engine cannot run this query ({error.message}); ran the compiled engine"


def row_engine(engine: Engine) -> str:
    return "reference" if engine == Engine.REFERENCE else "compiled"


def load_mapping(value: str | None) -> Any:
    """``ecs`` for the bundled ECS subset, a path for an index mapping, None for none."""
    if value is None:
        return None
    from harness.eql import ECS, load_index_mapping

    return ECS if value == "ecs" else load_index_mapping(value)
