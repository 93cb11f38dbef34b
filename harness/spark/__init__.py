"""Rules on Apache Spark: the condition tree rendered as Spark SQL, metrics aggregated by Spark.

PySpark is an optional extra (``pip install 'detection-harness[spark]'``, with Java 17
or newer); nothing here is imported until ``--engine spark`` asks for it.
"""

from harness.spark.schema import arrow_schema
from harness.spark.sequences import SparkSearch, spark_search
from harness.spark.session import spark_session
from harness.spark.table import SparkTable, spark_verdicts

__all__ = ["SparkSearch", "SparkTable", "arrow_schema", "spark_search", "spark_session", "spark_verdicts"]
