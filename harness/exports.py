"""Documents exported from Elasticsearch, read as the events they hold.

Three shapes are recognised: a search hit (``{"_index": ..., "_id": ..., "_source":
{...}}``), a whole search response (``{"hits": {"hits": [hit, ...]}}``, as Kibana's
Dev Tools or ``curl _search`` print it), and anything else, which is an event itself
(a raw ``_source``). A hit is told apart by its ``_index`` or ``_source`` key: both
are metadata fields, which Elasticsearch refuses inside a document's source, so no
event of an index can carry them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["BadHitError", "Source", "is_hit", "unwrap"]


@dataclass(frozen=True)
class Source:
    """One event and, when it came from a search hit, the hit's index and id."""

    event: dict[str, Any]
    index: str | None = None
    id: str | None = None


class BadHitError(ValueError):
    """A hit with no usable ``_source``; ``hit`` is its place in ``hits.hits`` (None: the document)."""

    def __init__(self, message: str, hit: int | None) -> None:
        self.message = message
        self.hit = hit
        super().__init__(message)


def is_hit(document: dict[str, Any]) -> bool:
    return "_index" in document or "_source" in document


def _is_search_response(document: dict[str, Any]) -> bool:
    hits = document.get("hits")
    return isinstance(hits, dict) and isinstance(hits.get("hits"), list)


def unwrap(document: dict[str, Any]) -> Iterator[Source]:
    """The events ``document`` holds; :class:`BadHitError` for a hit without a ``_source`` object."""
    if is_hit(document):
        yield _source(document, None)
    elif _is_search_response(document):
        for number, hit in enumerate(document["hits"]["hits"]):
            if not isinstance(hit, dict):
                raise BadHitError(
                    f"hit {number} of hits.hits is a {type(hit).__name__}, not an object", number
                )
            yield _source(hit, number)
    else:
        yield Source(document)


def _source(hit: dict[str, Any], number: int | None) -> Source:
    index, id_ = hit.get("_index"), hit.get("_id")
    source = hit.get("_source")
    if not isinstance(source, dict):
        which = "the search hit" if number is None else f"hit {number} of hits.hits"
        named = f" (_id {id_!r})" if id_ is not None else ""
        problem = (
            "has no _source (was the search run with _source disabled?)"
            if "_source" not in hit
            else f"has a _source that is {_json_type(source)}, not an object"
        )
        raise BadHitError(f"{which}{named} {problem}", number)
    return Source(
        source,
        None if index is None else str(index),
        None if id_ is None else str(id_),
    )


def _json_type(value: Any) -> str:
    names = {type(None): "null", bool: "a boolean", str: "a string", list: "an array"}
    return names.get(type(value), "a number")
