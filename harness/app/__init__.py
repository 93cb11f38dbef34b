"""The application layer: every command as a library function, for the CLI, the plugin and Python users.

Each function takes a rule (a path or a :class:`~harness.rules.Rule`), a corpus (a path, a
:class:`Corpus`, documents, or nothing for the rule's catalogue), expectations and an
engine, and returns a typed result; it raises :class:`~harness.errors.HarnessError`
subclasses only. Engine choice and fallback, corpus opening, expectations and catalogue
lookup live here and nowhere else.

    >>> from harness import validate
    >>> run = validate("rules/iis_appcmd_password_dumped_v214.toml")  # doctest: +SKIP
    >>> run.result.detection_rate  # doctest: +SKIP
"""

from harness.app.analysis import Proposals, Scheduled, mutate, propose, simulate
from harness.app.changed import ChangedRun, ChangedSince, diff_changed_since
from harness.app.corpora import Corpus
from harness.app.derived import derived_result, derived_suite
from harness.app.many import ManyValidations, RuleRun, validate_many
from harness.app.report import bench, bench_parquet, report
from harness.app.setup import RuleSetup, find_catalogue, prepare_rule
from harness.app.validation import Diff, Validation, diff, validate

__all__ = [
    "ChangedRun",
    "ChangedSince",
    "Corpus",
    "Diff",
    "ManyValidations",
    "Proposals",
    "RuleRun",
    "RuleSetup",
    "Scheduled",
    "Validation",
    "bench",
    "bench_parquet",
    "derived_result",
    "derived_suite",
    "diff",
    "diff_changed_since",
    "find_catalogue",
    "mutate",
    "prepare_rule",
    "propose",
    "report",
    "simulate",
    "validate",
    "validate_many",
]
