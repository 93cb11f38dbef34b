"""Field lookup: every spelling of a path (dotted keys, nested objects, both), in time linear in the path."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness.eql import compile_query
from harness.eql.fields import Scalar, field_values
from harness.eql.getters import SharedReads, compile_getter

SEGMENTS = ("a", "b", "c", "d")
KEYS = st.sampled_from(["a", "b", "c", "d", "a.b", "b.c", "c.d", "a.b.c", "b.c.d", "a.b.c.d", "x"])
LEAF = st.one_of(st.integers(0, 3), st.sampled_from(["v", "w"]), st.none())
DOCUMENTS = st.recursive(
    st.dictionaries(KEYS, LEAF, max_size=3),
    lambda children: st.one_of(
        st.dictionaries(KEYS, st.one_of(LEAF, children), max_size=4),
        st.lists(st.one_of(LEAF, children), max_size=3),
    ),
    max_leaves=12,
)


def _every_split(node: Any, path: tuple[str, ...]) -> Iterator[Scalar]:
    """The definition, spelled out: try every split of the path into keys (exponential)."""
    if not path:
        if isinstance(node, (list, tuple)):
            for item in node:
                yield from _every_split(item, path)
        elif isinstance(node, (str, int, float, bool)):
            yield node
        return
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _every_split(item, path)
    elif isinstance(node, Mapping):
        for cut in range(1, len(path) + 1):
            key = ".".join(path[:cut])
            if key in node:
                yield from _every_split(node[key], path[cut:])


@given(DOCUMENTS, st.integers(1, len(SEGMENTS)))
def test_field_values_follow_every_spelling(document: Any, size: int) -> None:
    path = SEGMENTS[:size]
    event = {"root": document}
    expected = list(_every_split(event, ("root", *path)))
    assert field_values(event, ("root", *path)) == expected
    assert compile_getter(("root", *path))(event) == expected


class _Text(str):
    """A string that is not exactly ``str``."""


def _abstract(node: Any) -> Any:
    """``node`` in the other types JSON-like values come in: a read-only mapping, tuples, str subclasses."""
    if isinstance(node, dict):
        return MappingProxyType({key: _abstract(child) for key, child in node.items()})
    if isinstance(node, list):
        return tuple(_abstract(item) for item in node)
    return _Text(node) if isinstance(node, str) else node


@given(DOCUMENTS, st.integers(1, len(SEGMENTS)))
def test_field_values_read_any_mapping_and_sequence_alike(document: Any, size: int) -> None:
    # The walk tells dicts, strings and lists by exact type first: the abstract types must agree.
    path = ("root", *SEGMENTS[:size])
    event = {"root": document}
    assert field_values(_abstract(event), path) == field_values(event, path)


def test_field_values_read_a_shared_object_once_per_position() -> None:
    shared = {"b": "v"}
    assert field_values({"a": [shared, shared]}, ("a", "b")) == ["v"]
    assert field_values({"a": [{"b": "v"}, {"b": "v"}]}, ("a", "b")) == ["v", "v"]
    # Reached through two spellings of the same segments, after a walk down single keys.
    path = ("z", "a", "b", "b")
    assert field_values({"z": {"a": {"b": shared}, "a.b": shared}}, path) == ["v"]
    assert field_values({"z": {"a": {"b": {"b": "v"}}, "a.b": {"b": "v"}}}, path) == ["v", "v"]


def _nested(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    document: Any = value
    for segment in reversed(path):
        document = {segment: document}
    assert isinstance(document, dict)
    return document


def test_a_thousand_segment_path_resolves_in_every_spelling() -> None:
    # Trying every split of the path would be 2**999 lookups: this finishes only if lookup is linear.
    path = tuple(f"s{i}" for i in range(1000))
    query = "any where " + ".".join(path) + " == 1"
    flat = {".".join(path): 1}
    half = {".".join(path[:500]): _nested(path[500:], 1)}
    for engine in ("reference", "compiled"):
        matcher = compile_query(query, engine=engine)
        for document in (_nested(path, 1), flat, half):
            assert matcher.matches(document)
        assert not matcher.matches(_nested(path, 2))


def test_shared_objects_are_walked_once() -> None:
    # Each object holds the next one both nested and under a dotted key: without
    # memoization on (object, position) the walk doubles at every level.
    size = 60
    path = tuple(f"s{i}" for i in range(size))
    reads = [0]

    class Counted(dict[str, Any]):
        """An object that counts how often the walk reads it (the work, without a clock)."""

        def items(self) -> Any:
            reads[0] += 1
            return super().items()

        def __contains__(self, key: object) -> bool:
            reads[0] += 1
            return super().__contains__(key)

    nodes: list[Any] = [None] * (size + 2)
    nodes[size] = 1
    for i in range(size - 1, -1, -1):
        node = Counted({path[i]: nodes[i + 1]})
        if i + 1 < size:
            node[f"{path[i]}.{path[i + 1]}"] = nodes[i + 2]
        nodes[i] = node
    assert set(field_values(nodes[0], path)) == {1}
    # Once per object and position: a few reads per object, where doubling would make 2**60.
    assert 0 < reads[0] <= 4 * size


@given(st.lists(DOCUMENTS, min_size=1, max_size=4), st.integers(1, len(SEGMENTS)))
def test_shared_reads_give_each_event_its_own_values_read_once(documents: list[Any], size: int) -> None:
    path = ("root", *SEGMENTS[:size])
    events = [{"root": document} for document in documents]
    reads: list[int] = []
    getter = compile_getter(path)

    def counted(event: Mapping[str, Any]) -> list[Scalar]:
        reads.append(id(event))
        return getter(event)

    shared = SharedReads(compile=lambda _: counted)
    one, other = shared.getter(path), shared.getter(path)
    assert one is other  # why: every query reading the path is handed the one getter
    for event in events:
        # why: the values are the event's own, however many queries ask, and one walk gives them
        assert one(event) == other(event) == one(event) == getter(event)
    # why: a new event (a new object) is read again, an event asked again in a row is not
    assert len(reads) == len(events)
