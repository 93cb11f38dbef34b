"""``diff_changed_since``: only the rules a git revision's change touched, each judged as it would be alone.

Decisions: REF is compared with the work tree (committed, uncommitted and untracked
rule files); a rename is a change of the same rule; a rule whose ``.expect.toml`` alone
changed is re-run; a change to ``version.lock.json`` alone is no rule change (see
``harness.git_changes``). A changed rule runs ``harness.app.diff`` (corpus diff and
derived diff, as ``harness diff OLD NEW``); its old text is written from ``git show
REF:path`` into a temporary folder mirroring the repository, with every version lock as
it was at REF, so that the loader reads the old version exactly as it read it then. Added
rules run ``validate_many``; removed rules are listed.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness.app.corpora import Notice
from harness.app.many import ManyValidations, validate_many
from harness.app.validation import CorpusInput, Diff, diff
from harness.errors import HarnessError, UsageError
from harness.git_changes import RuleChange, changed_rules, old_text, repository_root, tracked_at
from harness.validation.reports.changed import ChangedReport, RuleDiffReport
from harness.vocabulary import Engine

__all__ = ["ChangedRun", "ChangedSince", "diff_changed_since"]

_LOCK = "version.lock.json"


@dataclass(frozen=True)
class ChangedRun:
    """One changed rule: its diff, or the error that stopped it."""

    change: RuleChange
    diff: Diff | None
    error: HarnessError | None

    @property
    def passed(self) -> bool:
        return self.diff is not None and self.diff.passed


@dataclass(frozen=True)
class ChangedSince:
    """What changed since ``ref`` (resolved to ``commit``): diffs, added rules' validations, removed rules."""

    ref: str
    commit: str
    changed: tuple[ChangedRun, ...]
    added: ManyValidations | None
    removed: tuple[RuleChange, ...]
    notices: list[str] = field(default_factory=list)

    def report(self) -> ChangedReport:
        """The whole run as the report handlers read it (``harness.validation.reports.changed``)."""
        changed = [
            RuleDiffReport(
                run.change.path,
                run.change.old_path or run.change.path,
                None if run.diff is None else run.diff.result,
                None if run.diff is None else run.diff.derived,
                run.passed,
                None if run.error is None else str(run.error),
            )
            for run in self.changed
        ]
        added = [] if self.added is None else self.added.reports()
        return ChangedReport(self.ref, self.commit, changed, added, [c.path for c in self.removed])

    @property
    def exit_code(self) -> int:
        """2 when a rule could not be run (bad input), 1 on an unaccepted regression or failure, else 0."""
        added = 0 if self.added is None else self.added.exit_code
        if added == 2 or any(run.error is not None for run in self.changed):
            return 2
        return 1 if added == 1 or not all(run.passed for run in self.changed) else 0


def diff_changed_since(
    ref: str,
    paths: tuple[str, ...] = (".",),
    corpus: CorpusInput = None,
    *,
    catalogue: str | None = None,
    no_catalogue: bool = False,
    engine: Engine | str = Engine.AUTO,
    mapping: str | None = None,
    spark_master: str = "local[*]",
    notice: Notice | None = None,
    derived: bool = True,
) -> ChangedSince:
    """Every rule under ``paths`` (default: the current folder) changed since ``ref``.

    The git checkout is the one holding the first path; a path outside it is a UsageError.
    """
    paths = paths or (".",)
    root = repository_root(paths[0])
    limits = tuple(_inside(root, p) for p in paths)
    commit, changes = changed_rules(root, ref, limits)
    added = [root / c.path for c in changes if c.kind == "added"]
    removed = tuple(c for c in changes if c.kind == "removed")
    runs: list[ChangedRun] = []
    notices: list[str] = []
    wanted = [c for c in changes if c.kind == "changed"]
    if wanted:
        with tempfile.TemporaryDirectory(prefix="harness-changed-") as folder:
            old_root = Path(folder)
            for lock in tracked_at(root, commit, _LOCK):
                _write(old_root / lock, old_text(root, commit, lock))
            for change in wanted:
                runs.append(
                    _diff_one(
                        root,
                        old_root,
                        commit,
                        change,
                        corpus,
                        catalogue,
                        no_catalogue,
                        engine,
                        mapping,
                        spark_master,
                        notice,
                        derived,
                    )
                )
    for run in runs:
        if run.diff is not None:
            notices += [f"{run.change.path}: {text}" for text in run.diff.notices]
    many = None
    if added:
        many = validate_many(
            added,
            corpus,
            catalogue=catalogue,
            engine=engine,
            mapping=mapping,
            spark_master=spark_master,
            derived=derived,
            notice=notice,
        )
    return ChangedSince(ref, commit, tuple(runs), many, removed, notices)


def _inside(root: Path, path: str) -> str:
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UsageError(f"{path} is outside the git checkout at {root}: give paths inside one checkout")
    return os.path.relpath(resolved, root.resolve())


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _diff_one(
    root: Path,
    old_root: Path,
    commit: str,
    change: RuleChange,
    corpus: CorpusInput,
    catalogue: str | None,
    no_catalogue: bool,
    engine: Engine | str,
    mapping: str | None,
    spark_master: str,
    notice: Notice | None,
    derived: bool,
) -> ChangedRun:
    assert change.old_path is not None  # a changed rule has a path at REF
    old_path = old_root / change.old_path
    try:
        _write(old_path, old_text(root, commit, change.old_path))
        result = diff(
            old_path,
            root / change.path,
            corpus,
            catalogue=catalogue,
            no_catalogue=no_catalogue,
            engine=engine,
            mapping=mapping,
            spark_master=spark_master,
            notice=notice,
            derived=derived,
        )
    except HarnessError as error:
        return ChangedRun(change, None, error)
    return ChangedRun(change, result, None)
