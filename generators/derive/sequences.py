"""Tests derived from a sequence or sample: witness chains and near misses, each checked on the Searcher.

Each stage's query is derived as a single-event query (``derivation.derive``); a chain takes
one witness per stage, joins them on the keys and places them in time, as Elasticsearch's
``execution/sequence`` package reads them (``harness/eql/sequences.py`` cites each class):

* the join: one value per key slot, the shared ``by`` keys then each stage's own, written
  in the field each stage names for it (``SequenceMatcher`` keys a stage's hits on both);
  a value a stage's query pins is the chain's value, the others are the first event's;
* ``maxspan``: ``SequenceMatcher.exceedsMaxSpan`` rejects a span *more* than the bound, so
  a chain exactly at the bound is a witness and one a millisecond past it a near miss;
* ``with runs=N``: the stage N times (``LogicalPlanBuilder``), so dropping one is a near miss;
* ``until``: an until event of the key between two stages ends the sequence (``UntilGroup``);
* a missing event ``![...]``: absent in a witness; present between its neighbours (before
  the first stage, after the last) it ends the sequence (``TumblingWindow.doCheckMissingEvents``);
* a sample (``SampleIterator``) is joined on its keys alone: a stage's key changed is a near miss.

Every witness must be found by the reference :class:`~harness.eql.Searcher` as exactly its
documents, every near miss not at all; a chain that is not is dropped with a finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence as Seq
from dataclasses import dataclass, replace

from generators.derive.derivation import Finding, Witness, derive
from generators.derive.linked import (
    MISSING_EVENT,
    STAGE,
    UNTIL,
    Chain,
    ChainEvent,
    StatementDerivation,
    finds_any,
    found_exactly,
)
from generators.derive.render_chain import ChainBuilder
from generators.derive.solve import MISSING
from generators.fleet import Fleet, small_fleet
from generators.sources import SOURCES, Source
from harness.eql.ast import Piped, Query, Sample, Sequence, Stage, Statement
from harness.eql.mapping import FieldMapping
from harness.eql.search import Searcher

__all__ = ["DEFAULT_CHAIN_CAP", "StatementDerivation", "derive_statement"]

DEFAULT_CHAIN_CAP = 16
"""Chains of stage witnesses per statement: enough that every stage's witnesses each appear."""
# The gap between stages when no maxspan bounds it, in milliseconds: a believable pace.
_FREE_GAP_MS = 1000
# Outside every private, reserved and documentation range Elastic's rules exclude (cidrmatch lists).
_PUBLIC_ADDRESSES = ("185.199.108.153", "2606:4700:4700::1111")
_WHERE = {"lead": "before stage 1", "trail": "after the last stage", "middle": "between its neighbours"}
# Outside every private, reserved and documentation range Elastic's rules exclude (cidrmatch lists).
_PUBLIC_ADDRESSES = ("185.199.108.153", "2606:4700:4700::1111")
_WHERE = {"lead": "before stage 1", "trail": "after the last stage", "middle": "between its neighbours"}


@dataclass(frozen=True)
class _Place:
    stage: int
    missing: bool


def derive_statement(
    statement: Statement,
    *,
    name: str = "rule",
    sources: Seq[Source] | None = None,
    mapping: FieldMapping | None = None,
    category_field: str = "event.category",
    fleet: Fleet | None = None,
    chain_cap: int = DEFAULT_CHAIN_CAP,
) -> StatementDerivation:
    """Witness chains, near misses and findings for a ``sequence`` or ``sample`` (piped or not).

    ``sources`` are the data sources to render each chain into (all the harness knows when
    None); a chain is written in a source only if every one of its events is.
    """
    inner = statement.query if isinstance(statement, Piped) else statement
    if isinstance(inner, Query):
        raise ValueError("a single-event query is derived by derive(), not derive_statement()")
    chosen = tuple(SOURCES.values()) if sources is None else tuple(sources)
    searcher = Searcher(statement, category_field=category_field, mapping=mapping)
    planner = _Planner(inner, name, chosen, mapping, category_field, fleet or small_fleet(), searcher)
    return planner.run(statement, chain_cap)


class _Planner:
    def __init__(
        self,
        inner: Sequence | Sample,
        name: str,
        sources: tuple[Source, ...],
        mapping: FieldMapping | None,
        category_field: str,
        fleet: Fleet,
        searcher: Searcher,
    ) -> None:
        self.inner, self.name, self.sources, self.searcher = inner, name, sources, searcher
        self.kind = "sample" if isinstance(inner, Sample) else "sequence"
        self.until = inner.until if isinstance(inner, Sequence) else None
        self.maxspan = inner.maxspan.millis if isinstance(inner, Sequence) and inner.maxspan else None
        every = (*inner.stages, *((self.until,) if self.until is not None else ()))
        self.derivations = tuple(
            derive(
                s.query,
                name=f"{name}/s{i}",
                sources=(),
                mapping=mapping,
                category_field=category_field,
                fleet=fleet,
            )
            for i, s in enumerate(every)
        )
        self.places = [
            _Place(i, stage.missing)
            for i, stage in enumerate(inner.stages)
            for _ in range(int(stage.runs or 1))
        ]
        self.builder = ChainBuilder(fleet, sources, mapping, category_field, searcher, every)
        self.findings: list[Finding] = []
        self.witnesses: list[Chain] = []
        self.near_misses: list[Chain] = []

    def keys(self, stage: Stage) -> tuple[str, ...]:
        return tuple(k.name for k in (*self.inner.keys, *stage.keys))

    def run(self, statement: Statement, cap: int) -> StatementDerivation:
        for index, derivation in enumerate(self.derivations):
            self.findings.extend(
                Finding(f.kind, f"{self._stage_name(index)}: {f.message}") for f in derivation.findings
            )
        positive = sorted({p.stage for p in self.places if not p.missing})
        unsolved = [i for i in positive if not self.derivations[i].witnesses]
        truncated = False
        if unsolved:
            self.findings.append(
                Finding(
                    "unsolved", f"no chain: {', '.join(self._stage_name(i) for i in unsolved)} has no witness"
                )
            )
        else:
            wanted = max(len(self.derivations[i].witnesses) for i in positive)
            truncated = wanted > cap
            if truncated:
                self.findings.append(
                    Finding("truncated", f"a stage has {wanted} witnesses: the first {cap} chains were built")
                )
            for chain in range(min(wanted, cap)):
                self._chain(chain)
        return StatementDerivation(
            self.name,
            statement,
            self.kind,
            self.derivations,
            tuple(self.witnesses),
            tuple(self.near_misses),
            tuple(self.findings),
            truncated,
            tuple(s.name for s in self.sources),
        )

    def _stage_name(self, index: int) -> str:
        return "the until stage" if index >= len(self.inner.stages) else f"stage {index + 1}"

    # -- one combination of stage witnesses ------------------------------------------------------

    def _chain(self, chain: int) -> None:
        picked = self._pick(chain)
        if picked is None:
            self.findings.append(
                Finding(
                    "unjoinable",
                    f"chain {chain}: no witnesses of the stages agree on the key values their queries pin",
                )
            )
            return
        fixed, witnesses = picked
        gap = self._gap()
        events = self._positive_events(witnesses, gap)
        label = "base" if chain == 0 else f"stage witnesses {chain}"
        base = None
        for attempt in self._slot_fills(fixed, events):
            base = self._witness(chain, 0, label, events, attempt, quiet=True)
            if base is not None:
                fixed = attempt
                break
        if base is None:
            self.findings.append(
                Finding("witness-not-found", f"b{chain}w0 ({label}): the search does not find it: dropped")
            )
        if base is None or chain != 0:
            return
        if self.maxspan is not None and len(events) > 1:
            at_bound = self._spread(events, self.maxspan)
            self._witness(chain, 1, f"at the maxspan bound ({self.maxspan} ms)", at_bound, fixed)
        self._near_misses(base, events, fixed, gap)
        self._stage_near_misses(base, events, witnesses, fixed)

    def _pick(self, chain: int) -> tuple[list[object | None], dict[int, Witness]] | None:
        """A witness per stage (the chain's own where it agrees) whose pinned key values are one per slot."""
        width = len(self.keys(self.inner.stages[0]))
        order = sorted({p.stage for p in self.places if not p.missing})
        for first in range(len(self.derivations[order[0]].witnesses)):
            fixed: list[object | None] = [None] * width
            chosen: dict[int, Witness] = {}
            for position, stage in enumerate(order):
                options = self.derivations[stage].witnesses
                start = (chain + first) % len(options) if position == 0 else chain % len(options)
                rotated = [*options[start:], *options[:start]]
                found = next((w for w in rotated if self._agrees(w, stage, fixed)), None)
                if found is None:
                    break
                chosen[stage] = found
                self._pin(found, stage, fixed)
            else:
                return fixed, chosen
        return None

    def _agrees(self, witness: Witness, stage: int, fixed: list[object | None]) -> bool:
        names = self._stage_keys(stage)
        for slot, name in enumerate(names):
            value = witness.values.get(name)
            if value is None or value is MISSING:
                continue
            if fixed[slot] is not None and value != fixed[slot]:
                return False
        return True

    def _pin(self, witness: Witness, stage: int, fixed: list[object | None]) -> None:
        for slot, name in enumerate(self._stage_keys(stage)):
            value = witness.values.get(name)
            if value is not None and value is not MISSING and fixed[slot] is None:
                fixed[slot] = value

    def _stage_keys(self, stage: int) -> tuple[str, ...]:
        every = (*self.inner.stages, *((self.until,) if self.until is not None else ()))
        return self.keys(every[stage])

    def _gap(self) -> int:
        positives = sum(1 for p in self.places if not p.missing)
        if self.maxspan is None or positives < 2:
            return _FREE_GAP_MS
        return min(_FREE_GAP_MS, self.maxspan // (2 * (positives - 1)))

    def _event(self, role: str, stage: int, witness: Witness, offset: int) -> ChainEvent:
        query = self.derivations[stage].query
        return ChainEvent(
            role,
            stage if role != UNTIL else -1,
            query.category,
            offset,
            witness.values,
            witness.needed,
            self._stage_keys(stage),
        )

    def _positive_events(self, witnesses: dict[int, Witness], gap: int) -> list[ChainEvent]:
        events: list[ChainEvent] = []
        for place in self.places:
            if not place.missing:
                events.append(self._event(STAGE, place.stage, witnesses[place.stage], len(events) * gap))
        return events

    @staticmethod
    def _spread(events: list[ChainEvent], span: int) -> list[ChainEvent]:
        """The events spread evenly so that the last is exactly ``span`` after the first."""
        last = len(events) - 1
        return [_moved(e, span * i // last) for i, e in enumerate(events)]

    def _slot_fills(
        self, fixed: list[object | None], events: list[ChainEvent]
    ) -> Iterator[list[object | None]]:
        """The pinned values, then each free address slot given a public address: a key the first event
        leaves unset gets its host's (private) address, which a stage excluding private ranges refuses."""
        yield fixed
        for slot, value in enumerate(fixed):
            if value is None and any(e.keys[slot].endswith(".ip") for e in events):
                for address in _PUBLIC_ADDRESSES:
                    yield [*fixed[:slot], address, *fixed[slot + 1 :]]

    def _witness(
        self,
        chain: int,
        variant: int,
        label: str,
        events: list[ChainEvent],
        fixed: list[object | None],
        *,
        quiet: bool = False,
    ) -> Chain | None:
        cid = f"derived/{self.name}/b{chain}w{variant}"
        built = self.builder.build(cid, "witness", chain, label, tuple(events), fixed)
        if not found_exactly(self.searcher, built.documents):
            if quiet:
                return None
            self.findings.append(
                Finding(
                    "witness-not-found",
                    f"{cid.rsplit('/', 1)[-1]} ({label}): the search does not find it: dropped",
                )
            )
            return None
        self.witnesses.append(built)
        return built

    # -- near misses ---------------------------------------------------------------------------

    def _near_misses(
        self, base: Chain, events: list[ChainEvent], fixed: list[object | None], gap: int
    ) -> None:
        for stage in dict.fromkeys(e.stage for e in events) if len(events) > 1 else ():
            dropped = max(i for i, e in enumerate(events) if e.stage == stage)
            self._near(
                base, f"stage {stage + 1} dropped", [e for i, e in enumerate(events) if i != dropped], fixed
            )
        last = len(events) - 1
        for slot, name in enumerate(events[last].keys if len(events) > 1 else ()):
            self._near(
                base, f"{name} differs on stage {events[last].stage + 1}", events, fixed, changed=(last, slot)
            )
        if self.maxspan is not None and len(events) > 1:
            self._near(
                base,
                f"span {self.maxspan + 1} ms: 1 ms past maxspan",
                self._spread(events, self.maxspan + 1),
                fixed,
            )
        if self.until is not None and len(events) > 1:
            until = self._extra(UNTIL, len(self.derivations) - 1, fixed)
            if until is not None:
                placed = self._event(UNTIL, len(self.derivations) - 1, until, events[0].offset_ms + gap // 2)
                self._near(base, "until event between stage 1 and 2", [events[0], placed, *events[1:]], fixed)
        self._missing_present(base, events, fixed)

    def _stage_near_misses(
        self, base: Chain, events: list[ChainEvent], witnesses: dict[int, Witness], fixed: list[object | None]
    ) -> None:
        """Each stage's own near misses (one predicate of its query falsified) in the chain's place of that
        stage: the chain then lacks the stage, so the search must find nothing. The first place of each
        stage carries it; with ``runs`` the repetitions keep the witness."""
        seen: set[int] = set()
        for index, event in enumerate(events):
            if event.stage in seen:
                continue
            seen.add(event.stage)
            witness = witnesses[event.stage]
            for near in self.derivations[event.stage].near_misses:
                if near.witness != witness.id:
                    continue
                changed = [*events[:index], replace(event, values=near.values), *events[index + 1 :]]
                self._near(base, f"stage {event.stage + 1}: {near.change}", changed, fixed)

    def _missing_present(self, base: Chain, events: list[ChainEvent], fixed: list[object | None]) -> None:
        """Each missing event present where it ends the sequence; with missing stages at both ends, a
        leading and a trailing one together, since ``doCheckMissingEvents`` lets either alone pass."""
        placed: list[tuple[str, int, ChainEvent]] = []  # (where, insert before, event)
        positive_seen = 0
        for place in self.places:
            if not place.missing:
                positive_seen += 1
                continue
            witness = self._extra(MISSING_EVENT, place.stage, fixed)
            if witness is None:
                continue
            if positive_seen == 0:
                offset, where, at = events[0].offset_ms - 1, "lead", 0
            elif positive_seen == len(events):
                offset, where, at = events[-1].offset_ms + 1, "trail", len(events)
            else:
                low, high = events[positive_seen - 1].offset_ms, events[positive_seen].offset_ms
                offset, where, at = (low + high) // 2, "middle", positive_seen
            placed.append((where, at, self._event(MISSING_EVENT, place.stage, witness, offset)))
        ends = {where for where, _, _ in placed} >= {"lead", "trail"}
        groups = [[p] for p in placed if not ends or p[0] == "middle"]
        if ends:
            lead = next(p for p in placed if p[0] == "lead")
            groups.append([lead, next(p for p in reversed(placed) if p[0] == "trail")])
        for group in groups:
            chain = list(events)
            for _, at, event in sorted(group, key=lambda p: -p[1]):
                chain.insert(at, event)
            what = " and ".join(f"{e.stage + 1}" for _, _, e in group)
            label = f"missing event {what} present " + " and ".join(_WHERE[w] for w, _, _ in group)
            self._near(base, label, chain, fixed)

    def _extra(self, role: str, stage: int, fixed: list[object | None]) -> Witness | None:
        options = self.derivations[stage].witnesses
        found = next((w for w in options if self._agrees(w, stage, fixed)), None)
        if found is None:
            what = "the until stage" if role == UNTIL else f"missing stage {stage + 1}"
            self.findings.append(
                Finding("unsolved", f"{what} has no witness that joins the chain: no near miss places it")
            )
        return found

    def _near(
        self,
        base: Chain,
        label: str,
        events: list[ChainEvent],
        fixed: list[object | None],
        changed: tuple[int, int] | None = None,
    ) -> None:
        nid = f"{base.id}n{len([n for n in self.near_misses if n.witness == base.id])}"
        built = self.builder.build(
            nid, "near miss", base.chain, label, tuple(events), fixed, changed, witness=base.id
        )
        if finds_any(self.searcher, built.documents):
            self.findings.append(
                Finding("near-miss-found", f"{label}: the search still finds a sequence: dropped")
            )
            return
        self.near_misses.append(built)


def _moved(event: ChainEvent, offset: int) -> ChainEvent:
    return replace(event, offset_ms=offset)
