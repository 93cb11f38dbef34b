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

:class:`SampleMachine` picks the samples from each stage's hits, however they were found
(judged event by event here, selected in one scan by ``harness.sql.sequences``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.eql.ast import Query, Sample
from harness.eql.ordinals import Ordinal, key_identity
from harness.eql.sequences import Found, StageHit, stage_hits, stage_keys

__all__ = ["SampleMachine", "SampleMatcher"]

Event = Mapping[str, Any]
KeyId = tuple[tuple[int, Any], ...]


class SampleMachine:
    """The samples of one ``sample`` statement, picked from each stage's hits."""

    def __init__(self, sample: Sample) -> None:
        self.sample = sample

    def match(self, hits_per_stage: list[list[StageHit]], *, max_samples_per_key: int = 1) -> list[Found]:
        """Every sample, ascending by join key, as rows in stage order; hits in any order (document
        order is the rows' order: a sample's fetch has no sort)."""
        if len(hits_per_stage) != len(self.sample.stages):
            raise ValueError(f"expected hits for {len(self.sample.stages)} stages, got {len(hits_per_stage)}")
        per_stage: list[dict[KeyId, list[int]]] = []
        values: dict[KeyId, tuple[Any, ...]] = {}
        for hits in hits_per_stage:
            buckets: dict[KeyId, list[int]] = {}
            for hit in sorted(hits, key=lambda one: one.row):
                for key in hit.keys:
                    identity = key_identity(key)
                    values.setdefault(identity, key)
                    buckets.setdefault(identity, []).append(hit.row)
            per_stage.append(buckets)
        shared = set(per_stage[0]).intersection(*per_stage[1:])
        out: list[Found] = []
        # SampleQueryRequest.singleKeyPair: size and terminate_after are stages + max_samples_per_key - 1.
        fetched = len(per_stage) + max_samples_per_key - 1
        for identity in sorted(shared):
            candidates = [buckets[identity][:fetched] for buckets in per_stage]
            for picked in _pick(candidates, max_samples_per_key):
                rows: list[int | None] = [*picked]
                out.append((rows, values[identity]))
        return out


class SampleMatcher:
    """Finds the samples of one ``sample`` statement in a list of events, judged one by one."""

    def __init__(self, sample: Sample, predicate: Callable[[Query], Callable[[Event], bool]]) -> None:
        self.machine = SampleMachine(sample)
        self.queries = tuple(stage.query for stage in sample.stages)
        self.tests = [(predicate(stage.query), stage_keys(sample, stage)) for stage in sample.stages]

    def run(
        self,
        docs: list[Event],
        ordinal_of: Callable[[int], Ordinal],
        matched: list[list[int]] | None = None,
        *,
        max_samples_per_key: int = 1,
    ) -> list[tuple[list[Event | None], tuple[Any, ...]]]:
        """Every sample, ascending by join key (samples are unordered: ordinals only fill the hits);
        ``matched`` as :meth:`SequenceMatcher.run` takes it."""
        hits = stage_hits(self.tests, docs, ordinal_of, matched)
        return [
            ([None if row is None else docs[row] for row in rows], key)
            for rows, key in self.machine.match(hits, max_samples_per_key=max_samples_per_key)
        ]


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
