"""Field values that satisfy one branch, checked by the reference evaluator.

The solver proposes and the evaluator disposes: candidates come from the fleet's
vocabulary and from the predicates themselves (:mod:`generators.derive.fills`), and
a value is kept only if Elasticsearch's semantics, as ``harness.eql`` implements
them, say every positive predicate on its field holds and every negative one fails.
So a witness is never wrong, only sometimes missing (reported as such).

Multi-valued fields (``process.args``) get one element per positive predicate, each
chosen so that no negative predicate matches it, since ``not process.args : "x"``
fails as soon as any element matches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generators.chains import write_field
from generators.derive.fills import alternatives, candidates, case_variant, kind_of
from generators.derive.normal import Atom, Branch
from generators.derive.shared import (
    Key,
    canonical,
    compiled_predicate,
    judged_alone,
    known_fits,
    predicate_test,
    recalled,
    remember,
)
from generators.derive.vocabulary import known_values
from harness.eql.ast import Comparison, Expr, Field, FunctionCall, InSet, Literal, Match, Query
from harness.eql.mapping import FieldMapping
from harness.eql.matcher import Matcher
from harness.eql.patterns import eql_wildcard
from harness.errors import HarnessError

__all__ = ["MISSING", "Solver", "contradiction", "document_of", "insensitive"]

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
# ECS fields that hold arrays (``normalize: array``) among those rules compare element by element.
ARRAY_FIELDS = frozenset(
    {"process.args", "process.parent.args", "event.type", "event.category", "host.ip", "host.mac", "tags"}
)
_MAX_ALTERNATIVES = 16
_NOT_IN_FILE_NAMES = re.compile(r'[*?"<>|]')
# Solved first: a name fixes the end of its path, arguments fix the command line.
_ORDER = {"name": 0, "args": 1, "path": 2, "command_line": 3}


def document_of(values: Mapping[str, object]) -> dict[str, Any]:
    """The nested ``_source`` holding ``values`` (dotted names; MISSING ones left out)."""
    document: dict[str, Any] = {}
    for name, value in values.items():
        if value is not MISSING:
            write_field(document, name, value)
    return document


@dataclass(frozen=True)
class Solution:
    values: dict[str, object]
    alternative: int
    case_variant: bool


class Solver:
    """Solves branches of one query; each predicate is compiled once."""

    def __init__(self, query: Query, *, mapping: FieldMapping | None, category_field: str) -> None:
        self.query = query
        self.mapping = mapping
        self.category_field = category_field
        self._tests: dict[Expr, Callable[[Mapping[str, Any]], bool]] = {}
        self._known_cache: dict[tuple[str, Expr, bool], list[object]] = {}
        # A pattern narrowed from a list, and its place there: a witness of it should match it alone.
        self._lists: dict[Expr, tuple[Match, int]] = {}
        self._branch_keys: dict[int, tuple[Branch, Key]] = {}
        self.matcher = Matcher(query, category_field=category_field, mapping=mapping)

    def holds(self, expr: Expr, document: Mapping[str, Any]) -> bool:
        """Whether ``expr`` is true on ``document`` (an evaluation error counts as not)."""
        test = self._tests_for(expr)
        try:
            return test(document)
        except HarnessError:
            return False

    def satisfied(self, atom: Atom, document: Mapping[str, Any]) -> bool:
        try:
            value = self._tests_for(atom.expr)(document)
        except HarnessError:
            return False
        return value is atom.positive

    def holds_alone(self, expr: Expr, name: str, value: object) -> bool:
        """``holds`` on the document that holds only ``name``'s ``value`` (none, for MISSING)."""
        outcome = self._alone(expr, name, value)
        return False if outcome is _FAILED else outcome

    def satisfied_alone(self, atom: Atom, name: str, value: object) -> bool:
        """``satisfied`` on the document that holds only ``name``'s ``value`` (none, for MISSING)."""
        outcome = self._alone(atom.expr, name, value)
        return outcome is not _FAILED and outcome is atom.positive

    def _alone(self, expr: Expr, name: str, value: object) -> Any:
        # The solver tries each candidate against each predicate on its field, again for every
        # alternative and case and in every query with the same predicates: the outcome is kept,
        # keyed on the compiled test (one per predicate and way of reading fields) and the value.
        test = self._tests_for(expr)
        try:
            key = Key(test, name, _typed(value))
        except TypeError:  # a value no key can hold: judged each time
            key = None
        outcome = None if key is None else judged_alone.get(key)
        if outcome is None:
            try:
                outcome = test(document_of({name: value}))
            except HarnessError:
                outcome = _FAILED
            if key is not None:
                judged_alone.put(key, outcome)
        return outcome

    def known(self, name: str, expr: Expr, as_list: bool) -> list[object]:
        """The fleet's values of the field's kind that satisfy ``expr``, computed once per predicate."""
        return self._known(name, expr, as_list)

    def _tests_for(self, expr: Expr) -> Callable[[Mapping[str, Any]], bool]:
        test = self._tests.get(expr)
        if test is None:
            test = self._tests[expr] = (
                predicate_test(expr, self.category_field)
                if self.mapping is None
                else compiled_predicate(expr, self.category_field, self.mapping)
            )
        return test

    def matches(self, document: Mapping[str, Any]) -> bool:
        try:
            return self.matcher.matches(document)
        except HarnessError:
            return False

    def _known(self, name: str, expr: Expr, as_list: bool) -> list[object]:
        """The fleet's values of the field's kind that satisfy ``expr``, computed once per predicate."""
        key = (name, expr, as_list)
        found = self._known_cache.get(key)
        if found is None:
            found = self._known_cache[key] = list(self._shared_known(name, expr, as_list))
        return found

    def _shared_known(self, name: str, expr: Expr, as_list: bool) -> tuple[object, ...]:
        key = (name, expr, as_list, self.category_field)
        found = known_fits.get(key) if self.mapping is None else None
        if found is None:
            found = tuple(
                v
                for v in known_values(kind_of(name))
                if self.holds(expr, document_of({name: [v] if as_list else v}))
            )
            if self.mapping is None:
                known_fits.put(key, found)
        return found

    def widths(self, branch: Branch) -> int:
        """How many witnesses cover every alternative of the branch's lists."""
        return min(_MAX_ALTERNATIVES, max((alternatives(a.expr) for a in branch.positive), default=1))

    def solve(
        self, branch: Branch, alternative: int = 0, variant: bool = False, rank: int = 0
    ) -> Solution | None:
        """Values for the branch's fields, covering ``alternative`` of each list, or None.

        ``rank`` picks a later fitting value for each field where there are several, for
        distinct witnesses of one branch.
        """
        atoms = []
        for atom in branch.atoms:
            narrowed = _restricted(atom, alternative)
            if narrowed is not atom and isinstance(atom.expr, Match):
                self._lists[narrowed.expr] = (atom.expr, alternative % len(atom.expr.patterns))
            atoms.append(narrowed)
        if self.mapping is not None:
            values = self._solve_atoms(atoms, variant, rank)
        else:
            key = self._solution_key(branch, atoms, alternative, variant, rank)
            known = recalled(key)
            if known is None:
                values = self._solve_atoms(atoms, variant, rank)
                remember(key, values)
            else:
                values = known[0]
        return None if values is None else Solution(values, alternative, variant)

    def _solution_key(
        self, branch: Branch, atoms: Sequence[Atom], alternative: int, variant: bool, rank: int
    ) -> Key:
        """What a branch's solution depends on, for any query: its atoms and which alternative of
        their lists it covers, and the lists an atom left whole was narrowed from by an earlier
        solve (they order its candidates, see ``_preference``)."""
        # Only a single pattern can equal a narrowed one: a long exclusion list is not hashed again.
        earlier = tuple(
            self._lists.get(atom.expr) if narrowed is atom and _one_pattern(atom.expr) else None
            for atom, narrowed in zip(branch.atoms, atoms, strict=True)
        )
        return Key(self.category_field, self._atoms_key(branch), alternative, variant, rank, earlier)

    def _atoms_key(self, branch: Branch) -> Key:
        # A branch is solved for each alternative, case and fill: its atoms are hashed once. The
        # branch is kept beside its key, so its id names no other object while the entry lasts.
        # The key is the one every query with these atoms uses, so that a solution looked up finds
        # its key by identity rather than by comparing the atoms' trees.
        found = self._branch_keys.get(id(branch))
        if found is None or found[0] is not branch:
            found = self._branch_keys[id(branch)] = (branch, canonical(Key(*branch.atoms)))
        return found[1]

    def _solve_atoms(self, atoms: Sequence[Atom], variant: bool, rank: int) -> dict[str, object] | None:
        by_field: dict[str, list[Atom]] = {}
        fields: dict[str, Field] = {}
        for atom in atoms:
            read = atom.fields
            if len(read) == 1:
                by_field.setdefault(read[0].name, []).append(atom)
                fields[read[0].name] = read[0]
        values: dict[str, object] = {}
        for name in sorted(by_field, key=lambda n: (_ORDER.get(kind_of(n), 9), n)):
            value = self._solve_field(fields[name], by_field[name], values, variant, rank)
            if value is None:
                return None
            if value is not MISSING:
                values[name] = value
        document = document_of(values)
        if not all(self.satisfied(atom, document) for atom in atoms):
            return None  # a predicate over several fields, or one field's values spoiling another's
        return values

    def _solve_field(
        self, field: Field, atoms: Sequence[Atom], solved: Mapping[str, object], variant: bool, rank: int
    ) -> object:
        positive = [a for a in atoms if a.positive]
        negative = [a for a in atoms if not a.positive]
        kind = kind_of(field.name)
        if not positive:
            if all(self.satisfied_alone(a, field.name, MISSING) for a in negative):
                return MISSING  # a negated predicate holds on a missing field; the event builder fills it
            # `field != null` and its kin: any ordinary value that no exclusion drops (a path
            # ending in the name already chosen first).
            pool: list[object] = [*known_values(kind), "x", 1, True]
            name = _name_for_path(field.name, solved)
            if kind == "path" and isinstance(name, str):
                pool = [
                    *(v for v in known_values(kind) if v.lower().endswith("\\" + name.lower())),
                    "C:\\Windows\\System32\\" + name,
                ]
            for value in pool:
                held = [value] if field.name in ARRAY_FIELDS else value
                if all(self.satisfied_alone(a, field.name, held) for a in negative):
                    return [value] if field.name in ARRAY_FIELDS else value
            return None
        if field.name in ARRAY_FIELDS:
            return self._solve_array(field, positive, negative, variant, rank)
        if all(_literals(a.expr) is not None for a in positive):
            rank = 0  # literals leave nothing to vary but case: later fills vary the patterns only
        pool = self._pool(field, positive, solved)
        if variant:
            pool = [case_variant(v) for v in pool] + pool
        fitting: list[object] = []
        for value in pool:
            if kind in ("path", "name") and isinstance(value, str) and _NOT_IN_FILE_NAMES.search(value):
                continue  # Windows refuses these in a file name: no event holds such a value
            if all(self.satisfied_alone(a, field.name, value) for a in atoms):
                fitting.append(value)
                if len(fitting) > rank:
                    break
        return fitting[min(rank, len(fitting) - 1)] if fitting else None

    def _pool(self, field: Field, positive: Sequence[Atom], solved: Mapping[str, object]) -> list[object]:
        """Candidates: the fleet's values that fit every positive predicate, then constructed ones."""
        kind = kind_of(field.name)
        constructed: list[object] = []
        for atom in positive:
            constructed.extend(candidates(atom.expr, field))
        known = [
            v
            for v in self._known(field.name, positive[0].expr, False)
            if all(self.holds_alone(a.expr, field.name, v) for a in positive[1:])
        ]
        pool = known + constructed
        name = _name_for_path(field.name, solved)
        if kind == "path" and isinstance(name, str):  # the path ends in the name already chosen
            pool = (
                [_with_name(v, name) for v in pool if isinstance(v, str)]
                + ["C:\\Windows\\System32\\" + name]
                + pool
            )
        return sorted(dict.fromkeys(pool), key=lambda v: self._preference(positive, v))

    def _preference(self, atoms: Sequence[Atom], value: object) -> tuple[int, int]:
        """Witnesses that tell a list's patterns apart first: a value matching no other pattern of
        the list, with every ``*`` of its own pattern standing for something, kills more mutants."""
        others = unfilled = 0
        for atom in atoms:
            found = self._lists.get(atom.expr)
            if found is None or not isinstance(value, str):
                continue
            whole, index = found
            insensitive = whole.op != "like"
            for i, pattern in enumerate(whole.patterns):
                if (
                    i != index
                    and isinstance(pattern.value, str)
                    and eql_wildcard(pattern.value, insensitive).matches(value)
                ):
                    others += 1
            own = whole.patterns[index].value
            if isinstance(own, str):  # each `*` that can stand for nothing here is one a mutant may drop
                stars = [i for i, ch in enumerate(own) if ch == "*"]
                unfilled += sum(
                    not eql_wildcard(own[:i] + "?" + own[i:], insensitive).matches(value) for i in stars
                )
        return others, unfilled

    def _solve_array(
        self, field: Field, positive: Sequence[Atom], negative: Sequence[Atom], variant: bool, rank: int
    ) -> object:
        elements: list[object] = []
        for atom in positive:
            if elements and self.satisfied_alone(atom, field.name, elements):
                continue
            pool = sorted(
                dict.fromkeys([*self._known(field.name, atom.expr, True), *candidates(atom.expr, field)]),
                key=lambda v: self._preference([atom], v),
            )
            if variant:
                pool = [case_variant(v) for v in pool] + pool
            fitting: list[object] = []
            wanted = 0 if _literals(atom.expr) is not None else rank
            for value in dict.fromkeys(pool):
                single = [value]
                if self.satisfied_alone(atom, field.name, single) and all(
                    self.satisfied_alone(n, field.name, single) for n in negative
                ):
                    fitting.append(value)
                    if len(fitting) > wanted:
                        break
            if not fitting:
                return None
            elements.append(fitting[min(wanted, len(fitting) - 1)])
        if all(self.satisfied_alone(a, field.name, elements) for a in (*positive, *negative)):
            return elements
        return None


# A predicate that failed with an evaluation error: neither true nor false (see ``satisfied``).
_FAILED: Any = type("Failed", (), {"__repr__": lambda self: "FAILED"})()


def _one_pattern(expr: Expr) -> bool:
    return isinstance(expr, Match) and len(expr.patterns) == 1


def _typed(value: object) -> Hashable:
    """``value`` as a key that tells ``1``, ``1.0``, ``True`` and ``-0.0`` apart, as a document does."""
    if isinstance(value, list):
        return (list, tuple(_typed(v) for v in value))
    if isinstance(value, float):
        return (float, repr(value))
    return (type(value), value)


def _restricted(atom: Atom, alternative: int) -> Atom:
    """A positive list predicate narrowed to one of its alternatives, so a witness covers it."""
    expr = atom.expr
    if not atom.positive:
        return atom
    if isinstance(expr, Match) and len(expr.patterns) > 1:
        pattern = expr.patterns[alternative % len(expr.patterns)]
        return Atom(Match(expr.op, expr.subject, (pattern,), expr.span))
    if isinstance(expr, InSet) and len(expr.values) > 1:
        value = expr.values[alternative % len(expr.values)]
        return Atom(InSet(expr.subject, (value,), expr.insensitive, False, expr.span))
    return atom


_PATH_OF_NAME = {
    "process.executable": "process.name",
    "process.parent.executable": "process.parent.name",
    "file.path": "file.name",
    "dll.path": "dll.name",
}


def _name_for_path(path_field: str, solved: Mapping[str, object]) -> object:
    name_field = _PATH_OF_NAME.get(path_field)
    return None if name_field is None else solved.get(name_field)


def _with_name(path: str, name: str) -> str:
    folder = path.rsplit("\\", 1)[0] if "\\" in path else "C:\\Windows\\System32"
    return f"{folder}\\{name}"


def contradiction(solver: Solver, branch: Branch) -> str | None:
    """A field whose predicates no value can satisfy together, when that is certain, as text.

    Certain only where a positive predicate on the field lists literals (no wildcard, regex
    or function): a value must then be one of them in some letter case. Each literal is
    tried as written and in other cases; a candidate refused only by case-sensitive
    predicates proves nothing (a case not tried might pass), so it must be refused by a
    case-insensitive one or the literal must be exact. Expanding ``not (a and b)`` into
    branches makes many such dead ends.
    """
    by_field: dict[str, list[Atom]] = {}
    for atom in branch.atoms:
        if len(atom.fields) == 1:
            by_field.setdefault(atom.fields[0].name, []).append(atom)
    for name, atoms in by_field.items():
        as_list = name in ARRAY_FIELDS
        for atom in (a for a in atoms if a.positive):
            found = _literals(atom.expr)
            if found is None:
                continue
            # An array needs one element per positive predicate, each clear of every exclusion.
            judged = [atom, *(a for a in atoms if not a.positive)] if as_list else atoms
            if all(
                _refuted(solver, name, v, judged, as_list, exact=not insensitive(atom.expr))
                for v in _cased(found)
            ):
                return f"{name}: " + " and ".join(map(str, judged))
    return None


def _refuted(
    solver: Solver, name: str, value: object, atoms: Sequence[Atom], as_list: bool, exact: bool
) -> bool:
    held = [value] if as_list else value
    failing = [a for a in atoms if not solver.satisfied_alone(a, name, held)]
    return bool(failing) and (exact or any(insensitive(a.expr) for a in failing))


def _literals(expr: Expr) -> list[object] | None:
    if isinstance(expr, Match) and expr.op in (":", "like", "like~"):
        values = [p.value for p in expr.patterns]
        if all(isinstance(v, str) and "*" not in v and "?" not in v for v in values):
            return list(values)
        return None
    if isinstance(expr, InSet) and all(isinstance(v, Literal) for v in expr.values):
        return [v.value for v in expr.values if isinstance(v, Literal)]
    if isinstance(expr, Comparison) and expr.op == "==" and isinstance(expr.right, Literal):
        return [expr.right.value]
    return None


def insensitive(expr: Expr) -> bool:
    """Whether the predicate compares letters case-insensitively (``:``, ``~`` forms, ``in~``)."""
    if isinstance(expr, Match):
        return expr.op in (":", "like~", "regex~")
    if isinstance(expr, (InSet, FunctionCall)):
        return expr.insensitive
    return False


def _cased(values: list[object]) -> list[object]:
    out: list[object] = []
    for value in values:
        out.append(value)
        if isinstance(value, str):
            out.extend((value.upper(), value.lower(), value.swapcase()))
    return out
