"""Which rule files a list of paths names: files, folders (recursively) and globs.

A folder holds rules in the formats :func:`harness.rules.load_rule` reads (detection-rules
TOML, Elastic's Markdown rule pages, ``.eql``, Sigma's YAML) beside files that are not rules:
a rule's ``.expect.toml`` expectations, detection-rules' ``version.lock.json``, YAML that is
configuration rather than Sigma (no top-level ``detection:``). Only the rules are taken from
a folder; a file named on its own is taken as it is (the loader says what
is wrong with it).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.errors import UsageError
from harness.rules import SUPPORTED_SUFFIXES

__all__ = ["RULE_SUFFIXES", "expand_rule_paths", "is_rule_file", "names_one_rule"]

RULE_SUFFIXES = SUPPORTED_SUFFIXES
_NOT_RULES = (".expect.toml",)
_YAML = (".yml", ".yaml")
# Every Sigma rule has a top-level detection section; CI configs and pipelines beside rules do not.
_SIGMA_DETECTION = re.compile(rb"^detection\s*:", re.MULTILINE)
_GLOB_CHARACTERS = frozenset("*?[")


def is_rule_file(path: Path) -> bool:
    """Whether a file found in a folder is a rule: a rule format, and not an expectations file."""
    name = path.name.lower()
    if not name.endswith(RULE_SUFFIXES) or name.endswith(_NOT_RULES):
        return False
    return not name.endswith(_YAML) or _SIGMA_DETECTION.search(path.read_bytes()) is not None


def names_one_rule(paths: Sequence[str]) -> bool:
    """Whether ``paths`` is one rule's path (a file, or a path that is no folder and no glob).

    A missing file stays one rule, so that loading it says what is wrong as it always has.
    """
    if len(paths) != 1:
        return False
    path = Path(paths[0])
    return path.is_file() or not (path.is_dir() or _GLOB_CHARACTERS & set(paths[0]))


def expand_rule_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The rule files ``paths`` name, sorted and each once (however many paths name it).

    Raises :class:`UsageError` for a path that names no rule file: a missing file, an
    empty glob, or a folder without rules.
    """
    found: dict[Path, Path] = {}  # resolved path -> the path as given, so reports show what was typed
    for given in paths:
        matched = _expand(os.fspath(given))
        if not matched:
            raise UsageError(f"{os.fspath(given)}: no rule file matches this path")
        for path in matched:
            found.setdefault(path.resolve(), path)
    return sorted(found.values(), key=lambda path: path.as_posix())


def _expand(text: str) -> list[Path]:
    path = Path(text)
    if path.is_dir():
        return _in_folder(path)
    if path.exists():
        return [path]
    if not _GLOB_CHARACTERS & set(text):
        return []
    matched: list[Path] = []
    for hit in sorted(glob.glob(text, recursive=True)):
        candidate = Path(hit)
        if candidate.is_dir():
            matched += _in_folder(candidate)
        elif is_rule_file(candidate):
            matched.append(candidate)
    return matched


def _in_folder(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_rule_file(p))
