"""Two versions of a query compared by concrete events: what one catches that the other does not.

Witnesses of ``OLD and not NEW`` (lost) and ``NEW and not OLD`` (gained) are searched
directly, branch by branch of the combined condition; each version's own witnesses
are also tried on the other, so a change a branch search misses still shows when a
witness of one version crosses it. Every event is rendered into each data source, and
a source counts an event as lost when OLD alerts on its document there and NEW does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from generators.derive.derivation import Derivation, Witness, derive
from generators.derive.normal import DEFAULT_BRANCH_CAP
from generators.fleet import Fleet
from generators.sources import SOURCES, Source
from harness.eql.ast import And, Comparison, Expr, Field, Literal, Not, Query
from harness.eql.mapping import FieldMapping
from harness.eql.matcher import Matcher
from harness.errors import HarnessError

__all__ = ["Crossing", "QueryDiff", "compare"]


@dataclass(frozen=True)
class Crossing:
    """One event one version alerts on and the other does not, with the sources where that holds."""

    direction: str  # "lost" (OLD alerts, NEW does not) or "gained"
    witness: Witness
    sources: tuple[str, ...]  # the sources whose document of this event shows the difference

    def summary(self) -> str:
        return self.witness.summary()


@dataclass(frozen=True)
class QueryDiff:
    old: Derivation
    new: Derivation
    lost: tuple[Crossing, ...]
    gained: tuple[Crossing, ...]
    searched: tuple[Derivation, Derivation]  # OLD and not NEW, NEW and not OLD

    @property
    def identical(self) -> bool:
        return not self.lost and not self.gained


def compare(
    old: Query,
    new: Query,
    *,
    old_name: str = "old",
    new_name: str = "new",
    sources: Sequence[Source] | None = None,
    mapping: FieldMapping | None = None,
    category_field: str = "event.category",
    branch_cap: int = DEFAULT_BRANCH_CAP,
    fleet: Fleet | None = None,
    fills: int = 4,
) -> QueryDiff:
    """The events that tell ``old`` and ``new`` apart, derived from the two queries alone."""
    chosen = tuple(SOURCES.values()) if sources is None else tuple(sources)

    def derived(query: Query, name: str, fills: int = 1) -> Derivation:
        return derive(
            query,
            name=name,
            sources=chosen,
            mapping=mapping,
            category_field=category_field,
            branch_cap=branch_cap,
            fleet=fleet,
            fills=fills,
        )

    old_d, new_d = derived(old, old_name), derived(new, new_name)
    lost_q = _without(old, new)
    gained_q = _without(new, old)
    lost_d = derived(lost_q, f"{old_name}-not-{new_name}", fills)
    gained_d = derived(gained_q, f"{new_name}-not-{old_name}", fills)
    judge = _Judge(old, new, mapping, category_field)
    lost = judge.crossings("lost", (*lost_d.witnesses, *old_d.witnesses), reverse=False)
    gained = judge.crossings("gained", (*gained_d.witnesses, *new_d.witnesses), reverse=True)
    return QueryDiff(old_d, new_d, lost, gained, (lost_d, gained_d))


def _without(keep: Query, drop: Query) -> Query:
    """``keep and not drop`` as one query (categories become conditions when they differ)."""
    if keep.category == drop.category:
        return Query(keep.category, And((keep.condition, Not(drop.condition))))
    return Query(None, And((_categorised(keep), Not(_categorised(drop)))))


def _categorised(query: Query) -> Expr:
    if query.category is None:
        return query.condition
    check = Comparison("==", Field(("event", "category")), Literal(query.category))
    return And((check, query.condition))


class _Judge:
    def __init__(self, old: Query, new: Query, mapping: FieldMapping | None, category_field: str) -> None:
        self.old = Matcher(old, category_field=category_field, mapping=mapping)
        self.new = Matcher(new, category_field=category_field, mapping=mapping)

    def crossings(self, direction: str, witnesses: Sequence[Witness], reverse: bool) -> tuple[Crossing, ...]:
        found: dict[str, Crossing] = {}
        for witness in witnesses:
            key = witness.summary()
            if key in found or not self._differs(witness.document, reverse):
                continue
            where = tuple(
                r.source
                for r in witness.renderings
                if r.document is not None and self._differs(r.document, reverse)
            )
            found[key] = Crossing(direction, witness, where)
        return tuple(found.values())

    def _differs(self, document: dict[str, object], reverse: bool) -> bool:
        was, now = _safe(self.old, document), _safe(self.new, document)
        return (now and not was) if reverse else (was and not now)


def _safe(matcher: Matcher, document: dict[str, object]) -> bool:
    try:
        return matcher.matches(document)
    except HarnessError:
        return False
