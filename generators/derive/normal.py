"""A condition as a disjunction of conjunctive branches of signed atoms.

Negation is pushed down to the atoms (De Morgan), so each branch is a list of
predicates each of which must hold (``positive``) or must not (``negative``). The
forms Elasticsearch runs as negations are read as such: ``!=`` is ``not ==`` and
``not in`` is ``not (in)`` (``Evaluator.compile_condition``), both true when the
field is missing. A ``:`` with a list of patterns and an ``in`` with a list of values
stay one atom: the solver covers each alternative across the branch's witnesses
instead of multiplying branches.

The expansion is bounded. Past ``cap`` branches it stops multiplying and returns a
covering set instead (branch ``i`` takes alternative ``i`` of each ``or``), so every
alternative still appears in some branch; ``truncated`` says that happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import product

from harness.eql.ast import And, Comparison, Expr, Field, InSet, Literal, Not, Or, format_expr, walk

__all__ = ["DEFAULT_BRANCH_CAP", "Atom", "Branch", "Branches", "branches", "fields_of"]

DEFAULT_BRANCH_CAP = 64


@dataclass(frozen=True)
class Atom:
    """One predicate of a branch, to hold (``positive``) or to fail."""

    expr: Expr
    positive: bool = True

    @cached_property
    def fields(self) -> tuple[Field, ...]:
        # Asked for each time the solver, the near misses and the renderings look at an atom: the
        # tree is walked once. (Kept beside the fields, it takes no part in equality or hashing.)
        return fields_of(self.expr)

    def negated(self) -> Atom:
        return Atom(self.expr, not self.positive)

    def __str__(self) -> str:
        text = format_expr(self.expr)
        return text if self.positive else f"not ({text})"


@dataclass(frozen=True)
class Branch:
    """The atoms one event must satisfy together, with its position among the branches."""

    index: int
    atoms: tuple[Atom, ...]

    @property
    def positive(self) -> tuple[Atom, ...]:
        return tuple(a for a in self.atoms if a.positive)

    @property
    def negative(self) -> tuple[Atom, ...]:
        return tuple(a for a in self.atoms if not a.positive)

    def __str__(self) -> str:
        return " and ".join(str(a) for a in self.atoms) or "true"


@dataclass(frozen=True)
class Branches:
    branches: tuple[Branch, ...]
    truncated: bool  # the full expansion has more than the cap: these only cover every alternative
    full_count: int  # how many branches the full expansion has


def fields_of(node: Expr) -> tuple[Field, ...]:
    """The fields ``node`` reads, first occurrence first."""
    seen: dict[str, Field] = {}
    for sub in walk(node):
        if isinstance(sub, Field) and sub.name not in seen:
            seen[sub.name] = sub
    return tuple(seen.values())


def branches(condition: Expr, cap: int = DEFAULT_BRANCH_CAP) -> Branches:
    """The branches of ``condition``, at most ``cap`` of them."""
    if cap < 1:
        raise ValueError(f"the branch cap must be at least 1, not {cap}")
    terms = _terms(condition, True)
    full = _count(terms)
    if full <= cap:
        chosen = [_dedupe(atoms) for atoms in _expand(terms)]
    else:
        width = _widest(terms)
        chosen = [_dedupe(_pick(terms, i)) for i in range(min(cap, width))]
    unique = list(dict.fromkeys(chosen))
    return Branches(tuple(Branch(i, atoms) for i, atoms in enumerate(unique)), full > cap, full)


# A term is an atom, an all-of (tuple of terms, "and") or an any-of (list of terms, "or").
_Term = Atom | tuple["_Term", ...] | list["_Term"]


def _terms(node: Expr, positive: bool) -> _Term:
    match node:
        case Not(operand=operand):
            return _terms(operand, not positive)
        case And(operands=operands):
            parts = [_terms(o, positive) for o in operands]
            return tuple(parts) if positive else parts
        case Or(operands=operands):
            parts = [_terms(o, positive) for o in operands]
            return parts if positive else tuple(parts)
        case Comparison(op="!=", left=left, right=right):
            return Atom(Comparison("==", left, right, node.span), not positive)
        case InSet(negated=True):
            return Atom(InSet(node.subject, node.values, node.insensitive, False, node.span), not positive)
        case Literal(value=bool() as value):
            return () if value is positive else []  # true: nothing to satisfy; false: no branch
    return Atom(node, positive)


def _count(term: _Term) -> int:
    if isinstance(term, Atom):
        return 1
    if isinstance(term, tuple):
        total = 1
        for part in term:
            total *= _count(part)
            total = min(total, 1 << 62)
        return total
    return min(sum(_count(part) for part in term), 1 << 62)


def _expand(term: _Term) -> Iterator[tuple[Atom, ...]]:
    if isinstance(term, Atom):
        yield (term,)
    elif isinstance(term, tuple):
        for combination in product(*(list(_expand(part)) for part in term)):
            yield tuple(atom for atoms in combination for atom in atoms)
    else:
        for part in term:
            yield from _expand(part)


def _widest(term: _Term) -> int:
    """How many covering branches it takes for every alternative to appear once."""
    if isinstance(term, Atom):
        return 1
    if isinstance(term, tuple):
        return max((_widest(part) for part in term), default=1)
    return max(1, sum(_widest(part) for part in term))


def _pick(term: _Term, i: int) -> tuple[Atom, ...]:
    if isinstance(term, Atom):
        return (term,)
    if isinstance(term, tuple):
        return tuple(atom for part in term for atom in _pick(part, i))
    if not term:
        return ()
    # Alternative i of an any-of, counting each alternative's own covering branches.
    widths = [_widest(part) for part in term]
    k = i % sum(widths)
    for part, width in zip(term, widths, strict=True):
        if k < width:
            return _pick(part, k)
        k -= width
    raise AssertionError("unreachable")


def _dedupe(atoms: tuple[Atom, ...]) -> tuple[Atom, ...]:
    return tuple(dict.fromkeys(atoms))
