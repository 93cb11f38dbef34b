"""Comparing two versions of a rule on the same corpus, event by event.

For each scenario and source: how many events each version alerts on, and which
changed. A malicious event newly missed and a benign event newly alerting are
regressions, unless the new version's expectations accept them (a known gap, known
noise); the reverse changes are improvements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.validation.expectations import Expectations
from harness.validation.runner import Judge
from harness.validation.scope import OTHER_TECHNIQUE, RuleScope, source_of

__all__ = ["Change", "DiffResult", "diff_rules"]


@dataclass
class Change:
    scenario: str
    source: str
    intent: str
    events: int = 0
    old_alerts: int = 0
    new_alerts: int = 0
    newly_alerting: int = 0
    newly_silent: int = 0
    example_newly_alerting: dict[str, Any] | None = None
    example_newly_silent: dict[str, Any] | None = None
    accepted: bool = False

    @property
    def regressions(self) -> int:
        if self.intent == "malicious":
            return self.newly_silent
        if self.intent == "benign":
            return self.newly_alerting
        return 0

    @property
    def improvements(self) -> int:
        if self.intent == "malicious":
            return self.newly_alerting
        if self.intent == "benign":
            return self.newly_silent
        return 0

    @property
    def kind(self) -> str:
        if self.regressions:
            return "newly missed" if self.intent == "malicious" else "new false positives"
        if self.improvements:
            return "newly detected" if self.intent == "malicious" else "noise removed"
        return "changed" if self.newly_alerting or self.newly_silent else "unchanged"


@dataclass
class DiffResult:
    old_name: str
    new_name: str
    corpus: str
    changes: dict[tuple[str, str], Change] = field(default_factory=dict)
    old_scope: RuleScope = field(default_factory=RuleScope)
    new_scope: RuleScope = field(default_factory=RuleScope)
    # (source, index) -> (events, read by OLD, read by NEW)
    sources: dict[tuple[str, str | None], list[Any]] = field(default_factory=dict)

    def see(self, source: str, index: str | None, events: int = 1) -> tuple[bool, bool]:
        """Count ``events`` of ``source`` in ``index``; whether OLD and NEW read it."""
        seen = self.sources.get((source, index))
        if seen is None:
            seen = self.sources[(source, index)] = [
                0,
                self.old_scope.indices.reads(index),
                self.new_scope.indices.reads(index),
            ]
        seen[0] += events
        return seen[1], seen[2]

    def judged_intent(self, scenario: str, intent: str) -> str:
        """``intent``, or "other-technique" for an attack outside NEW's catalogue (never a regression)."""
        return intent if self.new_scope.owns(scenario, intent) else OTHER_TECHNIQUE

    @property
    def changed(self) -> list[Change]:
        return [
            c
            for c in sorted(self.changes.values(), key=lambda c: (c.scenario, c.source))
            if c.newly_alerting or c.newly_silent
        ]

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changed if c.regressions]

    @property
    def unaccepted_regressions(self) -> list[Change]:
        return [c for c in self.regressions if not c.accepted]

    @property
    def improvements(self) -> list[Change]:
        return [c for c in self.changed if c.improvements]


def diff_rules(
    old: Judge,
    new: Judge,
    documents: Iterable[Mapping[str, Any]],
    new_expectations: Expectations,
    *,
    old_name: str,
    new_name: str,
    corpus: str = "",
    old_scope: RuleScope | None = None,
    new_scope: RuleScope | None = None,
) -> DiffResult:
    """Each version judged on the documents its own indices read; it never alerts on the others."""
    result = DiffResult(
        old_name, new_name, corpus, old_scope=old_scope or RuleScope(), new_scope=new_scope or RuleScope()
    )
    for doc in documents:
        labels = doc.get("labels")
        if not isinstance(labels, Mapping) or labels.get("role", "target") != "target":
            continue
        source, index = source_of(doc)
        old_reads, new_reads = result.see(source, index)
        if not (old_reads or new_reads):
            continue
        was, now = old_reads and old.matches(doc), new_reads and new.matches(doc)
        key = (str(labels.get("scenario")), str(labels.get("source", "unknown")))
        change = result.changes.get(key)
        if change is None:
            intent = result.judged_intent(key[0], str(labels.get("intent", "benign")))
            change = result.changes[key] = Change(key[0], key[1], intent)
            expectation = new_expectations.expect(key[0], key[1], intent)
            change.accepted = (intent == "malicious" and expectation.verdict == "silent") or (
                intent == "benign" and expectation.verdict == "alert"
            )
        change.events += 1
        change.old_alerts += was
        change.new_alerts += now
        if now and not was:
            change.newly_alerting += 1
            change.example_newly_alerting = change.example_newly_alerting or dict(doc)
        elif was and not now:
            change.newly_silent += 1
            change.example_newly_silent = change.example_newly_silent or dict(doc)
    return result
