"""A statement's stages as one candidate scan: every stage's condition and the join keys, in SQL.

Elasticsearch runs a sequence as one search per stage (``TumblingWindow``: each stage's
query with its timestamp range, ``exists`` filters on the join keys, sorted by the
ordinal) and the state machine over the hits. A SQL engine does the searches in one scan:
a row per event that any stage (or ``until``) selects, with its position, timestamp,
tiebreaker, join key fields and one boolean per stage. The ordinals, the join keys
(:func:`~harness.eql.ordinals.join_keys`: doc values, distinct and sorted, a product over
the key fields) and the state machine (:class:`~harness.eql.sequences.SequenceMachine`,
:class:`~harness.eql.samples.SampleMachine`) then run in Python over the candidates only,
so every engine shares one definition of each.

A stage condition SQL holds only in part (a conjunct it cannot express: ``cidrMatch``,
a script function) keeps what it can say of it as its filter, a necessary condition (the
conjuncts it expresses, and under an ``or`` what each disjunct implies), and
the compiled row engine judges the whole stage query on each candidate's document. A
stage with no conjunct SQL can express is refused with
:class:`~harness.errors.EqlUnsupportedError`, as the single-event path refuses, so the
caller falls back to the row engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
from sqlglot import exp

from harness.eql.ast import And, Expr, Field, Or, Piped, Query, Sample, Sequence, Stage, Statement
from harness.eql.compiled import CompiledEvaluator
from harness.eql.optimizer import optimize
from harness.eql.ordinals import join_keys, ordinal
from harness.eql.samples import SampleMachine
from harness.eql.search import Found, SearchResult, check_size, limit_results
from harness.eql.sequences import SequenceMachine, StageHit, stage_keys
from harness.errors import EqlUnsupportedError
from harness.sql.dialects import render, render_value
from harness.sql.sqltree import Terms, build_condition, field_column

__all__ = ["ROW", "CandidateScan", "Positions", "StageCondition", "plan_scan"]

ROW = "__harness_row"
"""The column holding each event's position in the input: the implicit tiebreaker."""

_BATCH = 50_000  # candidates whose documents are held at once, for a residual to judge
Event = Mapping[str, Any]
Fetch = Callable[[list[int]], Seq[Event]]
"""The full documents at these positions, in the order asked."""
Kind = Literal["events", "sequences", "samples"]
Positions = tuple[list[int | None], tuple[Any, ...]]
"""A result as positions: its events' rows in stage order (None for a missing event), its join key."""


@dataclass(frozen=True)
class StageCondition:
    """One stage's filter in the engine's SQL, and the whole stage query to finish with on the
    candidate's document when the filter holds only some of its conjuncts (None: it holds all)."""

    sql: str
    residual: Callable[[Event], bool] | None
    paths: frozenset[tuple[str, ...]]


def stage_condition(
    query: Query, schema: pa.Schema, *, engine: str, category_field: str, terms: Terms | None = None
) -> StageCondition:
    """``query`` as a filter for ``engine``: whole, or the conjuncts it can express and a residual."""
    try:
        return _exact(query, schema, engine, category_field, terms)
    except EqlUnsupportedError as refused:
        kept = _necessary(optimize(query.condition), query, schema, engine)
        if kept is None:
            raise refused  # every row of the category a candidate: the row engine's job
        filtered = _exact(Query(query.category, kept, query.source), schema, engine, category_field, terms)
        residual = CompiledEvaluator(query, category_field=category_field, mapping=None).predicate()
        return StageCondition(filtered.sql, residual, filtered.paths)


def _necessary(node: Expr, query: Query, schema: pa.Schema, engine: str) -> Expr | None:
    """A condition SQL expresses that ``node`` implies, or None: the parts it can say of each
    conjunct (``a and b`` implies what ``a`` and ``b`` imply), and of every disjunct of an ``or``."""
    if _expresses(Query(None, node, query.source), schema, engine):
        return node
    match node:
        case And(operands=operands):
            kept = [part for o in operands if (part := _necessary(o, query, schema, engine)) is not None]
            return None if not kept else kept[0] if len(kept) == 1 else And(tuple(kept))
        case Or(operands=operands):
            parts = [_necessary(o, query, schema, engine) for o in operands]
            return None if any(part is None for part in parts) else Or(tuple(p for p in parts if p))
    return None  # a negation or a function: nothing weaker is implied that SQL can say


def _exact(
    query: Query, schema: pa.Schema, engine: str, category_field: str, terms: Terms | None = None
) -> StageCondition:
    built = build_condition(query, schema, category_field=category_field, terms=terms)
    if built.refusals.get(engine):
        raise built.refusals[engine][0]
    # A stage's flag is a column of the candidate scan, computed for every row.
    return StageCondition(render_value(built.tree, engine), None, frozenset(built.paths))


def _expresses(query: Query, schema: pa.Schema, engine: str) -> bool:
    try:
        _exact(query, schema, engine, "event.category")
    except EqlUnsupportedError:
        return False
    return True


@dataclass(frozen=True)
class CandidateScan:
    """The one statement that selects every stage's candidates, and how to turn its rows into results.

    Columns: the position, the timestamp, the tiebreaker, each join key field, then a boolean
    per stage (the statement's stages in order, then ``until``; an event query is one stage).
    """

    statement: Statement
    stages: tuple[StageCondition, ...]
    keys: tuple[tuple[Field, ...], ...]
    key_fields: tuple[Field, ...]
    columns: tuple[str, ...]
    timestamp_field: str
    tiebreaker_field: str | None
    paths: frozenset[tuple[str, ...]]

    def sql(self, relation: str) -> str:
        """The scan over ``relation`` (a table or view name in the engine), in position order."""
        # Every column aliased: two key fields ``host.id`` and ``user.id`` would both be ``id``.
        values = [f"{column} AS v{index}" for index, column in enumerate(self.columns)]
        flags = [f"s{index}" for index in range(len(self.stages))]
        stages = [f"{stage.sql} AS {flag}" for stage, flag in zip(self.stages, flags, strict=True)]
        return (
            f"SELECT * FROM (SELECT {', '.join([*values, *stages])} FROM {relation}) AS candidates "
            f"WHERE {' OR '.join(flags)} ORDER BY v0"
        )

    def result(
        self, rows: Seq[Seq[Any]], fetch: Fetch, *, size: int, max_samples_per_key: int = 1
    ) -> SearchResult:
        """What the EQL search API returns, from the scan's ``rows``; ``fetch`` reads the documents."""
        kind, kept = self.found(rows, fetch, size=size, max_samples_per_key=max_samples_per_key)
        if kind == "events":
            return SearchResult(
                events=tuple(_documents(fetch, [row for (row,), _ in kept if row is not None]))
            )
        wanted = sorted({row for rows, _ in kept for row in rows if row is not None})
        by_row = dict(zip(wanted, _documents(fetch, wanted), strict=True))
        return SearchResult(
            sequences=tuple(
                Found(tuple(None if row is None else by_row[row] for row in rows), tuple(key))
                for rows, key in kept
            ),
            kind=kind,
        )

    def found(
        self, rows: Seq[Seq[Any]], fetch: Fetch, *, size: int, max_samples_per_key: int = 1
    ) -> tuple[Kind, list[Positions]]:
        """The results as positions, for a caller that reads only some of their documents: each
        sequence's or sample's rows in stage order (None for a missing event) and its join key; an
        event query's events one row each, with no key. ``fetch`` is asked only for residual stages."""
        check_size(size)
        hits = self._hits(rows, fetch)
        inner = self.statement.query if isinstance(self.statement, Piped) else self.statement
        kind: Kind
        match inner:
            case Query():
                ranked = sorted(hits[0], key=lambda hit: hit.ordinal)
                events = limit_results(self.statement, ranked, size)
                return "events", [([hit.row], ()) for hit in events]
            case Sequence():
                count = len(inner.stages)
                until = hits[count] if inner.until is not None else []
                found = SequenceMachine(inner).match(hits[:count], until)
                kind = "sequences"
            case Sample():
                found = SampleMachine(inner).match(hits, max_samples_per_key=max_samples_per_key)
                kind = "samples"
        return kind, [(list(rows), tuple(key)) for rows, key in limit_results(self.statement, found, size)]

    def _hits(self, rows: Seq[Seq[Any]], fetch: Fetch) -> list[list[StageHit]]:
        width = len(self.key_fields)
        names = [".".join(field.path) for field in self.key_fields]
        rejected = self._residual_rejects(rows, fetch, width)
        hits: list[list[StageHit]] = [[] for _ in self.stages]
        breaker_name = None if self.tiebreaker_field is None else "b"
        # Many candidates share their key values (a host's events): each combination is read once.
        known: dict[tuple[int, Any], tuple[tuple[Any, ...], ...]] = {}
        for position, stamp, breaker, *rest in rows:
            # The fetched values as a small document, read by the one definition of an ordinal.
            place = ordinal({"t": stamp, "b": breaker}, position, "t", breaker_name)
            raw = rest[:width]
            memo = _hashable(raw)
            for index, flag in enumerate(rest[width:]):
                if not flag or position in rejected[index]:
                    continue
                keys = known.get((index, memo)) if memo is not None else None
                if keys is None:
                    # The key fields' values as a document of dotted names, read as the source is.
                    keys = tuple(join_keys(dict(zip(names, raw, strict=True)), self.keys[index]))
                    if memo is not None:
                        known[(index, memo)] = keys
                hits[index].append(StageHit(position, place, keys))
        return hits

    def _residual_rejects(self, rows: Seq[Seq[Any]], fetch: Fetch, width: int) -> list[set[int]]:
        """Per stage, the candidates its whole query rejects where SQL held only part of it."""
        rejected: list[set[int]] = [set() for _ in self.stages]
        judged = [index for index, stage in enumerate(self.stages) if stage.residual is not None]
        if not judged:
            return rejected
        offset = 3 + width
        flagged = [row for row in rows if any(row[offset + index] for index in judged)]
        # Fetched a batch at a time: a condition SQL holds little of may select most of the table.
        for start in range(0, len(flagged), _BATCH):
            batch = flagged[start : start + _BATCH]
            positions = sorted({row[0] for row in batch})
            documents = dict(zip(positions, _documents(fetch, positions), strict=True))
            for index in judged:
                residual = self.stages[index].residual
                assert residual is not None
                for row in batch:
                    if row[offset + index] and not residual(documents[row[0]]):
                        rejected[index].add(row[0])
        return rejected


def _hashable(values: Seq[Any]) -> tuple[Any, ...] | None:
    """``values`` as a dictionary key, or None for an object value. Each value goes with its type,
    so that ``true``, ``1`` and ``1.0`` (equal in Python) never share an entry."""
    out: list[Any] = []
    for value in values:
        if isinstance(value, list):
            if any(isinstance(item, (list, dict)) for item in value):
                return None
            out.append((list, *((type(item), item) for item in value)))
        elif isinstance(value, dict):
            return None
        else:
            out.append((type(value), value))
    return tuple(out)


def _documents(fetch: Fetch, positions: list[int]) -> Seq[Event]:
    return fetch(positions) if positions else []


def plan_scan(
    statement: Statement,
    schema: pa.Schema,
    *,
    engine: str,
    timestamp_field: str = "@timestamp",
    tiebreaker_field: str | None = None,
    category_field: str = "event.category",
    terms: Terms | None = None,
) -> CandidateScan:
    """The candidate scan of ``statement`` over a table with ``schema`` (which has the :data:`ROW` column);
    with ``terms``, its patterns decided per distinct value where they can be (a scan of many rules).

    Raises :class:`~harness.errors.EqlUnsupportedError` for a stage SQL cannot filter on.
    """
    inner = statement.query if isinstance(statement, Piped) else statement
    stages: list[Stage]
    keys: list[tuple[Field, ...]]
    if isinstance(inner, Query):
        stages, keys = [Stage(inner)], [()]
    else:
        stages = [*inner.stages, *([inner.until] if isinstance(inner, Sequence) and inner.until else [])]
        keys = [stage_keys(inner, stage) for stage in stages]
    conditions = tuple(
        stage_condition(stage.query, schema, engine=engine, category_field=category_field, terms=terms)
        for stage in stages
    )
    key_fields = tuple(dict.fromkeys(Field(one.path) for fields in keys for one in fields))
    paths = {path for condition in conditions for path in condition.paths}
    value = _ValueColumn(schema, engine, statement.source)
    columns = [
        render(exp.to_identifier(ROW, quoted=True), engine),
        value(tuple(timestamp_field.split(".")), timestamp_field, paths),
        value(tuple(tiebreaker_field.split(".")), tiebreaker_field, paths) if tiebreaker_field else "NULL",
        *(value(field.path, field.name, paths) for field in key_fields),
    ]
    return CandidateScan(
        statement,
        conditions,
        tuple(keys),
        key_fields,
        tuple(columns),
        timestamp_field,
        tiebreaker_field,
        frozenset(paths),
    )


class _ValueColumn:
    """A field's values as the engine fetches them; a timestamp column as epoch milliseconds
    computed by the engine (UTC), as the validation runner reads ``@timestamp``."""

    def __init__(self, schema: pa.Schema, engine: str, source: str) -> None:
        self.schema, self.engine, self.source = schema, engine, source

    def __call__(self, path: tuple[str, ...], name: str, paths: set[tuple[str, ...]]) -> str:
        column, dtype = field_column(self.schema, path)
        if column is None or dtype is None:
            return "NULL"
        paths.add(path)
        text = render(column, self.engine)
        if pa.types.is_timestamp(dtype):
            return (
                f"epoch_ms({text})" if self.engine == "duckdb" else f"unix_millis(CAST({text} AS TIMESTAMP))"
            )
        element = dtype.value_type if pa.types.is_list(dtype) or pa.types.is_large_list(dtype) else dtype
        if pa.types.is_temporal(element):
            raise EqlUnsupportedError(
                f"{name} is a date/time column the sequence engine does not read; use --engine compiled",
                source=self.source,
                offset=0,
            )
        return text
