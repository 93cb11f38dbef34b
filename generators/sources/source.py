"""What a data source is: one definition that the renderers, the fast writer and ``harness check`` read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson

from generators.model import Launch
from generators.sources.template import Template, derive

__all__ = ["Renderer", "Source"]

Renderer = Callable[..., dict[str, Any]]  # (launch, fast=False) -> the document


@dataclass(frozen=True, eq=False)
class Source:
    """A concrete producer (an integration or Beat, with the sensor version that matters).

    ``render(launch)`` returns the final ``_source`` as that source's ingest pipeline
    leaves it, with the ground truth under ``labels``; ``fields`` are the leaf fields its
    process-start documents carry (``labels.*`` aside), held to the renderer by a test.
    """

    name: str  # the harness's name: labels.source, expectations, reports
    label: str  # a short column heading (the terminal table)
    description: str
    index: str  # the index its documents land in, named as the integration or Beat names it
    dataset: str | None  # data_stream.dataset; None for a producer that writes no data stream
    share: float  # of a fleet's Windows hosts that report through it
    platforms: tuple[str, ...]  # the host operating systems it reports from
    fields: frozenset[str]
    renderer: Renderer
    # Parquet holds one type per column: a source whose JSON spells a field two ways
    # renders it once more in a single spelling (Elasticsearch indexes both alike).
    columnar_renderer: Renderer | None = None
    # Every event.category its index holds, as its ingest pipeline sets them; None where
    # the index holds more than the harness can list (a Beat's index, a whole channel).
    categories: frozenset[str] | None = None
    # Whether ``fields`` is all the source writes (its ingest pipeline is what the renderer
    # mirrors), so that a field outside it is never there; False where the renderer models
    # only what the harness needs of a sensor whose documents are not published.
    fields_complete: bool = True
    _templates: dict[bool, Template] = field(default_factory=dict, init=False, repr=False)

    def render(self, launch: Launch) -> dict[str, Any]:
        """The document as a plain dict."""
        return self.renderer(launch)

    def dumps(self, launch: Launch, columnar: bool = False) -> bytes:
        """The document as one line of JSON, built from pre-serialized blocks (no newline).

        ``columnar``: the spelling a Parquet column can hold.
        """
        render = self.columnar_renderer if columnar and self.columnar_renderer else self.renderer
        return orjson.dumps(render(launch, fast=True))

    def template(self, columnar: bool = False) -> Template:
        """The line template of a background launch, derived once from the renderer."""
        found = self._templates.get(columnar)
        if found is None:
            found = self._templates[columnar] = derive(partial(self.dumps, columnar=columnar))
        return found
