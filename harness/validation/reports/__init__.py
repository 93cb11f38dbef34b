"""Report formats for validation results: each a small handler of its own."""

from harness.validation.reports.changed import (
    ChangedReport,
    changed_json,
    changed_junit,
    changed_markdown,
    print_changed,
)
from harness.validation.reports.json import to_json
from harness.validation.reports.junit import to_junit
from harness.validation.reports.many import (
    RuleReport,
    many_to_json,
    many_to_junit,
    many_to_markdown,
    print_summary,
)
from harness.validation.reports.markdown import to_markdown
from harness.validation.reports.table import print_table

__all__ = [
    "FORMATS",
    "ChangedReport",
    "RuleReport",
    "changed_json",
    "changed_junit",
    "changed_markdown",
    "many_to_json",
    "many_to_junit",
    "many_to_markdown",
    "print_changed",
    "print_summary",
    "print_table",
    "to_json",
    "to_junit",
    "to_markdown",
]

FORMATS = ("table", "json", "junit", "markdown")
