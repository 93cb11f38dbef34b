"""Derived scenarios judged: witnesses that must alert and near misses that must not, per data source.

The application layer derives them from the rule's query (``generators.derive``) and hands
them here as plain values (:class:`DerivedSuite`), so this package never imports the
generators' solver. The rule's matcher is run on every rendered document. A witness that
a source cannot write (the source never writes a field the witness needs) is a blind
spot with its reason, never a violation. A witness that stays silent in a source that
writes every field it needs means that source's document shape defeats the rule, and a
near miss that alerts means the rule is looser than its own predicates: both are
violations unless the expectations' ``[derived]`` table accepts them.

A sequence or sample rule's cases are chains: each rendering holds the chain's documents,
judged by the rule's :class:`~harness.eql.Searcher` (a witness alerts when the search returns
a sequence made of exactly its documents, a near miss when it returns any). The chain as the
query reads it (every solved value written, whatever a source can write) is judged too, in
the pseudo-source ``query`` (:data:`QUERY_SOURCE`), so the join, the span, ``until`` and the
missing events are tested even where no source renders every stage.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.eql import Matcher, Searcher
from harness.eql.ast import Field, walk
from harness.eql.fields import field_values
from harness.validation.expectations import Expectation, Expectations
from harness.vocabulary import Intent, Status, Verdict

if TYPE_CHECKING:
    from harness.exceptions import ExceptionSet

__all__ = [
    "NEAR_MISS",
    "QUERY_SOURCE",
    "WITNESS",
    "DerivedCase",
    "DerivedEvent",
    "DerivedFinding",
    "DerivedOutcome",
    "DerivedRendering",
    "DerivedResult",
    "DerivedSourceRow",
    "DerivedSuite",
    "judge_derived",
]

WITNESS = "witness"
NEAR_MISS = "near miss"
QUERY_SOURCE = "query"
"""The pseudo-source of a chain's canonical documents: what the statement reads, in no real source."""


@dataclass(frozen=True)
class DerivedRendering:
    """A derived case in one source: its document, or None where the source cannot write it (and why)."""

    source: str
    document: dict[str, Any] | None = field(repr=False)
    reason: str = ""  # a blind spot's cause, or how the source wrote what the witness needs
    documents: tuple[dict[str, Any], ...] = field(default=(), repr=False)  # a chain's, in order

    @property
    def events(self) -> tuple[dict[str, Any], ...]:
        """What is judged: the chain's documents, or the one document; none for a blind spot."""
        if self.documents:
            return self.documents
        return () if self.document is None else (self.document,)


@dataclass(frozen=True)
class DerivedEvent:
    """One event of a chain as the report shows it: which stage, when, and the key values it joins on."""

    label: str  # "stage 1", "until", "missing event 2"
    category: str | None
    timestamp: str
    keys: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class DerivedCase:
    """One witness or near miss: ``id`` is its ``labels.scenario``, ``key`` how ``[derived]`` names it."""

    id: str
    key: str
    kind: str  # WITNESS or NEAR_MISS
    branch: int
    summary: str  # what it exercises and the fields that matter, in one line
    renderings: tuple[DerivedRendering, ...]
    # A witness as the query reads it (every solved value written on it): what a source departs from.
    document: dict[str, Any] | None = field(default=None, repr=False)
    events: tuple[DerivedEvent, ...] = ()  # a chain's events, stage by stage (sequences and samples)

    @property
    def intent(self) -> str:
        return Intent.MALICIOUS if self.kind == WITNESS else Intent.BENIGN


@dataclass(frozen=True)
class DerivedFinding:
    """Something the derivation found about the query itself (unsatisfiable, unsolved...)."""

    kind: str
    message: str
    branch: int | None = None


@dataclass(frozen=True)
class DerivedSuite:
    """Everything derived from one query, rendered into the sources the rule reads."""

    name: str
    sources: tuple[str, ...]
    branches: int
    truncated: bool
    cases: tuple[DerivedCase, ...]
    findings: tuple[DerivedFinding, ...] = ()
    kind: str = "query"  # "sequence" or "sample": ``branches`` then counts chains of stage witnesses

    @property
    def witnesses(self) -> list[DerivedCase]:
        return [c for c in self.cases if c.kind == WITNESS]

    @property
    def near_misses(self) -> list[DerivedCase]:
        return [c for c in self.cases if c.kind == NEAR_MISS]


@dataclass(frozen=True)
class DerivedOutcome:
    """What the rule did on one derived case in one source."""

    case: DerivedCase
    source: str
    expectation: Expectation
    alerted: bool | None  # None: a blind spot, never judged
    reason: str
    document: dict[str, Any] | None = field(default=None, repr=False)
    excepted_by: str | None = None  # the exception item that removed the match (a lost witness)

    @property
    def blind_spot(self) -> bool:
        return self.alerted is None

    @property
    def wrong(self) -> bool:
        return self.alerted is not None and self.alerted != (self.expectation.verdict == Verdict.ALERT)

    @property
    def violation(self) -> bool:
        return self.wrong and self.expectation.status == Status.EXPECTED

    @property
    def accepted(self) -> bool:
        """A departure a ``[derived]`` entry accepts, and that happens: judged, and as the entry says."""
        return not self.blind_spot and self.expectation.status != Status.EXPECTED and not self.wrong

    @property
    def status(self) -> str:
        """``alerts``, ``silent`` or ``blind-spot``, as the derivation names renderings."""
        return "blind-spot" if self.alerted is None else "alerts" if self.alerted else "silent"

    def explanation(self) -> str:
        """Why this outcome matters: how the source defeats a witness, or what a near miss changed."""
        if self.case.kind == NEAR_MISS:
            return f"the near miss still alerts: {self.case.summary}"
        return self.reason or "the source's document does not match the query"


@dataclass(frozen=True)
class DerivedSourceRow:
    """One source's derived cases: witnesses alerting and written, blind spots, near misses alerting."""

    source: str
    witnesses: int
    witnesses_alerting: int
    blind_spots: int
    near_misses: int
    near_misses_alerting: int
    near_misses_unwritable: int


@dataclass(frozen=True)
class DerivedResult:
    suite: DerivedSuite
    outcomes: tuple[DerivedOutcome, ...]
    unused_entries: tuple[str, ...] = ()  # [derived] entries that named no case of this derivation

    @property
    def violations(self) -> list[DerivedOutcome]:
        return [o for o in self.outcomes if o.violation]

    @property
    def accepted(self) -> list[DerivedOutcome]:
        """Departures a ``[derived]`` entry accepts, where they happen."""
        return [o for o in self.outcomes if o.accepted]

    @property
    def judged(self) -> int:
        """Witness renderings the rule was run on: what says the rule was tested at all."""
        return sum(1 for o in self.outcomes if not o.blind_spot and o.case.kind == WITNESS)

    @property
    def passed(self) -> bool:
        return not self.violations

    @property
    def excepted(self) -> list[str]:
        """``case/source`` of each witness the rule matches but an exception removes, where the
        expectations want it to alert: a detection lost (a violation)."""
        return [
            f"{o.case.key}/{o.source}"
            for o in self.outcomes
            if o.excepted_by is not None and o.case.kind == WITNESS and o.violation
        ]

    def source_rows(self) -> list[DerivedSourceRow]:
        rows = []
        for source in self.suite.sources:
            here = [o for o in self.outcomes if o.source == source]
            witnesses = [o for o in here if o.case.kind == WITNESS]
            near = [o for o in here if o.case.kind == NEAR_MISS]
            rows.append(
                DerivedSourceRow(
                    source,
                    sum(1 for o in witnesses if not o.blind_spot),
                    sum(1 for o in witnesses if o.alerted),
                    sum(1 for o in witnesses if o.blind_spot),
                    sum(1 for o in near if not o.blind_spot),
                    sum(1 for o in near if o.alerted),
                    sum(1 for o in near if o.blind_spot),
                )
            )
        return rows

    def blind_spots(self) -> dict[str, list[str]]:
        """Each witness blind spot's reason, with the witnesses (keys) it hides, in derivation order."""
        found: dict[str, list[str]] = {}
        for outcome in self.outcomes:
            if outcome.blind_spot and outcome.case.kind == WITNESS:
                keys = found.setdefault(outcome.reason, [])
                if outcome.case.key not in keys:
                    keys.append(outcome.case.key)
        return found

    def findings_by_kind(self) -> dict[str, list[DerivedFinding]]:
        """The findings grouped by kind, each distinct message once (one per branch repeats a lot)."""
        found: dict[str, list[DerivedFinding]] = {}
        for finding in self.suite.findings:
            same = found.setdefault(finding.kind, [])
            if all(f.message != finding.message for f in same):
                same.append(finding)
        return found

    def outcome(self, case: DerivedCase, source: str) -> DerivedOutcome | None:
        return next((o for o in self.outcomes if o.case is case and o.source == source), None)


def judge_derived(
    matcher: Matcher | Searcher,
    suite: DerivedSuite,
    expectations: Expectations,
    *,
    explain: bool = True,
    exceptions: ExceptionSet | None = None,
) -> DerivedResult:
    """Run ``matcher`` on every rendering of ``suite`` and judge it against ``expectations``.

    ``matcher`` is a single-event query's :class:`Matcher`, or a statement's :class:`Searcher`
    (sequences, samples, piped queries). With ``explain``, a witness that stays silent in a
    source is explained by the fields whose witness value would make that source's document
    alert (mutation testing, which only counts verdicts, leaves that work out); a chain keeps
    the reason its derivation gives (the stage, the field).

    With ``exceptions``, a document an item excludes cannot alert (nor fill a chain's stage): a
    witness so silenced is a detection lost, named by the item (``DerivedOutcome.excepted_by``).
    """
    excepted = None if exceptions is None or not exceptions.items else exceptions
    if isinstance(matcher, Searcher):
        outcomes = tuple(_searched(matcher, suite, expectations, excepted))
        return _result(suite, outcomes, expectations)
    fields = [node.path for node in walk(matcher.query.condition) if isinstance(node, Field)]
    outcomes = tuple(
        _outcomes(matcher, suite, expectations, list(dict.fromkeys(fields)) if explain else [], excepted)
    )
    return _result(suite, outcomes, expectations)


def _result(
    suite: DerivedSuite, outcomes: tuple[DerivedOutcome, ...], expectations: Expectations
) -> DerivedResult:
    used = {o.expectation.origin for o in outcomes}
    unused = tuple(entry.origin for entry in expectations.derived.values() if entry.origin not in used)
    return DerivedResult(suite, outcomes, unused)


def _outcomes(
    matcher: Matcher,
    suite: DerivedSuite,
    expectations: Expectations,
    fields: list[tuple[str, ...]],
    exceptions: ExceptionSet | None,
) -> Iterator[DerivedOutcome]:
    for case in suite.cases:
        for rendering in case.renderings:
            expectation = expectations.expect_derived(case.key, rendering.source, case.intent)
            document, reason = rendering.document, rendering.reason
            alerted = None if document is None else matcher.matches(document)
            item = exceptions.matching_item(document) if alerted and exceptions and document else None
            if item is not None:
                alerted, reason = False, f"exception item {item.name!r} removes the alert"
            elif alerted is False and case.kind == WITNESS and case.document is not None and fields:
                assert document is not None
                reason = _defeated_by(matcher, case.document, document, fields, rendering.source) or reason
            yield DerivedOutcome(
                case,
                rendering.source,
                expectation,
                alerted,
                reason,
                document,
                None if item is None else item.item_id,
            )


def _searched(
    searcher: Searcher, suite: DerivedSuite, expectations: Expectations, exceptions: ExceptionSet | None
) -> Iterator[DerivedOutcome]:
    for case in suite.cases:
        for rendering in case.renderings:
            expectation = expectations.expect_derived(case.key, rendering.source, case.intent)
            events, reason, item_id = rendering.events, rendering.reason, None
            exactly = case.kind == WITNESS
            alerted = None if not events else _found(searcher, events, exactly=exactly)
            if alerted and exceptions is not None:
                # Kibana filters each event before the search: an excepted event fills no stage.
                items = [exceptions.matching_item(event) for event in events]
                kept = tuple(e for e, item in zip(events, items, strict=True) if item is None)
                first = next((item for item in items if item is not None), None)
                if first is not None and not (kept and _found(searcher, kept, exactly=False)):
                    alerted, item_id = False, first.item_id
                    reason = f"exception item {first.name!r} removes a stage's event"
            shown = rendering.document if not rendering.documents else {"events": list(events)}
            yield DerivedOutcome(case, rendering.source, expectation, alerted, reason, shown, item_id)


def _found(searcher: Searcher, events: tuple[dict[str, Any], ...], *, exactly: bool) -> bool:
    """Whether the statement alerts on ``events``; ``exactly``: with a sequence of all of them and no other
    (a witness's own chain), as the EQL search API returns it (``size`` wide enough for every result)."""
    result = searcher.search(events, size=max(10, len(events)))
    if result.kind == "events":
        return bool(result.events)
    if not exactly:
        return bool(result.sequences)
    wanted = {id(doc) for doc in events}
    for found in result.sequences:
        chain = [event for event in found.events if event is not None]
        if len(chain) == len(events) and {id(event) for event in chain} == wanted:
            return True
    return False


def _defeated_by(
    matcher: Matcher,
    witness: Mapping[str, Any],
    document: dict[str, Any],
    fields: list[tuple[str, ...]],
    source: str,
) -> str:
    """The fields the source writes otherwise than the witness and that, as the witness has them, alert."""
    causes = []
    for path in fields:
        wanted, wrote = field_values(witness, path), field_values(document, path)
        if wanted != wrote and matcher.matches(_with_field(document, path, wanted)):
            causes.append(
                f"{'.'.join(path)}: {source} wrote {_shown(wrote)}, the witness has {_shown(wanted)}"
            )
    return "; ".join(causes)


def _shown(values: list[Any]) -> str:
    return "nothing" if not values else repr(values[0] if len(values) == 1 else values)


def _with_field(document: Mapping[str, Any], path: tuple[str, ...], values: list[Any]) -> dict[str, Any]:
    """``document`` with the field at ``path`` holding ``values`` (none: removed); shared blocks copied."""
    top = dict(document)
    node = top
    for part in path[:-1]:
        child = node.get(part)
        node[part] = child = dict(child) if isinstance(child, Mapping) else {}
        node = child
    if not values:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = values[0] if len(values) == 1 else list(values)
    return top
