"""What solving learns about predicates, kept for every query that has the same ones.

Rules share sub-conditions: a sample's rules name the same binaries and exclusions, and the
many-rule benchmark's copies differ from their original by one branch. A predicate judged
alone, the vocabulary's values that satisfy it, and a branch's solution depend only on the
predicates (frozen AST nodes, equal whatever their spans) and on how a field is read: the
category field and the mapping. So each is worked out once per process rather than once per
query, for queries read without a mapping (a mapping holds dicts, so it cannot be a key; a
solver given one keeps its own).

Every cache is bounded and keyed on immutable values only, so no test or rule can see
another's state, only the same answer sooner.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from functools import lru_cache
from typing import Any, Generic, TypeVar

from harness.eql.ast import Expr, Query
from harness.eql.evaluator import Evaluator
from harness.eql.mapping import FieldMapping

__all__ = [
    "Bounded",
    "Key",
    "canonical",
    "compiled_predicate",
    "forget",
    "judged_alone",
    "known_fits",
    "predicate_test",
    "recalled",
    "remember",
]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

# Distinct predicates and solved branches of a few hundred rules fit several times over.
_PREDICATES = 8192
_SOLUTIONS = 8192
# A predicate is tried on a few dozen candidates of its field.
_JUDGED = 1 << 16


@lru_cache(maxsize=_PREDICATES)
def predicate_test(expr: Expr, category_field: str) -> Callable[[Mapping[str, Any]], bool]:
    """``expr`` alone, compiled by the reference evaluator, for a query read without a mapping."""
    return compiled_predicate(expr, category_field, None)


def compiled_predicate(
    expr: Expr, category_field: str, mapping: FieldMapping | None
) -> Callable[[Mapping[str, Any]], bool]:
    """``expr`` alone as a ``Matcher`` judges it with the reference engine, without the searcher a
    matcher also builds (the same evaluator again)."""
    return Evaluator(Query(None, expr), category_field=category_field, mapping=mapping).predicate()


class Key:
    """Values that together name a cache entry, hashed once: an AST node's hash walks its whole
    tree, and a branch's atoms can hold lists of hundreds of patterns."""

    __slots__ = ("_hash", "parts")

    def __init__(self, *parts: Hashable) -> None:
        self.parts = parts
        self._hash = hash(parts)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key) and self._hash == other._hash and self.parts == other.parts


class Bounded(Generic[_K, _V]):
    """A least-recently-used map of at most ``size`` entries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[_K, _V] = OrderedDict()

    def get(self, key: _K) -> _V | None:
        try:
            self._entries.move_to_end(key)
        except KeyError:
            return None
        return self._entries[key]

    def put(self, key: _K, value: _V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


# A field's known values that satisfy a predicate: (name, expr, as_list, category field) -> values.
known_fits: Bounded[Hashable, tuple[object, ...]] = Bounded(_PREDICATES)
# A predicate's outcome on a document holding one field: (compiled test, field, typed value) -> outcome.
judged_alone: Bounded[Hashable, object] = Bounded(_JUDGED)
# One key per set of a branch's atoms: equal keys compare by identity, not tree by tree.
_canonical: Bounded[Key, Key] = Bounded(_SOLUTIONS)
# A branch's solution: (category field, atoms, their lists, variant, rank) -> values, or None.
_solutions: Bounded[Hashable, tuple[dict[str, object] | None]] = Bounded(_SOLUTIONS)


def canonical(key: Key) -> Key:
    """The first key made equal to ``key`` and still kept, else ``key`` itself."""
    found = _canonical.get(key)
    if found is None:
        _canonical.put(key, key)
        return key
    return found


def recalled(key: Hashable) -> tuple[dict[str, object] | None] | None:
    """The values solved for ``key`` (None where it has none) as a 1-tuple; None if never solved.

    A copy: a caller may change the dict, or a list in it.
    """
    found = _solutions.get(key)
    return None if found is None else (_copied(found[0]),)


def remember(key: Hashable, values: dict[str, object] | None) -> None:
    _solutions.put(key, (_copied(values),))


def _copied(values: dict[str, object] | None) -> dict[str, object] | None:
    # A solved value is a scalar or a list of scalars.
    if values is None:
        return None
    return {name: list(value) if isinstance(value, list) else value for name, value in values.items()}


def forget() -> None:
    """Empty every cache: a test proves a derivation's answer does not depend on what came before."""
    predicate_test.cache_clear()
    known_fits.clear()
    judged_alone.clear()
    _solutions.clear()
    _canonical.clear()
