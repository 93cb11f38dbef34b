"""A Parquet corpus as a Spark table: any path Spark reads (local, ``s3a://``, ``abfss://``, HDFS)."""

from __future__ import annotations

from itertools import count
from typing import Any

import pyarrow as pa

from harness.eql.ast import Query
from harness.errors import HarnessError
from harness.spark.progress import spark_progress
from harness.spark.schema import arrow_schema
from harness.spark.session import spark_session
from harness.sql import condition_sql
from harness.validation.tables import as_document

__all__ = ["SparkTable", "spark_verdicts"]

_views = count()
_ROW = "__harness_row"


class SparkTable:
    """The runner's statements run by Spark; only aggregates and ``LIMIT 1`` rows reach the driver."""

    engine = "spark"

    def __init__(self, path: str, *, master: str = "local[*]", session: Any = None) -> None:
        self.location = path
        self.session = session if session is not None else spark_session(master)
        try:
            frame = self.session.read.parquet(path)
        except Exception as error:  # AnalysisException for a missing path, others for unreadable files
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise HarnessError(f"{path}: Spark cannot read this as Parquet: {first_line}") from error
        self.schema = arrow_schema(frame.schema)
        # A view per table, so two corpora in one session never shadow each other.
        self.name = f"events_{next(_views)}"
        frame.createOrReplaceTempView(self.name)

    def rows(self, statement: str, what: str = "a query") -> list[tuple[Any, ...]]:
        with spark_progress(self.session, what):
            return [tuple(row) for row in self.session.sql(statement).collect()]

    def documents(self, condition: str, *, limit: int, order_by: str = "") -> list[dict[str, Any]]:
        # With an order, Spark keeps the top rows of each partition (TakeOrderedAndProject):
        # at most ``limit`` rows per task reach the driver, never the matching events at large.
        order = f" ORDER BY {order_by}" if order_by else ""
        with spark_progress(self.session, "example events"):
            found = self.session.sql(
                f"SELECT * FROM {self.name} WHERE {condition}{order} LIMIT {limit}"
            ).collect()
        return [as_document(row.asDict(recursive=True)) for row in found]


def spark_verdicts(session: Any, query: Query, table: pa.Table) -> list[bool]:
    """One verdict per row of the Arrow ``table``, in order, as Spark gives them (for tests and checks)."""
    numbered = table.append_column(_ROW, pa.array(range(table.num_rows), pa.int64()))
    frame = session.createDataFrame(numbered)
    condition = condition_sql(query, arrow_schema(frame.schema), engine="spark")
    rows = frame.selectExpr(f"`{_ROW}`", f"{condition} AS verdict").collect()
    return [bool(row[1]) for row in sorted(rows, key=lambda row: row[0])]
