"""``simulate``, ``mutate`` and ``propose``: a rule's schedule, its suite's strength, its widenings."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from harness.app.corpora import Corpus, Notice, open_for_rule
from harness.app.setup import ExceptionsInput, RuleInput, RuleSetup, prepare_rule
from harness.app.validation import CorpusInput
from harness.eql import Query, compile_query, compile_statement, parse_statement
from harness.errors import UsageError
from harness.vocabulary import DEFAULT_SEED, Profile

if TYPE_CHECKING:
    from harness.exception_proposals import ExceptionProposal, Labelled
    from harness.mutation import MutationReport
    from harness.proposals import Proposal
    from harness.rules import AlertSuppression
    from harness.schedule import SequenceSimulation, Simulation

__all__ = [
    "ExceptionProposals",
    "Proposals",
    "Scheduled",
    "mutate",
    "propose",
    "propose_exceptions",
    "scenario_documents",
    "simulate",
]


@dataclass(frozen=True)
class Scheduled:
    result: Simulation | SequenceSimulation  # the second for a sequence, sample or piped rule
    setup: RuleSetup
    notices: list[str] = field(default_factory=list)
    # The events the rule's exceptions removed before the schedule (a single-event rule: its
    # matches; a sequence: every excluded event, before the search); None without exceptions.
    excepted: int | None = None


class _Excepting:
    """Removes what the exceptions exclude before the rule sees it, counting what it removed."""

    def __init__(self, setup: RuleSetup) -> None:
        self.exceptions = setup.active_exceptions()
        self.removed = 0

    def predicate(self, matches: Callable[[Mapping[str, Any]], bool]) -> Callable[[Mapping[str, Any]], bool]:
        """``matches`` among the events no item excludes (a match some item excludes is no alert)."""
        exceptions = self.exceptions
        if exceptions is None:
            return matches

        def kept_match(document: Mapping[str, Any]) -> bool:
            if not matches(document):
                return False
            if exceptions.excludes(document):
                self.removed += 1
                return False
            return True

        return kept_match

    def documents(self, documents: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The events no item excludes: a sequence's search never sees the others."""
        exceptions = self.exceptions
        for document in documents:
            if exceptions is not None and exceptions.excludes(document):
                self.removed += 1
            else:
                yield document

    def notice(self) -> list[str]:
        if self.exceptions is None:
            return []
        return [f"exceptions removed {self.removed:,} events before the schedule (and any suppression)"]


@dataclass(frozen=True)
class Proposals:
    proposals: list[Proposal]
    setup: RuleSetup
    seed: int


@dataclass(frozen=True)
class ExceptionProposals:
    proposal: ExceptionProposal
    setup: RuleSetup
    corpus: str
    notices: list[str] = field(default_factory=list)


def read_by(setup: RuleSetup, documents: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The documents ``setup``'s rule searches: its indices select theirs (or they carry none)."""
    scope = setup.scope
    if scope.indices.reads_everything:
        return documents
    return (document for document in documents if scope.reads(document))


def scenario_documents(setup: RuleSetup, seed: int, what: str) -> list[dict[str, Any]]:
    """The rule's catalogue, every scenario in every source, as the rule reads it."""
    catalogue = setup.require_catalogue(what)
    opened = open_for_rule(Corpus(profile=Profile.SCENARIOS, seed=seed))
    return list(opened.documents(catalogue))


def simulate(
    rule: RuleInput,
    corpus: CorpusInput = None,
    *,
    catalogue: str | None = None,
    first_run: datetime | None = None,
    duplicates_take_slots: bool = True,
    notice: Notice | None = None,
    suppression: AlertSuppression | None = None,
    exceptions: ExceptionsInput = None,
) -> Scheduled:
    """Run ``rule`` on its schedule over a timestamped corpus (default: the fleet profile).

    The rule's exceptions (its own ``X.exceptions.toml``, or ``exceptions``) apply first, per
    event, as Kibana's filter applies before the search: an excepted event never alerts, never
    fills a sequence's stage, and is never suppressed (suppression groups the alerts that remain).

    A sequence, sample or piped rule runs as Kibana's EQL executor runs it: one search per
    execution over its window (``harness.schedule.simulate_search``); ``duplicates_take_slots``
    does not apply to it (a notice says so when it is turned off). ``suppression`` (default: the
    rule's own ``alert_suppression``, if any) suppresses the alerts as Kibana does, and the result
    carries them before and after.
    """
    from harness.schedule import simulate_rule, simulate_rule_search

    setup = prepare_rule(rule, catalogue=catalogue, exceptions=exceptions)
    excepting = _Excepting(setup)
    defaulted = setup.rule.schedule.defaulted
    spec = Corpus.of(corpus).with_profile(Profile.FLEET)
    notices = []
    suppression = suppression or setup.rule.alert_suppression
    if suppression is not None:
        notices.append(_suppression_notice(setup.rule.path, suppression))
    if defaulted:
        schedule = setup.rule.schedule
        notices.append(
            f"{setup.rule.path}: no {', '.join(defaulted)} in the rule: Kibana's defaults apply (every "
            f"{schedule.interval} over {schedule.from_}, at most {schedule.max_signals} alerts per run)"
        )
    if spec.generated and setup.catalogue is None:
        notices.append("no scenario catalogue covers this rule: the fleet's background only, no attacks")
    opened = open_for_rule(spec)
    single_event = isinstance(parse_statement(setup.rule.query), Query)
    result: Simulation | SequenceSimulation
    try:
        with opened.placing_errors():
            documents = read_by(setup, opened.documents(setup.catalogue, notice))
            if single_event:
                result = simulate_rule(
                    setup.rule,
                    excepting.predicate(compile_query(setup.rule.query, engine="compiled").matches),
                    documents,
                    first_run=first_run,
                    duplicates_take_slots=duplicates_take_slots,
                    suppression=suppression,
                )
            else:
                if not duplicates_take_slots:
                    notices.append(
                        "duplicates free no slots in a sequence, sample or piped rule's search: "
                        "Kibana's EQL executor makes one search per execution"
                    )
                if suppression is not None:
                    # eql.ts: bulkCreateSuppressedSequencesInMemory, behind an experimental flag before 8.18.
                    notices.append("Kibana suppresses a sequence or sample rule's alerts from 8.18 on")
                searcher = compile_statement(setup.rule.query, engine="compiled")
                result = simulate_rule_search(
                    setup.rule,
                    searcher,
                    excepting.documents(documents),
                    first_run=first_run,
                    suppression=suppression,
                )
    except ValueError as error:  # the schedule's own checks: an event's time no window can be placed at
        where = None if opened.placed is None else opened.placed.where
        raise UsageError(f"{where or setup.rule.path}: {error}") from error
    told = setup.notices + notices + excepting.notice() + opened.unused_label_notices()
    removed = None if excepting.exceptions is None else excepting.removed
    return Scheduled(result, setup, told, removed)


def _suppression_notice(path: str, suppression: AlertSuppression) -> str:
    """What the suppression is, and what Kibana needs for it (``get_is_alert_suppression_active.ts``)."""
    window = f"within {suppression.duration}" if suppression.duration else "per rule execution"
    return (
        f"{path}: alerts suppressed by {', '.join(suppression.group_by)} {window}, missing fields "
        f"{suppression.missing_fields_strategy}; Kibana applies it with a Platinum license or higher"
    )


def mutate(
    rule: RuleInput,
    *,
    expect: str | os.PathLike[str] | None = None,
    catalogue: str | None = None,
    seed: int = DEFAULT_SEED,
    derived: bool = True,
    exceptions: ExceptionsInput = None,
) -> MutationReport:
    """Mutation-test ``rule``'s expectation suite over its catalogue's scenarios and its derived ones.

    A rule no catalogue covers is judged on its derived scenarios alone; with
    ``derived=False`` it needs a catalogue, as before. The rule's exceptions remove the scenario
    events they exclude before any mutant is judged: such an event alerts for none of them.
    """
    from harness.app.derived import derived_suite
    from harness.mutation import mutation_test

    setup = prepare_rule(rule, expect=expect, catalogue=catalogue, exceptions=exceptions)
    documents = None
    if setup.catalogue is not None or not derived:
        scenarios = scenario_documents(setup, seed, "mutation testing")
        documents = [d for d in _Excepting(setup).documents(scenarios) if setup.scope.reads(d)]
    suite = derived_suite(setup) if derived else None
    return mutation_test(setup.rule, setup.expectations, documents, scope=setup.scope, derived=suite)


def propose(
    rule: RuleInput,
    *,
    expect: str | os.PathLike[str] | None = None,
    catalogue: str | None = None,
    seed: int = DEFAULT_SEED,
    fleet_events: int = 100_000,
) -> Proposals:
    """Candidate widenings of ``rule`` from its known gaps, each measured on the catalogue and a fleet."""
    from harness.proposals import propose as make_proposals

    setup = prepare_rule(rule, expect=expect, catalogue=catalogue)
    scenarios = [d for d in scenario_documents(setup, seed, "proposals") if setup.scope.reads(d)]
    fleet = Corpus(profile=Profile.FLEET, events=fleet_events, seed=seed)
    background = list(read_by(setup, open_for_rule(fleet).documents(setup.catalogue)))
    found = make_proposals(setup.rule.query, setup.expectations, scenarios, background, scope=setup.scope)
    return Proposals(found, setup, seed)


def propose_exceptions(
    rule: RuleInput,
    corpus: CorpusInput = None,
    *,
    expect: str | os.PathLike[str] | None = None,
    catalogue: str | None = None,
    seed: int = DEFAULT_SEED,
    notice: Notice | None = None,
) -> ExceptionProposals:
    """Exception items that remove ``rule``'s false positives on ``corpus`` (default: the fleet
    profile) and match no malicious event of its catalogue or the corpus, nor any derived witness."""
    from harness.app.derived import derived_suite
    from harness.exception_proposals import Labelled
    from harness.exception_proposals import propose_exceptions as make_proposal
    from harness.validation.runner import standing
    from harness.validation.scope import OTHER_TECHNIQUE

    setup = prepare_rule(rule, expect=expect, catalogue=catalogue)
    if not isinstance(parse_statement(setup.rule.query), Query):
        raise UsageError(
            f"{setup.rule.path}: exceptions are proposed for single-event rules only; a sequence, sample "
            "or piped rule's alerts are searches, not events an exception item is judged on one by one"
        )
    spec = Corpus.of(corpus).with_profile(Profile.FLEET)
    if spec.profile is Profile.SCENARIOS:
        raise UsageError(
            "the scenarios profile holds the catalogue's look-alikes, not everyday noise: propose "
            "exceptions on --profile fleet or a labelled real log (--corpus FILE --labels FILE)"
        )
    matcher = compile_query(setup.rule.query, engine="compiled")
    guarded_kinds = ("malicious", OTHER_TECHNIQUE)
    false_positives: list[Labelled] = []
    guarded: list[Labelled] = []
    benign = unlabelled = 0
    opened = open_for_rule(spec)
    with opened.placing_errors():
        for document in read_by(setup, opened.documents(setup.catalogue, notice)):
            seen = standing(document, setup.scope)
            benign += seen.kind == "benign"
            if not matcher.matches(document):
                continue
            if seen.kind == "benign":
                false_positives.append(Labelled("corpus", seen.scenario, seen.source, document))
            elif seen.kind in guarded_kinds:
                guarded.append(Labelled("corpus", seen.scenario, seen.source, document))
            elif seen.kind == "unlabelled":
                unlabelled += 1
    notices = setup.notices + opened.unused_label_notices()
    if unlabelled:
        notices.append(
            f"{unlabelled} alerts on unlabelled events were not read as false positives: label the "
            "corpus (--labels FILE) to propose exceptions for them"
        )
    look_alikes: list[Labelled] = []
    if setup.catalogue is None:
        notices.append(
            "no scenario catalogue covers this rule: the items are checked on its derived witnesses only"
        )
    else:
        for document in scenario_documents(setup, seed, "proposing exceptions"):
            seen = standing(document, setup.scope)
            if not setup.scope.reads(document) or not matcher.matches(document):
                continue
            if seen.kind in guarded_kinds:
                guarded.append(Labelled("catalogue", seen.scenario, seen.source, document))
            elif seen.kind == "benign":
                look_alikes.append(Labelled("catalogue", seen.scenario, seen.source, document))
    for case in derived_suite(setup).cases:
        if case.intent != "malicious":
            continue
        for rendering in case.renderings:
            guarded.extend(
                Labelled("derived", case.key, rendering.source, doc)
                for doc in rendering.events
                if matcher.matches(doc)
            )
    rule_file = setup.rule
    proposal = make_proposal(
        false_positives,
        guarded,
        look_alikes=look_alikes,
        benign_events=benign,
        list_id=f"{rule_file.rule_id or setup.label}-proposed-exceptions",
        list_name=f"{rule_file.name} (version {rule_file.version}): proposed exceptions",
    )
    return ExceptionProposals(proposal, setup, spec.describe(), notices)
