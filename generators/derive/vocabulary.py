"""Values a Windows fleet really holds, by kind of field: the first place a fill is looked for.

Gathered from the fleet's images and process variants and from every registered
scenario catalogue's command lines (AppCmd's attribute names among them), so a
witness of ``process.args : "/text*"`` says ``/text:name`` or ``/text:*`` as an
administrator would, not ``/textx``.
"""

from __future__ import annotations

from functools import lru_cache

from generators.catalogues import catalogue_names, get_catalogue
from generators.derive.fills import Kind
from generators.fleet import small_fleet
from generators.images import IMAGES
from generators.winargs import split_command_line

__all__ = ["known_values"]

_INTEGRITY = ("system", "high", "medium", "low")
_SLOTS = {"{pool}": "DefaultAppPool", "{site}": "Default Web Site", "{vdir}": "Default Web Site/"}


def known_values(kind: Kind) -> tuple[str, ...]:
    """Realistic values for a field of ``kind``, most typical first; empty for kinds it has none of."""
    return _vocabulary().get(kind, ())


@lru_cache(maxsize=1)
def _vocabulary() -> dict[Kind, tuple[str, ...]]:
    names: list[str] = []
    paths: list[str] = []
    args: list[str] = []
    command_lines: list[str] = []
    for img in IMAGES.values():
        paths.append(img.executable)
        names.append(img.name)
        if img.original_file_name:
            names.append(img.original_file_name)
    for name in catalogue_names():
        for scenario in get_catalogue(name).scenarios.values():
            for step in scenario.steps:
                line = step.command_line
                for slot, value in _SLOTS.items():
                    line = line.replace(slot, value)
                command_lines.append(line)
                args.extend(split_command_line(line)[1:])
    fleet = small_fleet()
    for variants in fleet.variants:
        for variant in variants:
            command_lines.append(variant.command_line)
            args.extend(variant.args[1:])
    users = [u.name for u in (*fleet.people, *fleet.admins, *fleet.services, fleet.system)]
    hosts = [h.name for h in fleet.hosts]
    return {
        "name": _unique(names),
        "path": _unique(paths),
        "args": _unique(args),
        "command_line": _unique(command_lines),
        "user": _unique(users),
        "host": _unique(hosts),
        "ip": _unique(h.ip for h in fleet.hosts),
        # A token's integrity, as each sensor spells it: the launch's account decides it.
        "integrity": _INTEGRITY,
        "integrity-level": tuple(level.capitalize() for level in _INTEGRITY),
    }


def _unique(values: object) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if isinstance(v, str) and v))  # type: ignore[attr-defined]
