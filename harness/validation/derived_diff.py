"""Two versions of a rule compared by events derived from their queries, judged by NEW's expectations.

The application layer derives the events (``generators.derive``) and hands them here
as plain data: each version's witnesses and near misses counted per data source, and
every event one version alerts on and the other does not, with the sources where that
holds. Here they are grouped into changes (``change_groups``) and each lost event is
judged, source by source, against NEW's ``[diff.lost]`` entries: a loss no entry
accepts fails the diff. A gained event never does: it is shown for review.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from harness.validation.change_groups import ChangeKey, Grouper
from harness.validation.expectations import AcceptedLoss, Expectations

__all__ = [
    "GAINED",
    "LOST",
    "DerivedChange",
    "DerivedDiff",
    "DerivedEvent",
    "DerivedVersion",
    "SourceCount",
    "SourceRead",
    "group_changes",
    "judge_losses",
]

LOST = "lost"  # OLD alerts on the event, NEW does not
GAINED = "gained"  # NEW alerts on it, OLD does not


@dataclass(frozen=True)
class DerivedEvent:
    """One derived event the versions disagree on: the fields that matter, and where they disagree."""

    id: str
    variant: str  # what the derivation exercised: "base", "case variant", "without ?field", ...
    summary: str  # the solved fields in one line
    values: Mapping[str, Any]  # solved field -> value (None: the field is absent)
    sources: tuple[str, ...]  # the data sources whose document of it one version alerts on, not the other
    document: Mapping[str, Any] = field(compare=False, repr=False)
    accepted: Mapping[str, AcceptedLoss] = field(default_factory=dict)  # source -> the entry accepting it

    @property
    def unaccepted(self) -> tuple[str, ...]:
        return tuple(s for s in self.sources if s not in self.accepted)


@dataclass(frozen=True)
class DerivedChange:
    """One change between the versions, shown once: an example event and its variants."""

    direction: str  # LOST or GAINED
    why: str  # what tells the versions apart on these events, in one line
    events: tuple[DerivedEvent, ...]  # the first is the example

    @property
    def example(self) -> DerivedEvent:
        return self.events[0]

    @property
    def variants(self) -> int:
        """Events of this change besides the example."""
        return len(self.events) - 1

    def per_source(self) -> dict[str, int]:
        """How many of its events cross in each data source."""
        counts: dict[str, int] = {}
        for event in self.events:
            for source in event.sources:
                counts[source] = counts.get(source, 0) + 1
        return counts

    @property
    def unaccepted(self) -> int:
        """(event, source) losses no ``[diff.lost]`` entry accepts; 0 for a gain."""
        return 0 if self.direction == GAINED else sum(len(e.unaccepted) for e in self.events)

    @property
    def entries(self) -> tuple[AcceptedLoss, ...]:
        """The ``[diff.lost]`` entries that accept some of its losses, in the file's order."""
        found = {entry.name: entry for e in self.events for entry in e.accepted.values()}
        return tuple(sorted(found.values(), key=lambda entry: entry.line or 0))

    @property
    def verdict(self) -> str:
        """``gained``; or ``accepted``, ``partly accepted``, ``not accepted`` for a loss."""
        if self.direction == GAINED:
            return GAINED
        if not self.unaccepted:
            return "accepted"
        return "partly accepted" if self.entries else "not accepted"


@dataclass(frozen=True)
class SourceCount:
    """One version's derived events in one data source it reads."""

    name: str  # the data source
    witnesses: int  # witnesses the source can write
    witnesses_alerting: int
    blind_spots: int  # witnesses the source cannot write (a field it never carries)
    near_misses: int
    near_misses_silent: int


@dataclass(frozen=True)
class DerivedVersion:
    """What the derivation made of one version's query."""

    name: str
    branches: int
    witnesses: int
    near_misses: int
    findings: tuple[tuple[str, str], ...]  # (kind, message)
    sources: tuple[SourceCount, ...]


@dataclass(frozen=True)
class SourceRead:
    """A data source the harness renders, where it is indexed, and which version reads it."""

    name: str
    index: str
    read_by_old: bool
    read_by_new: bool


@dataclass(frozen=True)
class DerivedDiff:
    old: DerivedVersion
    new: DerivedVersion
    sources: tuple[SourceRead, ...]
    changes: tuple[DerivedChange, ...]
    unsolved: tuple[str, ...] = ()  # branches of OLD-and-not-NEW or NEW-and-not-OLD the search left unsolved
    unused: tuple[AcceptedLoss, ...] = ()  # [diff.lost] entries that accepted nothing here

    @property
    def lost(self) -> tuple[DerivedChange, ...]:
        return tuple(c for c in self.changes if c.direction == LOST)

    @property
    def gained(self) -> tuple[DerivedChange, ...]:
        return tuple(c for c in self.changes if c.direction == GAINED)

    @property
    def lost_not_accepted(self) -> int:
        return sum(c.unaccepted for c in self.changes)

    @property
    def passed(self) -> bool:
        return self.lost_not_accepted == 0


def group_changes(grouper: Grouper, direction: str, events: Iterable[DerivedEvent]) -> list[DerivedChange]:
    """``events`` of one direction as changes, in the order their first event came."""
    groups: dict[ChangeKey, list[DerivedEvent]] = {}
    for event in events:
        groups.setdefault(grouper.key(direction, event.document), []).append(event)
    return [
        DerivedChange(direction, grouper.explain(members[0].document), tuple(members))
        for members in groups.values()
    ]


def judge_losses(
    changes: Sequence[DerivedChange], expectations: Expectations
) -> tuple[tuple[DerivedChange, ...], tuple[AcceptedLoss, ...]]:
    """Each lost event's sources matched to NEW's ``[diff.lost]`` entries; and the entries never used."""
    used: set[str] = set()
    judged = []
    for change in changes:
        if change.direction != LOST:
            judged.append(change)
            continue
        events = []
        for event in change.events:
            accepted = {}
            for source in event.sources:
                entry = expectations.accepted_loss(event.document, source)
                if entry is not None:
                    accepted[source] = entry
                    used.add(entry.name)
            events.append(replace(event, accepted=accepted))
        judged.append(replace(change, events=tuple(events)))
    return tuple(judged), tuple(e for e in expectations.lost if e.name not in used)
