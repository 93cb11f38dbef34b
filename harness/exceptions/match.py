"""Exception items judged on a document as Elasticsearch judges the filter Kibana builds from them.

Kibana's ``build_exception_filter.ts`` (lists plugin, ``server/services/exception_lists``) makes
each item a ``bool.filter`` of its entries and the rule's filter ``must_not`` of the OR of the
items. Each entry is then an Elasticsearch query on the mapped document:

- ``match``/``match_any`` are ``match_phrase`` (``buildMatchClause``): on a keyword field the
  query is analysed by the field's normalizer only, so it is exact and case-sensitive unless the
  field lowercases (Endpoint's ``*.caseless`` fields have the ``lowercase`` normalizer); on
  numbers, booleans, dates and ips it is a term query that parses the value.
- ``wildcard`` is ``{wildcard: {field: value}}`` with no ``case_insensitive`` and no escaping
  (``buildMatchWildcardClause``): Lucene's WildcardQuery, ``\\`` escaping the next character.
- ``exists`` is an exists query, ``nested`` a nested query (children within one object),
  ``list`` a terms query (ranges and CIDRs for ``ip_range``), ``excluded`` a ``must_not``.

A ``text`` field is refused: its match is an analysed phrase over tokens, not modelled here.
A field the mapping does not know is read as a keyword. Values are read with
``harness.eql.fields.field_values`` and indexed with ``harness.eql.mapping`` (types,
``ignore_above``), so an array matches when any value does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from harness.eql.fields import Scalar, field_values
from harness.eql.mapping import FieldMapping, coerce, query_constant
from harness.eql.patterns import exact, lucene_wildcard
from harness.errors import HarnessError
from harness.exceptions.model import (
    Entry,
    ExceptionItem,
    Exists,
    ListEntry,
    Match,
    MatchAny,
    Nested,
    Wildcard,
)
from harness.exceptions.values import ValueList, ip_as_int
from harness.timestamps import epoch_ms

__all__ = ["entry_kind", "entry_matches", "item_matches", "java_lower", "lowercases", "mapped_kind"]

_STRINGS = frozenset({"keyword", "constant_keyword", "wildcard"})
_NUMBERS = frozenset(
    {"long", "integer", "short", "byte", "unsigned_long", "double", "float", "half_float", "scaled_float"}
)
_TEXT = frozenset({"text", "match_only_text"})


def item_matches(
    item: ExceptionItem,
    document: Mapping[str, Any],
    mapping: FieldMapping,
    value_lists: Mapping[str, ValueList],
) -> bool:
    """Whether every entry of ``item`` matches ``document``, and one of its ``os_types`` if it has any.

    ``transformOsType`` prepends ``host.os.type: os`` or ``host.os.name.caseless: os`` to the
    entries, one OR branch per OS and field ("if either has a match then we will exclude it").
    """
    if item.os_types and not any(
        entry_matches(Match(name, os), document, mapping, value_lists)
        for os in item.os_types
        for name in ("host.os.type", "host.os.name.caseless")
    ):
        return False
    return all(entry_matches(entry, document, mapping, value_lists) for entry in item.entries)


def entry_matches(
    entry: Entry,
    document: Mapping[str, Any],
    mapping: FieldMapping,
    value_lists: Mapping[str, ValueList],
    prefix: str = "",
) -> bool:
    """Whether one entry matches; ``prefix`` is the nested parent a child's field type is read under."""
    if isinstance(entry, Nested):
        # A nested query: some object of the array satisfies every child (``createInnerAndClauses``).
        return any(
            all(entry_matches(child, obj, mapping, value_lists, f"{entry.field}.") for child in entry.entries)
            for obj in _objects(document, entry.field)
        )
    name = prefix + entry.field
    # A ``*.caseless`` field is a multi-field: it indexes its parent's ``_source`` value.
    read = entry.field.removesuffix(".caseless") if lowercases(entry.field) else entry.field
    values = field_values(document, tuple(read.split(".")))
    found = _included(entry, name, values, mapping, value_lists)
    # ``buildExclusionClause``: ``excluded`` is must_not, true for an event without the field.
    return not found if entry.operator == "excluded" else found


def _included(
    entry: Entry, name: str, values: list[Scalar], mapping: FieldMapping, value_lists: Mapping[str, ValueList]
) -> bool:
    kind = mapped_kind(mapping, name)
    if isinstance(entry, Exists):
        return bool(values) if kind in _TEXT else bool(_indexed(mapping, name, kind, values))
    if kind in _TEXT:
        raise HarnessError(
            f"exception entry on {name!r}: the field is mapped as {kind}, where {entry_kind(entry)} is an "
            "analysed phrase or token match the harness does not model; use its keyword subfield"
            + (f" {mapping.exact[name]!r}" if name in mapping.exact else "")
        )
    indexed = _indexed(mapping, name, kind, values)
    if isinstance(entry, Match):
        return _phrase(entry.value, name, kind, indexed)
    if isinstance(entry, MatchAny):
        return any(_phrase(value, name, kind, indexed) for value in entry.values)
    if isinstance(entry, Wildcard):
        if kind not in _STRINGS:
            # Elasticsearch refuses a wildcard query on a non-string field and fails the search.
            raise HarnessError(f"wildcard exception entry on {name!r}: the field is a {kind}, not a keyword")
        glob = lucene_wildcard(_normalized(name, entry.value), False)
        return any(glob.matches(value) for value in indexed)
    if isinstance(entry, ListEntry):
        if entry.list_id not in value_lists:
            raise HarnessError(
                f"list exception entry on {name!r}: value list {entry.list_id!r} was not loaded; "
                "read the exceptions with load_exceptions, which reads the lists they name"
            )
        return _in_list(value_lists[entry.list_id], name, kind, indexed)
    raise TypeError(f"no handler for exception entry {entry!r}")


def entry_kind(entry: Entry) -> str:
    """The entry's Kibana ``type``."""
    names = {Match: "match", MatchAny: "match_any", Wildcard: "wildcard", Exists: "exists"}
    return names.get(type(entry), "list" if isinstance(entry, ListEntry) else "nested")


def mapped_kind(mapping: FieldMapping, name: str) -> str:
    """The field's mapped type; a field the mapping lacks (or EQL cannot read) as its raw type or keyword."""
    return mapping.type_of(name) or mapping.types.get(name) or "keyword"


def lowercases(name: str) -> bool:
    """Endpoint maps ``*.caseless`` keyword fields with the ``lowercase`` normalizer."""
    return name.endswith(".caseless")


def java_lower(text: str) -> str:
    """Lucene's LowerCaseFilter: ``Character.toLowerCase`` per code point (simple case mapping).

    Python's ``str.lower`` is the full mapping: ``İ`` becomes two code points and a final ``Σ``
    becomes ``ς``; per code point both agree with Java except ``İ``, whose simple mapping is ``i``.
    """
    return "".join("i" if ch == "\u0130" else ch.lower() for ch in text)


def _normalized(name: str, text: str) -> str:
    # The normalizer runs on the query's text as on the indexed value.
    return java_lower(text) if lowercases(name) else text


def _indexed(mapping: FieldMapping, name: str, kind: str, values: list[Scalar]) -> list[Any]:
    """The values Elasticsearch indexed for the field (keyword limits applied, normalizer run)."""
    if mapping.type_of(name) is not None:
        indexed = mapping.indexed(name, values)
    else:
        indexed = [value for value in (coerce(kind, v) for v in values) if value is not None]
    if kind in _STRINGS:
        return [_normalized(name, value) for value in indexed]
    return indexed


def _phrase(value: str, name: str, kind: str, indexed: list[Any]) -> bool:
    """``match_phrase`` of ``value``: exact on strings, a term query on typed fields."""
    if kind in _STRINGS:
        glob = exact(_normalized(name, value), False)
        return any(glob.matches(v) for v in indexed)
    if kind == "ip" and "/" in value:
        # A term query on an ip field reads CIDR notation as the network's addresses.
        return _in_ranges([_network(value, name)], indexed)
    constant = _typed(value, kind)
    if constant is None:
        raise HarnessError(
            f"exception entry on {name!r}: {value!r} is not a valid {kind}; Elasticsearch fails the search"
        )
    return constant in indexed


def _typed(value: str, kind: str) -> Any:
    if kind in _NUMBERS:
        return query_constant(kind, value)
    if kind == "date":
        return epoch_ms(value)
    if kind in ("ip", "boolean"):
        return coerce(kind, value)
    return value


def _network(value: str, name: str) -> tuple[int, int]:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError as error:
        raise HarnessError(f"exception entry on {name!r}: {value!r} is not an address or CIDR") from error
    return ip_as_int(network.network_address), ip_as_int(network.broadcast_address)


def _in_ranges(ranges: list[tuple[int, int]], indexed: list[Any]) -> bool:
    # Indexed ips are IPv6 (IPv4 mapped), so their integers compare with the ranges' directly.
    return any(low <= int(address) <= high for address in indexed for low, high in ranges)


def _in_list(values: ValueList, name: str, kind: str, indexed: list[Any]) -> bool:
    """A terms query on the list's values (``buildListClause``): ranges and CIDRs on an ip field."""
    if kind == "ip":
        ranges, bad = values.networks()
        if bad:
            raise HarnessError(
                f"value list {values.id!r} on ip field {name!r}: {sorted(bad)[0]!r} is not an address, "
                "CIDR or range; Elasticsearch fails the search"
            )
        return _in_ranges(ranges, indexed)
    if kind in _STRINGS:
        wanted = {_normalized(name, value) for value in values.values}
        return any(value in wanted for value in indexed)
    wanted_typed = {_typed(value, kind) for value in values.values}
    return any(value in wanted_typed for value in indexed)


def _objects(document: Mapping[str, Any], path: str) -> list[Mapping[str, Any]]:
    """The objects at a dotted ``path`` (dotted keys and arrays of objects followed), in document order."""
    out: list[Mapping[str, Any]] = []
    stack: list[tuple[Any, str]] = [(document, path)]
    while stack:
        node, rest = stack.pop()
        if isinstance(node, list):
            stack.extend((child, rest) for child in reversed(node))
        elif isinstance(node, Mapping) and not rest:
            out.append(node)
        elif isinstance(node, Mapping):
            for key, child in reversed(list(node.items())):
                if key == rest:
                    stack.append((child, ""))
                elif rest.startswith(f"{key}."):
                    stack.append((child, rest[len(key) + 1 :]))
    return out
