"""The fields a statement reads: what a reader must keep of each event for the statement's verdicts.

A single-event query reads its category field (unless it is ``any where``) and every field
its condition names. A sequence or sample also reads its join keys and its stages' fields,
a sequence its ``until`` stage, and any search orders events by the timestamp field (and
the tiebreaker, when one is given); pipes read the fields their arguments name.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.eql.ast import Expr, Field, Piped, Query, Sample, Sequence, Stage, Statement, walk

__all__ = ["read_fields"]


def read_fields(
    statement: Statement,
    *,
    category_field: str = "event.category",
    timestamp_field: str = "@timestamp",
    tiebreaker_field: str | None = None,
) -> frozenset[str]:
    """Every field ``statement`` reads, as dotted names (``process.pe.original_file_name``).

    >>> from harness.eql import parse_statement
    >>> sorted(read_fields(parse_statement('process where process.name : "a.exe" and ?user.id != null')))
    ['event.category', 'process.name', 'user.id']
    """
    found: set[str] = set()
    _collect(statement, found, category_field)
    if not isinstance(statement, Query):
        # A search (a sequence, a sample, or pipes after a query) orders events by time.
        found.add(timestamp_field)
        if tiebreaker_field is not None:
            found.add(tiebreaker_field)
    return frozenset(found)


def _collect(statement: Statement, found: set[str], category_field: str) -> None:
    match statement:
        case Query(category=category, condition=condition):
            if category is not None:
                found.add(category_field)
            _names(walk(condition), found)
        case Sequence(stages=stages, keys=keys, until=until):
            _names(keys, found)
            for stage in (*stages, *(() if until is None else (until,))):
                _stage(stage, found, category_field)
        case Sample(stages=stages, keys=keys):
            _names(keys, found)
            for stage in stages:
                _stage(stage, found, category_field)
        case Piped(query=query, pipes=pipes):
            _collect(query, found, category_field)
            for pipe in pipes:
                for argument in pipe.args:
                    _names(walk(argument), found)
        case _:
            raise TypeError(f"not an EQL statement: {statement!r}")


def _stage(stage: Stage, found: set[str], category_field: str) -> None:
    _names(stage.keys, found)
    _collect(stage.query, found, category_field)


def _names(nodes: Iterable[Expr], found: set[str]) -> None:
    found.update(node.name for node in nodes if isinstance(node, Field))
