"""ARCHITECTURE.md's import rules, held to the code: the table there is the only list of them.

Every module under ``harness/``, ``generators/`` and ``corpora/`` belongs to the row of the
"Packages and import rules" table whose path names it most closely, and imports (at the top,
inside functions, under ``TYPE_CHECKING`` alike) only the standard library, its own row's
modules and what that row's "may import" cell allows. The cell is read as the document
says: a backticked name is one of our modules or packages (and everything below it), a
plain word a third-party package's import name; text in parentheses, and from "never" on,
is commentary.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("harness", "generators")
SCANNED = (*FIRST_PARTY, "corpora")

# Imports the table forbids that are being removed elsewhere; each entry fails the test once
# its import is gone, so the set can only shrink. (module, what it imports)
# None today: every module imports only what its row allows. An entry is (module, import).
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Row:
    """One row of the table: the paths it covers and what their modules may import."""

    paths: tuple[str, ...]
    ours: tuple[str, ...]  # dotted module or package names
    third_party: frozenset[str]

    def owns(self, name: str) -> bool:
        """Whether module ``name`` is one of the row's own: below a folder it names, or a file it names."""
        for path in self.paths:
            own = _dotted(path.rstrip("/"))
            if name == own or (path.endswith("/") and name.startswith(own + ".")):
                return True
        return False

    def allows(self, name: str) -> bool:
        """Whether the row's modules may import module ``name`` (their own row's modules aside)."""
        top = name.partition(".")[0]
        if top in FIRST_PARTY:
            return any(name == allowed or name.startswith(allowed + ".") for allowed in self.ours)
        return top in sys.stdlib_module_names or top in self.third_party


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _read_rows() -> list[Row]:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Packages and import rules", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert _cells(lines[0]) == ["package", "what it is", "may import"], lines[0]
    return [_row(*_cells(line)) for line in lines[2:]]


def _row(where: str, _what: str, may_import: str) -> Row:
    paths: list[str] = []
    for name in re.findall(r"`([^`]+)`", where):
        # A bare file name continues the folder of the path before it (`harness/bench.py`, `bench_report.py`).
        paths.append(name if "/" in name or not paths else paths[-1].rsplit("/", 1)[0] + "/" + name)
    rules = re.sub(r"\([^)]*\)", "", may_import.split("never", 1)[0])
    ours = re.findall(r"`([^`]+)`", rules)
    words = re.split(r",|;|\band\b", re.sub(r"`[^`]+`|\bonly\b|\beverything in\b", "", rules))
    third_party = {word.strip() for word in words} - {"", "the standard library", "nothing of ours", "—"}
    unreadable = {word for word in third_party if not re.fullmatch(r"[a-z_][a-z0-9_]*", word)}
    assert not unreadable, f"ARCHITECTURE.md: cannot read {unreadable} in the row of {where}"
    return Row(tuple(paths), tuple(ours), frozenset(third_party))


ROWS = _read_rows()


def _modules() -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for top in SCANNED for p in (ROOT / top).rglob("*.py"))


def _dotted(path: str) -> str:
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_ours(name: str) -> bool:
    """Whether ``name`` is a module or package of this repository."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported(path: str) -> set[str]:
    """Every module ``path`` imports, anywhere in the file (``from a import b``: ``a.b`` if a module)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=path)
    package = _dotted(path) if path.endswith("__init__.py") else _dotted(path).rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "__future__":
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                names.add(submodule if _is_ours(submodule) else base)
    return names


def row_of(path: str) -> Row | None:
    """The row whose path names ``path`` most closely (a file before its folder), or None."""
    matches = [
        (len(covered), row)
        for row in ROWS
        for covered in row.paths
        if path == covered or (covered.endswith("/") and path.startswith(covered))
    ]
    return max(matches, key=lambda match: match[0])[1] if matches else None


def violations(path: str) -> set[str]:
    """What ``path`` imports that its row does not allow."""
    row = row_of(path)
    assert row is not None, f"{path} is in no row of ARCHITECTURE.md's import table: add a row for it"
    return {name for name in imported(path) if not row.allows(name) and not row.owns(name)}


@pytest.mark.parametrize("path", _modules())
def test_a_module_imports_only_what_its_row_allows(path: str) -> None:
    found = violations(path) - {name for module, name in KNOWN_VIOLATIONS if module == path}
    assert not found, (
        f"{path} imports {sorted(found)}, which its row of ARCHITECTURE.md's import table does not allow"
    )


@pytest.mark.parametrize(("path", "name"), sorted(KNOWN_VIOLATIONS))
def test_a_known_violation_is_still_one(path: str, name: str) -> None:
    assert (ROOT / path).is_file() and name in violations(path), (
        f"{path} importing {name} is no longer a violation: remove it from KNOWN_VIOLATIONS"
    )


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.paths[0])
def test_a_row_names_what_exists(row: Row) -> None:
    missing = [p for p in row.paths if not (ROOT / p).exists()]
    missing += [name for name in row.ours if not _is_ours(name)]
    assert not missing, f"ARCHITECTURE.md's import table names what does not exist: {missing}"


def test_the_table_is_read_as_written() -> None:
    eql = row_of("harness/eql/ast.py")
    assert eql is not None and eql.paths == ("harness/eql/",)
    assert eql.ours == ("harness.errors", "harness.timestamps") and not eql.third_party
    bench = row_of("harness/bench_report.py")
    assert bench is not None and "harness.spark" in bench.ours and "orjson" in bench.third_party
