"""A rule's version from detection-rules' ``version.lock.json``, where upstream rules keep it.

Elastic's rule files carry no ``version``: the repository locks each rule's version (with
a hash of its contents) in ``detection_rules/etc/version.lock.json``, keyed by
``rule_id``. The lock is found beside the rule or in any folder above it, either as
``version.lock.json`` or as ``detection_rules/etc/version.lock.json``; the nearest wins.
A version written in the rule itself always wins over the lock.
"""

from __future__ import annotations

import dataclasses
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import RuleLoadError

if TYPE_CHECKING:
    from harness.rules import Rule

__all__ = ["find_version_lock", "locked_version", "with_locked_version"]

_PLACES = ("version.lock.json", os.path.join("detection_rules", "etc", "version.lock.json"))


def find_version_lock(rule_path: str | os.PathLike[str]) -> Path | None:
    """The nearest lock file beside ``rule_path`` or above it; None when there is none."""
    start = Path(rule_path).resolve().parent
    for folder in (start, *start.parents):
        for place in _PLACES:
            candidate = folder / place
            if candidate.is_file():
                return candidate
    return None


@lru_cache(maxsize=16)
def _versions(lock: Path, mtime_ns: int) -> dict[str, int]:
    try:
        data = json.loads(lock.read_text(encoding="utf-8"))
    except OSError as error:
        raise RuleLoadError(str(lock), f"cannot read the version lock: {error.strerror or error}") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        line = getattr(error, "lineno", None)
        column = getattr(error, "colno", None)
        raise RuleLoadError(
            str(lock), f"the version lock is not valid JSON: {error}", line=line, column=column
        ) from error
    if not isinstance(data, dict):
        raise RuleLoadError(str(lock), "the version lock must be a JSON object of rule_id -> entry")
    versions: dict[str, int] = {}
    for rule_id, entry in data.items():
        version = entry.get("version") if isinstance(entry, dict) else None
        if isinstance(version, int) and not isinstance(version, bool):
            versions[rule_id] = version
    return versions


def locked_version(lock: str | os.PathLike[str], rule_id: str) -> int | None:
    """The version ``lock`` holds for ``rule_id``; None when it holds none."""
    path = Path(lock)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as error:
        raise RuleLoadError(str(path), f"cannot read the version lock: {error.strerror or error}") from error
    return _versions(path, mtime).get(rule_id)


def with_locked_version(rule: Rule, lock: str | os.PathLike[str] | None = None) -> Rule:
    """``rule`` with its version from ``lock`` (default: the nearest lock) when the rule has none."""
    if rule.version is not None or rule.rule_id is None or not rule.path:
        return rule
    found = Path(lock) if lock is not None else find_version_lock(rule.path)
    if found is None:
        return rule
    version = locked_version(found, rule.rule_id)
    return rule if version is None else dataclasses.replace(rule, version=version)
