"""Kibana's rule exceptions, offline: exception lists read as Kibana exports them, judged on
documents as Elasticsearch judges the filter Kibana builds, written back for Kibana's import,
and as one SQL condition for the columnar engines."""

from harness.exceptions.load import ValueListSource, load_exceptions
from harness.exceptions.model import (
    Entry,
    ExceptionItem,
    ExceptionList,
    ExceptionSet,
    Exists,
    ListEntry,
    Match,
    MatchAny,
    Nested,
    NestedChild,
    Operator,
    Wildcard,
)
from harness.exceptions.sql import exceptions_condition
from harness.exceptions.values import ValueList
from harness.exceptions.write import write_ndjson, write_toml

__all__ = [
    "Entry",
    "ExceptionItem",
    "ExceptionList",
    "ExceptionSet",
    "Exists",
    "ListEntry",
    "Match",
    "MatchAny",
    "Nested",
    "NestedChild",
    "Operator",
    "ValueList",
    "ValueListSource",
    "Wildcard",
    "exceptions_condition",
    "load_exceptions",
    "write_ndjson",
    "write_toml",
]
