"""Loading and writing exceptions: Kibana's export shapes, the TOML form, errors that say where."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import harness.exceptions as exc
from harness.errors import HarnessError, InputError, UsageError
from harness.exceptions import load_exceptions

LIST = {
    "_version": "WzEsMV0=",
    "created_at": "2026-01-02T03:04:05.000Z",
    "created_by": "elastic",
    "description": "Monitoring noise",
    "id": "5e4a-list",
    "immutable": False,
    "list_id": "v214",
    "name": "v214 exceptions",
    "namespace_type": "single",
    "os_types": [],
    "tags": [],
    "tie_breaker_id": "t1",
    "type": "detection",
    "updated_at": "2026-01-02T03:04:05.000Z",
    "updated_by": "elastic",
    "version": 1,
}
ITEM = {
    "comments": [
        {"comment": "seen weekly", "created_at": "2026-01-02T03:04:05.000Z", "created_by": "e", "id": "c"}
    ],
    "created_at": "2026-01-02T03:04:05.000Z",
    "created_by": "elastic",
    "description": "app pool listing",
    "entries": [
        {"field": "process.args", "operator": "included", "type": "match", "value": "/text:name"},
        {"field": "user.name", "operator": "excluded", "type": "match_any", "value": ["a", "b"]},
    ],
    "id": "9f-item",
    "item_id": "monitoring",
    "list_id": "v214",
    "name": "Monitoring scripts",
    "namespace_type": "single",
    "os_types": ["windows"],
    "tags": [],
    "tie_breaker_id": "t2",
    "type": "simple",
    "updated_at": "2026-01-02T03:04:05.000Z",
    "updated_by": "elastic",
}
SUMMARY = {
    "exported_exception_list_count": 1,
    "exported_exception_list_item_count": 1,
    "missing_exception_list_item_count": 0,
    "missing_exception_list_items": [],
    "missing_exception_lists": [],
    "missing_exception_lists_count": 0,
}


def _ndjson(path: Path, *lines: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _rule(rule_id: str, *list_ids: str) -> dict[str, Any]:
    refs = [
        {"id": f"id-{x}", "list_id": x, "namespace_type": "single", "type": "detection"} for x in list_ids
    ]
    return {
        "rule_id": rule_id,
        "name": rule_id,
        "type": "eql",
        "query": "any where true",
        "exceptions_list": refs,
    }


def test_exception_list_export_is_read_as_kibana_exports_it(tmp_path: Path) -> None:
    loaded = load_exceptions(_ndjson(tmp_path / "x.ndjson", LIST, ITEM, SUMMARY))
    assert loaded.items == (
        exc.ExceptionItem(
            item_id="monitoring",
            list_id="v214",
            name="Monitoring scripts",
            description="app pool listing",
            entries=(
                exc.Match("process.args", "/text:name"),
                exc.MatchAny("user.name", ("a", "b"), "excluded"),
            ),
            os_types=("windows",),
            comments=("seen weekly",),
        ),
    )
    assert [x.list_id for x in loaded.lists] == ["v214"]
    assert not loaded.warnings


def test_a_rule_export_applies_the_lists_its_rule_references(tmp_path: Path) -> None:
    other_list = {**LIST, "list_id": "other", "id": "o"}
    other_item = {**ITEM, "list_id": "other", "item_id": "o1", "name": "other item"}
    connector = {"id": "c1", "type": "action", "attributes": {"name": "slack"}}
    rule_summary = {"exported_count": 6, "exported_rules_count": 1, **SUMMARY}
    path = _ndjson(
        tmp_path / "rules.ndjson", _rule("r1", "v214", "endpoint_list"), LIST, ITEM, other_list, other_item,
        connector, rule_summary,
    )  # fmt: skip
    loaded = load_exceptions(path)
    assert [item.name for item in loaded.items] == ["Monitoring scripts"]
    assert len(loaded.warnings) == 1 and "Endpoint Security list" in loaded.warnings[0]


def test_several_rules_need_a_rule_id(tmp_path: Path) -> None:
    path = _ndjson(tmp_path / "rules.ndjson", _rule("r1", "v214"), _rule("r2"), LIST, ITEM)
    with pytest.raises(UsageError, match="r1, r2"):
        load_exceptions(path)
    assert load_exceptions(path, rule_id="r2").items == ()
    assert len(load_exceptions(path, rule_id="r1").items) == 1
    with pytest.raises(UsageError, match="no rule with rule_id 'r3'"):
        load_exceptions(path, rule_id="r3")


def _entry(**entry: Any) -> dict[str, Any]:
    return {"entries": [entry]}


NESTED_WILDCARD = {"field": "b", "operator": "included", "type": "wildcard", "value": "x"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "name: must be a non-empty string"),
        ({"entries": []}, "entries: expected a non-empty array"),
        ({"surprise": 1}, "surprise: unknown key"),
        ({"type": "complex"}, "type: 'complex' is not one of simple"),
        ({"os_types": ["beos"]}, "os_types: 'beos'"),
        ({"expire_time": "soon"}, "expire_time: 'soon' is not an ISO 8601"),
        (_entry(field="a", operator="included", type="match", value=" "), r"entries\[0\].value"),
        (_entry(field="a", operator="maybe", type="exists"), r"entries\[0\].operator"),
        (_entry(field="a", operator="included", type="match_any", value=[]), "non-empty array of values"),
        (_entry(field="a", type="nested", entries=[NESTED_WILDCARD]), r"entries\[0\].entries\[0\].type"),
        (_entry(field="a", operator="included", type="list", list={"id": "x", "type": "car"}), "'car'"),
    ],
)  # fmt: skip
def test_bad_items_are_refused_with_file_line_and_key(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = _ndjson(tmp_path / "x.ndjson", LIST, {**ITEM, **change}, SUMMARY)
    with pytest.raises(InputError, match=message) as raised:
        load_exceptions(path)
    assert (raised.value.path, raised.value.line) == (str(path), 2)


def test_a_line_that_is_not_json_names_its_column(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_text(json.dumps(LIST) + '\n\n{"a": }\n', encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_exceptions(path)
    assert (raised.value.line, raised.value.column) == (3, 7)


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    item = {key: value for key, value in ITEM.items() if key != "item_id"}
    with pytest.raises(InputError, match="missing required key 'item_id'"):
        load_exceptions(_ndjson(tmp_path / "x.ndjson", LIST, item))


TOML = """\
[list]
list_id = "v214"
name = "v214 exceptions"
description = "noise"

[[item]]
name = "Monitoring scripts"
description = "app pool listing"
os_types = ["windows"]
expire_time = "2027-01-01T00:00:00Z"
comments = ["seen weekly"]

[[item.entry]]
field = "process.args"
type = "match"
value = "/text:name"

[[item.entry]]
field = "process.command_line"
type = "wildcard"
operator = "excluded"
value = 'C:\\\\Temp\\\\*'

[[item]]
name = "Signed dlls"
description = ""

[[item.entry]]
field = "dll"
type = "nested"

[[item.entry.entry]]
field = "name"
type = "match_any"
value = ["a.dll", "b.dll"]

[[item.entry.entry]]
field = "code_signature.trusted"
type = "exists"

[[item.entry]]
field = "user.name"
type = "list"
list = { id = "users.txt", type = "keyword" }
"""


def _toml(tmp_path: Path, text: str = TOML) -> Path:
    (tmp_path / "users.txt").write_text("svc_monitor\n\nsvc_backup\n", encoding="utf-8")
    path = tmp_path / "v214.exceptions.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_toml_form_reads_into_the_same_model(tmp_path: Path) -> None:
    loaded = load_exceptions(_toml(tmp_path))
    first, second = loaded.items
    assert first.entries == (
        exc.Match("process.args", "/text:name"),
        exc.Wildcard("process.command_line", "C:\\\\Temp\\\\*", "excluded"),
    )
    assert (first.list_id, first.os_types, first.comments) == ("v214", ("windows",), ("seen weekly",))
    assert second.entries == (
        exc.Nested("dll", (exc.MatchAny("name", ("a.dll", "b.dll")), exc.Exists("code_signature.trusted"))),
        exc.ListEntry("user.name", "users.txt", "keyword"),
    )
    assert loaded.value_lists["users.txt"].values == ("svc_monitor", "svc_backup")
    assert (
        first.item_id.startswith("item-")
        and first.item_id == load_exceptions(_toml(tmp_path)).items[0].item_id
    )


def test_toml_errors_point_at_the_item(tmp_path: Path) -> None:
    text = TOML.replace('type = "wildcard"', 'type = "regex"')
    with pytest.raises(InputError, match=r"item\[0\].entries\[1\].type: 'regex'") as raised:
        load_exceptions(_toml(tmp_path, text))
    assert raised.value.line == 6
    with pytest.raises(InputError, match="unknown key 'items'"):
        load_exceptions(_toml(tmp_path, TOML.replace("[[item]]", "[[items]]")))


def test_a_value_list_without_its_file_says_where_to_put_it(tmp_path: Path) -> None:
    path = _toml(tmp_path)
    (tmp_path / "users.txt").unlink()
    with pytest.raises(HarnessError, match="save it under the list's id"):
        load_exceptions(path)
    (tmp_path / "elsewhere.txt").write_text("bob\n", encoding="utf-8")
    loaded = load_exceptions(path, value_lists={"users.txt": tmp_path / "elsewhere.txt"})
    assert loaded.value_lists["users.txt"].values == ("bob",)


WRITERS = [(exc.write_ndjson, "out.ndjson"), (exc.write_toml, "copy.exceptions.toml")]


@pytest.mark.parametrize(("write", "name"), WRITERS, ids=["ndjson", "toml"])
def test_round_trip_keeps_every_item_and_the_bytes(
    tmp_path: Path, write: Callable[[exc.ExceptionSet, Path], None], name: str
) -> None:
    original = load_exceptions(_toml(tmp_path))
    write(original, tmp_path / name)
    again = load_exceptions(tmp_path / name)
    assert (again.items, again.lists, again.value_lists) == (
        original.items,
        original.lists,
        original.value_lists,
    )
    first = (tmp_path / name).read_bytes()
    write(again, tmp_path / name)
    assert (tmp_path / name).read_bytes() == first


def test_the_ndjson_has_the_export_shape_and_the_import_keys(tmp_path: Path) -> None:
    exc.write_ndjson(load_exceptions(_toml(tmp_path)), tmp_path / "out.ndjson")
    lines = [json.loads(line) for line in (tmp_path / "out.ndjson").read_text(encoding="utf-8").splitlines()]
    assert lines[0]["list_id"] == "v214" and lines[-1]["exported_exception_list_item_count"] == 2
    # Kibana's import schema: the required keys of every item (import_exception_item_schema).
    assert all(
        {"description", "entries", "item_id", "list_id", "name", "type"} <= set(x) for x in lines[1:-1]
    )


def test_an_empty_set_writes_only_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "none.ndjson"
    exc.write_ndjson(exc.ExceptionSet(items=()), out)
    assert json.loads(out.read_text(encoding="utf-8"))["exported_exception_list_count"] == 0


@pytest.mark.parametrize(
    ("value", "where"),
    [([1], r"entries\[0\].value\[0\]: expected a string"), (["a", ""], r"value\[1\]: must be")],
)
def test_match_any_values_are_checked_one_by_one(tmp_path: Path, value: list[Any], where: str) -> None:
    item = {**ITEM, "entries": [{"field": "a", "operator": "included", "type": "match_any", "value": value}]}
    with pytest.raises(InputError, match=where):
        load_exceptions(_ndjson(tmp_path / "x.ndjson", LIST, item))


def test_a_list_entry_without_its_list_says_how_to_load_it() -> None:
    item = exc.ExceptionItem("i", "l", "by hand", "", (exc.ListEntry("user.name", "users.txt", "keyword"),))
    with pytest.raises(HarnessError, match=r"value list 'users\.txt' was not loaded"):
        exc.ExceptionSet(items=(item,)).excludes({"user": {"name": "bob"}})
