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

from dataclasses import dataclass

from generators.sources import SOURCES as GENERATOR_SOURCES
from generators.sources import Source
from harness.eql.mapping import stream_fields
from harness.indices import IndexSelection

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
    categories: frozenset[str] | None = None  # every event category the index holds; None: open
    fields_complete: bool = True  # False: a field outside ``fields`` may still be there


def _catalogue() -> tuple[DataSource, ...]:
    by_index: dict[str, list[str]] = {}
    for src in GENERATOR_SOURCES.values():
        by_index.setdefault(src.index, []).append(src.name)
    return tuple(
        DataSource(
            " or ".join(GENERATOR_SOURCES[name].description for name in names),
            (index,),
            frozenset().union(*(_carried(GENERATOR_SOURCES[name]) for name in names)),
            f"process-start documents of {', '.join(names)}",
            _categories([GENERATOR_SOURCES[name].categories for name in names]),
            all(GENERATOR_SOURCES[name].fields_complete for name in names),
        )
        for index, names in by_index.items()
    )


def _carried(source: Source) -> frozenset[str]:
    """What a source's process documents may hold: what its renderer writes, and every field its
    integration's data stream defines (the real sensor fills more than the generators do)."""
    defined = stream_fields(source.dataset) if source.dataset else None
    return source.fields | (defined or frozenset())


def _categories(declared: list[frozenset[str] | None]) -> frozenset[str] | None:
    """What an index holds when several sources write there: open if any of them is."""
    if any(categories is None for categories in declared):
        return None
    return frozenset().union(*(c for c in declared if c is not None))


SOURCES: tuple[DataSource, ...] = _catalogue()


def sources_for(indices: tuple[str, ...]) -> tuple[list[DataSource], list[str]]:
    """The catalogue sources a rule's index patterns read, and the inclusion patterns that read none.

    Patterns are resolved as Elasticsearch resolves a rule's ``index`` (``harness.indices``):
    an exclusion removes what the patterns before it added and is never "unknown" itself.
    """
    selection = IndexSelection.of(indices)
    found = [s for s in SOURCES if any(selection.reads(index) for index in s.indices)]
    unknown = [
        pattern
        for pattern in selection.expressions or ()
        if not pattern.startswith("-")
        and not any(IndexSelection.of([pattern]).reads(index) for s in SOURCES for index in s.indices)
    ]
    return found, unknown
