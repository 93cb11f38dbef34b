"""The two SQL dialects a condition tree renders to: DuckDB's and Spark's.

sqlglot's own dialects render everything standard (boolean logic, comparisons,
literals with each engine's string escapes, ``array_contains``); these subclasses add
the harness's four nodes, the only places the engines differ in what they must be told:

* ``FieldPath``: ``struct_extract("a", 'b')`` in DuckDB, ```a`.`b``` in Spark;
* ``AnyElement``: ``len(list_filter(l, lambda x: p)) > 0`` in DuckDB, ``exists(l, x -> p)``
  in Spark;
* ``Element``: the lambda's ``x`` in both;
* ``FullMatch``: ``regexp_full_match(v, 'r')`` (RE2) in DuckDB, ``v RLIKE '\\A(?:r)\\z'``
  (java.util.regex) in Spark.

``\\A`` and ``\\z`` anchor the whole value in Java (``$`` would also match before a
final line break); RLIKE searches, so the anchors make it a full match.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.dialects.spark import Spark
from sqlglot.generators.duckdb import DuckDBGenerator
from sqlglot.generators.spark import SparkGenerator

from harness.eql.ast import Query
from harness.sql.sqltree import AnyElement, Element, FieldPath, FullMatch, build_condition

__all__ = ["ENGINES", "condition_sql", "render"]

_ELEMENT = "x"


def _duckdb_path(generator: Any, node: FieldPath) -> str:
    names: list[str] = [part.name for part in node.expressions]
    text = '"' + names[0].replace('"', '""') + '"'
    for name in names[1:]:
        text = f"struct_extract({text}, '{name.replace(chr(39), chr(39) * 2)}')"
    return text


def _spark_path(generator: Any, node: FieldPath) -> str:
    return ".".join("`" + part.name.replace("`", "``") + "`" for part in node.expressions)


def _duckdb_any(generator: Any, node: AnyElement) -> str:
    values, test = generator.sql(node, "this"), generator.sql(node, "expression")
    return f"(len(list_filter({values}, lambda {_ELEMENT}: {test})) > 0)"


class HarnessDuckDB(DuckDB):
    class Generator(DuckDBGenerator):
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Any]] = {
            **DuckDBGenerator.TRANSFORMS,
            FieldPath: _duckdb_path,
            Element: lambda self, e: _ELEMENT,
            AnyElement: _duckdb_any,
            FullMatch: lambda self, e: (
                f"regexp_full_match({self.sql(e, 'this')}, {self.sql(e, 'expression')})"
            ),
        }


def _spark_full_match(generator: Any, node: FullMatch) -> str:
    pattern = node.expression
    assert isinstance(pattern, exp.Literal) and pattern.is_string
    anchored = exp.Literal.string("\\A(?:" + pattern.this + ")\\z")
    return f"({generator.sql(node, 'this')} RLIKE {generator.sql(anchored)!s})"


class HarnessSpark(Spark):
    class Generator(SparkGenerator):
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Any]] = {
            **SparkGenerator.TRANSFORMS,
            FieldPath: _spark_path,
            Element: lambda self, e: _ELEMENT,
            AnyElement: lambda self, e: (
                f"exists({self.sql(e, 'this')}, {_ELEMENT} -> {self.sql(e, 'expression')})"
            ),
            FullMatch: _spark_full_match,
        }


ENGINES: dict[str, type[DuckDB] | type[Spark]] = {"duckdb": HarnessDuckDB, "spark": HarnessSpark}


def condition_sql(
    query: Query, schema: pa.Schema, *, engine: str, category_field: str = "event.category"
) -> str:
    """The SQL condition selecting what ``query`` matches in a table with ``schema``, for ``engine``.

    Raises :class:`EqlUnsupportedError` for what the engine cannot run with the reference's
    answers (also a pattern only that engine's regex library cannot run).
    """
    built = build_condition(query, schema, category_field=category_field)
    if built.refusals.get(engine):
        raise built.refusals[engine][0]
    return render(built.tree, engine)


def render(tree: exp.Expr, engine: str) -> str:
    """``tree`` as SQL for ``engine`` (``duckdb`` or ``spark``)."""
    text: str = tree.sql(dialect=ENGINES[engine])
    return text
