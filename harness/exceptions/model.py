"""Kibana's exception lists as values: lists, items, their entries, and the set one rule applies.

The shapes follow Kibana's published schemas
(``kbn-securitysolution-exceptions-common/api/model/exception_list_common.gen.ts`` and
``exception_list_item_entry.gen.ts``): an item is a conjunction of entries, a rule's items are
a disjunction, and a ``nested`` entry holds ``match``, ``match_any`` and ``exists`` children only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from harness.eql.mapping import ECS, FieldMapping
from harness.timestamps import epoch_ms

if TYPE_CHECKING:
    from harness.exceptions.values import ValueList

__all__ = [
    "Entry",
    "ExceptionItem",
    "ExceptionList",
    "ExceptionSet",
    "Exists",
    "ListEntry",
    "Match",
    "MatchAny",
    "Nested",
    "NestedChild",
    "Operator",
    "Wildcard",
    "content_id",
]

Operator: TypeAlias = Literal["included", "excluded"]
OPERATORS: tuple[Operator, ...] = ("included", "excluded")
OS_TYPES = ("linux", "macos", "windows")
NAMESPACE_TYPES = ("agnostic", "single")


@dataclass(frozen=True)
class Match:
    """``match``: a ``match_phrase`` of ``value`` on ``field``."""

    field: str
    value: str
    operator: Operator = "included"


@dataclass(frozen=True)
class MatchAny:
    """``match_any``: a ``match_phrase`` of any of ``values``."""

    field: str
    values: tuple[str, ...]
    operator: Operator = "included"


@dataclass(frozen=True)
class Wildcard:
    """``wildcard``: a raw Lucene wildcard query, ``value`` passed through unchanged."""

    field: str
    value: str
    operator: Operator = "included"


@dataclass(frozen=True)
class Exists:
    """``exists``: the field has an indexed value."""

    field: str
    operator: Operator = "included"


@dataclass(frozen=True)
class ListEntry:
    """``list``: the field's value is in value list ``list_id`` (of Elasticsearch type ``list_type``)."""

    field: str
    list_id: str
    list_type: str
    operator: Operator = "included"


NestedChild: TypeAlias = Match | MatchAny | Exists


@dataclass(frozen=True)
class Nested:
    """``nested``: every child holds within one object of the array at ``field`` (no operator)."""

    field: str
    entries: tuple[NestedChild, ...]


Entry: TypeAlias = Match | MatchAny | Wildcard | Exists | ListEntry | Nested


@dataclass(frozen=True)
class ExceptionItem:
    """One exception item (``type: simple``): its entries ANDed, gated by ``os_types`` and ``expire_time``."""

    item_id: str
    list_id: str
    name: str
    description: str
    entries: tuple[Entry, ...]
    namespace_type: str = "single"
    os_types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    comments: tuple[str, ...] = ()
    expire_time: str | None = None

    def expired_at(self, ms: int) -> bool:
        """Whether the item expired before ``ms`` (``removeExpiredExceptions``: expire_time < startedAt)."""
        if self.expire_time is None:
            return False
        expiry = epoch_ms(self.expire_time)
        return expiry is not None and expiry < ms


@dataclass(frozen=True)
class ExceptionList:
    """An exception list's own line: its id, name and type (``detection``, ``rule_default``, ...)."""

    list_id: str
    name: str
    description: str
    type: str = "detection"
    namespace_type: str = "single"
    os_types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExceptionSet:
    """The exception items one rule applies, where they came from, and what Kibana would not apply.

    ``items`` are the items Kibana puts in the EQL search's filter; ``unapplied`` are the ones it
    leaves out (value lists of a type or size the EQL executor cannot filter on), each named in
    ``warnings`` as Kibana's rule execution warning names them. ``mapping`` gives the field types
    the entries are judged with.
    """

    items: tuple[ExceptionItem, ...]
    lists: tuple[ExceptionList, ...] = ()
    value_lists: Mapping[str, ValueList] = field(default_factory=dict)
    unapplied: tuple[ExceptionItem, ...] = ()
    warnings: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    mapping: FieldMapping = field(default=ECS, compare=False)

    def active_at(self, ms: int) -> ExceptionSet:
        """The set as an execution starting at epoch millisecond ``ms`` applies it: expired items dropped."""
        return replace(self, items=tuple(item for item in self.items if not item.expired_at(ms)))

    def matching_item(self, document: Mapping[str, Any]) -> ExceptionItem | None:
        """The first item that matches ``document`` (items are ORed), or None."""
        from harness.exceptions.match import item_matches

        for item in self.items:
            if item_matches(item, document, self.mapping, self.value_lists):
                return item
        return None

    def excludes(self, document: Mapping[str, Any]) -> bool:
        """Whether the rule's exceptions remove ``document`` (``must_not`` of the OR of the items)."""
        return self.matching_item(document) is not None


def content_id(prefix: str, content: Any) -> str:
    """An id derived from ``content`` (canonical JSON), so the same exceptions give the same bytes."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"
