"""detection-harness: validate Elastic EQL detection rules offline, with Elasticsearch's semantics."""

from harness.eql import ECS, FieldMapping, Matcher, Query, compile_query, parse_query
from harness.errors import (
    EqlError,
    EqlEvaluationError,
    EqlSemanticError,
    EqlSyntaxError,
    EqlUnsupportedError,
    HarnessError,
    InputError,
    RuleLoadError,
)
from harness.rules import Rule, load_rule

__all__ = [
    "ECS",
    "EqlError",
    "EqlEvaluationError",
    "EqlSemanticError",
    "EqlSyntaxError",
    "EqlUnsupportedError",
    "FieldMapping",
    "HarnessError",
    "InputError",
    "Matcher",
    "Query",
    "Rule",
    "RuleLoadError",
    "compile_query",
    "load_rule",
    "parse_query",
]
