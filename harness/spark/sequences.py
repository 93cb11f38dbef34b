"""Sequences, samples and event queries searched by Spark: the candidate scan as Spark SQL.

The scan (:mod:`harness.sql.stages`) is rendered for Spark and run over the table's rows
as a DataFrame; only the candidates (position, timestamp, tiebreaker, key fields, a flag
per stage) reach the driver, where the state machine runs, and the results' events are
the table's full rows, taken by position.
"""

from __future__ import annotations

from itertools import count
from typing import Any

import pyarrow as pa

from harness.eql.ast import Statement
from harness.eql.matcher import parse_statement
from harness.eql.search import DEFAULT_SIZE, SearchResult
from harness.spark.progress import spark_progress
from harness.spark.schema import arrow_schema
from harness.sql.columnar import prune
from harness.sql.sequences import numbered, take_documents
from harness.sql.stages import plan_scan

__all__ = ["SparkSearch", "spark_search"]

_views = count()


class SparkSearch:
    """One statement over one table's rows in Spark: the DataFrame is built once, searched at will."""

    def __init__(
        self,
        session: Any,
        statement: str | Statement,
        table: pa.Table,
        *,
        timestamp_field: str = "@timestamp",
        tiebreaker_field: str | None = None,
        category_field: str = "event.category",
    ) -> None:
        self.session = session
        self.table = table
        statement = parse_statement(statement) if isinstance(statement, str) else statement
        options: dict[str, Any] = {
            "engine": "spark",
            "timestamp_field": timestamp_field,
            "tiebreaker_field": tiebreaker_field,
            "category_field": category_field,
        }
        # The columns to ship are read off the Arrow schema; the conditions off Spark's own reading of it.
        paths = plan_scan(statement, table.schema, **options).paths
        frame = session.createDataFrame(numbered(prune(table, set(paths))))
        self.view = f"sequence_events_{next(_views)}"
        frame.createOrReplaceTempView(self.view)
        self.scan = plan_scan(statement, arrow_schema(frame.schema), **options)

    def search(self, *, size: int = DEFAULT_SIZE) -> SearchResult:
        """What the EQL search API returns for the statement over the table."""
        with spark_progress(self.session, "sequence candidates"):
            found = self.session.sql(self.scan.sql(self.view)).collect()
        rows = [tuple(_plain(value) for value in row) for row in found]
        return self.scan.result(rows, lambda positions: take_documents(self.table, positions), size=size)


def spark_search(
    session: Any,
    statement: str | Statement,
    table: pa.Table,
    *,
    size: int = DEFAULT_SIZE,
    timestamp_field: str = "@timestamp",
    tiebreaker_field: str | None = None,
    category_field: str = "event.category",
) -> SearchResult:
    """:func:`harness.eql.search` over an Arrow table's rows, each stage's condition run by Spark."""
    return SparkSearch(
        session,
        statement,
        table,
        timestamp_field=timestamp_field,
        tiebreaker_field=tiebreaker_field,
        category_field=category_field,
    ).search(size=size)


def _plain(value: Any) -> Any:
    """A collected value as Python's: a struct (``Row``) as a dict, recursively."""
    from pyspark.sql import Row

    if isinstance(value, Row):
        return {key: _plain(item) for key, item in value.asDict(recursive=False).items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
