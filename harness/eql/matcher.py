"""The public face of the EQL package: parse, check and compile a query into a Matcher."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from harness.eql.ast import Piped, Query, Sample, Sequence, Span, Statement
from harness.eql.getters import Getter, compile_getter
from harness.eql.mapping import FieldMapping
from harness.eql.search import DEFAULT_SIZE, Searcher, SearchResult, unkeyed_predicate, with_key
from harness.eql.statement_verifier import verify_statement
from harness.eql.statements import parse_statement as _parse_grammar
from harness.errors import EqlUnsupportedError

__all__ = [
    "ENGINES",
    "Matcher",
    "compile_query",
    "compile_statement",
    "parse_query",
    "parse_statement",
    "search",
]


def parse_statement(text: str, *, mapping: FieldMapping | None = None) -> Statement:
    """Parse and check any EQL statement Elasticsearch runs: a query, sequence or sample, with pipes.

    Raises what :func:`parse_query` raises, for sequences and samples too.

    >>> str(parse_statement("sequence by host.id with maxspan=5m [process where true] [file where true]"))
    'sequence by host.id with maxspan=5m [process where true] [file where true]'
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_statement() takes the query text as str, not {type(text).__name__}")
    if mapping is None:
        return _checked(text)
    statement = _parse_grammar(text)
    verify_statement(statement, mapping=mapping)
    return statement


@lru_cache(maxsize=1024)
def _checked(text: str) -> Statement:
    """A statement parsed and checked once: a run asks for each rule's many times (its setup, scans,
    derived scenarios, reports), and the tree is immutable, so every caller can share it."""
    statement = _parse_grammar(text)
    verify_statement(statement)
    return statement


def parse_query(text: str, *, mapping: FieldMapping | None = None) -> Query:
    """Parse and check one single-event EQL query.

    Raises :class:`~harness.errors.EqlSyntaxError`, :class:`~harness.errors.EqlUnsupportedError`
    or :class:`~harness.errors.EqlSemanticError`, each with the line, column and a caret. A
    valid sequence, sample or pipe is an :class:`~harness.errors.EqlUnsupportedError` at the
    construct: it parses (:func:`parse_statement`), but this runs single-event queries only.

    >>> str(parse_query('process where process.name : "appcmd.exe"'))
    'process where process.name : "appcmd.exe"'
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_query() takes the query text as str, not {type(text).__name__}")
    statement = parse_statement(text, mapping=mapping)
    if not isinstance(statement, Query):
        raise _single_event_only(statement)
    return statement


def _single_event_only(statement: Sequence | Sample | Piped) -> EqlUnsupportedError:
    what, span = _construct(statement)
    return EqlUnsupportedError(
        f"{what} not supported here: they parse, but this operation runs single-event queries only",
        source=statement.source,
        offset=span[0],
        width=max(1, span[1] - span[0]),
    )


def _construct(statement: Sequence | Sample | Piped) -> tuple[str, Span]:
    """What to name, and where: the ``sequence``/``sample`` keyword, else the first pipe's bar."""
    match statement:
        case Sequence(span=span):
            return "sequences are", span
        case Sample(span=span):
            return "samples are", span
        case Piped(query=Query(), pipes=pipes):
            start = pipes[0].span[0]
            return "pipes are", (start, start + 1)
        case Piped(query=Sequence() | Sample() as inner):
            return _construct(inner)
    raise TypeError(f"not a multi-event statement: {statement!r}")


ENGINES = ("reference", "compiled")


class Matcher:
    """A compiled statement: ``matches(event)`` answers as Elasticsearch would for a single-event query;
    ``search(events)`` answers as the EQL search API does for any statement.

    ``getters`` gives the compiled engine's single-event test its field reads: a pass over many
    queries hands every query one :class:`~harness.eql.getters.SharedReads`."""

    def __init__(
        self,
        query: Statement,
        *,
        category_field: str,
        mapping: FieldMapping | None,
        engine: str = "reference",
        getters: Callable[[tuple[str, ...]], Getter] = compile_getter,
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        self.statement = query
        self.category_field = category_field
        self.mapping = mapping
        self.engine = engine
        self._searcher = Searcher(query, category_field=category_field, mapping=mapping, engine=engine)
        self._query = query if isinstance(query, Query) else None
        self._predicate = self._unkeyed = None
        if self._query is not None:
            self._unkeyed = unkeyed_predicate(self._query, engine, category_field, mapping, getters)
            self._predicate = with_key(self._unkeyed, self._query, engine, mapping)

    @property
    def query(self) -> Query:
        """The single-event query; a sequence, sample or piped statement has none."""
        if self._query is None:
            raise self._single_event_only("query")
        return self._query

    @property
    def single_event(self) -> bool:
        """Whether each event can be judged alone (``matches``), rather than found by ``search``."""
        return self._query is not None

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Would Elasticsearch return this ``_source`` document for the query?"""
        if self._predicate is None:
            raise self._single_event_only("matches()")
        return self._predicate(event)

    def matches_holding_key(self, event: Mapping[str, Any]) -> bool:
        """``matches`` for an event already found to hold a value of the query's key
        (``required_values``): the key is not looked up again."""
        if self._unkeyed is None:
            raise self._single_event_only("matches_holding_key()")
        return self._unkeyed(event)

    def filter(self, events: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """The events that match, lazily and in order."""
        if self._predicate is None:
            raise self._single_event_only("filter()")
        matches = self._predicate
        return (event for event in events if matches(event))

    def search(
        self,
        events: Iterable[Mapping[str, Any]],
        *,
        size: int = DEFAULT_SIZE,
        timestamp_field: str = "@timestamp",
        tiebreaker_field: str | None = None,
    ) -> SearchResult:
        """What the EQL search API returns: ``.events`` for a query, ``.sequences`` otherwise."""
        return self._searcher.search(
            events, size=size, timestamp_field=timestamp_field, tiebreaker_field=tiebreaker_field
        )

    def _single_event_only(self, what: str) -> EqlUnsupportedError:
        assert not isinstance(self.statement, Query)
        construct, span = _construct(self.statement)
        return EqlUnsupportedError(
            f"{what} judges one event at a time, and {construct.split()[0]} need many: use search(events)",
            source=self.statement.source,
            offset=span[0],
            width=max(1, span[1] - span[0]),
        )

    def __repr__(self) -> str:
        return f"Matcher({str(self.statement)!r})"


def compile_query(
    text: str,
    *,
    category_field: str = "event.category",
    mapping: FieldMapping | None = None,
    engine: str = "reference",
) -> Matcher:
    """Parse, check and compile ``text``: any statement, a single-event query or a sequence, sample or pipes.

    ``category_field`` is the EQL search API's ``event_category_field``. ``mapping``
    (for example :data:`harness.eql.ECS`) makes values compare as their mapped types,
    applies keyword ``ignore_above``, and makes a field no index maps an error unless
    it is written ``?field``; without it, values are taken as JSON gives them.
    ``engine`` is ``reference`` (the evaluator that defines the answers) or ``compiled``
    (the same answers, faster; the differential tests hold it to that). ``matches(event)``
    is for single-event queries (a clear error otherwise); ``search(events)`` takes any.
    """
    statement = parse_statement(text, mapping=mapping)
    return Matcher(statement, category_field=category_field, mapping=mapping, engine=engine)


def compile_statement(
    text: str,
    *,
    category_field: str = "event.category",
    mapping: FieldMapping | None = None,
    engine: str = "reference",
) -> Searcher:
    """Parse, check and prepare any statement (query, sequence, sample, pipes) for :meth:`Searcher.search`.

    ``engine`` judges each bracketed query: ``reference`` or ``compiled`` (as :func:`compile_query`).

    >>> searcher = compile_statement("sequence by host.id [process where true] [file where true]")
    >>> events = [
    ...     {"@timestamp": 1, "event": {"category": "process"}, "host": {"id": "h"}},
    ...     {"@timestamp": 2, "event": {"category": "file"}, "host": {"id": "h"}},
    ... ]
    >>> [found.join_keys for found in searcher.search(events).sequences]
    [('h',)]
    """
    statement = parse_statement(text, mapping=mapping)
    return Searcher(statement, category_field=category_field, mapping=mapping, engine=engine)


def search(
    statement: str | Statement,
    events: Iterable[Mapping[str, Any]],
    *,
    size: int = DEFAULT_SIZE,
    timestamp_field: str = "@timestamp",
    tiebreaker_field: str | None = None,
    category_field: str = "event.category",
    mapping: FieldMapping | None = None,
    engine: str = "reference",
    max_samples_per_key: int = 1,
) -> SearchResult:
    """The EQL search API over ``events``: ``.events`` for a query, ``.sequences`` for a sequence or sample.

    ``statement`` is EQL text (parsed and checked) or an already checked statement; ``engine``
    judges each bracketed query (``reference`` or ``compiled``); ``max_samples_per_key`` is the
    API's, for samples.
    """
    if isinstance(statement, str):
        statement = parse_statement(statement, mapping=mapping)
    searcher = Searcher(statement, category_field=category_field, mapping=mapping, engine=engine)
    return searcher.search(
        events,
        size=size,
        timestamp_field=timestamp_field,
        tiebreaker_field=tiebreaker_field,
        max_samples_per_key=max_samples_per_key,
    )
