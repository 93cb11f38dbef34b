"""The data sources a Windows process rule reads, and the fields each one carries.

A view of ``generators.sources``, the one definition of each source: what one Elastic
integration (or Beat) writes for a process start, with the leaf fields of those
documents (held to its renderer by a test). Here they are grouped by the index they
land in: an index carries a field when any source writing there does. The catalogue
lets ``harness check`` say when a process rule uses, without ``?``, a field that one
of its indices never receives: on that source the rule can never match, which is
rarely what its author meant.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from generators.sources import SOURCES as GENERATOR_SOURCES

__all__ = ["CATEGORIES", "SOURCES", "DataSource", "sources_for"]

# The event categories the sources' documents are: the field sets say nothing of the others.
CATEGORIES = frozenset({"process"})


@dataclass(frozen=True)
class DataSource:
    """One index that process events land in: who writes there, its patterns and the fields it fills."""

    name: str
    indices: tuple[str, ...]
    fields: frozenset[str]
    note: str


def _catalogue() -> tuple[DataSource, ...]:
    by_index: dict[str, list[str]] = {}
    for src in GENERATOR_SOURCES.values():
        by_index.setdefault(src.index, []).append(src.name)
    return tuple(
        DataSource(
            " or ".join(GENERATOR_SOURCES[name].description for name in names),
            (index,),
            frozenset().union(*(GENERATOR_SOURCES[name].fields for name in names)),
            f"process-start documents of {', '.join(names)}",
        )
        for index, names in by_index.items()
    )


SOURCES: tuple[DataSource, ...] = _catalogue()


def sources_for(indices: tuple[str, ...]) -> tuple[list[DataSource], list[str]]:
    """The catalogue sources a rule's index patterns cover, and the patterns none covers."""
    found: list[DataSource] = []
    unknown: list[str] = []
    for pattern in indices:
        matched = [
            source
            for source in SOURCES
            if any(fnmatch.fnmatchcase(index, pattern) or index == pattern for index in source.indices)
        ]
        if not matched:
            unknown.append(pattern)
        for source in matched:
            if source not in found:
                found.append(source)
    return found, unknown
