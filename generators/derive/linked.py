"""What a derived chain is: its events placed in time and joined on the keys, and its checks.

A chain is the documents of a sequence or sample built from each stage's derived witness
(``derivation.derive`` on the stage's own query), joined on the statement's keys (the
shared ``by`` keys, then each stage's own) and placed in time. Its canonical documents are
Elastic Defend's with every solved value written on them (``events.canonical_document``):
what the statement reads, whatever the sources can write.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from generators.derive.derivation import Derivation, Finding
from harness.eql.ast import Statement
from harness.eql.search import Found, Searcher

__all__ = [
    "Chain",
    "ChainEvent",
    "ChainRendering",
    "StatementDerivation",
    "finds_any",
    "found_exactly",
    "start_iso",
]

STAGE, UNTIL, MISSING_EVENT = "stage", "until", "missing"
# Every chain starts a minute after the single-event witnesses' hour, so an event placed
# before its first stage (a leading missing event) is still a plain time.
START_NS = 1_767_261_660_000_000_000  # 2026-01-01T10:01:00Z


@dataclass(frozen=True)
class ChainEvent:
    """One event of a chain: a stage's witness (``stage``), an ``until`` event or a missing event present."""

    role: str  # STAGE, UNTIL or MISSING_EVENT
    stage: int  # the stage's index in the statement (the until stage: -1)
    category: str | None
    offset_ms: int  # after the chain's start
    values: Mapping[str, object]  # the stage witness's solved values
    needed: tuple[str, ...]  # the fields its stage's branch needs a value of
    keys: tuple[str, ...]  # the field of each key slot on this event

    @property
    def timestamp(self) -> str:
        return start_iso(self.offset_ms)

    def label(self) -> str:
        if self.role == UNTIL:
            return "until"
        what = "missing event" if self.role == MISSING_EVENT else "stage"
        return f"{what} {self.stage + 1}"


@dataclass(frozen=True)
class ChainRendering:
    """A chain in one data source: ``alerts``, ``silent``, or ``blind-spot`` (some event not writable)."""

    source: str
    status: str
    reason: str = ""
    documents: tuple[dict[str, Any], ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Chain:
    """A derived witness chain (the statement must find it) or near miss (it must find nothing)."""

    id: str
    kind: str  # "witness" or "near miss"
    chain: int  # which combination of stage witnesses
    variant: str  # what it exercises: "base", "at the maxspan bound", "stage 2 dropped", ...
    events: tuple[ChainEvent, ...]
    key_values: tuple[tuple[str, object], ...]  # each slot's field (first event's) and its canonical value
    documents: tuple[dict[str, Any], ...] = field(compare=False, repr=False)
    renderings: tuple[ChainRendering, ...] = ()
    witness: str = ""  # a near miss: the witness it departs from

    def summary(self) -> str:
        """What it exercises and its size; each event's key values are the report's own lines."""
        count = len(self.events)
        joined = ", ".join(name for name, _ in self.key_values)
        return f"{self.variant}: {count} event{'' if count == 1 else 's'}" + (
            f" by {joined}" if joined else ""
        )


def found_exactly(searcher: Searcher, documents: tuple[dict[str, Any], ...]) -> bool:
    """Whether a search over ``documents`` returns a sequence (or sample) made of exactly all of them."""
    result = searcher.search(documents, size=max(10, len(documents)))
    return any(_same(found, documents) for found in result.sequences)


def finds_any(searcher: Searcher, documents: tuple[dict[str, Any], ...]) -> bool:
    """Whether the statement alerts on ``documents``: at least one sequence or sample."""
    return bool(searcher.search(documents, size=max(10, len(documents))).sequences)


def _same(found: Found, documents: tuple[dict[str, Any], ...]) -> bool:
    events = [event for event in found.events if event is not None]
    if len(events) != len(documents):
        return False
    # Samples come back in stage order, not time order: the same documents, each once.
    return {id(event) for event in events} == {id(doc) for doc in documents}


def start_iso(offset_ms: int) -> str:
    """The chain's start plus ``offset_ms``, as ISO 8601 in milliseconds (UTC)."""
    moment = datetime.datetime.fromtimestamp(START_NS / 1e9, tz=datetime.UTC) + datetime.timedelta(
        milliseconds=offset_ms
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class StatementDerivation:
    """Everything derived from one sequence or sample statement."""

    name: str
    statement: Statement
    kind: str  # "sequence" or "sample"
    stages: tuple[Derivation, ...]  # each stage's own derivation, in order (the until stage last)
    witnesses: tuple[Chain, ...]
    near_misses: tuple[Chain, ...]
    findings: tuple[Finding, ...]
    truncated: bool
    sources: tuple[str, ...]

    def documents(self) -> Iterator[dict[str, Any]]:
        """Every document of every chain a source can write: witnesses malicious, near misses benign."""
        for chain in (*self.witnesses, *self.near_misses):
            for rendering in chain.renderings:
                yield from rendering.documents

    @property
    def chains(self) -> int:
        """How many combinations of stage witnesses were built."""
        return len({w.chain for w in self.witnesses})
