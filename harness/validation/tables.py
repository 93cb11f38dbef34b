"""Where a SQL engine finds a corpus: a table, and the few statements the runner asks of it.

The runner writes its statements once (``count(*)``, ``count_if``, ``GROUP BY``,
``LIMIT``: the same words in DuckDB and Spark SQL) around conditions rendered for
the table's engine; a table only runs them. :class:`DuckDbTable` is the embedded
default; ``harness.spark.SparkTable`` runs the same statements on a cluster.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from functools import cached_property
from typing import Any, Protocol

import pyarrow as pa

from harness.errors import InputError
from harness.sql import TermIds

__all__ = ["DuckDbTable", "EventTable", "as_document"]


def as_document(value: Any) -> Any:
    """A fetched row as a JSON-able document: binary as base64 (as ``_source`` holds it), decimals as text."""
    if isinstance(value, dict):
        return {key: as_document(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_document(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    return value


class EventTable(Protocol):
    """A corpus as a table (``name``) in some SQL engine."""

    engine: str  # the dialect conditions are rendered in: "duckdb" or "spark"
    name: str
    schema: pa.Schema
    location: str

    def rows(self, statement: str, what: str = "a query") -> list[tuple[Any, ...]]:
        """The result of a (small, aggregated) ``SELECT`` over the table; ``what`` it counts, for progress."""
        ...

    def documents(self, condition: str, *, limit: int, order_by: str = "") -> list[dict[str, Any]]:
        """At most ``limit`` events satisfying ``condition`` (in ``order_by`` order), as documents."""
        ...


class DuckDbTable:
    """Parquet files (a file, a folder, or a glob) read by an in-process DuckDB."""

    engine = "duckdb"
    name = "events"

    def __init__(self, path: str) -> None:
        import duckdb
        import pyarrow.dataset as ds

        self.location = path
        try:
            self.schema = ds.dataset(path, format="parquet").schema
        except (OSError, ValueError) as error:
            raise InputError(path, 0, f"cannot read as Parquet: {error}") from error
        self.connection = duckdb.connect()
        source = path.replace("'", "''")
        if not source.lower().endswith(".parquet") and "*" not in source:
            source = source.rstrip("/") + "/**/*.parquet"
        self.connection.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{source}')")

    @cached_property
    def terms(self) -> TermIds:
        """The distinct values of the fields the scans of many rules match patterns on, read once."""
        return TermIds(self.connection, self.name, self.schema)

    def rows(self, statement: str, what: str = "a query") -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.connection.execute(statement).fetchall()]

    def documents(self, condition: str, *, limit: int, order_by: str = "") -> list[dict[str, Any]]:
        order = f" ORDER BY {order_by}" if order_by else ""
        found = self.connection.sql(
            f"SELECT * FROM events WHERE {condition}{order} LIMIT {limit}"
        ).to_arrow_table()
        rows: list[dict[str, Any]] = [] if found is None else found.to_pylist()
        return [as_document(row) for row in rows]
