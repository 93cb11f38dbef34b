"""Which documents a rule reads: Elasticsearch's multi-target index expressions, offline.

A rule's ``index`` is a list of expressions that Kibana joins with commas for the search.
Elasticsearch resolves them left to right (multi-target syntax, "Multi-target syntax" in
its reference): a name or a ``*`` glob adds the targets it matches, ``-pattern`` removes
from what the expressions before it added (so ``logs-*,-logs-system*`` reads no System
logs, while a leading exclusion removes nothing). Names are case-sensitive. Wildcards
match data stream and index names; a data stream's hidden backing index
``.ds-<stream>-<date>-<generation>`` is read through its stream's name.

A document says where it lives by ``_index`` (an export's hit, kept by the readers), by
``labels.index`` (where the generators' source indexes it), or by ``data_stream.type``,
``.dataset`` and ``.namespace`` (how Fleet names a data stream). A document with none of
these has no index information: every rule reads it, and reports say so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["IndexSelection", "document_index", "stream_name"]

_BACKING = re.compile(r"^\.ds-(?P<stream>.+)-\d{4}\.\d{2}\.\d{2}-\d+$")


def stream_name(index: str) -> str:
    """The data stream a backing index belongs to, or the index itself."""
    found = _BACKING.match(index)
    return found.group("stream") if found else index


def document_index(document: Mapping[str, Any]) -> str | None:
    """Where ``document`` lives: its ``_index``, its generator label, or its data stream; None if unknown."""
    index = document.get("_index")
    if isinstance(index, str) and index:
        return index
    labels = document.get("labels")
    if isinstance(labels, Mapping):
        index = labels.get("index")
        if isinstance(index, str) and index:
            return index
    stream = document.get("data_stream")
    if isinstance(stream, Mapping):
        parts = [stream.get("type"), stream.get("dataset"), stream.get("namespace")]
        if all(isinstance(part, str) and part for part in parts):
            return "-".join(parts)  # type: ignore[arg-type]  # all str, checked above
    flat = [document.get(f"data_stream.{key}") for key in ("type", "dataset", "namespace")]
    if all(isinstance(part, str) and part for part in flat):
        return "-".join(flat)  # type: ignore[arg-type]
    return None


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    """``*`` as any run of characters; everything else literal (index names hold no other wildcard)."""
    return re.compile(
        "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern))
    )


@dataclass(frozen=True)
class IndexSelection:
    """A rule's index expressions; ``None`` (a bare query, a rule without ``index``) reads every document."""

    expressions: tuple[str, ...] | None

    @classmethod
    def of(cls, indices: Sequence[str] | None) -> IndexSelection:
        if not indices:
            return cls(None)
        split = tuple(part.strip() for item in indices for part in item.split(",") if part.strip())
        return cls(split or None)

    @property
    def reads_everything(self) -> bool:
        return self.expressions is None

    def reads(self, index: str | None) -> bool:
        """Whether a document in ``index`` is searched; a document with no index information always is."""
        if index is None or self.expressions is None:
            return True
        return _resolve(self.expressions, stream_name(index)) or _resolve(self.expressions, index)

    def read_indices(self, indices: Iterable[str | None]) -> set[str | None]:
        """The subset of ``indices`` this selection reads."""
        return {index for index in indices if self.reads(index)}

    def __str__(self) -> str:
        return "every index" if self.expressions is None else ",".join(self.expressions)


@lru_cache(maxsize=4096)
def _resolve(expressions: tuple[str, ...], name: str) -> bool:
    included = False
    for expression in expressions:
        if expression.startswith("-") and len(expression) > 1:
            # An exclusion removes what the expressions before it added; a leading one removes nothing.
            if included and _glob(expression[1:]).fullmatch(name):
                included = False
        elif _glob(expression).fullmatch(name):
            included = True
    return included
