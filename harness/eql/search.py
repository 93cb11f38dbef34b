"""The EQL search API over an in-memory list of events: what Elasticsearch returns for any statement.

Event queries return ``.events``; sequences and samples return ``.sequences``, each with its
events in stage order and its join keys. Each bracketed query is judged by the reference
:class:`~harness.eql.evaluator.Evaluator`, so single-event semantics have one definition.

Order is Elasticsearch's: the timestamp, then the tiebreaker field when one is given, then
the implicit tiebreaker (``_shard_doc`` in 8.x; document order here). ``size`` (default 10,
as the EQL search API's) keeps the most recent results, as the API's ``result_position``
defaults to ``tail`` (the first pipe sets it instead); ``| head N`` keeps the first results,
``| tail N`` the last ones, still in ascending order. A sample keeps its first ``size``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from harness.eql.ast import Piped, Query, Sample, Sequence, Statement
from harness.eql.compiled import CompiledEvaluator
from harness.eql.evaluator import Evaluator
from harness.eql.getters import Getter, compile_getter
from harness.eql.mapping import FieldMapping
from harness.eql.ordinals import Ordinal
from harness.eql.required_values import keyed
from harness.eql.samples import SampleMatcher
from harness.eql.sequences import SequenceMatcher, matched_rows, ordinals_of

__all__ = [
    "DEFAULT_SIZE",
    "SEARCH_ENGINES",
    "Found",
    "SearchResult",
    "Searcher",
    "check_size",
    "limit_results",
]

DEFAULT_SIZE = 10
"""The EQL search API's default ``size``."""

SEARCH_ENGINES = ("reference", "compiled")
"""What judges each bracketed query: the reference evaluator, or the compiled engine held equal to it."""

Event = Mapping[str, Any]
Kind = Literal["events", "sequences", "samples"]


@dataclass(frozen=True)
class Found:
    """One sequence or sample: its events in stage order (None where a missing event ``![...]`` stands,
    Elasticsearch's ``"missing": true`` placeholder) and the values it joined on."""

    events: tuple[Event | None, ...]
    join_keys: tuple[Any, ...] = ()


@dataclass(frozen=True)
class SearchResult:
    """What the EQL search API returns: ``events`` for an event query, ``sequences`` otherwise."""

    events: tuple[Event, ...] = ()
    sequences: tuple[Found, ...] = ()
    kind: Kind = "events"


def compiled_predicate(
    query: Query, engine: str, category_field: str, mapping: FieldMapping | None
) -> Callable[[Event], bool]:
    """``query``'s test in ``engine``. The compiled engine's asks only events holding a value the
    query requires (:func:`~harness.eql.required_values.keyed`), unless a mapping may retype them;
    the reference evaluator judges every event as it is."""
    return with_key(unkeyed_predicate(query, engine, category_field, mapping), query, engine, mapping)


def with_key(
    test: Callable[[Event], bool], query: Query, engine: str, mapping: FieldMapping | None
) -> Callable[[Event], bool]:
    """``test`` (``query``'s :func:`unkeyed_predicate`) as :func:`compiled_predicate` asks it."""
    return test if engine != "compiled" or mapping is not None else keyed(test, query)


def unkeyed_predicate(
    query: Query,
    engine: str,
    category_field: str,
    mapping: FieldMapping | None,
    getters: Callable[[tuple[str, ...]], Getter] = compile_getter,
) -> Callable[[Event], bool]:
    """``query``'s test in ``engine``, asked about every event: for a caller that has looked the
    query's key up itself (a pass over many queries: ``harness.validation.keyed_tests``).
    ``getters``: the compiled engine's field reads (a pass's :class:`~harness.eql.getters.SharedReads`)."""
    if engine == "compiled":
        compiled = CompiledEvaluator(query, category_field=category_field, mapping=mapping, getters=getters)
        return compiled.predicate()
    return Evaluator(query, category_field=category_field, mapping=mapping).predicate()


class Searcher:
    """A checked statement made ready to search lists of events."""

    def __init__(
        self,
        statement: Statement,
        *,
        category_field: str,
        mapping: FieldMapping | None,
        engine: str = "reference",
    ) -> None:
        if engine not in SEARCH_ENGINES:
            raise ValueError(f"engine must be one of {', '.join(SEARCH_ENGINES)}, not {engine!r}")
        self.statement = statement
        self.engine = engine
        inner = statement.query if isinstance(statement, Piped) else statement
        _limits(statement)  # a pipe the verifier does not let through fails here, not at search time

        def predicate(query: Query) -> Callable[[Event], bool]:
            return compiled_predicate(query, engine, category_field, mapping)

        self._predicate: Callable[[Event], bool] | None = None
        self._joined: SequenceMatcher | SampleMatcher | None = None
        match inner:
            case Query():
                self._predicate = predicate(inner)
                self.queries: tuple[Query, ...] = (inner,)
            case Sequence():
                self._joined = SequenceMatcher(inner, predicate)
                self.queries = self._joined.queries
            case Sample():
                self._joined = SampleMatcher(inner, predicate)
                self.queries = self._joined.queries

    def search(
        self,
        events: Iterable[Event],
        *,
        size: int = DEFAULT_SIZE,
        timestamp_field: str = "@timestamp",
        tiebreaker_field: str | None = None,
        max_samples_per_key: int = 1,
        matched: list[list[int]] | None = None,
    ) -> SearchResult:
        """Run the statement over ``events`` (any order: sorted first, as Elasticsearch sorts).

        ``max_samples_per_key`` is the API's: how many samples each set of join keys may give
        (samples only; ``EqlSearchRequest.validate`` wants it above 0). ``matched``: the places
        in ``events`` each of :attr:`queries` matches (each stage's, then the ``until`` stage's),
        ascending, when the caller has judged them; a pass over many rules judges them together.
        """
        check_size(size)
        if (
            isinstance(max_samples_per_key, bool)
            or not isinstance(max_samples_per_key, int)
            or max_samples_per_key < 1
        ):
            raise ValueError(f"max_samples_per_key must be greater than 0, not {max_samples_per_key!r}")
        docs = list(events)
        ordinal_of = ordinals_of(docs, timestamp_field, tiebreaker_field)
        if matched is not None and len(matched) != len(self.queries):
            raise ValueError(f"matched gives {len(matched)} lists of places for {len(self.queries)} queries")
        if self._predicate is not None:
            (rows,) = matched_rows([(self._predicate, ())], docs, matched)
            hits = sorted(((ordinal_of(row), docs[row]) for row in rows), key=_sort_key)
            return SearchResult(events=tuple(doc for _, doc in limit_results(self.statement, hits, size)))
        assert self._joined is not None
        if isinstance(self._joined, SampleMatcher):
            found = self._joined.run(docs, ordinal_of, matched, max_samples_per_key=max_samples_per_key)
        else:
            found = self._joined.run(docs, ordinal_of, matched)
        kind: Kind = "samples" if isinstance(self._joined, SampleMatcher) else "sequences"
        return SearchResult(
            sequences=tuple(
                Found(tuple(chain), tuple(keys)) for chain, keys in limit_results(self.statement, found, size)
            ),
            kind=kind,
        )


def check_size(size: int) -> None:
    """The EQL search API's ``size``: a non-negative integer."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"size must be a non-negative integer, not {size!r}")


def limit_results(statement: Statement, results: list[Any], size: int) -> list[Any]:
    """``statement``'s pipes in order, then ``size``: the first results after a ``head``, else the last ones.

    With no pipe Elasticsearch adds ``Tail(size)``: ``result_position`` defaults to ``tail``
    (``EqlSearchRequest``; ``LogicalPlanBuilder.visitStatement``), "the 10 most recent matching
    events" of the EQL search page. Samples have no order to take a tail of.
    """
    limits = _limits(statement)
    inner = statement.query if isinstance(statement, Piped) else statement
    tail = not limits and not isinstance(inner, Sample)
    for name, count in limits:
        tail = tail or name == "tail"
        results = results[:count] if name == "head" else results[max(0, len(results) - count) :]
    if tail:
        return results[max(0, len(results) - size) :] if size else []
    return results[:size]


def _sort_key(pair: tuple[Ordinal, Event]) -> Ordinal:
    return pair[0]


def _limits(statement: Statement) -> list[tuple[str, int]]:
    if not isinstance(statement, Piped):
        return []
    limits: list[tuple[str, int]] = []
    for pipe in statement.pipes:
        (arg,) = pipe.args
        value = getattr(arg, "value", None)
        if pipe.name not in ("head", "tail") or not isinstance(value, int):
            raise TypeError(f"pipe {pipe.name!r} is not one the verifier lets through")
        limits.append((pipe.name, value))
    return limits
