"""Exceptions written back: NDJSON Kibana's exception list import takes, and the TOML review form.

The NDJSON has the export's shape (``export_exception_list_and_items.ts``: the list line, its
items, then the summary line) with the keys the io-ts import schemas take
(``import_exception_item_schema``, ``import_exception_list_schema``), serialised as
``JSON.stringify`` does (no spaces, non-ASCII kept) and joined as ``transformDataToNdjson``.
Ids come from the content, so the same exceptions always give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.events import atomic_writer
from harness.exceptions.model import (
    Entry,
    ExceptionItem,
    ExceptionList,
    ExceptionSet,
    Exists,
    ListEntry,
    Match,
    MatchAny,
    Nested,
    Wildcard,
)
from harness.exceptions.toml_form import TOML_SUFFIX

__all__ = ["item_json", "ndjson_text", "toml_text", "write_ndjson", "write_toml"]


def entry_json(entry: Entry) -> dict[str, Any]:
    """One entry in Kibana's JSON shape."""
    if isinstance(entry, Nested):
        return {
            "entries": [entry_json(child) for child in entry.entries],
            "field": entry.field,
            "type": "nested",
        }
    out: dict[str, Any] = {"field": entry.field, "operator": entry.operator}
    if isinstance(entry, Match):
        out |= {"type": "match", "value": entry.value}
    elif isinstance(entry, MatchAny):
        out |= {"type": "match_any", "value": list(entry.values)}
    elif isinstance(entry, Wildcard):
        out |= {"type": "wildcard", "value": entry.value}
    elif isinstance(entry, Exists):
        out["type"] = "exists"
    elif isinstance(entry, ListEntry):
        out |= {"list": {"id": entry.list_id, "type": entry.list_type}, "type": "list"}
    else:
        raise TypeError(f"no writer for exception entry {entry!r}")
    return out


def item_json(item: ExceptionItem) -> dict[str, Any]:
    """An item with the keys Kibana's import takes (``type: simple``)."""
    out: dict[str, Any] = {
        "comments": [{"comment": comment} for comment in item.comments],
        "description": item.description,
        "entries": [entry_json(entry) for entry in item.entries],
    }
    if item.expire_time is not None:
        out["expire_time"] = item.expire_time
    out |= {
        "item_id": item.item_id,
        "list_id": item.list_id,
        "name": item.name,
        "namespace_type": item.namespace_type,
        "os_types": list(item.os_types),
        "tags": list(item.tags),
        "type": "simple",
    }
    return out


def _list_json(exception_list: ExceptionList) -> dict[str, Any]:
    return {
        "description": exception_list.description,
        "immutable": False,
        "list_id": exception_list.list_id,
        "name": exception_list.name,
        "namespace_type": exception_list.namespace_type,
        "os_types": list(exception_list.os_types),
        "tags": list(exception_list.tags),
        "type": exception_list.type,
        "version": 1,
    }


def _lists_of(exceptions: ExceptionSet) -> list[ExceptionList]:
    """The set's lists, plus a plain ``detection`` list for items whose list it does not hold."""
    lists = list(exceptions.lists)
    known = {(x.list_id, x.namespace_type) for x in lists}
    for item in _all_items(exceptions):
        if (item.list_id, item.namespace_type) not in known:
            known.add((item.list_id, item.namespace_type))
            lists.append(ExceptionList(item.list_id, item.list_id, "", namespace_type=item.namespace_type))
    return lists


def _all_items(exceptions: ExceptionSet) -> Iterable[ExceptionItem]:
    # Unapplied items are Kibana's too: they go back into the file, Kibana warns about them again.
    return (*exceptions.items, *exceptions.unapplied)


def ndjson_text(exceptions: ExceptionSet) -> str:
    """Each list's line followed by its items, then the summary line, as the export API writes them."""
    lines: list[dict[str, Any]] = []
    lists = _lists_of(exceptions)
    items = list(_all_items(exceptions))
    for exception_list in lists:
        lines.append(_list_json(exception_list))
        key = (exception_list.list_id, exception_list.namespace_type)
        lines.extend(item_json(item) for item in items if (item.list_id, item.namespace_type) == key)
    lines.append(
        {
            "exported_exception_list_count": len(lists),
            "exported_exception_list_item_count": len(items),
            "missing_exception_list_item_count": 0,
            "missing_exception_list_items": [],
            "missing_exception_lists": [],
            "missing_exception_lists_count": 0,
        }
    )
    return "".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n" for line in lines)


def write_ndjson(exceptions: ExceptionSet, path: str | Path) -> None:
    """Write ``exceptions`` as NDJSON for ``POST /api/exception_lists/_import``, atomically."""
    with atomic_writer(path) as stream:
        stream.write(ndjson_text(exceptions).encode("utf-8"))


def write_toml(exceptions: ExceptionSet, path: str | Path) -> None:
    """Write ``exceptions`` as the TOML review form (``X.exceptions.toml``), atomically."""
    if not str(path).endswith(TOML_SUFFIX):
        raise ValueError(f"{path}: a TOML exceptions file is named X{TOML_SUFFIX}")
    with atomic_writer(path) as stream:
        stream.write(toml_text(exceptions).encode("utf-8"))


def toml_text(exceptions: ExceptionSet) -> str:
    """The TOML form: one ``[list]`` (the first list) and an ``[[item]]`` per item, every key explicit."""
    lists = _lists_of(exceptions)
    out: list[str] = []
    if lists:
        first = lists[0]
        out += ["[list]", f"list_id = {_q(first.list_id)}", f"name = {_q(first.name)}"]
        out += [f"description = {_q(first.description)}", f"type = {_q(first.type)}"]
        out += [f"namespace_type = {_q(first.namespace_type)}"]
        out += _optional("os_types", first.os_types) + _optional("tags", first.tags)
    for item in _all_items(exceptions):
        out += ["", "[[item]]", f"item_id = {_q(item.item_id)}"]
        if not lists or item.list_id != lists[0].list_id or item.namespace_type != lists[0].namespace_type:
            out += [f"list_id = {_q(item.list_id)}", f"namespace_type = {_q(item.namespace_type)}"]
        out += [f"name = {_q(item.name)}", f"description = {_q(item.description)}"]
        out += _optional("os_types", item.os_types) + _optional("tags", item.tags)
        out += _optional("comments", item.comments)
        if item.expire_time is not None:
            out.append(f"expire_time = {_q(item.expire_time)}")
        for entry in item.entries:
            out += _toml_entry(entry, "item.entry")
    return "\n".join(out) + "\n"


def _toml_entry(entry: Entry, table: str) -> list[str]:
    out = ["", f"[[{table}]]"]
    for key, value in entry_json(entry).items():
        if key != "entries":
            out.append(f"{key} = {_value(value)}")
    if isinstance(entry, Nested):
        for child in entry.entries:
            out += _toml_entry(child, f"{table}.entry")
    return out


def _optional(key: str, values: tuple[str, ...]) -> list[str]:
    return [f"{key} = {_value(list(values))}"] if values else []


def _value(value: Any) -> str:
    if isinstance(value, str):
        return _q(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def _q(text: str) -> str:
    # A JSON string is a TOML basic string, except for the escapes TOML lacks (\/ is never written).
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
