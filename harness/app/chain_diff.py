"""``diff`` from the queries when a version is a sequence, sample or piped rule: chains tried both ways.

Each version's derived witnesses (chains of stage events for a statement, single events for
a query) are searched by the other version's rule in every data source both read, and in
the ``query`` column, where every solved value is written as the query reads it: a witness
OLD finds and NEW does not is lost, one NEW finds and OLD does not is gained. A search
finds a chain when it returns any sequence or event over its documents; a single-event rule
finds it when it alerts on any of them. Losses are judged by NEW's ``[diff.lost]`` entries
as the single-event diff judges them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from harness.app.derived import derived_result, derived_suite, sources_read
from harness.app.setup import RuleSetup
from harness.eql import FieldMapping, Matcher, compile_query
from harness.validation.derived import NEAR_MISS, QUERY_SOURCE, WITNESS, DerivedCase, DerivedResult
from harness.validation.derived_diff import (
    GAINED,
    LOST,
    DerivedChange,
    DerivedDiff,
    DerivedEvent,
    DerivedVersion,
    SourceCount,
    SourceRead,
    judge_losses,
)
from harness.validation.sequences import ALL

__all__ = ["chain_diff"]

Probe = tuple[str, tuple[Mapping[str, Any], ...]]  # (source, the documents judged together)


def chain_diff(
    old: RuleSetup, new: RuleSetup, names: tuple[str, str], *, mapping: FieldMapping | None = None
) -> DerivedDiff:
    """How ``old`` and ``new`` differ on each other's derived witnesses, judged by NEW's expectations."""
    from generators.sources import SOURCES

    old_name, new_name = names
    results = [derived_result(s, derived_suite(s, mapping=mapping), mapping=mapping) for s in (old, new)]
    judges = [compile_query(s.rule.query, mapping=mapping, engine="compiled") for s in (old, new)]
    both = {s.name for s in sources_read(old)} & {s.name for s in sources_read(new)} | {QUERY_SOURCE}
    changes = [
        change
        for direction, mine, theirs, result, other in (
            (LOST, judges[0], judges[1], results[0], new_name),
            (GAINED, judges[1], judges[0], results[1], old_name),
        )
        if (change := _crossings(direction, mine, theirs, result.suite.cases, both, other)) is not None
    ]
    judged, unused = judge_losses(changes, new.expectations)
    reads = {
        s.name: (old.scope.indices.reads(s.index), new.scope.indices.reads(s.index)) for s in SOURCES.values()
    }
    return DerivedDiff(
        _version(results[0], old_name),
        _version(results[1], new_name),
        tuple(SourceRead(s.name, s.index, *reads[s.name]) for s in SOURCES.values() if any(reads[s.name])),
        judged,
        (),
        unused,
    )


def _crossings(
    direction: str,
    mine: Matcher,
    theirs: Matcher,
    cases: Iterable[DerivedCase],
    sources: set[str],
    other: str,
) -> DerivedChange | None:
    """The witnesses of one version its own rule finds and the other's does not, with the sources."""
    events = []
    for case in cases:
        if case.kind != WITNESS:
            continue
        crossed = [
            (source, documents)
            for source, documents in _probes(case)
            if source in sources and _finds(mine, documents) and not _finds(theirs, documents)
        ]
        if crossed:
            where = tuple(dict.fromkeys(source for source, _ in crossed))
            values = {"events": len(crossed[0][1])}
            events.append(DerivedEvent(case.id, case.summary, case.summary, values, where, crossed[0][1][0]))
    if not events:
        return None
    verb = "finds" if direction == LOST else "misses"
    why = f"{other} {verb} none of these witnesses' events as a sequence or an alert"
    return DerivedChange(direction, why, tuple(events))


def _probes(case: DerivedCase) -> list[Probe]:
    """Every rendering of a case that holds documents, and the canonical event in the query column."""
    probes: list[Probe] = [(r.source, tuple(r.events)) for r in case.renderings if r.events]
    if case.document is not None and not any(source == QUERY_SOURCE for source, _ in probes):
        probes.append((QUERY_SOURCE, (case.document,)))
    return probes


def _finds(judge: Matcher, documents: tuple[Mapping[str, Any], ...]) -> bool:
    if judge.single_event:
        return any(judge.matches(document) for document in documents)
    found = judge.search(documents, size=ALL)
    return bool(found.sequences or found.events)


def _version(result: DerivedResult, name: str) -> DerivedVersion:
    suite = result.suite
    counts = []
    for source in suite.sources:
        mine = [o for o in result.outcomes if o.source == source]
        witnesses = [o for o in mine if o.case.kind == WITNESS]
        near = [o for o in mine if o.case.kind == NEAR_MISS]
        counts.append(
            SourceCount(
                source,
                witnesses=sum(1 for o in witnesses if not o.blind_spot),
                witnesses_alerting=sum(1 for o in witnesses if o.alerted),
                blind_spots=sum(1 for o in witnesses if o.blind_spot),
                near_misses=sum(1 for o in near if not o.blind_spot),
                near_misses_silent=sum(1 for o in near if o.alerted is False),
            )
        )
    return DerivedVersion(
        name,
        suite.branches,
        len(suite.witnesses),
        len(suite.near_misses),
        tuple((f.kind, f.message) for f in suite.findings),
        tuple(counts),
    )
