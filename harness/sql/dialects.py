"""The two SQL dialects a condition tree renders to: DuckDB's and Spark's.

sqlglot's own dialects render everything standard (boolean logic, comparisons,
literals with each engine's string escapes, ``array_contains``); these subclasses add
the harness's nodes, the only places the engines differ in what they must be told:

* ``FieldPath``: ``struct_extract("a", 'b')`` in DuckDB, ```a`.`b``` in Spark;
* ``AnyElement``: ``len(list_filter(l, lambda x: p)) > 0`` in DuckDB, ``exists(l, x -> p)``
  in Spark;
* ``Element``: the lambda's ``x`` in both;
* ``FullMatch``: ``regexp_full_match(v, 'r')`` (RE2) in DuckDB, ``v RLIKE '\\A(?:r)\\z'``
  (java.util.regex) in Spark;
* ``TermBit``: ``get_bit`` of a constant string of bits at a row's term id, DuckDB's only
  (:mod:`harness.sql.terms`, for a scan of many rules).

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
from harness.sql.sqltree import AnyElement, Element, FieldPath, FullMatch, TermBit, Terms, build_condition

__all__ = ["ENGINES", "condition_sql", "render", "render_value", "short_circuited"]

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


def _duckdb_term_bit(generator: Any, node: TermBit) -> str:
    bits, term = generator.sql(node, "expression"), generator.sql(node, "this")
    return f"coalesce(get_bit(CAST({bits} AS BIT), {term}) = 1, FALSE)"


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
            TermBit: _duckdb_term_bit,
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
    query: Query,
    schema: pa.Schema,
    *,
    engine: str,
    category_field: str = "event.category",
    as_value: bool = False,
    terms: Terms | None = None,
) -> str:
    """The SQL condition selecting what ``query`` matches in a table with ``schema``, for ``engine``;
    ``as_value`` when it is computed for every row (a column, an aggregate's argument), not a filter.

    Raises :class:`EqlUnsupportedError` for what the engine cannot run with the reference's
    answers (also a pattern only that engine's regex library cannot run).
    """
    built = build_condition(query, schema, category_field=category_field, terms=terms)
    if built.refusals.get(engine):
        raise built.refusals[engine][0]
    return render_value(built.tree, engine) if as_value else render(built.tree, engine)


def render(tree: exp.Expr, engine: str) -> str:
    """``tree`` as SQL for ``engine`` (``duckdb`` or ``spark``)."""
    text: str = tree.sql(dialect=ENGINES[engine])
    return text


def render_value(tree: exp.Expr, engine: str) -> str:
    """A condition ``tree`` as a value computed for every row, for ``engine``.

    A filter's ``AND`` and ``OR`` are short-circuited by DuckDB (each operand judges only the
    rows the others left undecided), but in a select list or an aggregate's argument every
    operand is computed on every row: a rule's regular expressions run on all the table's
    rows, not only on its category's. ``CASE`` evaluates a branch only on the rows that reach
    it, so DuckDB is given ``AND`` and ``OR`` as nested ``CASE`` (measured: 45 of Elastic's
    rules counted in one scan of 200,000 events, 13.3 s as ``AND``/``OR``, 1.1 s as ``CASE``).
    The answers are the same: every operand is a predicate that is never NULL (``sqltree``).
    Spark's generated code short-circuits ``AND`` and ``OR`` itself.
    """
    return render(short_circuited(tree.copy()) if engine == "duckdb" else tree, engine)


def short_circuited(tree: exp.Expr) -> exp.Expr:
    """``tree`` with each chain of ``AND`` or ``OR`` as a ``CASE`` that computes an operand only
    where the earlier ones leave the answer open: ``a AND b AND c`` is ``CASE WHEN NOT (a) THEN
    FALSE WHEN NOT (b) THEN FALSE ELSE c END``, ``a OR b`` is ``CASE WHEN a THEN TRUE ELSE b END``."""
    if isinstance(tree, exp.Paren):
        return short_circuited(tree.this)
    if isinstance(tree, exp.And | exp.Or):
        *first, last = [short_circuited(operand) for operand in _operands(tree, type(tree))]
        if isinstance(tree, exp.And):  # the first operand that is false decides
            ifs = [exp.If(this=exp.Not(this=exp.Paren(this=operand)), true=exp.false()) for operand in first]
        else:  # the first operand that is true decides
            ifs = [exp.If(this=operand, true=exp.true()) for operand in first]
        return exp.Case(ifs=ifs, default=last)
    if isinstance(tree, exp.Not):
        return exp.Not(this=exp.Paren(this=short_circuited(tree.this)))
    return tree


def _operands(tree: exp.Expr, kind: type[exp.Expr]) -> list[exp.Expr]:
    """The operands of a chain of one connective, in order, through parentheses."""
    while isinstance(tree, exp.Paren):
        tree = tree.this
    if not isinstance(tree, kind):
        return [tree]
    assert isinstance(tree, exp.Connector)
    return [*_operands(tree.left, kind), *_operands(tree.right, kind)]
