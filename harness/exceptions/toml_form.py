"""``X.exceptions.toml``: exception items written for review in git, read into Kibana's item shape.

```toml
[list]                      # optional; list_id defaults to the file's stem (X)
list_id = "v214-exceptions"
name = "IIS AppCmd v214 exceptions"
description = "..."

[[item]]
name = "Monitoring scripts"
description = "Reads the app pool names, no password"
os_types = ["windows"]                 # optional
expire_time = "2027-01-01T00:00:00Z"   # optional
comments = ["reviewed in #123"]        # optional
# item_id: optional; derived from the item's content when left out

[[item.entry]]
field = "process.args"
type = "match"              # match | match_any | wildcard | exists | list | nested
operator = "included"       # optional, included by default
value = "/text:name"        # match_any: an array; list: list = {id = "hosts.txt", type = "keyword"}

[[item.entry]]
field = "process.parent"
type = "nested"
[[item.entry.entry]]        # nested children: match, match_any, exists
field = "name"
type = "match"
value = "w3wp.exe"
```

Each item is turned into Kibana's shape (``entry`` arrays become ``entries``, comments
``{comment}`` objects) and checked by the same import schema as an NDJSON line, so the two
forms cannot drift apart.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.exceptions.model import ExceptionItem, ExceptionList, content_id
from harness.exceptions.schema import SchemaError, parse_item, parse_list

__all__ = ["TOML_SUFFIX", "load_toml", "toml_item"]

TOML_SUFFIX = ".exceptions.toml"
_TOP = frozenset({"list", "item"})


def load_toml(path: Path) -> tuple[tuple[ExceptionList, ...], tuple[ExceptionItem, ...]]:
    """The list and items of a TOML exceptions file, checked as Kibana's import checks them."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, column = _position(str(error))
        raise InputError(str(path), line, f"not TOML: {error}", column=column) from error
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(str(path), 1, f"cannot read: {error}") from error
    headers = _header_lines(text)
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise InputError(
            str(path), _line_of(text, unknown[0]), f"unknown key {unknown[0]!r}; use [list] and [[item]]"
        )
    stem = path.name.removesuffix(TOML_SUFFIX).removesuffix(".toml")
    raw_list = dict(data.get("list", {}))
    raw_list.setdefault("list_id", stem)
    raw_list.setdefault("name", stem)
    raw_list.setdefault("description", "")
    raw_list.setdefault("type", "detection")
    try:
        exception_list = parse_list(raw_list, "list")
    except SchemaError as error:
        raise InputError(str(path), _line_of(text, "[list]"), f"{error}") from error
    items = []
    for index, raw in enumerate(data.get("item", [])):
        line = headers[index] if index < len(headers) else 1
        try:
            items.append(parse_item(toml_item(raw, exception_list), f"item[{index}]"))
        except SchemaError as error:
            raise InputError(
                str(path), line, f"{error}; see the TOML form in harness/exceptions/toml_form.py"
            ) from error
    if not items:
        raise InputError(str(path), 1, "no [[item]]: an exceptions file needs at least one item")
    return (exception_list,), tuple(items)


def toml_item(raw: Mapping[str, Any], exception_list: ExceptionList) -> dict[str, Any]:
    """One ``[[item]]`` table in Kibana's item shape (defaults filled in, nothing else changed)."""
    item = {key: value for key, value in raw.items() if key != "entry"}
    item["entries"] = [_entry(entry) for entry in raw.get("entry", [])]
    item.setdefault("type", "simple")
    item.setdefault("list_id", exception_list.list_id)
    item.setdefault("namespace_type", exception_list.namespace_type)
    if "comments" in item and isinstance(item["comments"], list):
        item["comments"] = [{"comment": c} if isinstance(c, str) else c for c in item["comments"]]
    # The same content gives the same id, so re-reading an unchanged file keeps it stable.
    item.setdefault("item_id", content_id("item", [item.get("name"), item["entries"], item.get("os_types")]))
    return item


def _entry(raw: Any) -> Any:
    if not isinstance(raw, Mapping):
        return raw
    entry = {key: value for key, value in raw.items() if key != "entry"}
    if raw.get("type") == "nested":
        entry["entries"] = [_entry(child) for child in raw.get("entry", [])]
    elif "entry" in raw:
        entry["entry"] = raw["entry"]  # refused by the schema as an unknown key
    else:
        entry.setdefault("operator", "included")
    return entry


def _header_lines(text: str) -> list[int]:
    return [number for number, line in enumerate(text.splitlines(), 1) if line.strip().startswith("[[item]]")]


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(needle):
            return number
    return 1


def _position(message: str) -> tuple[int, int | None]:
    # tomllib says "... (at line 3, column 7)".
    if "(at line " in message:
        tail = message.rsplit("(at line ", 1)[1].rstrip(")")
        line, _, column = tail.partition(", column ")
        if line.isdigit():
            return int(line), int(column) if column.isdigit() else None
    return 1, None
