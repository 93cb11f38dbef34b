"""Derived events grouped into changes: one per change of the predicates, its variants counted under it."""

from __future__ import annotations

from typing import Any

from harness.eql import parse_query
from harness.validation.change_groups import Grouper
from harness.validation.derived_diff import GAINED, LOST, DerivedEvent, group_changes

OLD = parse_query(
    'process where (process.name : "appcmd.exe" or ?process.pe.original_file_name == "appcmd.exe") and '
    'process.args : "/text*"'
)
NEW = parse_query(
    'process where (process.name : "appcmd.exe" or ?process.pe.original_file_name == "appcmd.exe") and '
    '(process.args : ("/text:*password*", "/config") or process.args == "/text:*")'
)


def _event(event_id: str, args: list[str], *, pe: bool = False) -> DerivedEvent:
    """An AppCmd start with ``args``, named by ``process.name`` or (``pe``) its PE original file name."""
    process: dict[str, Any] = {"args": args}
    if pe:
        process["pe"] = {"original_file_name": "appcmd.exe"}
    else:
        process["name"] = "AppCmd.exe"
    document = {"event": {"category": ["process"]}, "process": process}
    return DerivedEvent(
        event_id, "base", f"{event_id} {args}", {"process.args": args}, ("endpoint",), document
    )


def _grouper() -> Grouper:
    return Grouper(OLD, NEW, old_name="old", new_name="new")


def test_case_variants_and_the_other_branch_are_one_change() -> None:
    events = [
        _event("a", ["list", "/TEXT:*"]),
        _event("b", ["LIST", "/Text:*"]),
        _event("c", ["list", "/TEXT:*"], pe=True),
    ]
    (change,) = group_changes(_grouper(), LOST, events)
    assert [e.id for e in change.events] == ["a", "b", "c"] and change.variants == 2
    assert change.why.startswith('letter case: in lower case new\'s `process.args == "/text:*"` holds too')


def test_a_loss_case_does_not_explain_is_another_change() -> None:
    events = [_event("upper", ["list", "/TEXT:*"]), _event("name", ["list", "/text:name"])]
    upper, name = group_changes(_grouper(), LOST, events)
    assert (upper.example.id, name.example.id) == ("upper", "name")
    assert name.why == 'of the changed predicates, only old\'s `process.args : "/text*"` holds'


def test_each_pattern_of_a_list_is_a_predicate_of_its_own() -> None:
    events = [_event("config", ["list", "/config"]), _event("CONFIG", ["LIST", "/CONFIG"])]
    (change,) = group_changes(_grouper(), GAINED, events)
    assert change.why == 'of the changed predicates, only new\'s `process.args : "/config"` holds'
    assert change.per_source() == {"endpoint": 2}
    assert _grouper().fields == ("process.args",)  # process.name and the PE name are shared


def test_the_same_predicates_combined_otherwise_still_tell_events_apart() -> None:
    old = parse_query('process where process.name : "a.exe" and process.args : "x"')
    new = parse_query('process where process.name : "a.exe" or process.args : "x"')
    grouper = Grouper(old, new, old_name="old", new_name="new")
    values = {"process.name": "", "process.args": ""}
    only_name = DerivedEvent("n", "base", "", values, (), {"process": {"name": "a.exe", "args": ["y"]}})
    only_args = DerivedEvent("x", "base", "", values, (), {"process": {"name": "b.exe", "args": ["x"]}})
    assert len(group_changes(grouper, GAINED, [only_name, only_args])) == 2


def test_a_predicate_that_holds_by_accident_of_a_fill_does_not_split_a_change() -> None:
    old = parse_query(
        'process where (process.name : "a.exe" or ?process.pe.original_file_name == "A.EXE") and '
        'process.args : "x"'
    )
    new = parse_query(
        'process where (process.name : "a.exe" or ?process.pe.original_file_name : "a.exe") and '
        'process.args : "x" and not user.name : "backup*"'
    )
    grouper = Grouper(old, new, old_name="old", new_name="new")
    start: dict[str, Any] = {"category": ["process"]}
    plain = {"event": start, "process": {"name": "a.exe", "args": ["x"]}, "user": {"name": "backup1"}}
    # The fleet gave this one a version resource: OLD's changed PE predicate holds, but
    # process.name alone makes OLD alert, so it is not why the versions disagree.
    image = {"name": "a.exe", "args": ["x"], "pe": {"original_file_name": "A.EXE"}}
    signed = {"event": start, "process": image, "user": {"name": "backup2"}}
    events = [DerivedEvent(n, "base", "", {}, (), d) for n, d in (("plain", plain), ("signed", signed))]
    (change,) = group_changes(grouper, LOST, events)
    assert change.why == 'of the changed predicates, only new\'s `user.name : "backup*"` holds'
