"""Solving shared between queries: a rule derives the same cases whatever was derived before it.

Predicates, the vocabulary's values that fit them, and branch solutions are kept per process
(``generators.derive.shared``); these queries share branches and lists but differ elsewhere, so
a key that left out anything an answer depends on would hand one query another's answer.
"""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from generators.derive import derive, shared, solve
from generators.derive.shared import Bounded, Key, forget
from harness.eql import parse_query
from harness.eql.mapping import FieldMapping

QUERIES = (
    # One branch as the next query has it, one of its own.
    'process where (process.name : ("a*.exe", "rundll32.exe") and process.args : "-enc") '
    'or process.parent.name : "x.exe"',
    # The same branch with an exclusion: the same lists, another answer.
    'process where process.name : ("a*.exe", "rundll32.exe") and process.args : "-enc" '
    'and not process.executable : "C:\\\\Temp\\\\*"',
    # A pattern of that list on its own, after the list narrowed to it (it orders candidates).
    'process where process.name : ("rundll32.exe", "b?.exe") or '
    '(process.name : "rundll32.exe" and process.args : ("-enc", "/c"))',
    # A pattern standing alone, once as part of an earlier list (whose other patterns then order
    # its candidates) and once not.
    'process where process.name : ("*cmd*", "*.exe") or process.name : "*cmd*"',
    'process where process.name : "*cmd*"',
    # The same predicates in another case and with an optional field.
    'process where process.name : ("A*.EXE", "rundll32.exe") and ?process.args : "-enc"',
)


def _derived(text: str, mapping: FieldMapping | None = None) -> bytes:
    derivation = derive(parse_query(text), name="shared", mapping=mapping)
    # Documents are left out of equality and repr: they are compared too, each rendering's included.
    witnesses = [[w.document, *(r.document for r in w.renderings)] for w in derivation.witnesses]
    near_misses = [[n.document, *(r.document for r in n.renderings)] for n in derivation.near_misses]
    return orjson.dumps([dataclasses.asdict(derivation), witnesses, near_misses], default=repr)


@pytest.fixture(scope="module")
def alone() -> dict[str, bytes]:
    """Each query derived with nothing shared: every solver works everything out for itself."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(solve, "predicate_test", shared.predicate_test.__wrapped__)
        patch.setattr(solve, "known_fits", Bounded(0))
        patch.setattr(solve, "judged_alone", Bounded(0))
        patch.setattr(solve, "recalled", lambda key: None)
        patch.setattr(solve, "remember", lambda key, values: None)
        return {text: _derived(text) for text in QUERIES}


# In order, backwards, and two shuffles: each query after others that share its predicates.
ORDERS = [(0, 1, 2, 3, 4, 5), (5, 4, 3, 2, 1, 0), (1, 4, 0, 5, 2, 3), (2, 5, 3, 0, 4, 1)]


@pytest.mark.parametrize("order", ORDERS)
def test_a_query_derives_the_same_after_others(alone: dict[str, bytes], order: tuple[int, ...]) -> None:
    forget()
    for index in order:
        assert _derived(QUERIES[index]) == alone[QUERIES[index]], QUERIES[index]


def test_a_query_derives_the_same_twice(alone: dict[str, bytes]) -> None:
    for text in QUERIES:
        assert _derived(text) == alone[text]


def test_a_mapping_keeps_its_own_answers() -> None:
    # A mapping cannot be a key: a solver given one keeps to its own caches.
    mapping = FieldMapping({"process.name": "keyword", "process.args": "keyword"})
    forget()
    first = [_derived(text, mapping) for text in QUERIES]
    for text in QUERIES:
        _derived(text)
    assert [_derived(text, mapping) for text in reversed(QUERIES)] == first[::-1]


@pytest.mark.parametrize(
    "text",
    [
        "process where process.pid == 1",
        'process where string(process.pid) : "-0.0"',
        'process where process.args : "1"',
    ],
)
def test_a_predicate_alone_tells_values_of_equal_hash_apart(text: str) -> None:
    # 1, 1.0 and True are one dict key to Python, 0.0 and -0.0 too; not to a document.
    forget()
    expr = parse_query(text).condition
    solver = solve.Solver(parse_query(text), mapping=None, category_field="event.category")
    for value in (1, True, 1.0, 0.0, -0.0, "1", [1], [True], [1.0], ["1"], solve.MISSING, [], [[1]]):
        document = solve.document_of({"process.pid": value})
        assert solver.holds_alone(expr, "process.pid", value) == solver.holds(expr, document), value
        args = solve.document_of({"process.args": value})
        assert solver.holds_alone(expr, "process.args", value) == solver.holds(expr, args), value


def test_keys_hash_once_and_compare_by_value() -> None:
    assert Key("a", (1, 2)) == Key("a", (1, 2)) and hash(Key("a", (1, 2))) == hash(("a", (1, 2)))
    assert Key("a", (1, 2)) != Key("a", (2, 1)) and Key("a") != ("a",)


def test_bounded_forgets_the_least_recently_used() -> None:
    cache: Bounded[str, int] = Bounded(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
