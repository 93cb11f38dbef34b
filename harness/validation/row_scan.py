"""Many single-event rules judged in one pass over a list of documents: each document read once.

:func:`harness.validation.runner.run_validation` reads every document per rule: its source,
its labels, its host and time stamp, then the verdict. Here each document's group (its
source and index, what its labels make of it) and its host and time stamp are read once,
and each distinct query's verdict is taken on it; a rule's result is then counted from the
groups its scope reads, as :class:`~harness.validation.table_scan.TableScan` counts one from
a table's rows. The examples a report shows are the ones the runner keeps: the first
alerting and the first silent document of each cell, the first :data:`EXAMPLES` unlabelled
alerts, in corpus order.

A query is evaluated only on the indices some rule with that text reads, as the runner
evaluates it only on those, and a document's event category is read once for every query
of a category (both engines answer False before the condition on another category).

A sequence, sample or piped rule given as ``searched`` has each of its stage queries judged in
the pass like any other query (a stage shared by several rules once), each matching document's
place noted; :meth:`RowScan.validate` with the rule's searcher then runs the search's state
machine on those places alone, as ``Searcher.search`` runs it on the documents its indices read.
A searched rule not given, or one a stage of which failed, is searched by its own searcher. It
is judged from the pass as the runner judges it with ``InSequence``: an event alerts when it is
in a found sequence, counted into its group by its place in the corpus, the groups' events,
hosts and times the pass's.

A query that cannot be compiled, or whose evaluation fails on a document
(:class:`EqlEvaluationError`, a Java error Elasticsearch would fail the search on), stops
being evaluated; a rule reading the failing document's index gets the error as the
runner would raise it, naming the document, and :meth:`RowScan.validate` returns None for
the others with that text: their caller runs them alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from harness.eql import Matcher, Query, Searcher, parse_statement
from harness.eql.getters import Getter, SharedReads, compile_getter
from harness.eql.mapping import FieldMapping
from harness.eql.required_values import RequiredValue, required_values
from harness.errors import EqlEvaluationError, HarnessError
from harness.indices import IndexSelection
from harness.timestamps import epoch_ms
from harness.validation.expectations import Expectations
from harness.validation.keyed_tests import KeyedTests
from harness.validation.runner import BACKGROUND_SCENARIO, EXAMPLES, Cell, ValidationResult, whole
from harness.validation.scope import RuleScope, source_of
from harness.validation.sequences import SequenceTally, found_in, statement_kind

__all__ = ["RowScan"]

Test = Callable[[Mapping[str, Any]], bool]
Found = tuple[int, Mapping[str, Any]]  # a document and its place in the corpus (0-based)

# What a document's labels make of it, before a rule's catalogue is asked: no labels, a chain's
# context, or a target event's (scenario, source, intent), spelled as the runner's ``standing``.
_CATEGORY_FIELD = "event.category"  # compile_query's and compile_statement's
_UNLABELLED = ("unlabelled",)
_CONTEXT = ("context",)


def _labelled(doc: Mapping[str, Any]) -> tuple[str, ...]:
    labels = doc.get("labels")
    if not isinstance(labels, Mapping) or "scenario" not in labels:
        return _UNLABELLED
    if labels.get("role") not in (None, "target"):  # a missing or null role is "target"
        return _CONTEXT
    return str(labels["scenario"]), str(labels.get("source", "unknown")), str(labels.get("intent", "benign"))


def _host_name(doc: Mapping[str, Any]) -> object:
    host = doc.get("host")
    return host.get("name") if isinstance(host, Mapping) else doc.get("host.name")


class _Bucket:
    """The queries of one event category (None: any, or read through a mapping) judged on a group:
    those without a key run on every document, those with one on the documents holding a value
    it names (:class:`KeyedTests`)."""

    __slots__ = ("category", "keyed", "noted", "tests", "unseen")

    def __init__(self, category: str | None, tests: list[tuple[int, Test]], keyed: KeyedTests) -> None:
        self.category = category
        self.tests = tests  # (slot, test)
        self.keyed = keyed
        self.unseen = set(keyed.tests)  # keyed queries with no silent document noted yet
        self.noted = False  # a document of another category has been noted as each query's silent one


class _Group:
    """The documents of one source, index and labelling: their count, hosts, time span, verdicts."""

    __slots__ = (
        "alerted",
        "alerts",
        "buckets",
        "events",
        "first_at",
        "first_ms",
        "hosts",
        "index",
        "labels",
        "last_ms",
        "silent",
        "source",
    )

    def __init__(
        self,
        source: str,
        index: str | None,
        labels: tuple[str, ...],
        slots: int,
        buckets: list[_Bucket],
    ) -> None:
        self.source, self.index, self.labels = source, index, labels
        self.events = 0
        self.first_at = -1  # the place of its first document in the corpus
        self.hosts: set[str] = set()
        self.first_ms: int | None = None
        self.last_ms: int | None = None
        self.buckets = buckets  # the queries some rule evaluates on this index, by event category
        self.alerted: list[list[Found]] = [[] for _ in range(slots)]  # the first few, in order
        self.silent: list[Found | None] = [None] * slots
        self.alerts = [0] * slots


class _Query:
    """One distinct query text: its test, the indices the rules with that text read, its failure."""

    def __init__(self, text: str, parsed: Query | None = None) -> None:
        self.text = text
        self.parsed = parsed  # a searched rule's stage query, judged as its searcher judges it
        self.places: list[int] | None = None if parsed is None else []  # where it matched, for the search
        self.printed = ""
        self.test: Test | None = None
        self.reads: list[IndexSelection] = []
        self.error: EqlEvaluationError | None = None  # as the runner raises it, naming the document
        self.cause: EqlEvaluationError | None = None
        self.failed_index: str | None = None  # the index of the document evaluation failed on
        self.category: str | None = None  # tested once per document for every query of it
        self.key: tuple[RequiredValue, ...] | None = None  # values it cannot match without

    def reads_index(self, index: str | None) -> bool:
        return any(selection.reads(index) for selection in self.reads)


class RowScan:
    """The single-event queries given, judged together on the first documents :meth:`validate` is given.

    ``engine`` and ``mapping`` are the row engine's, as ``Matcher`` takes them: the ones
    each rule would run alone with. The compiled engine's queries share their field reads
    (:class:`~harness.eql.getters.SharedReads`): a field every rule reads, ``host.os.type``,
    is read once per document, not once per rule.
    """

    def __init__(
        self,
        rules: Iterable[tuple[str, IndexSelection]],
        *,
        engine: str = "compiled",
        mapping: FieldMapping | None = None,
        searched: Iterable[tuple[str, IndexSelection]] = (),
    ) -> None:
        self.engine = engine
        self._mapping = mapping
        # A field many queries read is read once per event; a mapping retypes values per query.
        shared = engine == "compiled" and mapping is None
        getters: Callable[[tuple[str, ...]], Getter] = SharedReads().getter if shared else compile_getter
        self._getters = getters
        self._categories = self._getters(tuple(_CATEGORY_FIELD.split(".")))
        self._where: Callable[[int], str] = _numbered  # how an error names a document at a position
        self._queries: dict[str, _Query] = {}
        for text, selection in rules:
            self._queries.setdefault(text, _Query(text)).reads.append(selection)
        self._stages: dict[str, _Query] = {}  # by the stage query's printed text
        self._stages_of: dict[str, list[_Query]] = {}  # a searched rule's stage queries, by its text
        for text, selection in searched:
            self._add_stages(text, selection)
        self.seconds = 0.0  # the pass's, once it has run
        self._documents: Sequence[Mapping[str, Any]] | None = None
        self._groups: dict[tuple[str, str | None, tuple[str, ...]], _Group] = {}
        self._group_at: list[_Group] = []  # each document's group, in corpus order
        self._place_of: dict[int, int] = {}  # a document's place, by identity (searches find objects)
        self.searched: set[str] = set()  # the searched rules' statements judged from the pass
        self._places: list[list[int] | None] = []  # each slot's query's places, for a stage query

    @property
    def counted(self) -> bool:
        """Whether the pass has run (on the first rule that asked)."""
        return self._documents is not None

    def judged(self, query_text: str) -> bool:
        """Whether the rule with ``query_text`` was judged from the pass (evaluated in it, or searched
        on its groups)."""
        return query_text in self.searched or query_text in self.evaluated

    @property
    def evaluated(self) -> list[str]:
        """The query texts judged in the pass to the end; the rest run alone."""
        return [q.text for q in self._queries.values() if q.test is not None and q.error is None]

    def validate(
        self,
        query_text: str,
        documents: Sequence[Mapping[str, Any]],
        expectations: Expectations,
        *,
        rule_name: str,
        rule_version: int | None = None,
        corpus: str = "",
        scope: RuleScope | None = None,
        searcher: Searcher | None = None,
        where: Callable[[int], str] | None = None,
    ) -> ValidationResult | None:
        """``query_text`` judged from the pass, as ``run_validation`` judges it; None to run it alone.

        With ``searcher``, a sequence, sample or piped rule: searched on the documents its indices
        read and judged as ``run_sequence_validation`` judges it. The search is the rule's own;
        the pass saves it reading every document again for its index, source, labels, host and
        time. Raises the evaluation error the runner would raise on ``documents`` for this rule,
        naming the document at a position as ``where`` does (``file:line``; by default ``document N``).
        """
        if self._documents is None:
            self._where = where or self._where
            self._pass(documents)
        if documents is not self._documents:
            return None
        scope = scope or RuleScope()
        described = (expectations, rule_name, rule_version, corpus, scope)
        if searcher is not None:
            return self._searched(query_text, searcher, documents, described)
        query = self._queries.get(query_text)
        if query is None or query.test is None:
            return None
        if query.error is not None:
            if scope.indices.reads(query.failed_index):
                raise query.error from query.cause
            return None  # its evaluation stopped on a document this rule does not read
        return self._result(_Slot(list(self._queries).index(query_text)), query.printed, *described)

    def _add_stages(self, text: str, selection: IndexSelection) -> None:
        """A searched rule's stage queries, judged in the pass on what its indices read."""
        try:
            statement = parse_statement(text, mapping=self._mapping)
            queries = Searcher(statement, category_field=_CATEGORY_FIELD, mapping=self._mapping).queries
        except HarnessError:
            return  # searched alone, and fails there with the rule's own error
        stages = self._stages_of.setdefault(text, [])
        for query in queries:
            stage = self._stages.get(str(query))
            if stage is None:
                stage = self._stages[str(query)] = _Query(str(query), query)
            stage.reads.append(selection)
            if len(stages) < len(queries):
                stages.append(stage)

    def _searched(
        self,
        query_text: str,
        searcher: Searcher,
        documents: Sequence[Mapping[str, Any]],
        described: tuple[Expectations, str, int | None, str, RuleScope],
    ) -> ValidationResult:
        """An event's verdict is whether it is in a found sequence, counted into its group."""
        scope = described[-1]
        read = {id(group) for group in self._groups.values() if scope.indices.reads(group.index)}
        matched = self._matched(query_text, searcher, read)
        searched = documents  # the places the pass noted are in the corpus; else what the rule reads
        if matched is None:
            group_at = self._group_at
            searched = [doc for doc, group in zip(documents, group_at, strict=True) if id(group) in read]
        try:
            groups = found_in(searcher, searched, matched)
        except EqlEvaluationError as error:
            at = self._place_of.get(id(error.event))
            if at is None:
                raise
            raise EqlEvaluationError(f"{self._where(at)}: {error}") from error
        places = {self._place_of[id(event)] for events, _ in groups for event in events if event is not None}
        result = self._result(
            _Membership(sorted(places), self._group_at, documents), str(searcher.statement), *described
        )
        tally = SequenceTally()
        for events, keys in groups:
            tally.count(events, keys, scope)
        result.sequences = tally
        result.statement_kind = statement_kind(searcher.statement)
        self.searched.add(query_text)
        return result

    def _matched(self, query_text: str, searcher: Searcher, read: set[int]) -> list[list[int]] | None:
        """The places, among the groups ``read``, each of the searcher's queries matched in the pass;
        None when the pass did not judge them all to the end (the rule is searched on its own)."""
        stages = self._stages_of.get(query_text)
        if stages is None or [stage.text for stage in stages] != [str(q) for q in searcher.queries]:
            return None
        if any(stage.places is None or stage.test is None or stage.error is not None for stage in stages):
            return None
        matched = []
        for stage in stages:
            assert stage.places is not None
            judged = {id(g) for g in self._groups.values() if stage.reads_index(g.index)}
            if judged <= read:  # judged only where this rule reads: every place is its
                matched.append(stage.places)
            else:
                group_at = self._group_at
                matched.append([at for at in stage.places if id(group_at[at]) in read])
        return matched

    # -- the pass --------------------------------------------------------------------

    def _compile(self) -> list[_Query]:
        queries = [*self._queries.values(), *self._stages.values()]  # a rule's slot: its place in _queries
        for query in queries:
            try:
                matcher = self._matcher(query)
            except HarnessError:
                continue  # runs alone, and fails there with the rule's own error
            query.printed = str(matcher.query)
            # Both engines answer False before the condition when the category is not the event's
            # (``field_values`` of event.category, which the getter equals); a mapping may retype it.
            query.category = matcher.query.category if self._mapping is None else None
            # The key compares values as they are in the document: a mapping may retype them.
            query.key = required_values(matcher.query) if self._mapping is None else None
            # A keyed query is asked only about the events the pass's lookup found holding its key.
            query.test = matcher.matches if query.key is None else matcher.matches_holding_key
        return queries

    def _matcher(self, query: _Query) -> Matcher:
        mapping, engine, getters = self._mapping, self.engine, self._getters
        parsed = parse_statement(query.text, mapping=mapping) if query.parsed is None else query.parsed
        return Matcher(
            parsed, category_field=_CATEGORY_FIELD, mapping=mapping, engine=engine, getters=getters
        )

    def _pass(self, documents: Sequence[Mapping[str, Any]]) -> None:
        started = time.perf_counter()
        self._documents = documents
        queries = self._compile()
        self._places = [query.places for query in queries]
        groups = self._groups
        for at, doc in enumerate(documents):
            source, index = source_of(doc)
            labels = _labelled(doc)
            group = groups.get((source, index, labels))
            if group is None:
                buckets = self._buckets(queries, index)
                group = groups[(source, index, labels)] = _Group(source, index, labels, len(queries), buckets)
                group.first_at = at
            group.events += 1
            self._group_at.append(group)
            self._place_of[id(doc)] = at
            name = _host_name(doc)
            if isinstance(name, str):
                group.hosts.add(name)
            ms = epoch_ms(doc.get("@timestamp"))
            if ms is not None:
                if group.first_ms is None or ms < group.first_ms:
                    group.first_ms = ms
                if group.last_ms is None or ms > group.last_ms:
                    group.last_ms = ms
            self._judge(group, at, doc, queries)
        self.seconds = time.perf_counter() - started

    def _buckets(self, queries: list[_Query], index: str | None) -> list[_Bucket]:
        by_category: dict[str | None, list[tuple[int, _Query]]] = {}
        for slot, query in enumerate(queries):
            if query.test is not None and query.error is None and query.reads_index(index):
                by_category.setdefault(query.category, []).append((slot, query))
        return [
            _Bucket(
                category,
                [(slot, q.test) for slot, q in chosen if q.key is None and q.test is not None],
                KeyedTests(
                    ((slot, q.test, q.key) for slot, q in chosen if q.key is not None and q.test),
                    self._getters,
                ),
            )
            for category, chosen in by_category.items()
        ]

    def _judge(self, group: _Group, at: int, doc: Mapping[str, Any], queries: list[_Query]) -> None:
        """Every query's verdict on ``doc``: counted, kept as an example while one is wanted, and its
        place noted for a stage query."""
        alerts, alerted, silent, places = group.alerts, group.alerted, group.silent, self._places
        keep = EXAMPLES if group.labels is _UNLABELLED else 1
        categories, categories_of = None, self._categories
        for bucket in group.buckets:
            if bucket.category is not None:
                if categories is None:
                    categories = categories_of(doc)
                if bucket.category not in categories:
                    if not bucket.noted:  # silent for every query of the bucket, as its test would say
                        for slot in [*(s for s, _ in bucket.tests), *bucket.keyed.tests]:
                            if silent[slot] is None:
                                silent[slot] = (at, doc)
                        bucket.noted = True
                        bucket.unseen.clear()
                    continue
            tests: Iterable[tuple[int, Test]] = bucket.tests
            if bucket.keyed:
                keyed = bucket.keyed.tests
                candidates = bucket.keyed.candidates(doc)
                tests = [
                    *bucket.tests,
                    *((slot, keyed[slot]) for slot in sorted(candidates) if slot in keyed),
                ]
                if bucket.unseen:  # the keyed queries this document cannot match are silent on it
                    for slot in [s for s in bucket.unseen if s not in candidates]:
                        bucket.unseen.discard(slot)
                        if silent[slot] is None:
                            silent[slot] = (at, doc)
            for slot, test in tests:
                try:
                    hit = test(doc)
                except EqlEvaluationError as error:
                    self._fail(queries[slot], slot, at, group.index, error)
                    continue
                if hit:
                    alerts[slot] += 1
                    found = alerted[slot]
                    if len(found) < keep:
                        found.append((at, doc))
                    noted = places[slot]
                    if noted is not None:
                        noted.append(at)
                elif silent[slot] is None:
                    silent[slot] = (at, doc)
                    bucket.unseen.discard(slot)

    def _fail(self, query: _Query, slot: int, at: int, index: str | None, error: EqlEvaluationError) -> None:
        """Stop evaluating ``query``: the runner raises on this document, naming it."""
        query.error = EqlEvaluationError(f"{self._where(at)}: {error}")
        query.cause = error
        query.failed_index = index
        for group in self._groups.values():
            for bucket in group.buckets:
                bucket.tests = [(s, test) for s, test in bucket.tests if s != slot]
                bucket.keyed.drop(slot)

    # -- one rule's result ---------------------------------------------------------------

    def _result(
        self,
        verdicts: _Verdicts,
        printed: str,
        expectations: Expectations,
        rule_name: str,
        rule_version: int | None,
        corpus: str,
        scope: RuleScope,
    ) -> ValidationResult:
        result = ValidationResult(rule_name, rule_version, printed, corpus, expectations, scope=scope)
        cells = result.cells
        unlabelled: list[Found] = []
        examples: dict[tuple[str, str], tuple[Found | None, Found | None]] = {}
        for group in self._groups.values():  # in the order of each group's first document
            if not result.count_source(group.source, group.index, group.events):
                continue
            _note_span(result, group)
            events, alerts = group.events, verdicts.alerts(group)
            if group.labels is _UNLABELLED:
                result.unlabelled_events += events
                result.unlabelled_alert_count += alerts
                unlabelled += verdicts.alerted(group)
                continue
            if group.labels is _CONTEXT:
                result.context_events += events
                result.context_alerts += alerts
                continue
            labelled, source, intent = group.labels
            scenario = scope.counted_as(labelled, intent)
            if scenario is None:
                result.other_technique_events += events
                result.other_technique_alerts += alerts
                continue
            cell = cells.get((scenario, source))
            if cell is None:
                cell = cells[(scenario, source)] = Cell(
                    scenario, source, intent, expectations.expect(scenario, source, intent)
                )
            cell.events += events
            cell.alerts += alerts
            if scenario == BACKGROUND_SCENARIO:
                result.background_events += events
            first_alert, first_silent = examples.get((scenario, source), (None, None))
            alerted = verdicts.alerted(group)
            examples[(scenario, source)] = (
                _earlier(first_alert, alerted[0] if alerted else None),
                _earlier(first_silent, verdicts.silent(group)),
            )
        for key, (alert, silent) in examples.items():
            cells[key].example_alert = None if alert is None else whole(alert[1])
            cells[key].example_silent = None if silent is None else whole(silent[1])
        unlabelled.sort(key=lambda found: found[0])
        result.unlabelled_alerts = [whole(doc) for _, doc in unlabelled[:EXAMPLES]]
        return result


class _Verdicts(Protocol):
    """A rule's verdicts on a group's documents: how many alert, the first that do, the first that
    does not."""

    def alerts(self, group: _Group) -> int: ...

    def alerted(self, group: _Group) -> list[Found]: ...

    def silent(self, group: _Group) -> Found | None: ...


class _Slot:
    """A single-event query's verdicts, taken in the pass."""

    def __init__(self, slot: int) -> None:
        self.slot = slot

    def alerts(self, group: _Group) -> int:
        return group.alerts[self.slot]

    def alerted(self, group: _Group) -> list[Found]:
        return group.alerted[self.slot]

    def silent(self, group: _Group) -> Found | None:
        return group.silent[self.slot]


def _numbered(at: int) -> str:
    return f"document {at + 1}"


class _Membership:
    """A search's verdicts, as the runner's ``InSequence`` judge gives them: an event alerts when it
    is in a found sequence (its place among ``places``, in corpus order)."""

    def __init__(
        self, places: list[int], group_at: list[_Group], documents: Sequence[Mapping[str, Any]]
    ) -> None:
        self._members = set(places)
        self._group_at, self._documents = group_at, documents
        self._alerts: dict[int, int] = {}  # by the group's identity
        self._alerted: dict[int, list[Found]] = {}
        for at in places:
            group = group_at[at]
            self._alerts[id(group)] = self._alerts.get(id(group), 0) + 1
            found = self._alerted.setdefault(id(group), [])
            if len(found) < (EXAMPLES if group.labels is _UNLABELLED else 1):  # as the pass keeps them
                found.append((at, documents[at]))

    def alerts(self, group: _Group) -> int:
        return self._alerts.get(id(group), 0)

    def alerted(self, group: _Group) -> list[Found]:
        return self._alerted.get(id(group), [])

    def silent(self, group: _Group) -> Found | None:
        if self.alerts(group) == group.events:
            return None
        at = group.first_at  # a group's documents are all at or after its first
        while at in self._members or self._group_at[at] is not group:
            at += 1
        return at, self._documents[at]


def _earlier(one: Found | None, other: Found | None) -> Found | None:
    if one is None:
        return other
    if other is None:
        return one
    return one if one[0] < other[0] else other


def _note_span(result: ValidationResult, group: _Group) -> None:
    result.hosts |= group.hosts
    if group.first_ms is not None:
        result.first_ms = group.first_ms if result.first_ms is None else min(result.first_ms, group.first_ms)
    if group.last_ms is not None:
        result.last_ms = group.last_ms if result.last_ms is None else max(result.last_ms, group.last_ms)
