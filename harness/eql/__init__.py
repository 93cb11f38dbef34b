"""Single-event EQL with Elasticsearch's semantics: parser, checker and reference matcher."""

from harness.eql.ast import (
    And,
    Arithmetic,
    Comparison,
    Expr,
    Field,
    FunctionCall,
    InSet,
    Literal,
    Match,
    Negate,
    Not,
    Or,
    Query,
    children,
    format_expr,
    format_query,
    walk,
)
from harness.eql.mapping import ECS, FieldMapping, load_index_mapping
from harness.eql.matcher import Matcher, compile_query, parse_query

__all__ = [
    "ECS",
    "And",
    "Arithmetic",
    "Comparison",
    "Expr",
    "Field",
    "FieldMapping",
    "FunctionCall",
    "InSet",
    "Literal",
    "Match",
    "Matcher",
    "Negate",
    "Not",
    "Or",
    "Query",
    "children",
    "compile_query",
    "format_expr",
    "format_query",
    "load_index_mapping",
    "parse_query",
    "walk",
]
