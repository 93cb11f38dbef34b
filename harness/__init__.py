"""detection-harness: validate Elastic EQL detection rules offline, with Elasticsearch's semantics."""

from harness.app import (
    Corpus,
    Diff,
    Validation,
    bench,
    diff,
    mutate,
    prepare_rule,
    propose,
    report,
    simulate,
    validate,
)
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
    "Corpus",
    "Diff",
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
    "Validation",
    "bench",
    "compile_query",
    "diff",
    "load_rule",
    "mutate",
    "parse_query",
    "prepare_rule",
    "propose",
    "report",
    "simulate",
    "validate",
]
