"""A corpus file read once for many rules: each document cut down to the fields they read.

Every line is still decoded whole and checked as :func:`harness.events.read_events` checks
it (a bad line is an error naming it, a repeated key is refused), and mapped as
:func:`harness.corpus.open_corpus` maps it; what a :class:`Projected` document keeps is
only the values that can hold the fields asked for, every spelling of them:
``{"process": {"name": ...}}``, ``{"process.name": ...}``, ``{"process": {"pe.original_file_name":
...}}``, arrays of objects with the kept part of each item. So a rule that reads only those
fields gives every verdict it gives on the whole document, while a list of a million
documents holds a fraction of their size. The runner's own fields (:data:`RUNNER_FIELDS`)
are always kept, and :meth:`Projected.whole` reads the document again in full for the few
a report shows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from harness.corpus import Placed, as_document
from harness.errors import HarnessError, UsageError
from harness.events import STDIN, EventRecord, read_events

__all__ = ["RUNNER_FIELDS", "Projected", "read_projected"]

# What the row runner reads of every document: the labels, where the document lives (its index,
# data stream or labelled index), its host and its time (harness.validation.runner).
RUNNER_FIELDS = frozenset({"labels", "_index", "data_stream", "host.name", "@timestamp"})


class Projected(dict[str, Any]):
    """A document holding only the kept fields; :meth:`whole` gives the document it was cut from."""

    __slots__ = ("_offset", "_path", "_whole")

    def __init__(
        self, kept: dict[str, Any], path: str, offset: int | None, whole: dict[str, Any] | None
    ) -> None:
        super().__init__(kept)
        self._path, self._offset, self._whole = path, offset, whole

    def whole(self) -> dict[str, Any]:
        """The whole document, read again from its line (or kept whole: an item of a JSON array)."""
        if self._whole is not None:
            return dict(self._whole)
        assert self._offset is not None
        with _reopen(self._path) as stream:
            stream.seek(self._offset)
            line = stream.readline()
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise HarnessError(
                f"{self._path}: changed since it was read (no document at byte {self._offset} any more)"
            ) from error
        return as_document(EventRecord(event, self._path, 0, None))


def read_projected(path: str, fields: Collection[str]) -> Placed[Projected]:
    """The documents of the NDJSON (or gzip, JSON array, search export) file ``path``, each cut
    down to ``fields`` (dotted names, as :func:`harness.eql.read_fields.read_fields` lists
    them) and :data:`RUNNER_FIELDS`, in file order, each knowing its line as
    :func:`harness.corpus.open_corpus`'s do."""
    if path == STDIN:
        raise UsageError("read_projected reads a file again for the documents a report shows: give a path")
    return Placed(f"{path}:", _projected(path, _Trie.of({*fields, *RUNNER_FIELDS})))


def _projected(path: str, keep: _Trie) -> Iterator[tuple[int, Projected]]:
    for record in read_events([path]):
        document = as_document(record)
        kept = _cut(document, keep)
        # A document that is not its line as read (an array item, a hit) is kept whole for whole().
        whole = None if record.raw is not None and record.index is None else document
        yield record.line, Projected(kept, path, record.offset, whole)


def _reopen(path: str) -> IO[bytes]:
    """The file as bytes, gunzipped when it is gzip (seeking then decompresses up to the offset)."""
    import gzip

    stream = open(path, "rb")  # noqa: SIM115 - the caller's ``with`` closes it
    if stream.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]  # a binary IO
    return stream


@dataclass
class _Trie:
    """Field paths by segment; ``whole`` where a kept field ends (its value is kept as it is)."""

    children: dict[str, _Trie] = field(default_factory=dict)
    whole: bool = False
    # What a key of an object at this node leads to (None: no kept field): keys repeat across documents.
    _follow: dict[str, _Trie | None] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, fields: Collection[str]) -> _Trie:
        root = cls()
        for name in fields:
            node = root
            for segment in name.split("."):
                node = node.children.setdefault(segment, cls())
            node.whole = True
        return root

    def follow(self, key: str) -> _Trie | None:
        """The node a key reaches: ``pe.original_file_name`` spells two segments at once."""
        try:
            return self._follow[key]
        except KeyError:
            pass
        node: _Trie | None = self
        for segment in key.split("."):
            assert node is not None
            if node.whole:
                break  # a key below a kept field is part of its value
            node = node.children.get(segment)
            if node is None:
                break
        self._follow[key] = node
        return node


def _cut(document: dict[str, Any], keep: _Trie) -> dict[str, Any]:
    kept = {}
    for key, value in document.items():
        node = keep.follow(key)
        if node is not None:
            kept[key] = value if node.whole else _cut_value(value, node)
    return kept


def _cut_value(value: Any, keep: _Trie) -> Any:
    if type(value) is dict:
        return _cut(value, keep)
    if type(value) is list:
        return [_cut_value(item, keep) for item in value]
    return value  # a scalar where the path goes on holds none of its fields: kept as it is
