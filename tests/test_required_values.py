"""The values a query cannot match without, and the lookup that skips queries an event cannot match."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.eql import compile_query, parse_query
from harness.eql.required_values import RequiredValue, ascii_lower, required_values
from harness.validation.keyed_tests import KeyedTests


def _key(query: str) -> set[tuple[str, str, bool]] | None:
    found = required_values(parse_query(query))
    return None if found is None else {(".".join(r.path), r.value, r.folded) for r in found}


@pytest.mark.parametrize(
    ("query", "key"),
    [
        (
            'process where process.name : ("CMD.exe", "pwsh.exe")',
            {("process.name", "cmd.exe", True), ("process.name", "pwsh.exe", True)},
        ),
        ('process where process.name == "CMD.exe"', {("process.name", "CMD.exe", False)}),
        (
            'process where process.name in ("a", "B")',
            {("process.name", "a", False), ("process.name", "B", False)},
        ),
        ('process where process.name in~ ("B")', {("process.name", "b", True)}),
        ('process where process.name like "X.exe"', {("process.name", "X.exe", False)}),
        # an or over two fields: either value will do
        (
            'process where process.name : "appcmd.exe" or ?process.pe.original_file_name == "appcmd.exe"',
            {("process.name", "appcmd.exe", True), ("process.pe.original_file_name", "appcmd.exe", False)},
        ),
        # the fewest values, but not on a field every event holds one of a few values of
        (
            'process where host.os.type == "windows" and process.name : ("a.exe", "b.exe")',
            {("process.name", "a.exe", True), ("process.name", "b.exe", True)},
        ),
        ('process where host.os.type == "windows"', {("host.os.type", "windows", False)}),
        # an or of conjunctions: each branch's own key, the union of them
        (
            'process where (process.name : "a.exe" and process.args : "x") or '
            '(host.os.type == "windows" and process.parent.name == "B.exe")',
            {("process.name", "a.exe", True), ("process.parent.name", "B.exe", False)},
        ),
        (
            'process where host.os.type == "windows" and '
            '((process.name : "a.exe" and process.pid == 4) or process.name : "bench-copy-1.exe")',
            {("process.name", "a.exe", True), ("process.name", "bench-copy-1.exe", True)},
        ),
    ],
)
def test_a_key_is_the_values_a_conjunct_names(query: str, key: set[tuple[str, str, bool]]) -> None:
    assert _key(query) == key


@pytest.mark.parametrize(
    "query",
    [
        'process where process.name : "cmd*.exe"',  # a wildcard: no exact value
        'process where process.name : "cm?.exe"',
        'process where not process.name : "cmd.exe"',
        'process where process.name : "cmd.exe" or process.pid == 4',  # a branch without a key
        'process where process.name : "cmd.exe" or (process.pid == 4 and process.ppid == 1)',
        'process where process.name != "cmd.exe"',
        "process where process.pid == 4",
        'process where process.name : "cmd.exe" and length(process.command_line) > 3',  # can fail the search
        'process where process.name : "cmd.exe" and process.pid + 1 > 3',
        'process where process.name regex "cmd.exe"',
        "process where true",
    ],
)
def test_what_gives_no_key(query: str) -> None:
    assert required_values(parse_query(query)) is None


def test_ascii_lower_folds_only_ascii_letters() -> None:
    # why: the matcher folds ASCII letters only (patterns.py): "İ" and "É" stay themselves
    assert ascii_lower("CMD.EXE") == "cmd.exe"
    assert ascii_lower("LİST É") == "lİst É"


_NAMES = ["cmd.exe", "CMD.EXE", "Cmd.exe", "cmd.exe ", "cmdİ.exe", "pwsh.exe", "", "x"]
_VALUES = st.one_of(st.sampled_from(_NAMES), st.integers(-2, 2), st.booleans(), st.none())
_FIELDS = ["process.name", "process.parent.name"]


@st.composite
def _conjunct(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(_FIELDS))
    names = draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3))
    quoted = ", ".join(f'"{name}"' for name in names)
    shape = draw(st.sampled_from([":", "==", "in", "in~", "like", "like~", "or", "or-and"]))
    if shape == "or":
        other = draw(st.sampled_from(_FIELDS))
        return f'({field} : "{names[0]}" or {other} == "{names[-1]}")'
    if shape == "or-and":  # a branch that is a conjunction, keyed by one of its conjuncts
        other = draw(st.sampled_from(_FIELDS))
        return f'(({field} : "{names[0]}" and {other} like~ "{names[-1]}") or {other} in ("{names[0]}"))'
    if shape in (":", "like", "like~"):
        return f"{field} {shape} ({quoted})"
    if shape == "==":
        return f'{field} == "{names[0]}"'
    return f"{field} {shape} ({quoted})"


@st.composite
def _document(draw: st.DrawFn) -> dict[str, Any]:
    def value() -> Any:
        return draw(st.one_of(_VALUES, st.lists(_VALUES, max_size=3)))

    document: dict[str, Any] = {"event": {"category": "process"}}
    if draw(st.booleans()):
        document["process"] = {"name": value(), "parent": {"name": value()}}
    else:  # dotted keys, as some shippers write them
        document["process.name"] = value()
        document["process.parent.name"] = value()
    return document


@given(st.lists(_conjunct(), min_size=1, max_size=3), st.lists(_document(), min_size=1, max_size=8))
@settings(max_examples=300, deadline=None)
def test_a_query_an_event_is_not_looked_up_for_does_not_match_it(
    conjuncts: list[str], documents: list[dict[str, Any]]
) -> None:
    query = parse_query("process where " + " and ".join(conjuncts))
    key = required_values(query)
    assert key is not None  # why: every drawn conjunct names exact values
    reference = compile_query(str(query), engine="reference")
    compiled = compile_query(str(query), engine="compiled")
    keyed = KeyedTests([(0, compiled.matches, key)])
    for document in documents:
        # why: skipping a query the lookup leaves out must never lose a match, in either engine
        if 0 not in keyed.candidates(document):
            assert not reference.matches(document) and not compiled.matches(document), (str(query), document)


def test_the_lookup_finds_a_query_by_any_value_of_an_array_and_any_case() -> None:
    key = (RequiredValue(("process", "name"), "cmd.exe", True),)
    keyed = KeyedTests([(3, lambda event: True, key)])
    assert keyed.candidates({"process": {"name": ["a.exe", "CMD.EXE"]}}) == {3}
    assert keyed.candidates({"process": {"name": ["a.exe"]}}) == set()
    assert keyed.candidates({"process": {"name": 7}}) == {3}  # a number: the matcher judges it
    assert keyed.candidates({"process.name": "Cmd.Exe"}) == {3}
