"""Validating a rule against labelled corpora: expectations, runs, metrics, reports, diffs."""

from harness.validation.diff import DiffResult, diff_rules
from harness.validation.expectations import (
    Budgets,
    Expectation,
    ExpectationError,
    Expectations,
    default_expectations_path,
    load_expectations,
)
from harness.validation.runner import ValidationResult, Violation, run_validation

__all__ = [
    "Budgets",
    "DiffResult",
    "Expectation",
    "ExpectationError",
    "Expectations",
    "ValidationResult",
    "Violation",
    "default_expectations_path",
    "diff_rules",
    "load_expectations",
    "run_validation",
]
