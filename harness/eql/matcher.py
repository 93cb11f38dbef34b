"""The public face of the EQL package: parse, check and compile a query into a Matcher."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from harness.eql.ast import Query
from harness.eql.compiled import CompiledEvaluator
from harness.eql.evaluator import Evaluator
from harness.eql.mapping import FieldMapping
from harness.eql.parser import parse_query as _parse_grammar
from harness.eql.verifier import verify

__all__ = ["ENGINES", "Matcher", "compile_query", "parse_query"]


def parse_query(text: str, *, mapping: FieldMapping | None = None) -> Query:
    """Parse and check one single-event EQL query.

    Raises :class:`~harness.errors.EqlSyntaxError`, :class:`~harness.errors.EqlUnsupportedError`
    or :class:`~harness.errors.EqlSemanticError`, each with the line, column and a caret.

    >>> str(parse_query('process where process.name : "appcmd.exe"'))
    'process where process.name : "appcmd.exe"'
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_query() takes the query text as str, not {type(text).__name__}")
    query = _parse_grammar(text)
    verify(query, mapping=mapping)
    return query


ENGINES = ("reference", "compiled")


class Matcher:
    """A compiled query: ``matches(event)`` answers as Elasticsearch would."""

    def __init__(
        self, query: Query, *, category_field: str, mapping: FieldMapping | None, engine: str = "reference"
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        self.query = query
        self.category_field = category_field
        self.mapping = mapping
        self.engine = engine
        evaluator = CompiledEvaluator if engine == "compiled" else Evaluator
        self._predicate = evaluator(query, category_field=category_field, mapping=mapping).predicate()

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Would Elasticsearch return this ``_source`` document for the query?"""
        return self._predicate(event)

    def filter(self, events: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """The events that match, lazily and in order."""
        matches = self._predicate
        return (event for event in events if matches(event))

    def __repr__(self) -> str:
        return f"Matcher({str(self.query)!r})"


def compile_query(
    text: str,
    *,
    category_field: str = "event.category",
    mapping: FieldMapping | None = None,
    engine: str = "reference",
) -> Matcher:
    """Parse, check and compile ``text``.

    ``category_field`` is the EQL search API's ``event_category_field``. ``mapping``
    (for example :data:`harness.eql.ECS`) makes values compare as their mapped types,
    applies keyword ``ignore_above``, and makes a field no index maps an error unless
    it is written ``?field``; without it, values are taken as JSON gives them.
    ``engine`` is ``reference`` (the evaluator that defines the answers) or ``compiled``
    (the same answers, faster; the differential tests hold it to that).
    """
    query = parse_query(text, mapping=mapping)
    return Matcher(query, category_field=category_field, mapping=mapping, engine=engine)
