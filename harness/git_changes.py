"""Which rule files changed since a git revision, and their text at it.

The git CLI is run through ``subprocess`` (never a shell), with ``-z`` output so that
any file name parses. The work tree is compared with REF: committed and uncommitted
changes both count, and untracked rule files (``git ls-files --others
--exclude-standard``) are added rules. ``git diff -M`` pairs renames, so a renamed rule
is a change of one rule. A rule whose ``.expect.toml`` changed while the rule did not is
listed as changed (its verdicts may change). A change to ``version.lock.json`` alone is
no rule change. Old text is read with ``git show REF:path``: the work tree is never
checked out.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UsageError
from harness.rule_paths import is_rule_file

__all__ = ["RuleChange", "changed_rules", "old_text", "repository_root", "tracked_at"]

_EXPECT = ".expect.toml"


@dataclass(frozen=True)
class RuleChange:
    """One rule: ``kind`` is added, changed or removed; paths relative to the repository root."""

    kind: str
    path: str  # the path in the work tree (for a removed rule, its path at REF)
    old_path: str | None  # its path at REF (None when added)


def _git(root: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except OSError as error:
        raise UsageError(f"cannot run git: {error}") from error
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"git {args[0]} failed in {root}: {message[-1] if message else done.returncode}")
    return done.stdout


def repository_root(start: str | Path = ".") -> Path:
    """The top of the git checkout holding ``start``; UsageError outside one."""
    folder = Path(start).resolve()
    folder = folder if folder.is_dir() else folder.parent
    try:
        return Path(_git(folder, "rev-parse", "--show-toplevel").decode().strip())
    except UsageError as error:
        raise UsageError(
            f"{start} is not in a git checkout: --changed-since compares git revisions"
        ) from error


def _resolve(root: Path, ref: str) -> str:
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except UsageError as error:
        raise UsageError(f"unknown git revision {ref!r} in {root}: give a commit, branch or tag") from error


def _fields(output: bytes) -> list[str]:
    return [part.decode("utf-8", errors="surrogateescape") for part in output.split(b"\0") if part]


def _rule_of_expectations(path: str) -> str | None:
    return path[: -len(_EXPECT)] + ".toml" if path.endswith(_EXPECT) else None


def changed_rules(root: Path, ref: str, paths: tuple[str, ...] = (".",)) -> tuple[str, list[RuleChange]]:
    """REF's commit and the rules added, changed or removed between it and the work tree, in path order."""
    commit = _resolve(root, ref)
    limits = ["--", *paths]
    status = _fields(_git(root, "diff", "-M", "-z", "--name-status", "--no-ext-diff", commit, *limits))
    changes: dict[str, RuleChange] = {}
    expectations: set[str] = set()
    index = 0
    while index < len(status):
        code = status[index]
        if code[0] in "RC":
            old, new = status[index + 1], status[index + 2]
            index += 3
        else:
            old = new = status[index + 1]
            index += 2
        if _rule_of_expectations(new) is not None:
            expectations.add(new)
            continue
        if not is_rule_file(Path(new)):
            continue
        if code[0] == "A":
            changes[new] = RuleChange("added", new, None)
        elif code[0] == "D":
            changes[old] = RuleChange("removed", old, old)
        elif code[0] == "C":
            changes[new] = RuleChange("added", new, None)
        else:
            changes[new] = RuleChange("changed", new, old)
    for path in _fields(_git(root, "ls-files", "--others", "--exclude-standard", "-z", *limits)):
        if is_rule_file(Path(path)) and path not in changes:
            changes[path] = RuleChange("added", path, None)
    for expect in expectations:
        rule = _rule_of_expectations(expect)
        if rule is not None and rule not in changes and (root / rule).is_file():
            changes[rule] = RuleChange("changed", rule, rule)
    return commit, [changes[key] for key in sorted(changes)]


def old_text(root: Path, commit: str, path: str) -> bytes:
    """The bytes of ``path`` at ``commit`` (``git show``), without touching the work tree."""
    return _git(root, "show", f"{commit}:{path}")


def tracked_at(root: Path, commit: str, name: str) -> list[str]:
    """Every path at ``commit`` whose file name is ``name`` (for the version locks as they were)."""
    listed = _fields(_git(root, "ls-tree", "-r", "-z", "--name-only", "--full-tree", commit))
    return [path for path in listed if Path(path).name == name]
