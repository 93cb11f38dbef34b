"""``diff`` from the queries alone: events derived from OLD and NEW, rendered into the sources they read.

``generators.derive.compare`` finds the events (witnesses of ``OLD and not NEW`` and
``NEW and not OLD`` searched directly, and each version's own witnesses tried on the
other) over the data sources either version reads. What a version cannot see is
decided here, with the rule's indices: an event counts as lost in a source only where
OLD reads it, as gained only where NEW does, and a source one version stops (or starts)
reading is a change of its own, made of that version's witnesses alerting there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.app.setup import RuleSetup
from harness.eql import FieldMapping, Query, parse_query, parse_statement
from harness.validation.change_groups import Grouper
from harness.validation.derived_diff import (
    GAINED,
    LOST,
    DerivedChange,
    DerivedDiff,
    DerivedEvent,
    DerivedVersion,
    SourceCount,
    SourceRead,
    group_changes,
    judge_losses,
)

if TYPE_CHECKING:
    from generators.derive import Derivation, Witness
    from generators.derive.compare import Crossing

__all__ = ["derived_diff"]


def derived_diff(old: RuleSetup, new: RuleSetup, *, mapping: FieldMapping | None = None) -> DerivedDiff:
    """How ``old`` and ``new`` differ on events derived from their queries, judged by NEW's expectations."""
    from generators.derive.compare import compare
    from generators.sources import SOURCES

    old_name, new_name = _names(old, new)
    statements = parse_statement(old.rule.query), parse_statement(new.rule.query)
    if not all(isinstance(statement, Query) for statement in statements):
        from harness.app.chain_diff import chain_diff

        return chain_diff(old, new, (old_name, new_name), mapping=mapping)
    old_query, new_query = parse_query(old.rule.query), parse_query(new.rule.query)
    reads = {
        s.name: (old.scope.indices.reads(s.index), new.scope.indices.reads(s.index)) for s in SOURCES.values()
    }
    read_by_old = {name for name, (by_old, _) in reads.items() if by_old}
    read_by_new = {name for name, (_, by_new) in reads.items() if by_new}
    rendered = [source for source in SOURCES.values() if source.name in read_by_old | read_by_new]
    found = compare(
        old_query, new_query, old_name=old_name, new_name=new_name, sources=rendered, mapping=mapping
    )
    grouper = Grouper(old_query, new_query, old_name=old_name, new_name=new_name, mapping=mapping)
    events = _Events(grouper.fields, read_by_old & read_by_new)
    changes = [
        *group_changes(grouper, LOST, map(events.crossing, found.lost)),
        *events.unread(LOST, found.old.witnesses, read_by_old - read_by_new, new_name, new),
        *group_changes(grouper, GAINED, map(events.crossing, found.gained)),
        *events.unread(GAINED, found.new.witnesses, read_by_new - read_by_old, old_name, old),
    ]
    judged, unused = judge_losses(changes, new.expectations)
    return DerivedDiff(
        _version(found.old, read_by_old),
        _version(found.new, read_by_new),
        tuple(SourceRead(s.name, s.index, *reads[s.name]) for s in rendered),
        judged,
        tuple(f.message for d in found.searched for f in d.findings if f.kind in ("unsolved", "truncated")),
        unused,
    )


def _names(old: RuleSetup, new: RuleSetup) -> tuple[str, str]:
    """How the report names the versions: their labels, told apart by file name where they are equal."""
    if old.label != new.label:
        return old.label, new.label
    stems = Path(old.rule.path).stem, Path(new.rule.path).stem
    return stems if stems[0] != stems[1] else ("old", "new")


class _Events:
    """Witnesses as the report shows them, counted in the sources where the versions differ on them."""

    def __init__(self, first: Sequence[str], read_by_both: set[str]) -> None:
        self.first = first  # the fields the changed predicates read: shown first
        self.read_by_both = read_by_both

    def crossing(self, crossing: Crossing) -> DerivedEvent:
        """A crossing, counted in the sources both versions read (the others are scope changes)."""
        return _derived(
            crossing.witness, tuple(s for s in crossing.sources if s in self.read_by_both), self.first
        )

    def unread(
        self,
        direction: str,
        witnesses: Sequence[Witness],
        sources: set[str],
        other_name: str,
        other: RuleSetup,
    ) -> list[DerivedChange]:
        """One version's witnesses alerting in the sources the other does not read, as one change."""
        events = []
        for witness in witnesses:
            where = tuple(
                r.source for r in witness.renderings if r.source in sources and r.status == "alerts"
            )
            if where:
                events.append(_derived(witness, where, self.first))
        if not events:
            return []
        why = f"{other_name} does not read {', '.join(sorted(sources))} (its indices: {other.scope.indices})"
        return [DerivedChange(direction, why, tuple(events))]


def _derived(witness: Witness, sources: tuple[str, ...], first: Sequence[str]) -> DerivedEvent:
    """The witness as the report shows it: the fields the changed predicates read come first."""
    from generators.derive import describe
    from generators.derive.solve import MISSING

    ordered = {name: witness.values[name] for name in first if name in witness.values}
    ordered.update(witness.values)
    values = {name: None if value is MISSING else value for name, value in ordered.items()}
    return DerivedEvent(witness.id, witness.variant, describe(ordered), values, sources, witness.document)


def _version(derivation: Derivation, reads: set[str]) -> DerivedVersion:
    counts = []
    for source in derivation.sources:
        if source not in reads:
            continue
        witnesses = _statuses(derivation.witnesses, source)
        near_misses = _statuses(derivation.near_misses, source)
        counts.append(
            SourceCount(
                source,
                witnesses=len(witnesses) - witnesses.count("blind-spot"),
                witnesses_alerting=witnesses.count("alerts"),
                blind_spots=witnesses.count("blind-spot"),
                near_misses=len(near_misses) - near_misses.count("blind-spot"),
                near_misses_silent=near_misses.count("silent"),
            )
        )
    return DerivedVersion(
        derivation.name,
        len(derivation.branches),
        len(derivation.witnesses),
        len(derivation.near_misses),
        tuple((f.kind, f.message) for f in derivation.findings),
        tuple(counts),
    )


def _statuses(events: Iterable[Any], source: str) -> list[str]:
    return [r.status for event in events for r in event.renderings if r.source == source]
