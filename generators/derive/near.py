"""Near misses: a witness changed just enough that one predicate of its branch fails.

Each positive predicate gets the smallest edit found that falsifies it while the
branch's other predicates on the same field still hold: the optional field removed,
the case changed where the operator is case-sensitive, one past a numeric bound, a
character dropped from a literal (``/tex`` for ``/text*``), another extension. Each
negative predicate (an exclusion) gets the opposite: a value the exclusion drops.
The caller keeps a near miss only if the whole query then fails on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from generators.derive.events import WORDS
from generators.derive.fills import candidates, case_variant
from generators.derive.normal import Atom, Branch
from generators.derive.solve import ARRAY_FIELDS, MISSING, Solver, insensitive
from harness.eql.ast import Field

__all__ = ["Change", "changes"]

_MAX_EDITS = 48


@dataclass(frozen=True)
class Change:
    """One field's new value (or MISSING), falsifying ``atom``."""

    atom: Atom
    field: str
    before: object
    after: object

    def __str__(self) -> str:
        after = "(absent)" if self.after is MISSING else repr(self.after)
        verb = "drops" if not self.atom.positive else "fails"
        return f"{self.field}: {self.before!r} -> {after} ({verb} {self.atom})"


def changes(solver: Solver, branch: Branch, values: dict[str, object]) -> Iterator[Iterator[Change]]:
    """For each predicate of ``branch``, the edits of ``values`` that falsify it alone, smallest first."""
    for atom in branch.atoms:
        if len(atom.fields) == 1:
            yield _changes(solver, branch, atom, values)


def _changes(solver: Solver, branch: Branch, atom: Atom, values: dict[str, object]) -> Iterator[Change]:
    field = atom.fields[0]
    same_field = [a for a in branch.atoms if a != atom and a.fields == atom.fields]
    before = values.get(field.name, MISSING)
    for after in _edits(solver, atom, field, before):
        if solver.satisfied_alone(atom, field.name, after):
            continue
        if all(solver.satisfied_alone(other, field.name, after) for other in same_field):
            yield Change(atom, field.name, before, after)


def _edits(solver: Solver, atom: Atom, field: Field, before: object) -> Iterator[object]:
    if not atom.positive:
        yield from _excluded(solver, atom, field, before)
        return
    if field.optional:
        yield MISSING
    for word in WORDS.get(field.name, ()):  # what a source can write instead: `linux`, an end
        if word not in (before if isinstance(before, list) else [before]):
            yield [word] if field.name in ARRAY_FIELDS else word
    if isinstance(before, list):
        yield from _list_edits(solver, atom, field, before)
    else:
        yield from _value_edits(atom, before)
    yield MISSING


def _list_edits(solver: Solver, atom: Atom, field: Field, before: list[object]) -> Iterator[object]:
    hits = [i for i, v in enumerate(before) if solver.holds_alone(atom.expr, field.name, [v])]
    for edit in _value_edits(atom, before[hits[0]] if hits else None):
        yield [edit if i in hits else v for i, v in enumerate(before)]
    yield [v for i, v in enumerate(before) if i not in hits]


def _value_edits(atom: Atom, value: object) -> Iterator[object]:
    if isinstance(value, bool):
        yield not value
        return
    if isinstance(value, (int, float)):
        yield from (value - 1, value + 1)
        return
    if not isinstance(value, str):
        return
    if not insensitive(atom.expr):
        flipped = case_variant(value)
        if flipped != value:
            yield flipped
    for i in range(len(value) - 1, max(-1, len(value) - 1 - _MAX_EDITS), -1):
        yield value[:i] + value[i + 1 :]  # one character dropped, from the end: /text -> /tex
    if "." in value:
        yield value.rsplit(".", 1)[0] + ".dat"
    yield value + "x"
    yield "x" + value


def _excluded(solver: Solver, atom: Atom, field: Field, before: object) -> Iterator[object]:
    """Values the exclusion matches: what the rule deliberately drops."""
    pool: list[object] = list(candidates(atom.expr, field))
    pool += solver.known(field.name, atom.expr, False)[:8]
    for value in pool:
        if field.name in ARRAY_FIELDS:
            kept = before if isinstance(before, list) else []
            yield [*kept, value]
        else:
            yield value
