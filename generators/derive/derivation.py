"""Tests derived from a query: witnesses per branch, near misses per predicate, findings.

``derive(query, ...)`` never reads a catalogue: the query alone says what it means to
catch. Each witness and near miss is a launch on a fleet host, checked on the reference
evaluator as the query's own document (``document``: the launch with every solved
value written on it) and then rendered into each data source the caller names, where
it alerts, stays silent, or cannot be written (a blind spot, with its reason).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from generators.derive.events import (
    CONTROLLED,
    WORDS,
    build_launch,
    canonical_document,
    faithful,
    launch_document,
    source_document,
    writes,
)
from generators.derive.fills import kind_of
from generators.derive.near import changes
from generators.derive.normal import DEFAULT_BRANCH_CAP, Branch, branches
from generators.derive.solve import MISSING, Solution, Solver, contradiction
from generators.fleet import Fleet, small_fleet
from generators.model import Label
from generators.sources import SOURCES, Source
from harness.eql.ast import Comparison, Field, Literal, Query
from harness.eql.fields import field_values
from harness.eql.mapping import FieldMapping

__all__ = ["Derivation", "Finding", "NearMiss", "Rendering", "Witness", "derive"]

ORIGIN = "derived"
# The query's own document is Elastic Defend's, whatever sources the rule reads: Defend
# writes the most of a process event, on Windows and Linux alike.
_BASE = SOURCES["endpoint"]


@dataclass(frozen=True)
class Rendering:
    """One derived event in one data source: ``alerts``, ``silent``, or ``blind-spot`` (not writable)."""

    source: str
    status: str
    reason: str = ""
    document: dict[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Witness:
    """An event the query must catch: it satisfies branch ``branch`` under Elasticsearch's semantics."""

    id: str
    branch: int
    variant: str  # what this witness exercises: "base", "case variant", "without ?field", ...
    values: Mapping[str, object]  # the solved fields
    needed: tuple[str, ...]  # the fields its branch requires a value of
    document: dict[str, Any] = field(compare=False, repr=False)
    renderings: tuple[Rendering, ...] = ()
    alternative: int = 0  # which pattern or value of the branch's lists it covers
    case_variant: bool = False  # its values in another letter case, for case-insensitive operators

    def summary(self) -> str:
        return describe(self.values)


@dataclass(frozen=True)
class NearMiss:
    """A witness changed so that one predicate fails: the query must stay silent on it."""

    id: str
    witness: str
    predicate: str
    change: str
    values: Mapping[str, object]
    document: dict[str, Any] = field(compare=False, repr=False)
    renderings: tuple[Rendering, ...] = ()

    def summary(self) -> str:
        return self.change


@dataclass(frozen=True)
class Finding:
    """Something the derivation found about the query itself, not about an event."""

    kind: str  # unsatisfiable, unsolved, literal-wildcard, unwritten-field, truncated
    message: str
    branch: int | None = None


@dataclass(frozen=True)
class Derivation:
    name: str
    query: Query
    branches: tuple[Branch, ...]
    witnesses: tuple[Witness, ...]
    near_misses: tuple[NearMiss, ...]
    findings: tuple[Finding, ...]
    truncated: bool
    sources: tuple[str, ...]

    def documents(self) -> Iterator[dict[str, Any]]:
        """Every rendering that a source can write, labelled: witnesses malicious, near misses benign."""
        events: tuple[Witness | NearMiss, ...] = (*self.witnesses, *self.near_misses)
        for event in events:
            for rendering in event.renderings:
                if rendering.document is not None:
                    yield rendering.document


def derive(
    query: Query,
    *,
    name: str = "rule",
    sources: Sequence[Source] | None = None,
    mapping: FieldMapping | None = None,
    category_field: str = "event.category",
    branch_cap: int = DEFAULT_BRANCH_CAP,
    fleet: Fleet | None = None,
    fills: int = 1,
) -> Derivation:
    """Witnesses, near misses and findings for a single-event ``query``.

    ``sources`` are the data sources to render into (the rule's, as its indices read
    them); all the harness knows when None. ``name`` goes into every derived event's
    ``labels.scenario`` (``derived/NAME/b0w1``). ``fills`` asks for that many distinct
    witnesses of each branch where its fields fit several values (a diff wants more than one).
    """
    chosen = tuple(SOURCES.values()) if sources is None else tuple(sources)
    expansion = branches(query.condition, branch_cap)
    solver = Solver(query, mapping=mapping, category_field=category_field)
    builder = _Builder(name, query, solver, chosen, fleet or small_fleet(), fills)
    findings: list[Finding] = []
    if expansion.truncated:
        findings.append(
            Finding(
                "truncated",
                f"the condition has {expansion.full_count:,} branches, more than the cap of {branch_cap}: "
                f"{len(expansion.branches)} branches that cover every alternative were derived instead",
            )
        )
    if not expansion.branches:
        findings.append(Finding("unsatisfiable", "the condition is false for every event"))
    for branch in expansion.branches:
        findings.extend(
            f for f in _static_findings(branch, chosen) if f.message not in {g.message for g in findings}
        )
        found = builder.branch(branch)
        if not found:
            findings.append(_why_unsolved(solver, branch))
    return Derivation(
        name=name,
        query=query,
        branches=expansion.branches,
        witnesses=tuple(builder.witnesses),
        near_misses=tuple(builder.near_misses),
        findings=tuple(findings),
        truncated=expansion.truncated,
        sources=tuple(s.name for s in chosen),
    )


def describe(values: Mapping[str, object]) -> str:
    """The fields that matter, in one line."""
    parts = []
    for name, value in values.items():
        parts.append(f"{name}=(absent)" if value is MISSING else f"{name}={value!r}")
    return ", ".join(parts)


class _Builder:
    """Turns solutions into labelled, rendered witnesses and near misses."""

    def __init__(
        self, name: str, query: Query, solver: Solver, sources: tuple[Source, ...], fleet: Fleet, fills: int
    ) -> None:
        self.name, self.query, self.solver, self.sources, self.fleet = name, query, solver, sources, fleet
        self.fills = fills
        self.witnesses: list[Witness] = []
        self.near_misses: list[NearMiss] = []
        self._seen: set[str] = set()
        self._optional = [f for f in _query_fields(query) if f.optional]

    def branch(self, branch: Branch) -> bool:
        """Witnesses for ``branch`` (each alternative, a case variant, optional fields absent)."""
        found = False
        for alternative in range(self.solver.widths(branch)):
            for variant, rank in ((False, 0), (True, 0), *((False, r) for r in range(1, self.fills))):
                solution = self.solver.solve(branch, alternative, variant, rank)
                if solution is None:
                    continue
                label = (
                    "case variant"
                    if variant
                    else "base"
                    if alternative == 0
                    else f"alternative {alternative}"
                )
                if rank:
                    label += f", fill {rank}"
                witness = self._witness(branch, solution.values, label, solution)
                if witness is None:
                    continue
                found = True
                if not variant and alternative == 0 and rank == 0:
                    self._near_misses(branch, witness)
                    self._absent_optionals(branch, solution)
        return found

    def _absent_optionals(self, branch: Branch, solution: Solution) -> None:
        required = {f.name for a in branch.positive for f in a.fields}
        for optional in self._optional:
            if optional.name in required or optional.name in solution.values:
                continue
            values = {**solution.values, optional.name: MISSING}
            self._witness(branch, values, f"without ?{optional.name}", solution)

    def _witness(
        self, branch: Branch, values: dict[str, object], variant: str, solution: Solution | None = None
    ) -> Witness | None:
        key = describe(values)
        if key in self._seen:
            return None
        ordinal = len(self.witnesses) + len(self.near_misses)
        wid = f"derived/{self.name}/b{branch.index}w{sum(w.branch == branch.index for w in self.witnesses)}"
        label = Label(wid, "malicious")
        launch = build_launch(values, self.fleet, label, ordinal)
        # Rendered once: judged for faithfulness, then written on.
        rendered = launch_document(launch, _BASE)
        if not faithful(values, launch, _BASE, rendered=rendered):
            return None  # the solved values contradict one another as a launch (a name and its path)
        document = canonical_document(values, launch, _BASE, self.query.category, rendered=rendered)
        if not self.solver.matches(document):
            return None
        self._seen.add(key)
        needed = _needed(branch, values)
        renderings = tuple(
            self._render(values, launch, source, needed, expect=True, canonical=document)
            for source in self.sources
        )
        witness = Witness(
            wid,
            branch.index,
            variant,
            values,
            needed,
            _mark(document),
            renderings,
            alternative=solution.alternative if solution else 0,
            case_variant=solution.case_variant if solution else False,
        )
        self.witnesses.append(witness)
        return witness

    def _near_misses(self, branch: Branch, witness: Witness) -> None:
        """Per predicate, the first edit that silences the query; for an optional field also the
        first that keeps the field (a case change under ``==``), since its absence proves less."""
        values = dict(witness.values)
        made = 0
        for edits in changes(self.solver, branch, values):
            kinds: set[bool] = set()  # whether an accepted edit removed the field
            for change in edits:
                removed = change.after is MISSING
                if removed in kinds or (kinds and not change.atom.fields[0].optional):
                    continue
                changed = {**values, change.field: change.after}
                key = describe(changed)
                if key in self._seen:
                    continue
                nid = f"{witness.id}n{made}"
                launch = build_launch(
                    changed, self.fleet, Label(nid, "benign"), len(self.witnesses) + len(self.near_misses)
                )
                rendered = launch_document(launch, _BASE)
                if not faithful(changed, launch, _BASE, rendered=rendered):
                    continue  # no launch carries this change (a parent without a path): try the next
                document = canonical_document(changed, launch, _BASE, self.query.category, rendered=rendered)
                if self.solver.matches(document):
                    continue  # another branch still catches it: not a near miss
                self._seen.add(key)
                renderings = tuple(
                    self._render(
                        changed,
                        launch,
                        source,
                        witness.needed,
                        expect=False,
                        canonical=document,
                        changed_field=change.field,
                    )
                    for source in self.sources
                )
                self.near_misses.append(
                    NearMiss(
                        nid, witness.id, str(change.atom), str(change), changed, _mark(document), renderings
                    )
                )
                made += 1
                kinds.add(removed)
                if len(kinds) == 2 or not change.atom.fields[0].optional:
                    break

    def _render(
        self,
        values: Mapping[str, object],
        launch: Any,
        source: Source,
        needed: tuple[str, ...],
        *,
        expect: bool,
        canonical: Mapping[str, Any],
        changed_field: str | None = None,
    ) -> Rendering:
        category = self.query.category
        if category is not None and category != "process":
            return Rendering(
                source.name, "blind-spot", f"the harness renders only process events for {source.name}"
            )
        if launch.host.os_type not in source.platforms:
            return Rendering(
                source.name, "blind-spot", f"{source.name} does not report from {launch.host.os_type} hosts"
            )
        missing = [f for f in needed if not writes(source, f)]
        if missing and expect:
            return Rendering(source.name, "blind-spot", f"{source.name} never writes {', '.join(missing)}")
        document = _mark(source_document(values, launch, source))
        unwritable = _unwritable(values, document)
        if unwritable:
            # A source spells these fields from a fixed vocabulary (its actions, its event
            # types), and writes some on every event: an event that needs otherwise is one
            # the source never writes.
            return Rendering(source.name, "blind-spot", f"{source.name} writes {unwritable}")
        if self.solver.matches(document):
            if changed_field is not None and not writes(source, changed_field):
                # The near miss's one change is a field this source never writes: its document is the
                # witness's again, so it alerting there says nothing about the rule.
                return Rendering(
                    source.name,
                    "blind-spot",
                    f"{source.name} never writes {changed_field}, the near miss's change",
                )
            return Rendering(source.name, "alerts", "", document)
        reason = "" if not expect else _defeat(self.solver, needed, document, canonical)
        return Rendering(source.name, "silent", reason, document)


def _mark(document: dict[str, Any]) -> dict[str, Any]:
    labels = document.get("labels")
    if isinstance(labels, dict):
        document["labels"] = {**labels, "origin": ORIGIN}
    return document


def _unwritable(values: Mapping[str, object], document: Mapping[str, Any]) -> str:
    """A value the source's document cannot hold as the event needs it, and what it holds instead."""
    for name, value in values.items():
        wrote = field_values(document, tuple(name.split(".")))
        if value is MISSING:
            if wrote:
                return f"{name} on every event ({wrote!r}) where the event has none"
            continue
        if name not in WORDS:
            continue
        wanted = value if isinstance(value, list) else [value]
        if wrote != wanted:
            return f"{name} {wrote!r} where the event needs {value!r}"
    return ""


def _needed(branch: Branch, values: Mapping[str, object]) -> tuple[str, ...]:
    names = dict.fromkeys(
        f.name for a in branch.positive for f in a.fields if values.get(f.name, None) is not MISSING
    )
    return tuple(names)


def _defeat(
    solver: Solver, needed: tuple[str, ...], document: Mapping[str, Any], canonical: Mapping[str, Any]
) -> str:
    """Which field the source wrote so that the witness stays silent: the one whose witness value,
    put back, makes the source's document alert; else every needed field that differs."""
    differing = []
    for name in needed:
        path = tuple(name.split("."))
        wrote, want = field_values(document, path), field_values(canonical, path)
        if wrote == want:
            continue
        differing.append(f"{name}: the source wrote {wrote!r}, the witness has {want!r}")
        restored = _with(document, path, want)
        if solver.matches(restored):
            return differing[-1]
    return "; ".join(differing) or "the source's document does not match (fields: " + ", ".join(needed) + ")"


def _with(document: Mapping[str, Any], path: tuple[str, ...], values: list[Any]) -> dict[str, Any]:
    copied: dict[str, Any] = orjson.loads(orjson.dumps(document))
    node = copied
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = values if len(values) != 1 else values[0]
    return copied


def _query_fields(query: Query) -> list[Field]:
    from generators.derive.normal import fields_of

    return list(fields_of(query.condition))


def _static_findings(branch: Branch, sources: tuple[Source, ...]) -> Iterator[Finding]:
    for atom in branch.positive:
        expr = atom.expr
        if (
            isinstance(expr, Comparison)
            and expr.op == "=="
            and isinstance(expr.left, Field)
            and isinstance(expr.right, Literal)
            and isinstance(expr.right.value, str)
            and "*" in expr.right.value
        ):
            kind = kind_of(expr.left.name)
            where = (
                "a Windows file name never holds it"
                if kind in ("path", "name")
                else "it matches only a literal *"
            )
            yield Finding(
                "literal-wildcard",
                f"{expr.left.name} == {expr.right.value!r} compares literally ({where}); "
                "':' matches a wildcard",
                branch.index,
            )
    if not sources:
        return
    for name in dict.fromkeys(f.name for a in branch.positive for f in a.fields):
        if name.startswith(("event.", "@timestamp")):
            continue
        if not any(writes(s, name) for s in sources) and name not in CONTROLLED:
            yield Finding(
                "unwritten-field",
                f"no data source the rule reads writes {name} in process events: branch {branch.index} "
                "alerts only on documents the harness does not model",
                branch.index,
            )


def _why_unsolved(solver: Solver, branch: Branch) -> Finding:
    dead = contradiction(solver, branch)
    if dead is not None:
        return Finding("unsatisfiable", f"no event satisfies branch {branch.index}: {dead}", branch.index)
    return Finding(
        "unsolved",
        f"no witness found for branch {branch.index} ({branch}): the solver could not satisfy it; "
        "it may be unsatisfiable",
        branch.index,
    )
