"""What the page shows, computed once: each rule version over the scenarios and fleet corpora."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.corpus import describe_corpus
from harness.eql import compile_query, compile_statement
from harness.rules import Rule
from harness.schedule import Simulation, event_time_ms, simulate_rule, simulate_rule_search
from harness.schedule.search_result import SequenceSimulation
from harness.validation import Expectations, ValidationResult, run_validation
from harness.validation.exception_effect import ExceptionEffect, exception_effect
from harness.validation.scope import RuleScope
from harness.validation.sequences import found_groups, run_sequence_validation

if TYPE_CHECKING:
    from harness.exceptions import ExceptionSet

__all__ = [
    "Noise",
    "ReportData",
    "VersionInput",
    "VersionReport",
    "build_report",
    "corpus_days",
    "corpus_version",
    "version_labels",
]


@dataclass(frozen=True)
class Noise:
    """A version's matches over the fleet corpus: per UTC day (``YYYY-MM-DD``) and per million benign."""

    alerts_per_day: Mapping[str, int]
    alerts: int
    false_positives_per_million: float | None


@dataclass(frozen=True)
class VersionReport:
    """One RULE argument: its label (``v214``), validation, noise, schedule and mutation results."""

    label: str
    rule: Rule
    scenarios: ValidationResult
    noise: Noise
    simulation: Simulation | SequenceSimulation | None  # None: not simulated (every rule built here is)
    mutation: Mapping[str, Any] | None = None  # None: mutation testing not run
    # The rule with and without its exceptions on the noise corpus (None: it applies none).
    fleet_exceptions: ExceptionEffect | None = None


@dataclass(frozen=True)
class ReportData:
    versions: tuple[VersionReport, ...]
    seed: int
    scenario_corpus: str
    fleet_corpus: str
    fleet_days: tuple[str, ...]  # every UTC day the fleet corpus spans, so quiet days show as zero
    generated_at: str | None = None


@dataclass(frozen=True)
class VersionInput:
    """One rule version as the application layer prepared it: expectations, corpora it reads, mutations."""

    rule: Rule
    expectations: Expectations
    scenarios: Sequence[Mapping[str, Any]]  # the catalogue's scenarios the rule reads
    fleet: Sequence[Mapping[str, Any]]  # the shared fleet corpus, as the rule reads it
    scope: RuleScope
    mutation: Mapping[str, Any] | None = None
    exceptions: ExceptionSet | None = None  # applied before the query, as Kibana applies them


def build_report(
    versions: Sequence[VersionInput],
    fleet: Sequence[Mapping[str, Any]],
    *,
    seed: int,
    fleet_events: int,
    generated_at: str | None,
) -> ReportData:
    """Each version over its scenarios (heatmap) and the one fleet corpus (noise, schedule)."""
    labels = version_labels([v.rule for v in versions])
    return ReportData(
        versions=tuple(_version(label, version) for label, version in zip(labels, versions, strict=True)),
        seed=seed,
        scenario_corpus=describe_corpus(None, "scenarios", None, seed),
        fleet_corpus=describe_corpus(None, "fleet", fleet_events, seed),
        fleet_days=corpus_days(fleet),
        generated_at=generated_at,
    )


def _version(label: str, version: VersionInput) -> VersionReport:
    """A version over both corpora: a single-event rule matched event by event; a sequence, sample or
    piped rule searched once per corpus, an alert per sequence."""
    rule = version.rule
    matcher = compile_query(rule.query, engine="compiled")
    judge: object = matcher
    validation: Any = run_validation  # the two runners take the same arguments
    if not matcher.single_event:
        judge, validation = compile_statement(rule.query, engine="compiled"), run_sequence_validation
    scenarios, fleet_result = (
        validation(
            judge,
            documents,
            version.expectations,
            rule_name=rule.name,
            rule_version=rule.version,
            scope=version.scope,
            exceptions=version.exceptions,
        )
        for documents in (version.scenarios, version.fleet)
    )
    return corpus_version(
        label,
        rule,
        scenarios,
        fleet_result,
        version.fleet,
        version.scope,
        version.mutation,
        version.exceptions,
    )


def corpus_version(
    label: str,
    rule: Rule,
    scenarios: ValidationResult,
    fleet_result: ValidationResult,
    fleet: Sequence[Mapping[str, Any]],
    scope: RuleScope,
    mutation: Mapping[str, Any] | None = None,
    exceptions: ExceptionSet | None = None,
) -> VersionReport:
    """A version whose validations are done: its alerts per day and schedule on ``fleet`` added.

    ``fleet`` holds the documents ``scope`` reads; the totals are ``fleet_result``'s, so the page's
    alert count and false positives per million are the validation's own. The events
    ``exceptions`` exclude are left out of the schedule and the days, as Kibana filters them out.
    """
    matcher = compile_query(rule.query, engine="compiled")
    if exceptions is not None and exceptions.items:
        fleet = [document for document in fleet if not exceptions.excludes(document)]
    simulation: Simulation | SequenceSimulation
    per_day: Counter[str]
    if matcher.single_event:
        per_day = Counter()

        def counted(document: Mapping[str, Any]) -> bool:
            """The rule's verdict, each match counted on its day: one matching pass for both."""
            if not matcher.matches(document):
                return False
            if (ms := event_time_ms(document, "@timestamp")) is not None:
                per_day[_day(ms)] += 1
            return True

        simulation = simulate_rule(rule, counted, fleet)  # Kibana's defaults where the rule has none
    else:
        # An alert per sequence, on the day of its last event (when an execution can find it).
        searcher = compile_statement(rule.query, engine="compiled")
        per_day = Counter()
        for events, _ in found_groups(searcher, fleet, scope):
            times = [
                ms for e in events if e is not None and (ms := event_time_ms(e, "@timestamp")) is not None
            ]
            if times:
                per_day[_day(max(times))] += 1
        simulation = simulate_rule_search(rule, searcher, fleet)
    noise = Noise(
        dict(sorted(per_day.items())), fleet_result.alerts, fleet_result.false_positives_per_million
    )
    return VersionReport(label, rule, scenarios, noise, simulation, mutation, exception_effect(fleet_result))


def corpus_days(documents: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """Every UTC day the documents span, so quiet days show as zero."""
    times = [event_time_ms(document, "@timestamp") for document in documents]
    return tuple(sorted({_day(ms) for ms in times if ms is not None}))


def version_labels(rules: Sequence[Rule]) -> list[str]:
    """``v214`` or the file's stem; a repeated one gets ``#2``, ``#3``, so columns stay apart."""
    labels: list[str] = []
    for rule in rules:
        base = f"v{rule.version}" if rule.version is not None else Path(rule.path).stem
        label, count = base, 1
        while label in labels:
            count += 1
            label = f"{base} #{count}"
        labels.append(label)
    return labels


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()
