"""The sample matcher, as Elasticsearch's ``execution/sample/SampleIterator`` runs it.

A sample needs no order and no timestamp: for every combination of join key values that
each stage's query has events for (composite aggregations over the keys, so a missing key
joins nothing and each value of a multi-valued key is a bucket of its own), Elasticsearch
fetches up to as many documents per stage as there are stages (``size`` and
``terminate_after``, no sort: document order) and picks a different document for each
stage by backtracking (``SampleIterator.matchSample``). One sample per key combination
(``max_samples_per_key`` 1), in the composite aggregation's order: ascending key values.
With ``max_samples_per_key`` N each stage fetches N - 1 documents more and the backtracking
goes on until it has N samples of the key (``SampleIterator.match``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.eql.ast import Query, Sample
from harness.eql.ordinals import Ordinal, join_keys, key_identity

__all__ = ["SampleMatcher"]

Event = Mapping[str, Any]
KeyId = tuple[tuple[int, Any], ...]


class SampleMatcher:
    """Finds the samples of one ``sample`` statement in a list of events."""

    def __init__(self, sample: Sample, predicate: Callable[[Query], Callable[[Event], bool]]) -> None:
        self.steps = [(predicate(stage.query), (*sample.keys, *stage.keys)) for stage in sample.stages]

    def run(
        self, docs: list[Event], ordinals: list[Ordinal], *, max_samples_per_key: int = 1
    ) -> list[tuple[list[Event | None], tuple[Any, ...]]]:
        """Every sample, ascending by join key; ``ordinals`` are not used (samples are unordered)."""
        del ordinals
        per_stage: list[dict[KeyId, list[int]]] = []
        values: dict[KeyId, tuple[Any, ...]] = {}
        for matches, keys in self.steps:
            buckets: dict[KeyId, list[int]] = {}
            for index, doc in enumerate(docs):
                if not matches(doc):
                    continue
                for key in join_keys(doc, keys):
                    identity = key_identity(key)
                    values.setdefault(identity, key)
                    buckets.setdefault(identity, []).append(index)
            per_stage.append(buckets)
        shared = set(per_stage[0]).intersection(*per_stage[1:])
        out: list[tuple[list[Event | None], tuple[Any, ...]]] = []
        # SampleQueryRequest.singleKeyPair: size and terminate_after are stages + max_samples_per_key - 1.
        fetched = len(self.steps) + max_samples_per_key - 1
        for identity in sorted(shared):
            candidates = [buckets[identity][:fetched] for buckets in per_stage]
            for picked in _pick(candidates, max_samples_per_key):
                out.append(([docs[index] for index in picked], values[identity]))
        return out


def _pick(candidates: list[list[int]], wanted: int) -> list[list[int]]:
    """``SampleIterator.match``: depth first, stage by stage, a different document for each stage,
    until ``wanted`` samples are found."""
    found: list[list[int]] = []
    chosen: list[int] = []

    def extend(stage: int) -> None:
        for index in candidates[stage]:
            if index in chosen:
                continue
            chosen.append(index)
            if stage == len(candidates) - 1:
                found.append(list(chosen))
            else:
                extend(stage + 1)
            if len(found) == wanted:
                return
            chosen.pop()

    extend(0)
    return found
