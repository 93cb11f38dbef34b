"""Running a rule over a labelled corpus: verdicts per scenario and source, metrics, violations.

Only ``labels.role == "target"`` events are judged against expectations (a chain's
context, the shell a web shell opens, is counted apart). Background events carry
``labels.scenario = "fleet-background"`` and intent ``benign``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from harness.eql.fields import field_values
from harness.validation.derived import DerivedResult
from harness.validation.expectations import Expectation, Expectations
from harness.validation.scope import OTHER_TECHNIQUE, RuleScope, SourceSeen, source_name, source_of
from harness.validation.time_span import TimeSpan
from harness.vocabulary import BackgroundScenario

if TYPE_CHECKING:
    from harness.exceptions import ExceptionSet
    from harness.validation.sequences import SequenceTally

__all__ = [
    "BACKGROUND_SCENARIO",
    "EXAMPLES",
    "KEY_FIELDS",
    "BudgetCheck",
    "Cell",
    "Excepted",
    "Judge",
    "Partial",
    "Standing",
    "ValidationResult",
    "Violation",
    "alert_summary",
    "excepted",
    "is_partial",
    "run_validation",
    "standing",
    "whole",
]

BACKGROUND_SCENARIO = BackgroundScenario.FLEET
EXAMPLES = 20


class Judge(Protocol):
    """What gives each document its verdict: a Matcher, or the events of found sequences."""

    @property
    def query(self) -> object: ...

    def matches(self, event: Mapping[str, Any]) -> bool: ...


@dataclass
class Cell:
    """One scenario seen through one source."""

    scenario: str
    source: str
    intent: str
    expectation: Expectation
    events: int = 0
    alerts: int = 0
    example_alert: dict[str, Any] | None = None
    example_silent: dict[str, Any] | None = None
    # Alerts the rule's exceptions removed (counted apart from ``alerts``), and per item (the row
    # engines name the first item that matched; the SQL engines count them without an item).
    removed: int = 0
    removed_by: dict[str, int] = field(default_factory=dict)
    example_removed: dict[str, Any] | None = None

    def remove(self, item: str | None, count: int = 1) -> None:
        """Count ``count`` alerts removed by exception ``item`` (None: not attributed)."""
        self.removed += count
        if item is not None:
            self.removed_by[item] = self.removed_by.get(item, 0) + count

    @property
    def silent(self) -> int:
        return self.events - self.alerts

    @property
    def wrong(self) -> int:
        """Events whose verdict differs from the expectation."""
        return self.silent if self.expectation.verdict == "alert" else self.alerts

    @property
    def detection_rate(self) -> float:
        return self.alerts / self.events if self.events else 0.0


@dataclass(frozen=True)
class Violation:
    scenario: str
    source: str
    intent: str
    expected: str
    events: int
    wrong: int
    example: dict[str, Any] | None

    hidden: int = 0  # of ``wrong``, the alerts an exception removed

    @property
    def kind(self) -> str:
        if self.expected == "alert" and self.hidden and self.intent == "malicious":
            return "hidden by exception"
        if self.expected == "alert":
            return "missed" if self.intent == "malicious" else "not alerted"
        return "false positive" if self.intent == "benign" else "unexpected alert"


@dataclass(frozen=True)
class BudgetCheck:
    name: str
    limit: float
    actual: float | None
    passed: bool
    skipped: str = ""  # why the budget could not be judged on this corpus


@dataclass
class ValidationResult:
    rule_name: str
    rule_version: int | None
    query: str
    corpus: str
    expectations: Expectations
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    context_events: int = 0
    context_alerts: int = 0
    unlabelled_events: int = 0
    background_events: int = 0
    unlabelled_alerts: list[dict[str, Any]] = field(default_factory=list)  # the first few, as examples
    unlabelled_alert_count: int = 0
    scope: RuleScope = field(default_factory=RuleScope)
    # Labelled attacks of scenarios outside the rule's catalogue: neither detections nor misses.
    other_technique_events: int = 0
    other_technique_alerts: int = 0
    sources: dict[tuple[str, str | None], SourceSeen] = field(default_factory=dict)
    # The scenarios derived from the query, judged apart from the corpus (None: not derived).
    derived: DerivedResult | None = None
    # False when no corpus was run: a rule no catalogue covers, judged on its derived scenarios alone.
    corpus_run: bool = True
    # A sequence, sample or piped rule: the sequences found (None for an event query, judged per event).
    sequences: SequenceTally | None = None
    statement_kind: str = "query"
    # The exceptions applied (None: none), each item's name by id, and what they removed outside cells.
    exceptions: ExceptionSet | None = None
    removed_other: int = 0  # unlabelled, context and other-technique alerts the exceptions removed

    def see(self, document: Mapping[str, Any]) -> bool:
        """Note ``document``'s source; whether the rule reads it."""
        return self.count_source(*source_of(document), 1)

    def count_source(self, name: str, index: str | None, events: int) -> bool:
        """Count ``events`` of source ``name`` in ``index``; whether the rule reads them."""
        seen = self.sources.get((name, index))
        if seen is None:
            seen = self.sources[(name, index)] = SourceSeen(name, index, self.scope.indices.reads(index))
        seen.events += events
        return seen.read

    @property
    def unread_events(self) -> int:
        return sum(s.events for s in self.sources.values() if not s.read)

    @property
    def unindexed_events(self) -> int:
        """Events with no index information: every rule reads them."""
        return sum(s.events for s in self.sources.values() if s.index is None)

    def unlabelled_alert_rows(self) -> list[dict[str, str]]:
        """The example alerts on unlabelled events, as the key fields an analyst reads first."""
        return [alert_summary(doc) for doc in self.unlabelled_alerts]

    hosts: set[str] = field(default_factory=set)
    first_ms: int | None = None
    last_ms: int | None = None

    # -- metrics ------------------------------------------------------------------

    def _sum(self, intent: str, attr: str) -> int:
        return sum(getattr(c, attr) for c in self.cells.values() if c.intent == intent)

    @property
    def events(self) -> int:
        return (
            sum(c.events for c in self.cells.values())
            + self.context_events
            + self.unlabelled_events
            + self.other_technique_events
        )

    @property
    def true_positives(self) -> int:
        """Alerting malicious events; for a multi-event rule, sequences holding a malicious event."""
        if self.sequences is not None:
            return self.sequences.malicious
        return self._sum("malicious", "alerts")

    @property
    def false_negatives(self) -> int:
        """Silent malicious events; for a multi-event rule, malicious events in no found sequence."""
        return self._sum("malicious", "silent")

    @property
    def false_positives(self) -> int:
        """Alerting benign events; for a multi-event rule, sequences of benign events only."""
        if self.sequences is not None:
            return self.sequences.benign
        return self._sum("benign", "alerts")

    @property
    def true_negatives(self) -> int:
        return self._sum("benign", "silent")

    @property
    def benign_events(self) -> int:
        return self._sum("benign", "events")

    @property
    def out_of_scope_alerts(self) -> int:
        return self._sum("out-of-scope", "alerts")

    @property
    def detection_rate(self) -> float | None:
        """Alerted share of malicious target events (out-of-scope attacks excluded).

        For a multi-event rule: the share of them inside a found sequence.
        """
        detected = self._sum("malicious", "alerts")
        total = detected + self.false_negatives
        return detected / total if total else None

    @property
    def precision(self) -> float | None:
        total = self.true_positives + self.false_positives
        return self.true_positives / total if total else None

    @property
    def false_positives_per_million(self) -> float | None:
        return self.false_positives / self.benign_events * 1e6 if self.benign_events else None

    @property
    def alerts(self) -> int:
        """Alerts the rule raises: one per alerting event, or one per sequence found."""
        if self.sequences is not None:
            return self.sequences.found
        return (
            sum(c.alerts for c in self.cells.values())
            + self.context_alerts
            + self.unlabelled_alert_count
            + self.other_technique_alerts
        )

    @property
    def days(self) -> float:
        if self.first_ms is None or self.last_ms is None:
            return 0.0
        # A corpus shorter than a day counts as one: a burst seconds long is not extrapolated.
        return max((self.last_ms - self.first_ms) / 86_400_000, 1.0)

    @property
    def alerts_per_host_per_day(self) -> float | None:
        if not self.hosts or not self.days:
            return None
        return self.alerts / len(self.hosts) / self.days

    def scenario_rates(self) -> dict[str, tuple[str, int, int]]:
        """Per scenario, across sources: intent, target events, alerts."""
        out: dict[str, tuple[str, int, int]] = {}
        for cell in self.cells.values():
            intent, events, alerts = out.get(cell.scenario, (cell.intent, 0, 0))
            out[cell.scenario] = (intent, events + cell.events, alerts + cell.alerts)
        return out

    # -- verdict ---------------------------------------------------------------------

    @property
    def violations(self) -> list[Violation]:
        found = []
        for cell in sorted(self.cells.values(), key=lambda c: (c.scenario, c.source)):
            if cell.wrong and cell.expectation.status == "expected":
                example = cell.example_silent if cell.expectation.verdict == "alert" else cell.example_alert
                if cell.expectation.verdict == "alert" and cell.removed and cell.example_removed is not None:
                    example = cell.example_removed  # the hidden detection, not an ordinary miss
                found.append(
                    Violation(
                        cell.scenario,
                        cell.source,
                        cell.intent,
                        cell.expectation.verdict,
                        cell.events,
                        cell.wrong,
                        example,
                        min(cell.removed, cell.wrong) if cell.expectation.verdict == "alert" else 0,
                    )
                )
        return found

    @property
    def budget_checks(self) -> list[BudgetCheck]:
        checks = []
        budgets = self.expectations.budgets
        fp = self.false_positives_per_million
        if budgets.max_false_positives_per_million is not None:
            limit = budgets.max_false_positives_per_million
            name = "false positives per million benign events"
            if fp is None or not self.background_events:
                # A scenarios corpus holds benign look-alikes, not a fleet's everyday activity:
                # a rate per million over it would say nothing about noise in production.
                why = "the corpus has no fleet background (use --profile fleet or a real corpus)"
                checks.append(BudgetCheck(name, limit, fp, True, skipped=why))
            else:
                checks.append(BudgetCheck(name, limit, fp, fp <= limit))
        rate = self.detection_rate
        if budgets.min_detection_rate is not None and rate is not None:
            limit = budgets.min_detection_rate
            name = "detection rate over in-scope malicious events"
            if self.background_events:
                # Attacks in a fleet corpus are a weighted sample of the catalogue, a few hundred
                # events drawn at --attack-rate: the budget is set on the whole catalogue, where
                # every scenario runs in every source. The rate is still reported in the metrics.
                why = "attacks in a fleet corpus are a sample; judged on the scenarios profile"
                checks.append(BudgetCheck(name, limit, rate, True, skipped=why))
            else:
                checks.append(BudgetCheck(name, limit, rate, rate >= limit))
        return checks

    @property
    def judged(self) -> int:
        """Target events with labels: what expectations were checked on."""
        return sum(c.events for c in self.cells.values())

    @property
    def corpus_passed(self) -> bool:
        """No violation, no broken budget, and at least one labelled event judged."""
        return self.judged > 0 and not self.violations and all(check.passed for check in self.budget_checks)

    @property
    def passed(self) -> bool:
        """The corpus (if one ran) passed and no derived case is a violation.

        A run on derived scenarios alone must have judged at least one witness.
        """
        derived = self.derived
        if not self.corpus_run:
            return derived is not None and derived.judged > 0 and derived.passed
        return self.corpus_passed and (derived is None or derived.passed)


# What an analyst reads first on an alert from real telemetry.
KEY_FIELDS = ("@timestamp", "host.name", "user.name", "process.parent.name", "process.command_line")


def alert_summary(doc: Mapping[str, Any], fields: tuple[str, ...] = KEY_FIELDS) -> dict[str, str]:
    """``fields`` of ``doc`` as text (values of an array joined), empty where absent."""
    row = {}
    for name in fields:
        values = field_values(doc, tuple(name.split(".")))
        row[name] = " ".join(str(v) for v in values)
    return row


class Standing(NamedTuple):
    """How a document counts: ``kind`` is "unlabelled", "context", "other-technique", or its intent."""

    kind: str
    scenario: str = ""
    source: str = ""


def standing(doc: Mapping[str, Any], scope: RuleScope) -> Standing:
    """``doc``'s standing: only target events of the rule's scenarios (and benign ones) are judged."""
    return _standing(doc.get("labels"), scope)


def _standing(labels: object, scope: RuleScope) -> Standing:
    """The standing of a document whose ``labels`` value is ``labels``."""
    # A dict is asked first: isinstance against Mapping costs more than the rest, once per document.
    if (type(labels) is not dict and not isinstance(labels, Mapping)) or "scenario" not in labels:
        return Standing("unlabelled")
    if labels.get("role") not in (None, "target"):  # a missing or null role is "target", as in SQL
        return Standing("context")
    scenario, source = str(labels["scenario"]), str(labels.get("source", "unknown"))
    intent = str(labels.get("intent", "benign"))
    counted = scope.counted_as(scenario, intent)
    if counted is None:
        return Standing(OTHER_TECHNIQUE)
    return Standing(intent, counted, source)


def run_validation(
    matcher: Judge,
    documents: Iterable[Mapping[str, Any]],
    expectations: Expectations,
    *,
    rule_name: str,
    rule_version: int | None = None,
    corpus: str = "",
    scope: RuleScope | None = None,
    exceptions: ExceptionSet | None = None,
    removed_by: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> ValidationResult:
    """Judge every document the rule reads (``scope``: its indices and catalogue) and gather the result.

    With ``exceptions``, a match some item excludes is no alert: it is counted as removed, in its
    cell under the first item that matched (``exceptions`` already ``active_at`` the run's start).
    ``removed_by`` overrides how an alerting document is found removed: the id of what removed it
    ("" when no one item did, as a sequence that lost another of its events), or None.
    """
    result = ValidationResult(
        rule_name, rule_version, str(matcher.query), corpus, expectations, scope=scope or RuleScope()
    )
    result.exceptions = exceptions
    cells, matches, scope, times = result.cells, matcher.matches, result.scope, TimeSpan()
    excepted = removed_by if removed_by is not None else _first_item(exceptions)
    readings = _LabelReadings(scope)
    for doc in documents:
        name, index, (kind, scenario, source) = readings.read(doc)
        if not result.count_source(name, index, 1):
            continue  # an index the rule does not search: listed in result.sources, counted nowhere else
        alerted = matches(doc)
        item = excepted(doc) if alerted and excepted is not None else None
        if item is not None:
            alerted = False
        _note_time_and_host(result, times, doc)
        if item is not None and kind in ("unlabelled", "context", OTHER_TECHNIQUE):
            result.removed_other += 1
        if kind == "unlabelled":
            result.unlabelled_events += 1
            if alerted:
                result.unlabelled_alert_count += 1
                if len(result.unlabelled_alerts) < EXAMPLES:  # a real corpus may alert millions of times
                    result.unlabelled_alerts.append(whole(doc))
            continue
        if kind == "context":
            result.context_events += 1
            result.context_alerts += alerted
            continue
        if kind == OTHER_TECHNIQUE:
            result.other_technique_events += 1
            result.other_technique_alerts += alerted
            continue
        cell = cells.get((scenario, source))
        if cell is None:
            cell = cells[(scenario, source)] = Cell(
                scenario, source, kind, expectations.expect(scenario, source, kind)
            )
        cell.events += 1
        if scenario == BACKGROUND_SCENARIO:
            result.background_events += 1
        if alerted:
            cell.alerts += 1
            if cell.example_alert is None:
                cell.example_alert = whole(doc)
        else:
            if item is not None:
                cell.remove(item or None)
                if cell.example_removed is None:
                    cell.example_removed = whole(doc)
            if cell.example_silent is None:
                cell.example_silent = whole(doc)
    result.first_ms, result.last_ms = times.first, times.last
    return result


class _LabelReadings:
    """A document's source, index and standing, read from its labels; for a generated document (its
    index in its labels, all of them text) read once per distinct labelling, as a corpus holds few."""

    def __init__(self, scope: RuleScope) -> None:
        self._scope = scope
        self._known: dict[tuple[object, ...], tuple[str, str | None, Standing]] = {}

    def read(self, doc: Mapping[str, Any]) -> tuple[str, str | None, Standing]:
        labels = doc.get("labels")
        if type(labels) is not dict or "_index" in doc:
            return (*_source_of(doc, labels), _standing(labels, self._scope))
        get = labels.get
        key = (get("scenario"), get("source"), get("intent"), get("role"), get("index"))
        try:
            known = self._known.get(key)
        except TypeError:  # a label that is a list or an object: read as it is
            return (*_source_of(doc, labels), _standing(labels, self._scope))
        if known is None:
            known = (*_source_of(doc, labels), _standing(labels, self._scope))
            # Kept only when every label read is text (a missing role reads as a null one): a missing
            # source or intent reads otherwise than a null one, and 1 and True are equal keys.
            scenario, source, intent, role, index = key
            texts = all(type(value) is str for value in (scenario, source, intent, index))
            if texts and index and (role is None or type(role) is str):
                self._known[key] = known
        return known


def _first_item(exceptions: ExceptionSet | None) -> Callable[[Mapping[str, Any]], str | None] | None:
    """The id of the first item of ``exceptions`` that excludes a document (None: none applies)."""
    if exceptions is None or not exceptions.items:
        return None
    first = exceptions.matching_item

    def removed_by(doc: Mapping[str, Any]) -> str | None:
        item = first(doc)
        return None if item is None else item.item_id

    return removed_by


class Excepted:
    """A judge whose alerts are its matches among the events no exception item excludes."""

    def __init__(self, judge: Judge, exceptions: ExceptionSet) -> None:
        self.judge = judge
        self.exceptions = exceptions

    @property
    def query(self) -> object:
        return self.judge.query

    def matches(self, event: Mapping[str, Any]) -> bool:
        return self.judge.matches(event) and not self.exceptions.excludes(event)


def excepted(judge: Judge, exceptions: ExceptionSet | None) -> Judge:
    """``judge`` with ``exceptions`` applied, or ``judge`` itself when there are none."""
    return judge if exceptions is None or not exceptions.items else Excepted(judge, exceptions)


@runtime_checkable
class Partial(Protocol):
    """A document holding only the fields its reader kept (``harness.projection``), which can give
    the whole document back: examples in reports are shown whole."""

    def whole(self) -> dict[str, Any]: ...


def is_partial(doc: object) -> bool:
    """Whether ``doc`` is a :class:`Partial` document. Asked of its class: a Protocol's own
    isinstance costs microseconds, and a run asks it of every document for every rule."""
    return callable(getattr(type(doc), "whole", None))


def whole(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` as a report shows it: a copy, or the whole document a projected one was cut from."""
    return doc.whole() if is_partial(doc) else dict(doc)  # type: ignore[attr-defined]


def _note_time_and_host(result: ValidationResult, times: TimeSpan, doc: Mapping[str, Any]) -> None:
    host = doc.get("host")
    name = host.get("name") if type(host) is dict or isinstance(host, Mapping) else doc.get("host.name")
    if isinstance(name, str):
        result.hosts.add(name)
    times.note(doc.get("@timestamp"))


def _source_of(doc: Mapping[str, Any], labels: object) -> tuple[str, str | None]:
    """``source_of(doc)``, the labels already read: a generated document's ``labels.index`` is its
    index unless a search hit's ``_index`` says otherwise (``document_index``'s order)."""
    if type(labels) is dict and "_index" not in doc:
        index = labels.get("index")
        if type(index) is str and index:
            return source_name(labels.get("source"), index), index
    return source_of(doc)
