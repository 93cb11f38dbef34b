"""Where the field definitions are read from: a folder, or a git directory at a ref."""

from __future__ import annotations

import fnmatch
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

__all__ = ["Tree", "open_file", "open_tree"]


@dataclass(frozen=True)
class Tree:
    """A checkout read as files: ``root`` is a folder, or a git directory when ``ref`` is set."""

    root: Path
    ref: str | None = None

    def files(self, pattern: str) -> list[str]:
        """Relative paths matching a glob pattern (``*`` crosses no ``/``), sorted."""
        if self.ref is None:
            found = [p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()]
        else:
            found = self._git("ls-tree", "-r", "--name-only", self.ref).splitlines()
        return sorted(p for p in found if _match(p, pattern))

    def read(self, path: str) -> str:
        return self.read_bytes(path).decode("utf-8")

    def read_bytes(self, path: str) -> bytes:
        if self.ref is None:
            return (self.root / path).read_bytes()
        return self._git_bytes("show", f"{self.ref}:{path}")

    def commit(self) -> str | None:
        """The commit the ref names (None for a plain folder)."""
        return None if self.ref is None else self._git("rev-parse", f"{self.ref}^{{commit}}").strip()

    def _git(self, *args: str) -> str:
        return self._git_bytes(*args).decode("utf-8")

    def _git_bytes(self, *args: str) -> bytes:
        try:
            done = subprocess.run(["git", f"--git-dir={self.root}", *args], capture_output=True, check=True)
        except (OSError, subprocess.CalledProcessError) as error:
            raise HarnessError(f"{self.root}: git {' '.join(args)} failed: {error}") from error
        return done.stdout


def open_tree(spec: str) -> Tree:
    """``PATH`` (a checkout) or ``GITDIR@REF`` (a bare or ``.git`` directory and a tag or commit)."""
    path, _, ref = spec.partition("@")
    root = Path(path)
    if not root.is_dir():
        raise HarnessError(f"{path}: not a folder")
    return Tree(root, ref or None)


def open_file(spec: str) -> tuple[Tree, str]:
    """``FILE`` or ``GITDIR@REF:PATH``: the tree that holds one file, and its path in it."""
    if "@" in spec and ":" in spec.partition("@")[2]:
        tree_spec, _, path = spec.rpartition(":")
        return open_tree(tree_spec), path
    file = Path(spec)
    return Tree(file.parent), file.name


def _match(path: str, pattern: str) -> bool:
    parts, wanted = path.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(
        fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted, strict=True)
    )
