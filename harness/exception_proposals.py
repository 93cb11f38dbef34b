"""Exception items proposed from a rule's false positives, each kept only if it hides no detection.

The false positives are the rule's alerts on benign events; what must survive is every alert on
a malicious event (the catalogue's scenarios in every source, the corpus's own attacks) and every
derived witness. Candidates are single entries read off the false positives
(``harness.exception_candidates``); an entry that matches any guarded event is refused. The
cover is greedy: the safe entry removing the most false positives still left wins, ties going to
the one that also removes the most of the catalogue's benign look-alikes (noise the corpus did
not happen to draw), then to the earlier field of ``CANDIDATE_FIELDS``. A false positive no
single safe entry removes is tried with two of its own entries ANDed; one no pair removes is
reported as left. Entries on one field are then merged into one ``match_any``. Every judgement is
``ExceptionSet``'s, so the proposal is measured with Kibana's semantics, not a lookalike of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any, NamedTuple

from harness.eql.fields import field_values
from harness.eql.mapping import ECS, FieldMapping
from harness.errors import UsageError
from harness.exception_candidates import CANDIDATE_FIELDS, candidate_entries, merge_matches
from harness.exceptions.match import entry_matches
from harness.exceptions.model import (
    Entry,
    ExceptionItem,
    ExceptionList,
    ExceptionSet,
    Match,
    MatchAny,
    Wildcard,
    content_id,
)
from harness.exceptions.toml_form import TOML_SUFFIX
from harness.exceptions.write import item_json, write_ndjson, write_toml

__all__ = [
    "ExceptionProposal",
    "ItemMeasure",
    "Labelled",
    "Loss",
    "describe",
    "losses_by_scenario",
    "propose_exceptions",
    "toml_copy_path",
    "write_proposal",
]


class Labelled(NamedTuple):
    """An event with where it came from: ``origin`` is catalogue, corpus or derived."""

    origin: str
    scenario: str
    source: str
    document: Mapping[str, Any]


@dataclass(frozen=True)
class Loss:
    """Detections an item would hide in one scenario (or derived witness) and source."""

    origin: str
    scenario: str
    source: str
    events: int

    def label(self) -> str:
        return f"{self.scenario} in {self.source} ({self.origin}): {self.events}"


@dataclass(frozen=True)
class ItemMeasure:
    item: ExceptionItem
    false_positives_removed: int
    look_alikes_removed: int
    lost: tuple[Loss, ...]

    @property
    def accepted(self) -> bool:
        return not self.lost

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": item_json(self.item),
            "false_positives_removed": self.false_positives_removed,
            "look_alikes_removed": self.look_alikes_removed,
            "detections_lost_by_scenario": list(losses_by_scenario(self.lost)),
            "detections_lost": [
                {"origin": x.origin, "scenario": x.scenario, "source": x.source, "events": x.events}
                for x in self.lost
            ],
        }


@dataclass(frozen=True)
class ExceptionProposal:
    """The accepted items (``exceptions``), each measured, and the tempting ones refused."""

    exceptions: ExceptionSet
    accepted: tuple[ItemMeasure, ...]
    refused: tuple[ItemMeasure, ...]  # the widest entry per field that would hide a detection
    false_positives: int
    removed: int
    left: tuple[str, ...]  # false positives no safe item removes, as scenario in source
    benign_events: int
    look_alikes: int
    guarded: Mapping[str, int]  # guarded events per origin

    def per_million(self, false_positives: int) -> float | None:
        return false_positives / self.benign_events * 1e6 if self.benign_events else None

    @property
    def before(self) -> float | None:
        return self.per_million(self.false_positives)

    @property
    def after(self) -> float | None:
        return self.per_million(self.false_positives - self.removed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "false_positives": self.false_positives,
            "false_positives_removed": self.removed,
            "false_positives_left": list(self.left),
            "benign_events": self.benign_events,
            "false_positives_per_million_before": self.before,
            "false_positives_per_million_after": self.after,
            "look_alikes": self.look_alikes,
            "guarded": dict(self.guarded),
            "accepted": [m.as_dict() for m in self.accepted],
            "refused": [m.as_dict() for m in self.refused],
        }


class _Judge:
    """Entries and items judged on the three event sets, each entry's verdicts computed once.

    An entry reads only its own field, so events with the same values on every candidate field
    get the same verdict from every candidate: each such group is judged once, by its first
    event. Noise repeats (a monitoring script runs every few minutes), so a real log's thousands
    of false positives are a few dozen judgements per entry.
    """

    def __init__(
        self,
        false_positives: Sequence[Labelled],
        look_alikes: Sequence[Labelled],
        guarded: Sequence[Labelled],
        mapping: FieldMapping,
    ) -> None:
        self.sets = (false_positives, look_alikes, guarded)
        self.mapping = mapping
        self._groups = tuple(_groups(events) for events in self.sets)
        self._hits: dict[Entry, tuple[frozenset[int], ...]] = {}

    def hits(self, entry: Entry) -> tuple[frozenset[int], ...]:
        """The indices of the false positives, look-alikes and guarded events ``entry`` matches."""
        if entry.field not in CANDIDATE_FIELDS:
            raise ValueError(f"{entry.field!r} is not a candidate field: its events were not grouped by it")
        if entry not in self._hits:
            self._hits[entry] = tuple(
                frozenset(
                    i
                    for members in groups
                    if entry_matches(entry, events[members[0]].document, self.mapping, {})
                    for i in members
                )
                for events, groups in zip(self.sets, self._groups, strict=True)
            )
        return self._hits[entry]

    def item_hits(self, entries: Sequence[Entry]) -> tuple[frozenset[int], ...]:
        """An item's entries ANDed: the events every entry matches."""
        per_entry = [self.hits(entry) for entry in entries]
        return tuple(frozenset.intersection(*(h[k] for h in per_entry)) for k in range(3))

    def measure(self, item: ExceptionItem) -> ItemMeasure:
        removed, looks, hidden = self.item_hits(item.entries)
        losses: dict[tuple[str, str, str], int] = {}
        for i in hidden:
            event = self.sets[2][i]
            key = (event.origin, event.scenario, event.source)
            losses[key] = losses.get(key, 0) + 1
        lost = tuple(Loss(*key, n) for key, n in sorted(losses.items()))
        return ItemMeasure(item, len(removed), len(looks), lost)


def _groups(events: Sequence[Labelled]) -> list[list[int]]:
    """The indices of ``events``, grouped by their values on every candidate field."""
    groups: dict[tuple[tuple[object, ...], ...], list[int]] = {}
    for i, event in enumerate(events):
        key = tuple(tuple(field_values(event.document, tuple(n.split(".")))) for n in CANDIDATE_FIELDS)
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def _gain(judge: _Judge, entries: tuple[Entry, ...], left_over: set[int]) -> tuple[int, int]:
    """False positives still left that ``entries`` remove, then catalogue look-alikes they remove.

    ``max`` keeps the first of equals, and candidates come in ``_rank`` order: the earlier field wins.
    """
    removed, looks, _ = judge.item_hits(entries)
    return (len(removed & left_over), len(looks))


def _rank(entry: Entry) -> tuple[int, int, str]:
    kind = 0 if isinstance(entry, Match) else 1
    return (CANDIDATE_FIELDS.index(entry.field), kind, repr(entry))


def propose_exceptions(
    false_positives: Sequence[Labelled],
    guarded: Sequence[Labelled],
    *,
    look_alikes: Sequence[Labelled] = (),
    benign_events: int,
    list_id: str,
    list_name: str,
    mapping: FieldMapping = ECS,
) -> ExceptionProposal:
    """The fewest safe items removing ``false_positives``, measured, with the refused tempting ones."""
    judge = _Judge(false_positives, look_alikes, guarded, mapping)
    candidates = sorted(
        {e: None for fp in false_positives for e in candidate_entries(fp.document, mapping)}, key=_rank
    )
    safe = [e for e in candidates if not judge.hits(e)[2]]
    left_over = set(range(len(false_positives)))
    chosen: list[tuple[Entry, ...]] = []
    left: list[str] = []
    while left_over:
        best = max(
            safe,
            key=lambda e: (
                len(judge.hits(e)[0] & left_over),
                len(judge.hits(e)[1]),
                [-r for r in _rank(e)[:2]],
            ),
            default=None,
        )
        pick: tuple[Entry, ...] | None = None
        if best is not None and judge.hits(best)[0] & left_over:
            pick = (best,)
        else:
            first = min(left_over)
            pick = _pair_for(judge, false_positives[first], left_over, mapping)
            if pick is None:
                left_over.discard(first)
                fp = false_positives[first]
                left.append(f"{fp.scenario} in {fp.source}")
                continue
        left_over -= judge.item_hits(pick)[0]
        chosen.append(pick)

    def make(entries: tuple[Entry, ...]) -> ExceptionItem:
        return _item(entries, list_id, judge, false_positives)

    items = merge_matches([make(entries) for entries in chosen], make)
    accepted = tuple(judge.measure(item) for item in items)
    refused = _tempting(judge, candidates, list_id, false_positives)
    exceptions = ExceptionSet(
        tuple(items),
        lists=(ExceptionList(list_id, list_name, _list_description(list_name)),) if items else (),
        mapping=mapping,
    )
    removed = len(frozenset().union(*(judge.item_hits(i.entries)[0] for i in items))) if items else 0
    origins: dict[str, int] = {}
    for event in guarded:
        origins[event.origin] = origins.get(event.origin, 0) + 1
    return ExceptionProposal(
        exceptions,
        accepted,
        refused,
        len(false_positives),
        removed,
        tuple(left),
        benign_events,
        len(look_alikes),
        dict(sorted(origins.items())),
    )


def _pair_for(
    judge: _Judge, fp: Labelled, left_over: set[int], mapping: FieldMapping
) -> tuple[Entry, ...] | None:
    """Two of ``fp``'s own entries on different fields that together hide nothing, widest first."""
    own = sorted(candidate_entries(fp.document, mapping), key=_rank)
    pairs = [(a, b) for a, b in combinations(own, 2) if a.field != b.field and not judge.item_hits((a, b))[2]]
    if not pairs:
        return None
    return max(pairs, key=lambda p: _gain(judge, p, left_over))


def _tempting(
    judge: _Judge, candidates: Sequence[Entry], list_id: str, false_positives: Sequence[Labelled]
) -> tuple[ItemMeasure, ...]:
    """Per field, the refused entry that would remove the most false positives: what not to write."""
    best: dict[str, Entry] = {}
    for entry in candidates:
        if not judge.hits(entry)[2]:
            continue
        held = best.get(entry.field)
        if held is None or len(judge.hits(entry)[0]) > len(judge.hits(held)[0]):
            best[entry.field] = entry
    return tuple(judge.measure(_item((e,), list_id, judge, false_positives)) for e in best.values())


def describe(entry: Entry) -> str:
    """One entry as a reviewer reads it."""
    if isinstance(entry, Match):
        return f'{entry.field} is "{entry.value}"'
    if isinstance(entry, MatchAny):
        return f"{entry.field} is one of " + ", ".join(f'"{v}"' for v in entry.values)
    if isinstance(entry, Wildcard):
        return f'{entry.field} matches "{entry.value}"'
    raise TypeError(f"no description for proposed entry {entry!r}")


def _item(
    entries: tuple[Entry, ...], list_id: str, judge: _Judge, false_positives: Sequence[Labelled]
) -> ExceptionItem:
    removed = judge.item_hits(entries)[0]
    scenarios = sorted({false_positives[i].scenario for i in removed})
    description = (
        f"Removes {len(removed)} false positive{'s' if len(removed) != 1 else ''}"
        + (f" ({', '.join(scenarios)})" if scenarios else "")
        + "; matches no malicious event of the rule's scenarios and no derived witness."
    )
    name = " and ".join(describe(e) for e in entries)
    return ExceptionItem(
        content_id("proposed", [list_id, repr(entries)]), list_id, name, description, entries
    )


def _list_description(name: str) -> str:
    return f"{name}: items proposed by harness propose --exceptions from the rule's false positives."


def toml_copy_path(out: str | Path) -> Path:
    """Where the TOML copy of ``out`` (``X.ndjson``) goes: ``X.exceptions.toml`` beside it."""
    path = Path(out)
    if path.suffix.lower() != ".ndjson":
        raise UsageError(f"{out}: Kibana's exception list import takes a file named X.ndjson; name it so")
    return path.with_name(path.name[: -len(".ndjson")] + TOML_SUFFIX)


def write_proposal(proposal: ExceptionProposal, out: str | Path) -> Path | None:
    """The accepted items as importable NDJSON at ``out`` and their TOML copy; None if none were."""
    toml_path = toml_copy_path(out)
    if not proposal.exceptions.items:
        return None
    write_ndjson(proposal.exceptions, out)
    write_toml(proposal.exceptions, toml_path)
    return toml_path


def losses_by_scenario(lost: Sequence[Loss]) -> tuple[str, ...]:
    """``scenario (origin): N events in K sources``, one line a scenario."""
    grouped: dict[tuple[str, str], list[Loss]] = {}
    for loss in lost:
        grouped.setdefault((loss.scenario, loss.origin), []).append(loss)
    return tuple(
        f"{scenario} ({origin}): {sum(x.events for x in group)} in {len(group)} "
        f"source{'s' if len(group) != 1 else ''}"
        for (scenario, origin), group in sorted(grouped.items())
    )
