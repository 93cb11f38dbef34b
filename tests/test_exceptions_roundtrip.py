"""Any exception set written as NDJSON or TOML reads back equal, byte for byte the same on a second write."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import harness.exceptions as exc
from harness.exceptions.model import OPERATORS, OS_TYPES, Entry, NestedChild

# Quotes, backslashes, control characters, DEL, non-ASCII and astral text: what breaks a writer's escaping.
TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(lambda s: bool(s.strip()))
FIELD = st.sampled_from(["process.name", "process.args", "user.name", "file.path", "a.b"])


def _child() -> st.SearchStrategy[NestedChild]:
    return st.one_of(
        st.builds(exc.Match, FIELD, TEXT, st.sampled_from(OPERATORS)),
        st.builds(
            exc.MatchAny, FIELD, st.lists(TEXT, min_size=1, max_size=3).map(tuple), st.sampled_from(OPERATORS)
        ),
        st.builds(exc.Exists, FIELD, st.sampled_from(OPERATORS)),
    )


ENTRY: st.SearchStrategy[Entry] = st.one_of(
    _child(),
    st.builds(exc.Wildcard, FIELD, TEXT, st.sampled_from(OPERATORS)),
    st.builds(exc.ListEntry, FIELD, st.just("values.txt"), st.just("keyword"), st.sampled_from(OPERATORS)),
    st.builds(exc.Nested, FIELD, st.lists(_child(), min_size=1, max_size=2).map(tuple)),
)
ITEM = st.builds(
    exc.ExceptionItem,
    item_id=TEXT,
    list_id=st.just("the-list"),
    name=TEXT,
    description=st.text(max_size=8),
    entries=st.lists(ENTRY, min_size=1, max_size=3).map(tuple),
    os_types=st.lists(st.sampled_from(OS_TYPES), max_size=2, unique=True).map(tuple),
    tags=st.lists(TEXT, max_size=2).map(tuple),
    comments=st.lists(TEXT, max_size=2).map(tuple),
    expire_time=st.one_of(st.none(), st.just("2027-01-01T00:00:00.000Z")),
)
LIST = exc.ExceptionList("the-list", "The list", "for tests")


@pytest.mark.parametrize(
    ("write", "name"),
    [(exc.write_ndjson, "x.ndjson"), (exc.write_toml, "x.exceptions.toml")],
    ids=["ndjson", "toml"],
)
@given(items=st.lists(ITEM, min_size=1, max_size=3, unique_by=lambda item: item.item_id))
@settings(max_examples=60, deadline=None)
def test_written_exceptions_read_back_equal(
    write: Callable[[exc.ExceptionSet, Path], None], name: str, items: list[exc.ExceptionItem]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "values.txt").write_text("a\nb\n", encoding="utf-8")
        original = exc.ExceptionSet(items=tuple(items), lists=(LIST,))
        write(original, Path(folder) / name)
        again = exc.load_exceptions(Path(folder) / name)
        assert (again.items, again.lists) == (original.items, original.lists)
        first = (Path(folder) / name).read_bytes()
        write(again, Path(folder) / name)
        assert (Path(folder) / name).read_bytes() == first
