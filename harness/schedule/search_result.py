"""What a sequence, sample or piped rule's schedule found: sequence alerts and building blocks apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from harness.schedule.executions import Executions, SequenceExecution
from harness.schedule.gaps import Gap, UncoveredGaps
from harness.schedule.result import (
    Delays,
    delays_dict,
    executions_dict,
    gap_dict,
    gaps_dict,
    iso,
    per_1000_hosts,
    per_day,
    span_days,
    suppression_dict,
)
from harness.schedule.suppression import Suppression

__all__ = ["SearchKind", "SequenceSimulation"]

SearchKind = Literal["sequences", "samples", "events"]


@dataclass(frozen=True)
class SequenceSimulation:
    """The executions of one multi-event rule over one corpus: one EQL search each.

    ``sequence_alerts`` are the shell alerts, one per sequence (sample, or piped query hit) alerted
    on; ``building_block_alerts`` one per event of those sequences, Kibana's hidden-by-default
    building blocks. ``sequences_in_corpus`` is what one search over the whole corpus finds, as
    ``harness validate`` counts; ``never_alerted`` those of them no execution alerted on (longer
    than the look-back, split by every window, or always cut by the cap). ``lost_to_cap`` counts
    sequences some window held but no execution returned. ``candidate_events`` are the documents
    some stage matches (the only ones a search can use); delays run from a malicious sequence's
    last event to its alert.
    """

    kind: SearchKind
    interval_s: int
    lookback_s: int
    max_signals: int
    timestamp_field: str
    search_timestamp_field: str
    tiebreaker_field: str | None
    events: int
    untimed_events: int
    candidate_events: int
    hosts: int
    first_event_ms: int | None
    last_event_ms: int | None
    executions: Executions
    sequences_in_corpus: int
    never_alerted: int
    lost_to_cap: int
    events_in_alerts: int
    malicious_delays: Delays
    uncovered_gaps: UncoveredGaps
    before_first_window: Gap | None
    suppression: Suppression | None = None  # shell alerts before and after, when asked for

    @property
    def sequence_alerts(self) -> int:
        return self.executions.alerts

    @property
    def building_block_alerts(self) -> int:
        return sum(_building_blocks(run.first) * run.count for run in self.executions.runs)

    @property
    def capped_executions(self) -> int:
        return self.executions.capped

    @property
    def days(self) -> float:
        """The corpus's span in days; shorter than a day counts as one, as the validation runner does."""
        return span_days(self.first_event_ms, self.last_event_ms)

    @property
    def sequence_alerts_per_day(self) -> float | None:
        return per_day(self.sequence_alerts, self.days)

    @property
    def sequence_alerts_per_1000_hosts_per_day(self) -> float | None:
        return per_1000_hosts(self.sequence_alerts_per_day, self.hosts)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, as :meth:`Simulation.as_dict <harness.schedule.Simulation.as_dict>` lays it out;
        each execution gives ``sequences``, ``sequence_alerts`` and ``building_block_alerts``."""
        return {
            "kind": self.kind,
            "schedule": {
                "interval_s": self.interval_s,
                "lookback_s": self.lookback_s,
                "max_signals": self.max_signals,
                "timestamp_field": self.timestamp_field,
                "search_timestamp_field": self.search_timestamp_field,
                "tiebreaker_field": self.tiebreaker_field,
            },
            "corpus": {
                "events": self.events,
                "untimed_events": self.untimed_events,
                "candidate_events": self.candidate_events,
                "hosts": self.hosts,
                "first_event": iso(self.first_event_ms),
                "last_event": iso(self.last_event_ms),
                "days": self.days,
                "sequences": self.sequences_in_corpus,
            },
            "sequence_alerts": self.sequence_alerts,
            "building_block_alerts": self.building_block_alerts,
            "events_in_alerts": self.events_in_alerts,
            "never_alerted": self.never_alerted,
            "lost_to_cap": self.lost_to_cap,
            "capped_executions": self.capped_executions,
            "sequence_alerts_per_day": self.sequence_alerts_per_day,
            "sequence_alerts_per_1000_hosts_per_day": self.sequence_alerts_per_1000_hosts_per_day,
            "malicious_delays": delays_dict(self.malicious_delays),
            "uncovered": {
                **gaps_dict(self.uncovered_gaps),
                "events": self.uncovered_gaps.events,
                "candidate_events": self.uncovered_gaps.matching_events,
                "before_first_window": None
                if self.before_first_window is None
                else gap_dict(self.before_first_window),
            },
            "suppression": suppression_dict(self.suppression),
            **executions_dict(self.executions),
        }


def _building_blocks(execution: object) -> int:
    return execution.building_block_alerts if isinstance(execution, SequenceExecution) else 0
