"""Value lists: the values a ``list`` entry tests, read from the text Kibana's value list export writes.

A list is one value per line (``POST /api/lists/items/_export`` writes ``value\\n`` per item);
its id names its file, as Kibana's value list import names a list after the uploaded file.
Which lists the EQL executor can filter on is Kibana's: ``keyword``, ``ip`` and ``ip_range``
lists of at most 65,536 values (``MAXIMUM_SMALL_VALUE_LIST_SIZE``), and an ``ip_range`` list
of at most 200 dash ranges (``MAXIMUM_SMALL_IP_RANGE_VALUE_LIST_DASH_SIZE``), both in
``kbn-securitysolution-list-constants/index.ts``; ``filterOutUnprocessableValueLists``
(``build_exception_filter.ts``) leaves the other items out of the search.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

__all__ = ["LIST_TYPES", "ValueList", "read_value_list"]

MAXIMUM_SMALL_VALUE_LIST_SIZE = 65536
MAXIMUM_SMALL_IP_RANGE_VALUE_LIST_DASH_SIZE = 200
PROCESSABLE_TYPES = ("keyword", "ip", "ip_range")
# Kibana's ListType enum (``kbn-securitysolution-io-ts-list-types`` ``common/type``).
LIST_TYPES = (
    "binary", "boolean", "byte", "date", "date_nanos", "date_range", "double", "double_range",
    "float", "float_range", "geo_point", "geo_shape", "half_float", "integer", "integer_range",
    "ip", "ip_range", "keyword", "long", "long_range", "shape", "short", "text",
)  # fmt: skip

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class ValueList:
    """A value list's id, Elasticsearch type and values (in file order)."""

    id: str
    type: str
    values: tuple[str, ...]

    def dash_ranges(self) -> int:
        """How many values are ``a-b`` ranges (Kibana's ``buildListClause`` counts them)."""
        return sum(1 for value in self.values if "-" in value) if self.type == "ip_range" else 0

    def problem(self) -> str | None:
        """Why Kibana's EQL executor does not apply an item using this list; None if it does."""
        if self.type not in PROCESSABLE_TYPES:
            return f"value list {self.id!r} is of type {self.type}: only keyword, ip and ip_range lists apply"
        if len(self.values) > MAXIMUM_SMALL_VALUE_LIST_SIZE:
            return (
                f"value list {self.id!r} has {len(self.values):,} values "
                f"(more than {MAXIMUM_SMALL_VALUE_LIST_SIZE:,})"
            )
        if self.dash_ranges() > MAXIMUM_SMALL_IP_RANGE_VALUE_LIST_DASH_SIZE:
            return (
                f"value list {self.id!r} has {self.dash_ranges()} dash ranges "
                f"(more than {MAXIMUM_SMALL_IP_RANGE_VALUE_LIST_DASH_SIZE}); Kibana drops such an item "
                "without naming it in its warning"
            )
        return None

    def networks(self) -> tuple[list[tuple[int, int]], set[str]]:
        """An ip or ip_range list as inclusive integer ranges (IPv4 mapped into IPv6) plus unparsed values."""
        ranges: list[tuple[int, int]] = []
        bad: set[str] = set()
        for value in self.values:
            try:
                if "-" in value and self.type == "ip_range":
                    low, _, high = value.partition("-")
                    ranges.append((_as_int(ipaddress.ip_address(low)), _as_int(ipaddress.ip_address(high))))
                else:
                    network: Network = ipaddress.ip_network(value, strict=False)
                    ranges.append((_as_int(network.network_address), _as_int(network.broadcast_address)))
            except ValueError:
                bad.add(value)
        return ranges, bad


def _as_int(address: Address) -> int:
    """An address as Elasticsearch orders ip values: IPv4 as its IPv4-mapped IPv6 form."""
    if isinstance(address, ipaddress.IPv4Address):
        return 0xFFFF_0000_0000 | int(address)
    return int(address)


def ip_as_int(address: Address) -> int:
    """The integer an address sorts as among ``ValueList.networks`` ranges."""
    return _as_int(address)


def read_value_list(path: Path, list_id: str, list_type: str) -> ValueList:
    """Read a value list file: one value per line, blank lines and surrounding whitespace ignored."""
    if list_type not in LIST_TYPES:
        raise HarnessError(
            f"value list {list_id!r}: unknown type {list_type!r}; use one of {', '.join(LIST_TYPES)}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise HarnessError(
            f"{path}: cannot read value list {list_id!r} ({error}); "
            "give the list as a text file named after its id, one value per line"
        ) from error
    values = tuple(line.strip() for line in text.splitlines() if line.strip())
    return ValueList(list_id, list_type, values)
