"""What the repository page shows: a summary row per rule, and each rule's drill-down.

The rows are the many-rule reports' own (:class:`harness.validation.reports.many.RuleReport`),
so the page's numbers are the text and Markdown summaries' numbers. Rules given together
that share a ``rule_id`` (two versions of one rule) form one drill-down, their versions side
by side as the version comparison page shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from harness.html_report.data import ReportData, VersionReport, version_labels
from harness.validation.reports.many import RuleReport

__all__ = ["RepositoryReport", "RepositoryRule", "RuleGroup", "build_repository", "page_order"]


@dataclass(frozen=True)
class RepositoryRule:
    """One rule of the run: its summary row, and its version report when it ran (``None``: its error)."""

    report: RuleReport
    version: VersionReport | None
    days: tuple[str, ...] = ()  # the UTC days of the corpus it ran on
    rule_id: str | None = None


@dataclass(frozen=True)
class RuleGroup:
    """The rules that share a ``rule_id`` (one rule alone when it has none), in path order."""

    title: str
    reports: tuple[RuleReport, ...]
    versions: ReportData | None  # the members that ran, side by side; None when none ran


@dataclass(frozen=True)
class RepositoryReport:
    reports: tuple[RuleReport, ...]  # the summary's rows, failing and errored rules first
    groups: tuple[RuleGroup, ...]  # the drill-downs, in the order of their first rule's row
    corpus: str
    seed: int
    mutations: bool  # whether mutation testing ran
    notices: tuple[str, ...] = ()  # the run's (for the caller to tell: they may hold seconds)
    generated_at: str | None = None
    timings: bool = False  # each rule's seconds in the summary; off, the same inputs give the same bytes


def page_order(reports: Sequence[RuleReport]) -> list[RuleReport]:
    """Failing and errored rules first, then by path: the order of the Markdown summary."""
    return sorted(reports, key=lambda report: (report.status == "passed", report.path))


def build_repository(
    rules: Sequence[RepositoryRule],
    *,
    corpus: str,
    seed: int,
    mutations: bool,
    notices: Sequence[str] = (),
    generated_at: str | None = None,
    timings: bool = False,
) -> RepositoryReport:
    """Group ``rules`` by ``rule_id`` and order the summary and the drill-downs alike."""
    ordered = page_order([rule.report for rule in rules])
    members: dict[str, list[RepositoryRule]] = {}
    for rule in sorted(rules, key=lambda r: r.report.path):
        key = f"id:{rule.rule_id}" if rule.rule_id is not None else f"path:{rule.report.path}"
        members.setdefault(key, []).append(rule)
    key_of = {rule.report.path: key for key, group in members.items() for rule in group}
    groups: list[RuleGroup] = []
    seen: set[str] = set()
    for report in ordered:
        key = key_of[report.path]
        if key not in seen:
            seen.add(key)
            groups.append(_group(members[key], corpus, seed, generated_at))
    return RepositoryReport(
        tuple(ordered), tuple(groups), corpus, seed, mutations, tuple(notices), generated_at, timings
    )


def _group(rules: Sequence[RepositoryRule], corpus: str, seed: int, generated_at: str | None) -> RuleGroup:
    ran = [rule for rule in rules if rule.version is not None]
    reports = tuple(rule.report for rule in rules)
    if not ran:
        return RuleGroup(reports[0].path, reports, None)
    versions = [rule.version for rule in ran if rule.version is not None]
    labels = version_labels([version.rule for version in versions])
    data = ReportData(
        versions=tuple(replace(v, label=label) for v, label in zip(versions, labels, strict=True)),
        seed=seed,
        scenario_corpus=corpus,
        fleet_corpus=corpus,
        fleet_days=tuple(sorted({day for rule in ran for day in rule.days})),
        generated_at=generated_at,
    )
    return RuleGroup(versions[0].rule.name, reports, data)
