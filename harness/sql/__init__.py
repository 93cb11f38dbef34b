"""A query as SQL: one condition tree (sqlglot), its DuckDB and Spark renderings, the DuckDB matcher,
and sequences, samples and event searches as one candidate scan (``search_table``).

The only part of the query language that needs more than the standard library
(pyarrow, sqlglot, duckdb), kept out of :mod:`harness.eql` so that parsing and
matching a query load none of them.
"""

from harness.sql.columnar import ColumnarMatcher, prune, translate
from harness.sql.dialects import condition_sql, render
from harness.sql.sequences import TableSearcher, search_table
from harness.sql.sqltree import SqlCondition, Terms, build_condition, field_column
from harness.sql.stages import CandidateScan, plan_scan
from harness.sql.terms import TermIds

__all__ = [
    "CandidateScan",
    "ColumnarMatcher",
    "SqlCondition",
    "TableSearcher",
    "TermIds",
    "Terms",
    "build_condition",
    "condition_sql",
    "field_column",
    "plan_scan",
    "prune",
    "render",
    "search_table",
    "translate",
]
