"""What a rule is judged on: the documents its indices read, and the scenarios its catalogue holds.

A rule sees only documents in an index its ``index`` patterns select (``harness.indices``);
the others are listed per source as not read and count nowhere else. Of the labelled
events it reads, malicious and out-of-scope ones of scenarios outside its catalogue are
another technique's attacks: neither detections nor misses of this rule, counted apart.
Benign events count toward its false positives whatever catalogue labelled them; those of
another catalogue's scenarios are pooled in one cell, ``other-benign``: they are noise to this
rule, not scenarios of its own, and a row for each would read as if they were.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.indices import IndexSelection, document_index, stream_name
from harness.vocabulary import BackgroundScenario, Intent

__all__ = ["OTHER_TECHNIQUE", "RuleScope", "SourceSeen", "source_name", "source_of"]

OTHER_TECHNIQUE = "other-technique"


@dataclass(frozen=True)
class RuleScope:
    """A rule's indices, and its catalogue (name and scenario ids; None: every scenario but ``foreign``)."""

    indices: IndexSelection = field(default_factory=lambda: IndexSelection(None))
    catalogue: str | None = None
    scenarios: frozenset[str] | None = None
    # The scenarios the known catalogues hold but the rule's does not: each another rule's technique.
    # A generated corpus labels its events with them; a rule is not judged on their attacks, and
    # their benign events are pooled. A scenario no catalogue holds is the corpus's own.
    foreign: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        indices: Collection[str] | None,
        catalogue: str | None = None,
        scenarios: Collection[str] | None = None,
        foreign: Collection[str] = (),
    ) -> RuleScope:
        return cls(
            IndexSelection.of(list(indices) if indices else None),
            catalogue,
            None if scenarios is None else frozenset(scenarios),
            frozenset(foreign).difference(scenarios or ()),
        )

    def reads(self, document: Mapping[str, Any]) -> bool:
        return self.indices.reads(document_index(document))

    def owns(self, scenario: str, intent: str) -> bool:
        """Whether a labelled event of ``scenario`` is judged as this rule's: benign always is."""
        return self.counted_as(scenario, intent) is not None

    def counted_as(self, scenario: str, intent: str) -> str | None:
        """The scenario a labelled target event's cell is named by; None: another technique's attack."""
        if intent == Intent.BENIGN:
            return BackgroundScenario.OTHER if scenario in self.foreign else scenario
        if scenario == BackgroundScenario.FLEET:
            return scenario
        if self.scenarios is None:
            return None if scenario in self.foreign else scenario  # a label of the corpus's own
        return scenario if scenario in self.scenarios else None


@dataclass
class SourceSeen:
    """One data source of a corpus as a rule sees it: where it is indexed, and whether the rule reads it."""

    name: str
    index: str | None
    read: bool
    events: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "index": self.index, "read": self.read, "events": self.events}


def source_name(labelled: object, index: str | None) -> str:
    """A source's name: its label, else its data stream, else "unknown" (the row and SQL runners alike)."""
    if isinstance(labelled, str):
        return labelled
    return stream_name(index) if index is not None else "unknown"


def source_of(document: Mapping[str, Any]) -> tuple[str, str | None]:
    """A document's data source (its label, else its data stream, else "unknown") and its index."""
    labels = document.get("labels")
    index = document_index(document)
    return source_name(labels.get("source") if isinstance(labels, Mapping) else None, index), index
