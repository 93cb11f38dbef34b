"""The columnar engine: a query as one SQL condition that DuckDB runs over Arrow or Parquet.

The condition is :mod:`harness.sql.sqltree`'s tree rendered for DuckDB (the same tree
renders for Spark: :mod:`harness.spark`). What it cannot express is refused there with
:class:`~harness.errors.EqlUnsupportedError`.
"""

from __future__ import annotations

import pyarrow as pa

from harness.eql.ast import Query
from harness.sql.dialects import condition_sql, render, render_value
from harness.sql.sqltree import build_condition

__all__ = ["ColumnarMatcher", "prune", "translate"]


def translate(
    query: Query, schema: pa.Schema, *, category_field: str = "event.category", engine: str = "duckdb"
) -> str:
    """The SQL condition (over a table with ``schema``) that selects what ``query`` matches, for ``engine``."""
    return condition_sql(query, schema, engine=engine, category_field=category_field)


def prune(table: pa.Table, paths: set[tuple[str, ...]]) -> pa.Table:
    """``table`` with only the columns, and struct children, that ``paths`` reach.

    DuckDB converts every child of a struct column it scans from Arrow; an event has
    some 140 leaves and a rule reads a handful, so cutting the rest first (zero-copy)
    makes the scan several times faster.
    """
    names = [name for name in table.column_names if any(p[0] == name for p in paths)]
    if not names:
        return table  # a condition on no column: DuckDB still needs the rows
    columns = []
    for name in names:
        below = [p[1:] for p in paths if p[0] == name]
        chunks = [_prune_array(chunk, below) for chunk in table.column(name).chunks]
        columns.append(pa.chunked_array(chunks) if chunks else table.column(name))
    return pa.table(columns, names=names)


def _prune_array(array: pa.Array, paths: list[tuple[str, ...]]) -> pa.Array:
    if () in paths or not pa.types.is_struct(array.type):
        return array
    kept = [
        (child.name, _prune_array(array.field(i), [p[1:] for p in paths if p[0] == child.name]))
        for i, child in enumerate(array.type)
        if any(p[0] == child.name for p in paths)
    ]
    return pa.StructArray.from_arrays([a for _, a in kept], names=[n for n, _ in kept], mask=array.is_null())


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class ColumnarMatcher:
    """A query run by DuckDB over Arrow tables or Parquet files, with the reference's answers."""

    def __init__(self, query: Query, schema: pa.Schema, *, category_field: str = "event.category") -> None:
        import duckdb

        self.query = query
        self.schema = schema
        built = build_condition(query, schema, category_field=category_field)
        self.condition = render(built.tree, "duckdb")  # a filter
        self.value = render_value(built.tree, "duckdb")  # the same, computed for every row
        self.paths = built.paths
        self.connection = duckdb.connect()
        # Rows come back in table order: verdicts line up with the events.
        self.connection.execute("SET preserve_insertion_order = true")

    def verdicts(self, table: pa.Table) -> list[bool]:
        """One verdict per row of ``table``, in order."""
        self.connection.register("events", prune(table, self.paths))
        try:
            # One NumPy column back, not a Python tuple per row.
            column = self.connection.execute(f"SELECT {self.value} AS verdict FROM events").fetchnumpy()
        finally:
            self.connection.unregister("events")
        return [bool(v) for v in column["verdict"].tolist()]

    def count_matching(self, table: pa.Table) -> int:
        """How many rows of ``table`` match: the verdicts summed inside DuckDB."""
        self.connection.register("events", prune(table, self.paths))
        try:
            rows = self.connection.execute(f"SELECT count(*) FROM events WHERE {self.condition}").fetchall()
        finally:
            self.connection.unregister("events")
        return int(rows[0][0])

    def count(self, source: str) -> int:
        """Matching rows of a Parquet file or directory (``read_parquet`` pattern)."""
        rows = self.connection.execute(
            f"SELECT count(*) FROM read_parquet({_quote(source)}) WHERE {self.condition}"
        ).fetchall()
        return int(rows[0][0])
