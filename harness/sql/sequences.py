"""Sequences, samples and event queries searched by DuckDB over an Arrow table.

DuckDB runs the candidate scan (:mod:`harness.sql.stages`: every stage's condition and the
join key fields in one filtered scan, in position order) over the table with only the
columns the scan reads; the state machine runs in Python over the candidates, and the
results' events are the table's full rows, taken by position. The differential tests
(tests/test_sequence_engines.py) hold the results to the reference's.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from harness.eql.ast import Statement
from harness.eql.matcher import parse_statement
from harness.eql.search import DEFAULT_SIZE, SearchResult
from harness.sql.columnar import prune
from harness.sql.stages import ROW, CandidateScan, plan_scan

__all__ = ["TableSearcher", "numbered", "search_table", "take_documents"]


def numbered(table: pa.Table) -> pa.Table:
    """``table`` with each row's position in the :data:`~harness.sql.stages.ROW` column."""
    return table.append_column(ROW, pa.array(range(table.num_rows), pa.int64()))


def take_documents(table: pa.Table, positions: list[int]) -> list[dict[str, Any]]:
    """The full rows of ``table`` at ``positions``, in that order, as documents."""
    return list(table.take(pa.array(positions, pa.int64())).to_pylist())


class TableSearcher:
    """One statement searched by DuckDB over Arrow tables; one connection for every search."""

    def __init__(
        self, statement: str | Statement, *, category_field: str = "event.category", connection: Any = None
    ) -> None:
        import duckdb

        self.statement = parse_statement(statement) if isinstance(statement, str) else statement
        self.category_field = category_field
        # A connection may be shared: each search registers its table for the one statement only.
        self.connection = connection if connection is not None else duckdb.connect()
        self._plans: dict[tuple[pa.Schema, str, str | None], CandidateScan] = {}

    def plan(self, schema: pa.Schema, timestamp_field: str, tiebreaker_field: str | None) -> CandidateScan:
        """The candidate scan for tables of ``schema`` (raises what :func:`plan_scan` raises)."""
        key = (schema, timestamp_field, tiebreaker_field)
        if key not in self._plans:
            self._plans[key] = plan_scan(
                self.statement,
                schema,
                engine="duckdb",
                timestamp_field=timestamp_field,
                tiebreaker_field=tiebreaker_field,
                category_field=self.category_field,
            )
        return self._plans[key]

    def search(
        self,
        table: pa.Table,
        *,
        size: int = DEFAULT_SIZE,
        timestamp_field: str = "@timestamp",
        tiebreaker_field: str | None = None,
        max_samples_per_key: int = 1,
    ) -> SearchResult:
        """What the EQL search API returns for the statement over ``table``'s rows (in any order)."""
        scan = self.plan(table.schema, timestamp_field, tiebreaker_field)
        self.connection.register("events", numbered(prune(table, set(scan.paths))))
        try:
            rows = self.connection.execute(scan.sql("events")).fetchall()
        finally:
            self.connection.unregister("events")
        return scan.result(
            rows,
            lambda positions: take_documents(table, positions),
            size=size,
            max_samples_per_key=max_samples_per_key,
        )


def search_table(
    statement: str | Statement,
    table: pa.Table,
    *,
    size: int = DEFAULT_SIZE,
    timestamp_field: str = "@timestamp",
    tiebreaker_field: str | None = None,
    category_field: str = "event.category",
    connection: Any = None,
    max_samples_per_key: int = 1,
) -> SearchResult:
    """:func:`harness.eql.search` over an Arrow table, with each stage's condition run by DuckDB
    (on ``connection`` when one is given).

    Raises :class:`~harness.errors.EqlUnsupportedError` for a stage DuckDB cannot filter on
    (the caller falls back to the row engines).
    """
    searcher = TableSearcher(statement, category_field=category_field, connection=connection)
    return searcher.search(
        table,
        size=size,
        timestamp_field=timestamp_field,
        tiebreaker_field=tiebreaker_field,
        max_samples_per_key=max_samples_per_key,
    )
