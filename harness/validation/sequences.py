"""Sequence and sample rules on a labelled corpus: one alert per sequence found.

Kibana's EQL executor writes one alert per sequence the search returns and a
building-block alert for each event in it (``build_alert_group_from_sequence.ts``), so a
sequence rule is judged twice over: each found sequence is an alert, attributed by the
labels of its events (a malicious event of the rule's scenarios makes it a true
positive; benign events only, a false positive), and each event's verdict is whether it
is in a found sequence, which is what the scenario and source cells count. The search
runs once over every document the rule's indices read, as Elasticsearch searches only
those indices, with no ``size`` limit: the schedule simulation is where ``max_signals``
cuts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.eql import Searcher
from harness.eql.ast import Piped, Query, Statement
from harness.validation.expectations import Expectations
from harness.validation.runner import (
    EXAMPLES,
    KEY_FIELDS,
    ValidationResult,
    alert_summary,
    run_validation,
    standing,
)
from harness.validation.scope import RuleScope

if TYPE_CHECKING:
    from harness.exceptions import ExceptionSet

__all__ = [
    "ALL",
    "EXAMPLE_FIELDS",
    "FoundExample",
    "InSequence",
    "SequenceTally",
    "found_groups",
    "found_in",
    "in_sequence",
    "is_multi_event",
    "run_sequence_validation",
    "statement_kind",
]

ALL = 2**63 - 1
"""A search ``size`` no corpus reaches: validation counts every sequence."""

EXAMPLE_FIELDS = ("event.category", *KEY_FIELDS, "labels.scenario")


def is_multi_event(statement: Statement) -> bool:
    """Whether the statement is judged by search (a sequence, a sample, pipes), not event by event."""
    return not isinstance(statement, Query)


@dataclass(frozen=True)
class FoundExample:
    """One found sequence as an analyst reads it: what it was counted as, its join keys, its events."""

    attribution: str
    join_keys: tuple[Any, ...]
    events: tuple[dict[str, str], ...]  # EXAMPLE_FIELDS of each stage's event; empty for a missing event

    def as_dict(self) -> dict[str, Any]:
        return {
            "attribution": self.attribution,
            "join_keys": list(self.join_keys),
            "events": [dict(event) for event in self.events],
        }


@dataclass
class SequenceTally:
    """The sequences a statement found on a corpus, by what their events' labels make them."""

    found: int = 0
    malicious: int = 0  # holds an event of a malicious scenario of the rule's: a true positive
    benign: int = 0  # benign target events only: a false positive
    unlabelled: int = 0  # holds an event without labels: real telemetry, for a person to judge
    other: int = 0  # context events, out-of-scope or other techniques' attacks: no verdict
    building_blocks: int = 0  # events over all sequences, missing-event placeholders left out
    examples: list[FoundExample] = field(default_factory=list)

    def count(
        self, events: tuple[Mapping[str, Any] | None, ...], join_keys: tuple[Any, ...], scope: RuleScope
    ) -> None:
        """Count one found sequence, attributed by its events' standing."""
        present = [event for event in events if event is not None]
        kinds = {_attributed(event, scope) for event in present}
        attribution = (
            "malicious"
            if "malicious" in kinds
            else "unlabelled"
            if "unlabelled" in kinds
            else "benign"
            if kinds == {"benign"}
            else "other"
        )
        self.found += 1
        self.building_blocks += len(present)
        setattr(self, attribution, getattr(self, attribution) + 1)
        if len(self.examples) < EXAMPLES:
            rows = tuple({} if e is None else _example_row(e) for e in events)
            self.examples.append(FoundExample(attribution, join_keys, rows))

    def as_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "malicious": self.malicious,
            "benign": self.benign,
            "unlabelled": self.unlabelled,
            "other": self.other,
            "building_block_alerts": self.building_blocks,
            "examples": [example.as_dict() for example in self.examples],
        }


def _attributed(event: Mapping[str, Any], scope: RuleScope) -> str:
    """An event's share in its sequence's attribution: an attack's context event makes it an alert on
    the attack (Kibana's alert holds the context events too), so it counts as malicious."""
    kind = standing(event, scope).kind
    if kind != "context":
        return kind
    labels = event["labels"]
    attack = labels.get("intent") == "malicious" and scope.owns(str(labels["scenario"]), "malicious")
    return "malicious" if attack else kind


def _example_row(event: Mapping[str, Any]) -> dict[str, str]:
    return alert_summary(event, EXAMPLE_FIELDS)


class InSequence:
    """The events of found sequences, as a matcher: ``matches(event)`` is whether it is in one.

    Membership is by identity: the documents are the very objects the search was given.
    """

    def __init__(self, statement: Statement, members: Iterable[Mapping[str, Any]]) -> None:
        self.query = statement
        self._members = {id(event) for event in members}

    def matches(self, event: Mapping[str, Any]) -> bool:
        return id(event) in self._members


def found_groups(
    searcher: Searcher, documents: Sequence[Mapping[str, Any]], scope: RuleScope
) -> list[tuple[tuple[Mapping[str, Any] | None, ...], tuple[Any, ...]]]:
    """Every sequence (or, for a piped event query, every event) the search finds in what ``scope`` reads."""
    return found_in(searcher, [doc for doc in documents if scope.reads(doc)])


def found_in(
    searcher: Searcher, read: Sequence[Mapping[str, Any]], matched: list[list[int]] | None = None
) -> list[tuple[tuple[Mapping[str, Any] | None, ...], tuple[Any, ...]]]:
    """Every sequence (or, for a piped event query, every event) the search finds in ``read``
    (``matched``: where each of the searcher's queries matches in it, as ``Searcher.search`` takes it)."""
    result = searcher.search(read, size=ALL, matched=matched)
    if result.kind == "events":
        return [((event,), ()) for event in result.events]
    return [(found.events, found.join_keys) for found in result.sequences]


def in_sequence(searcher: Searcher, documents: Sequence[Mapping[str, Any]], scope: RuleScope) -> InSequence:
    """The found sequences' events of ``documents``, as a matcher for the event-by-event diff."""
    groups = found_groups(searcher, documents, scope)
    return InSequence(searcher.statement, _members(groups))


def _members(
    groups: Iterable[tuple[tuple[Mapping[str, Any] | None, ...], tuple[Any, ...]]],
) -> Iterable[Mapping[str, Any]]:
    """Every event of the found groups; a missing event's placeholder is none."""
    return (event for events, _ in groups for event in events if event is not None)


def run_sequence_validation(
    searcher: Searcher,
    documents: Iterable[Mapping[str, Any]],
    expectations: Expectations,
    *,
    rule_name: str,
    rule_version: int | None = None,
    corpus: str = "",
    scope: RuleScope | None = None,
    exceptions: ExceptionSet | None = None,
) -> ValidationResult:
    """Search the documents ``scope`` reads once; judge every event by membership, count every sequence.

    With ``exceptions``, the events an item excludes are removed before the search, as Kibana's
    ``must_not`` filter removes them before Elasticsearch matches a sequence: they fill no stage
    and are no ``until`` or missing event. The search is also run on every event, so an event in
    a sequence only without the exceptions is counted as removed (by its own item, or by none
    when the sequence lost another event).
    """
    scope = scope or RuleScope()
    docs = list(documents)
    applied = exceptions if exceptions is not None and exceptions.items else None
    kept = docs if applied is None else [doc for doc in docs if not applied.excludes(doc)]
    groups = found_groups(searcher, kept, scope)
    tally = SequenceTally()
    for events, keys in groups:
        tally.count(events, keys, scope)
    after = list(_members(groups))
    removed_by = None
    judge = InSequence(searcher.statement, after)
    if applied is not None:
        before = _members(found_groups(searcher, docs, scope))
        judge = InSequence(searcher.statement, before)
        kept_ids = {id(doc) for doc in after}

        def removed_by(doc: Mapping[str, Any]) -> str | None:
            if id(doc) in kept_ids:
                return None
            item = applied.matching_item(doc)
            return "" if item is None else item.item_id

    result = run_validation(
        judge,
        docs,
        expectations,
        rule_name=rule_name,
        rule_version=rule_version,
        corpus=corpus,
        scope=scope,
        exceptions=applied,
        removed_by=removed_by,
    )
    result.sequences = tally
    result.statement_kind = statement_kind(searcher.statement)
    return result


def statement_kind(statement: Statement) -> str:
    """What a result calls the statement: ``sequence``, ``sample`` or ``query`` (pipes looked through)."""
    inner = statement.query if isinstance(statement, Piped) else statement
    return type(inner).__name__.lower()
