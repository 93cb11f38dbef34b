"""Field types from an index mapping, and the values Elasticsearch indexes for them.

Elasticsearch does not match ``_source``: it matches what the mapping made of it.
A ``long`` field holding ``"42"`` was indexed as 42; a ``keyword`` field holding 42
as ``"42"``; a keyword value longer than ``ignore_above`` (1,024 in ECS) was not
indexed at all, so no predicate can see it; an ``ip`` field compares addresses.
Without a mapping the matcher takes values as JSON gives them.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.eql.fields import Scalar
from harness.eql.java import to_java_string, to_units
from harness.errors import HarnessError
from harness.timestamps import epoch_ms

__all__ = [
    "ECS",
    "UNMAPPED_TYPES",
    "FieldMapping",
    "coerce",
    "field_type",
    "load_index_mapping",
    "query_constant",
]

_STRING_TYPES = frozenset({"keyword", "constant_keyword", "wildcard", "match_only_text", "text"})
_INTEGER_TYPES = frozenset({"long", "integer", "short", "byte", "unsigned_long"})
_FLOAT_TYPES = frozenset({"double", "float", "half_float", "scaled_float"})

_TEXT_TYPES = frozenset({"text", "match_only_text"})
# Types EQL reads (ql DataTypes); any other mapped type is refused by name.
_USABLE_TYPES = _STRING_TYPES | _INTEGER_TYPES | _FLOAT_TYPES | {"boolean", "date", "ip", "binary", "version"}
_CATALOGUE = Path(__file__).with_name("ecs_fields.json")


@dataclass(frozen=True)
class FieldMapping:
    """Field name -> Elasticsearch type, as the indices a query reads map them.

    ``ignore_above`` is the keyword limit of fields without one of their own in
    ``limits`` (None turns every limit off while keeping type coercion); ``dynamic``
    maps an object to the type of any leaf below it (an ``object_type`` dynamic
    template); ``exact`` names the keyword subfield a text field is matched through.
    """

    types: Mapping[str, str] = field(default_factory=dict)
    ignore_above: int | None = 1024
    limits: Mapping[str, int | None] = field(default_factory=dict)
    dynamic: Mapping[str, str] = field(default_factory=dict)
    exact: Mapping[str, str] = field(default_factory=dict)
    _resolved: dict[str, str | None] = field(default_factory=dict, init=False, repr=False, compare=False)

    def type_of(self, name: str) -> str | None:
        """The field's type, or None if no index maps it or EQL cannot use it (see ``problem``)."""
        try:
            return self._resolved[name]
        except KeyError:
            kind = None if self.problem(name) else self._mapped(name)
            self._resolved[name] = kind
            return kind

    def problem(self, name: str) -> str | None:
        """Why Elasticsearch's EQL refuses a mapped field, in its words; None if it can use it."""
        kind = self._mapped(name)
        if kind is None:
            return None
        parts = name.split(".")
        for depth in range(1, len(parts)):
            parent = ".".join(parts[:depth])
            if self.types.get(parent) == "nested":
                return (
                    f"Cannot use field [{name}] type [{kind}] with unsupported nested type "
                    f"in hierarchy (field [{parent}])"
                )
        if kind == "nested":
            return f"Cannot use field [{name}] type [nested] due to nested fields not being supported yet"
        if kind == "object":
            return f"Cannot use field [{name}] type [object] only its subfields"
        if kind in _TEXT_TYPES and name not in self.exact:
            return (
                f"No keyword/multi-field defined exact matches for [{name}]; "
                "define one or use MATCH/QUERY instead"
            )
        if kind not in _USABLE_TYPES:
            return f"Cannot use field [{name}] with unsupported type [{kind}]"
        return None

    def limit(self, name: str) -> int | None:
        """The ``ignore_above`` Elasticsearch applies to the field's values (None: none)."""
        if self.ignore_above is None:
            return None
        if name in self.limits:
            return self.limits[name]
        return self.ignore_above if self.type_of(name) in ("keyword", "constant_keyword") else None

    def indexed(self, name: str, values: list[Scalar]) -> list[Any]:
        """The values Elasticsearch indexed for ``name`` from these ``_source`` values."""
        kind = self.type_of(name)
        if kind is None:
            return []  # a field the mapping does not have was never indexed: it is null
        limit = self.limit(name)
        out: list[Any] = []
        for value in values:
            converted = coerce(kind, value)
            if converted is None:
                continue
            if (
                limit is not None and isinstance(converted, str) and len(to_units(converted)) > limit
            ):  # Java String.length()
                continue
            out.append(converted)
        return out

    def _mapped(self, name: str) -> str | None:
        kind = self.types.get(name)
        if kind is not None:
            return kind
        parts = name.split(".")
        for depth in range(len(parts) - 1, 0, -1):
            leaf = self.dynamic.get(".".join(parts[:depth]))
            if leaf is not None:
                return leaf
        return None


def coerce(kind: str, value: Scalar) -> Any:
    """One ``_source`` value as a field of type ``kind`` indexes it, or None if it would not."""
    if kind in _STRING_TYPES:
        return value if isinstance(value, str) else to_java_string(value)
    if kind in _INTEGER_TYPES:
        return _to_long(value)
    if kind in _FLOAT_TYPES:
        return _to_double(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        return {"true": True, "false": False}.get(value) if isinstance(value, str) else None
    if kind == "date":
        return epoch_ms(value)
    if kind == "ip":
        return to_ip(value)
    return value


def query_constant(kind: str, value: Scalar) -> Any:
    """A query constant for a field of type ``kind``.

    Unlike an indexed value, a constant is not truncated: a long field's term query for
    42.5 matches nothing ("has a decimal part"), and ``< 5.5`` keeps its meaning.
    """
    if kind in _INTEGER_TYPES or kind in _FLOAT_TYPES:
        number = (
            value if isinstance(value, (int, float)) and not isinstance(value, bool) else _to_double(value)
        )
        if isinstance(number, float) and number.is_integer() and kind in _INTEGER_TYPES:
            return int(number)
        return number
    return coerce(kind, value)


def _to_long(value: Scalar) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    number = _to_double(value)
    # Elasticsearch coerces "42" and 42.7 into a long field, truncating decimals.
    return int(number) if number is not None and math.isfinite(number) else None


def _to_double(value: Scalar) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value.strip())
    except ValueError:
        return None


def to_ip(value: Any) -> ipaddress.IPv6Address | None:
    """An address as Elasticsearch stores it: IPv4 as its IPv4-mapped IPv6 form."""
    if not isinstance(value, str):
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv4Address):
        return ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + address.packed)
    return address


def load_index_mapping(path: str | Path, *, ignore_above: int | None = 1024) -> FieldMapping:
    """Read an index mapping as ``GET INDEX/_mapping`` returns it (or its ``mappings`` part).

    Multi-fields are fields of their own (``file.path.text``), keyword limits are each
    field's ``ignore_above`` (``ignore_above`` above is the default), and ``@timestamp``
    is a ``date`` unless the mapping says otherwise.
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise HarnessError(f"{path}: cannot read the index mapping: {error}") from error
    found = _Collected()
    found.collect(_find_properties(document), "")
    if not found.types:
        raise HarnessError(f"{path}: no 'properties' found; expected the output of GET INDEX/_mapping")
    found.types.setdefault("@timestamp", "date")
    return FieldMapping(found.types, ignore_above, found.limits, exact=found.exact)


def _find_properties(node: Any) -> Mapping[str, Any]:
    if isinstance(node, Mapping):
        if isinstance(node.get("properties"), Mapping):
            return node["properties"]  # type: ignore[no-any-return]
        for child in node.values():
            found = _find_properties(child)
            if found:
                return found
    return {}


@dataclass
class _Collected:
    types: dict[str, str] = field(default_factory=dict)
    limits: dict[str, int | None] = field(default_factory=dict)
    exact: dict[str, str] = field(default_factory=dict)

    def collect(self, properties: Mapping[str, Any], prefix: str) -> None:
        for name, spec in properties.items():
            if not isinstance(spec, Mapping):
                continue
            full = f"{prefix}{name}"
            kind = str(spec.get("type", "object"))
            self.types[full] = kind
            if kind in ("keyword", "constant_keyword") and "ignore_above" in spec:
                self.limits[full] = int(spec["ignore_above"])
            if isinstance(spec.get("properties"), Mapping):
                self.collect(spec["properties"], full + ".")
            subfields = spec.get("fields")
            if isinstance(subfields, Mapping):
                self.collect(subfields, full + ".")
                keywords = [sub for sub, s in subfields.items() if _is_keyword(s)]
                if kind in _TEXT_TYPES and len(keywords) == 1:
                    self.exact[full] = f"{full}.{keywords[0]}"
                    self.limits[full] = subfields[keywords[0]].get("ignore_above")


def _is_keyword(spec: Any) -> bool:
    return isinstance(spec, Mapping) and spec.get("type") == "keyword"


@lru_cache(maxsize=1)
def _catalogue_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_CATALOGUE.read_text(encoding="utf-8"))
    return document


def stream_fields(dataset: str) -> frozenset[str] | None:
    """Every field the bundled catalogue's definitions of data stream ``dataset`` name; None if unknown.

    A field its data stream defines may be in its documents: what ``harness check`` must not
    call "never carried".
    """
    fields = _catalogue_document().get("streams", {}).get(dataset)
    return None if fields is None else frozenset(fields)


def _bundled() -> FieldMapping:
    """The field catalogue built by ``python -m harness.field_catalogue.build``."""
    document = _catalogue_document()
    default = int(document["keyword_ignore_above"])
    return FieldMapping(
        document["fields"], default, document["ignore_above"], document["dynamic"], document["exact"]
    )


ECS = _bundled()
"""ECS and the integrations the detection rules read (``ecs_fields.json``: sources and
versions in its header), with their keyword limits (ECS's ``ignore_above: 1024``)."""


# A field's type when no mapping is given. Every data stream maps @timestamp as ``date``
# (a data stream's backing indices require it), so an unmapped @timestamp is a date still,
# read with the field's default format strict_date_optional_time||epoch_millis.
UNMAPPED_TYPES = {"@timestamp": "date"}


def field_type(mapping: FieldMapping | None, name: str) -> str | None:
    """The mapped type of ``name``; without a mapping, the type every data stream gives it, if any."""
    return mapping.type_of(name) if mapping is not None else UNMAPPED_TYPES.get(name)
