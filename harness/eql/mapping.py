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

# The ECS fields the harness's data sources carry, with their ECS types.
# process.command_line is a ``wildcard`` field in ECS: no ignore_above limit.
_ECS_TYPES = {
    "@timestamp": "date",
    "agent.type": "keyword",
    "agent.version": "keyword",
    "data_stream.dataset": "constant_keyword",
    "data_stream.namespace": "constant_keyword",
    "data_stream.type": "constant_keyword",
    "ecs.version": "keyword",
    "event.action": "keyword",
    "event.category": "keyword",
    "event.code": "keyword",
    "event.created": "date",
    "event.dataset": "keyword",
    "event.id": "keyword",
    "event.ingested": "date",
    "event.kind": "keyword",
    "event.module": "keyword",
    "event.outcome": "keyword",
    "event.provider": "keyword",
    "event.type": "keyword",
    "host.domain": "keyword",
    "host.hostname": "keyword",
    "host.id": "keyword",
    "host.ip": "ip",
    "host.name": "keyword",
    "host.os.family": "keyword",
    "host.os.name": "keyword",
    "host.os.platform": "keyword",
    "host.os.type": "keyword",
    "host.os.version": "keyword",
    "message": "match_only_text",
    "process.args": "keyword",
    "process.args_count": "long",
    "process.code_signature.subject_name": "keyword",
    "process.code_signature.trusted": "boolean",
    "process.command_line": "wildcard",
    "process.entity_id": "keyword",
    "process.executable": "keyword",
    "process.exit_code": "long",
    "process.hash.md5": "keyword",
    "process.hash.sha1": "keyword",
    "process.hash.sha256": "keyword",
    "process.name": "keyword",
    "process.parent.args": "keyword",
    "process.parent.command_line": "wildcard",
    "process.parent.entity_id": "keyword",
    "process.parent.executable": "keyword",
    "process.parent.name": "keyword",
    "process.parent.pid": "long",
    "process.pe.company": "keyword",
    "process.pe.description": "keyword",
    "process.pe.file_version": "keyword",
    "process.pe.original_file_name": "keyword",
    "process.pe.product": "keyword",
    "process.pid": "long",
    "process.start": "date",
    "process.working_directory": "keyword",
    "source.ip": "ip",
    "destination.ip": "ip",
    "user.domain": "keyword",
    "user.id": "keyword",
    "user.name": "keyword",
    "winlog.channel": "keyword",
    "winlog.computer_name": "keyword",
    "winlog.event_id": "keyword",
    "winlog.provider_name": "keyword",
    "winlog.record_id": "keyword",
}


@dataclass(frozen=True)
class FieldMapping:
    """Field name -> Elasticsearch type, and the keyword ``ignore_above`` limit.

    ``ignore_above=None`` turns the limit off while keeping type coercion.
    """

    types: Mapping[str, str] = field(default_factory=dict)
    ignore_above: int | None = 1024

    def type_of(self, name: str) -> str | None:
        return self.types.get(name)

    def indexed(self, name: str, values: list[Scalar]) -> list[Any]:
        """The values Elasticsearch indexed for ``name`` from these ``_source`` values."""
        kind = self.types.get(name)
        if kind is None:
            return []  # a field the mapping does not have was never indexed: it is null
        out: list[Any] = []
        for value in values:
            converted = coerce(kind, value)
            if converted is None:
                continue
            if (
                self.ignore_above is not None
                and kind in ("keyword", "constant_keyword")
                and isinstance(converted, str)
                and len(to_units(converted)) > self.ignore_above  # Java String.length()
            ):
                continue
            out.append(converted)
        return out


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
    """Read an index mapping as ``GET INDEX/_mapping`` returns it (or its ``mappings`` part)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise HarnessError(f"{path}: cannot read the index mapping: {error}") from error
    types: dict[str, str] = {}
    _collect(_find_properties(document), "", types)
    if not types:
        raise HarnessError(f"{path}: no 'properties' found; expected the output of GET INDEX/_mapping")
    return FieldMapping(types, ignore_above)


def _find_properties(node: Any) -> Mapping[str, Any]:
    if isinstance(node, Mapping):
        if isinstance(node.get("properties"), Mapping):
            return node["properties"]  # type: ignore[no-any-return]
        for child in node.values():
            found = _find_properties(child)
            if found:
                return found
    return {}


def _collect(properties: Mapping[str, Any], prefix: str, out: dict[str, str]) -> None:
    for name, spec in properties.items():
        if not isinstance(spec, Mapping):
            continue
        full = f"{prefix}{name}"
        if "type" in spec and spec["type"] != "object" and spec["type"] != "nested":
            out[full] = str(spec["type"])
        if isinstance(spec.get("properties"), Mapping):
            _collect(spec["properties"], full + ".", out)


# A field's type when no mapping is given. Every data stream maps @timestamp as ``date``
# (a data stream's backing indices require it), so an unmapped @timestamp is a date still,
# read with the field's default format strict_date_optional_time||epoch_millis.
UNMAPPED_TYPES = {"@timestamp": "date"}


def field_type(mapping: FieldMapping | None, name: str) -> str | None:
    """The mapped type of ``name``; without a mapping, the type every data stream gives it, if any."""
    return mapping.type_of(name) if mapping is not None else UNMAPPED_TYPES.get(name)


ECS = FieldMapping(_ECS_TYPES)
"""The bundled ECS subset, with ECS's ``ignore_above: 1024`` on keyword fields."""
