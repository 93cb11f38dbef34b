"""The rule versions this catalogue covers, written by hand: ``harness bench``'s fastest baseline.

Keyed by (rule id, version). Written for the shapes the generators produce (nested keys
only), so they are a speed baseline, not a second definition of the rule's semantics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["BASELINES"]


def _values(event: Mapping[str, Any], *path: str) -> list[Any]:
    node: Any = event
    for key in path:
        if not isinstance(node, dict):
            return []
        node = node.get(key)
    if node is None:
        return []
    return list(node) if isinstance(node, (list, tuple)) else [node]


def _v214(event: Mapping[str, Any]) -> bool:
    """Version 214, by hand, for the shapes the generators produce (nested keys only)."""
    if "process" not in _values(event, "event", "category"):
        return False
    if "windows" not in _values(event, "host", "os", "type") or "start" not in _values(
        event, "event", "type"
    ):
        return False
    names = _values(event, "process", "name")
    named = any(isinstance(n, str) and n.isascii() and n.lower() == "appcmd.exe" for n in names)
    if not named and "appcmd.exe" not in _values(event, "process", "pe", "original_file_name"):
        return False
    args = [a for a in _values(event, "process", "args") if isinstance(a, str)]
    return any(a.isascii() and a.lower() == "list" for a in args) and any(
        a[:5].isascii() and a[:5].lower() == "/text" for a in args
    )


BASELINES: dict[tuple[str, int], Callable[[Mapping[str, Any]], bool]] = {
    ("0564fb9d-90b9-4234-a411-82a546dc1343", 214): _v214,
}
