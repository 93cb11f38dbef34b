"""A chain's events made into launches on one host, linked on the keys, and written in each source.

The canonical chain is the query's own documents (``events.canonical_document``: Elastic
Defend's with every solved value written). In a data source the chain is written only if
every one of its events is: a source that renders no event of the stage's category, does
not report from the host, never writes a field a stage's witness needs, or never writes a
join key (Security 4688 and Endgame hold no entity ids: ``generators/chains.py``) leaves
the whole chain a blind spot, with the event and the field that decide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from generators.chains import link, same_actor, timed, unlinked, write_field
from generators.derive.derivation import _BASE, _defeat, _mark, _unwritable
from generators.derive.events import build_launch, canonical_document, source_document, writes
from generators.derive.linked import START_NS, Chain, ChainEvent, ChainRendering, finds_any, found_exactly
from generators.derive.solve import Solver
from generators.fleet import Fleet
from generators.model import Label, Launch
from generators.sources import Source
from harness.eql.ast import Stage
from harness.eql.fields import field_values
from harness.eql.mapping import FieldMapping
from harness.eql.search import Searcher

__all__ = ["ChainBuilder", "other_value"]

Slots = Sequence[object | None]


class ChainBuilder:
    """Builds, renders and judges chains of one statement (its stages' solvers, its searcher)."""

    def __init__(
        self,
        fleet: Fleet,
        sources: tuple[Source, ...],
        mapping: FieldMapping | None,
        category_field: str,
        searcher: Searcher,
        stages: tuple[Stage, ...],
    ) -> None:
        self.fleet, self.sources, self.searcher = fleet, sources, searcher
        # The until stage, when there is one, is the last: ChainEvent.stage -1 reads it.
        self.solvers = [Solver(s.query, mapping=mapping, category_field=category_field) for s in stages]
        self._launches = 0

    def build(
        self,
        cid: str,
        kind: str,
        chain: int,
        variant: str,
        events: tuple[ChainEvent, ...],
        fixed: Slots,
        changed: tuple[int, int] | None = None,
        *,
        witness: str = "",
    ) -> Chain:
        """The chain's canonical documents and each source's rendering; ``changed`` (event, slot) is the
        key a near miss gives another value."""
        label = Label(cid, "malicious" if kind == "witness" else "benign")
        launches = [build_launch(e.values, self.fleet, label, self._next()) for e in events]
        anchor = next((i for i, e in enumerate(events) if any(n.startswith("host.") for n in e.values)), 0)
        # One account across the chain only where the statement joins on it: a stage run by another
        # account (a SYSTEM service, then a user's process) is what many sequences describe.
        joined_on_user = any(name.startswith("user.") for e in events for name in e.keys)
        own_user = {i for i, e in enumerate(events) if not joined_on_user or "user.name" in e.values}
        launches = timed(
            same_actor(launches, anchor=anchor, own_user=own_user), [e.offset_ms for e in events], START_NS
        )
        canonical = [
            _mark(canonical_document(e.values, launch, _BASE, e.category))
            for e, launch in zip(events, launches, strict=True)
        ]
        documents, shared = link(canonical, [e.keys for e in events], fixed, fallback=launches[anchor])
        self._change(documents, events, changed)
        renderings = tuple(
            self._render(source, kind, events, launches, fixed, changed, documents) for source in self.sources
        )
        key_values = tuple(zip(events[0].keys, shared, strict=True)) if events else ()
        return Chain(cid, kind, chain, variant, events, key_values, tuple(documents), renderings, witness)

    def _next(self) -> int:
        self._launches += 1
        return self._launches - 1

    def _change(
        self, documents: list[dict[str, Any]], events: tuple[ChainEvent, ...], changed: tuple[int, int] | None
    ) -> None:
        if changed is None:
            return
        index, slot = changed
        name = events[index].keys[slot]
        held = field_values(documents[index], tuple(name.split(".")))
        write_field(documents[index], name, other_value(name, held[0] if held else None, self.fleet))

    def _render(
        self,
        source: Source,
        kind: str,
        events: tuple[ChainEvent, ...],
        launches: list[Launch],
        fixed: Slots,
        changed: tuple[int, int] | None,
        canonical: list[dict[str, Any]],
    ) -> ChainRendering:
        documents = []
        for event, launch in zip(events, launches, strict=True):
            reason, document = self._written(source, event, launch)
            if document is None:
                return ChainRendering(source.name, "blind-spot", reason)
            documents.append(document)
        linked, _ = link(documents, [e.keys for e in events], fixed, fallback=launches[0])
        self._change(linked, events, changed)
        chain = tuple(linked)
        if kind == "witness":
            if found_exactly(self.searcher, chain):
                return ChainRendering(source.name, "alerts", "", chain)
            return ChainRendering(source.name, "silent", self._why_silent(events, chain, canonical), chain)
        return ChainRendering(
            source.name, "alerts" if finds_any(self.searcher, chain) else "silent", "", chain
        )

    def _written(
        self, source: Source, event: ChainEvent, launch: Launch
    ) -> tuple[str, dict[str, Any] | None]:
        """The event as ``source`` writes it, or why it cannot."""
        what = event.label()
        if event.category is not None and event.category != "process":
            return (
                f"the harness renders only process events for {source.name} ({what}: {event.category})",
                None,
            )
        if launch.host.os_type not in source.platforms:
            return f"{source.name} does not report from {launch.host.os_type} hosts ({what})", None
        needed = [name for name in event.needed if not writes(source, name)]
        if needed:
            return f"{source.name} never writes {', '.join(needed)} ({what})", None
        keys = unlinked(source, event.keys)
        if keys:
            return f"{source.name} never writes {', '.join(keys)}, the join key of {what}", None
        document = _mark(source_document(event.values, launch, source))
        unwritable = _unwritable(event.values, document)
        if unwritable:
            return f"{source.name} writes {unwritable} ({what})", None
        return "", document

    def _why_silent(
        self,
        events: tuple[ChainEvent, ...],
        chain: tuple[dict[str, Any], ...],
        canonical: list[dict[str, Any]],
    ) -> str:
        """The first event the source wrote so that its stage's query no longer matches, and the field."""
        for event, document, wanted in zip(events, chain, canonical, strict=True):
            solver = self.solvers[event.stage]
            if not solver.matches(document):
                return f"{event.label()}: {_defeat(solver, event.needed, document, wanted)}"
        return "every stage matches, but the events do not join or order as the statement needs"


def other_value(name: str, value: object, fleet: Fleet) -> object:
    """A believable value of key ``name`` other than ``value``: another host's id, another account,
    the next number, or the same text one character off (an entity id of another process)."""
    if isinstance(value, list):
        return [other_value(name, value[0], fleet), *value[1:]] if value else "other"
    if name == "host.id":
        return next(h.id for h in fleet.hosts if h.id != value)
    if name == "user.name":
        return next(u.name for u in (*fleet.people, *fleet.admins) if u.name != value)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    text = str(value) if value is not None else "derived"
    for position in range(len(text) - 1, -1, -1):
        if text[position].isalnum():
            swapped = "1" if text[position] != "1" else "2"
            return text[:position] + swapped + text[position + 1 :]
    return text + "1"
