"""Data sources: one abstract launch rendered into each source's real document.

Each :class:`Source` is a concrete producer (an integration or Beat, with the sensor
version that matters) and the index its documents land in. ``render(launch)``
returns the final ``_source`` as that source's ingest pipeline leaves it, with the
ground truth under ``labels``. Documents share sub-objects between them (a host's
block is built once): copy one before changing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson

from generators.model import Launch
from generators.sources import endgame, endpoint, security, sysmon

__all__ = ["SOURCES", "Source", "source"]


@dataclass(frozen=True)
class Source:
    name: str
    index: str
    description: str
    renderer: Callable[..., dict[str, Any]]

    def render(self, launch: Launch) -> dict[str, Any]:
        """The document as a plain dict."""
        return self.renderer(launch)

    def dumps(self, launch: Launch) -> bytes:
        """The document as one line of JSON, built from pre-serialized blocks (no newline)."""
        return orjson.dumps(self.renderer(launch, fast=True))


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(endpoint.NAME, endpoint.INDEX, "Elastic Defend process events", endpoint.render),
        Source(
            sysmon.WINLOGBEAT.name,
            sysmon.WINLOGBEAT.index,
            "Sysmon 15 event 1 through Winlogbeat 8",
            partial(sysmon.render, variant=sysmon.WINLOGBEAT),
        ),
        Source(
            sysmon.WINDOWS.name,
            sysmon.WINDOWS.index,
            "Sysmon 15 event 1 through the Windows integration",
            partial(sysmon.render, variant=sysmon.WINDOWS),
        ),
        Source(
            sysmon.SYSMON9.name,
            sysmon.SYSMON9.index,
            "Sysmon 9 event 1 through Winlogbeat: no OriginalFileName",
            partial(sysmon.render, variant=sysmon.SYSMON9),
        ),
        Source(
            security.WITH_COMMAND_LINE.name,
            security.WITH_COMMAND_LINE.index,
            "Security 4688 through the System integration, command-line auditing on",
            partial(security.render, variant=security.WITH_COMMAND_LINE),
        ),
        Source(
            security.WITHOUT_COMMAND_LINE.name,
            security.WITHOUT_COMMAND_LINE.index,
            "Security 4688 through the System integration, command-line auditing off",
            partial(security.render, variant=security.WITHOUT_COMMAND_LINE),
        ),
        Source(endgame.NAME, endgame.INDEX, "Elastic Endgame process events", endgame.render),
    )
}


def source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"no source {name!r}; known: {', '.join(SOURCES)}") from None
