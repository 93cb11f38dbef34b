"""Data sources: one abstract launch rendered into each source's real document.

Each source is one module: its renderer, its metadata and its field set, gathered in
a :class:`Source`; the fast writer's line template is derived from the renderer
(``template.py``). ``render(launch)`` returns the final ``_source`` as that source's
ingest pipeline leaves it, with the ground truth under ``labels``. Documents share
sub-objects between them (a host's block is built once): copy one before changing it.
"""

from __future__ import annotations

from generators.sources import endgame, endpoint, security, sysmon
from generators.sources.source import Source

__all__ = ["SOURCES", "Source", "fleet_shares", "source", "sources_on"]

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        endpoint.SOURCE,
        sysmon.WINLOGBEAT,
        sysmon.WINDOWS,
        sysmon.SYSMON9,
        security.WITH_COMMAND_LINE,
        security.WITHOUT_COMMAND_LINE,
        endgame.SOURCE,
    )
}


def source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"no source {name!r}; known: {', '.join(SOURCES)}") from None


def sources_on(os_type: str) -> list[Source]:
    """The sources that report from hosts running ``os_type``, in the registry's order."""
    return [s for s in SOURCES.values() if os_type in s.platforms]


def fleet_shares() -> dict[str, float]:
    """Each source's share of a fleet's Windows hosts, in the order the hosts are drawn in.

    The order is part of what a seed means (another order assigns hosts differently),
    so it is the one the shares were first drawn in, not the registry's.
    """
    order = (
        endpoint.SOURCE,
        sysmon.WINDOWS,
        sysmon.WINLOGBEAT,
        sysmon.SYSMON9,
        security.WITH_COMMAND_LINE,
        security.WITHOUT_COMMAND_LINE,
        endgame.SOURCE,
    )
    return {s.name: s.share for s in order}
