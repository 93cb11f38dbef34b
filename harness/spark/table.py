"""A Parquet corpus as a Spark table: any path Spark reads (local, ``s3a://``, ``abfss://``, HDFS)."""

from __future__ import annotations

from itertools import count
from typing import Any

from harness.errors import HarnessError
from harness.spark.schema import arrow_schema
from harness.spark.session import spark_session

__all__ = ["SparkTable"]

_views = count()


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

    def rows(self, statement: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.session.sql(statement).collect()]

    def first(self, condition: str) -> dict[str, Any] | None:
        found = self.session.sql(f"SELECT * FROM {self.name} WHERE {condition} LIMIT 1").collect()
        if not found:
            return None
        document: dict[str, Any] = found[0].asDict(recursive=True)
        return document
