"""Kibana's import schemas for exception lists and items, checked on decoded JSON (or TOML) objects.

Required and optional keys are those of the io-ts import schemas
(``kbn-securitysolution-io-ts-list-types/src/request/import_exception_item_schema/index.ts`` and
``import_exception_list_schema/index.ts``), which run ``exactCheck``: an unknown key is refused.
Entries follow ``exception_list_item_entry.gen.ts``: ``NonEmptyString`` values, ``match_any``
with at least one value, ``nested`` with at least one ``match``/``match_any``/``exists`` child.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn, cast

from harness.exceptions.model import (
    NAMESPACE_TYPES,
    OPERATORS,
    OS_TYPES,
    Entry,
    ExceptionItem,
    ExceptionList,
    Exists,
    ListEntry,
    Match,
    MatchAny,
    Nested,
    NestedChild,
    Operator,
    Wildcard,
)
from harness.exceptions.values import LIST_TYPES
from harness.timestamps import epoch_ms

__all__ = ["SchemaError", "parse_item", "parse_list"]

_AUDIT = frozenset(
    {"id", "created_at", "created_by", "updated_at", "updated_by", "_version", "tie_breaker_id", "meta"}
)
ITEM_REQUIRED = ("description", "entries", "item_id", "list_id", "name", "type")
ITEM_OPTIONAL = _AUDIT | {"comments", "namespace_type", "os_types", "tags", "expire_time"}
LIST_REQUIRED = ("description", "name", "type", "list_id")
LIST_OPTIONAL = _AUDIT | {"immutable", "namespace_type", "os_types", "tags", "version"}
LIST_TYPES_EXCEPTION = (
    "detection", "rule_default", "endpoint", "endpoint_trusted_apps", "endpoint_trusted_devices",
    "endpoint_events", "endpoint_host_isolation_exceptions", "endpoint_blocklists",
    "endpoint_custom_yara_signatures",
)  # fmt: skip
_COMMENT_KEYS = frozenset({"comment", "id", "created_at", "created_by", "updated_at", "updated_by"})


class SchemaError(ValueError):
    """A key path and what is wrong there; the loader adds the file and line."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


def _fail(where: str, message: str) -> NoReturn:
    raise SchemaError(where, message)


def _keys(obj: Mapping[str, Any], where: str, required: tuple[str, ...], optional: frozenset[str]) -> None:
    missing = [key for key in required if key not in obj]
    if missing:
        _fail(where, f"missing required key {missing[0]!r} (Kibana's import requires {', '.join(required)})")
    unknown = sorted(set(obj) - set(required) - optional)
    if unknown:
        _fail(
            f"{where}.{unknown[0]}".lstrip("."),
            "unknown key: Kibana's import refuses keys outside its schema",
        )


def _text(obj: Mapping[Any, Any], key: str | int, where: str, *, empty: bool = False) -> str:
    """A string value; ``NonEmptyString`` (not blank once trimmed) unless ``empty``."""
    value = obj[key]
    here = f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}".lstrip(".")
    if not isinstance(value, str):
        _fail(here, f"expected a string, got {type(value).__name__}")
    if not empty and not value.strip():
        _fail(here, "must be a non-empty string")
    return value


def _choice(obj: Mapping[str, Any], key: str, where: str, allowed: tuple[str, ...], default: str) -> str:
    value = obj.get(key, default)
    if value not in allowed:
        _fail(f"{where}.{key}".lstrip("."), f"{value!r} is not one of {', '.join(allowed)}")
    return cast(str, value)


def _strings(
    obj: Mapping[str, Any], key: str, where: str, allowed: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _fail(f"{where}.{key}".lstrip("."), "expected an array of strings")
    for v in value:
        if allowed is not None and v not in allowed:
            _fail(f"{where}.{key}".lstrip("."), f"{v!r} is not one of {', '.join(allowed)}")
    return tuple(value)


def parse_list(obj: Mapping[str, Any], where: str = "") -> ExceptionList:
    """An exception list line as Kibana's import reads it."""
    _keys(obj, where, LIST_REQUIRED, LIST_OPTIONAL)
    if obj.get("immutable", False) is not False:
        _fail(f"{where}.immutable".lstrip("."), "only false is allowed on import")
    return ExceptionList(
        list_id=_text(obj, "list_id", where),
        name=_text(obj, "name", where),
        description=_text(obj, "description", where, empty=True),
        type=_choice(obj, "type", where, LIST_TYPES_EXCEPTION, "detection"),
        namespace_type=_choice(obj, "namespace_type", where, NAMESPACE_TYPES, "single"),
        os_types=_strings(obj, "os_types", where, OS_TYPES),
        tags=_strings(obj, "tags", where),
    )


def parse_item(obj: Mapping[str, Any], where: str = "") -> ExceptionItem:
    """An exception item as Kibana's import reads it (comments reduced to their text, as it does)."""
    _keys(obj, where, ITEM_REQUIRED, ITEM_OPTIONAL)
    _choice(obj, "type", where, ("simple",), "simple")
    expire = obj.get("expire_time")
    if expire is not None and (not isinstance(expire, str) or epoch_ms(expire) is None):
        _fail(f"{where}.expire_time".lstrip("."), f"{expire!r} is not an ISO 8601 date-time")
    return ExceptionItem(
        item_id=_text(obj, "item_id", where),
        list_id=_text(obj, "list_id", where),
        name=_text(obj, "name", where),
        description=_text(obj, "description", where, empty=True),
        entries=_entries(obj["entries"], f"{where}.entries".lstrip("."), _entry),
        namespace_type=_choice(obj, "namespace_type", where, NAMESPACE_TYPES, "single"),
        os_types=_strings(obj, "os_types", where, OS_TYPES),
        tags=_strings(obj, "tags", where),
        comments=_comments(obj.get("comments", []), f"{where}.comments".lstrip(".")),
        expire_time=expire,
    )


def _comments(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        _fail(where, "expected an array of {comment} objects")
    out = []
    for index, comment in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(comment, Mapping):
            _fail(here, "expected an object with a 'comment'")
        _keys(comment, here, ("comment",), _COMMENT_KEYS)
        out.append(_text(comment, "comment", here))
    return tuple(out)


def _entries(value: Any, where: str, one: Callable[[Mapping[str, Any], str], Any]) -> tuple[Any, ...]:
    if not isinstance(value, list) or not value:
        _fail(where, "expected a non-empty array of entries")
    out = []
    for index, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            _fail(f"{where}[{index}]", "expected an entry object")
        out.append(one(entry, f"{where}[{index}]"))
    return tuple(out)


_SHAPES: dict[str, tuple[str, ...]] = {
    "match": ("field", "operator", "type", "value"),
    "match_any": ("field", "operator", "type", "value"),
    "wildcard": ("field", "operator", "type", "value"),
    "exists": ("field", "operator", "type"),
    "list": ("field", "list", "operator", "type"),
    "nested": ("entries", "field", "type"),
}


def _entry(obj: Mapping[str, Any], where: str, *, allowed: tuple[str, ...] = tuple(_SHAPES)) -> Entry:
    kind = obj.get("type")
    if kind not in allowed:
        _fail(f"{where}.type", f"{kind!r} is not an entry type here; use one of {', '.join(allowed)}")
    _keys(obj, where, _SHAPES[kind], frozenset())
    field = _text(obj, "field", where)
    if kind == "nested":
        return Nested(field, _entries(obj["entries"], f"{where}.entries", _child))
    operator = cast(Operator, _choice(obj, "operator", where, OPERATORS, "included"))
    if kind == "match":
        return Match(field, _text(obj, "value", where), operator)
    if kind == "wildcard":
        return Wildcard(field, _text(obj, "value", where), operator)
    if kind == "exists":
        return Exists(field, operator)
    if kind == "match_any":
        values = obj["value"]
        if not isinstance(values, list) or not values:
            _fail(f"{where}.value", "match_any needs a non-empty array of values")
        return MatchAny(
            field,
            tuple(_text(dict(enumerate(values)), i, f"{where}.value") for i in range(len(values))),
            operator,
        )
    reference = obj["list"]
    if not isinstance(reference, Mapping):
        _fail(f"{where}.list", "expected {id, type}")
    _keys(reference, f"{where}.list", ("id", "type"), frozenset())
    return ListEntry(
        field,
        _text(reference, "id", f"{where}.list"),
        _choice(reference, "type", f"{where}.list", LIST_TYPES, ""),
        operator,
    )


def _child(obj: Mapping[str, Any], where: str) -> NestedChild:
    return cast(NestedChild, _entry(obj, where, allowed=("match", "match_any", "exists")))
