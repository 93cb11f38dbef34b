"""What a schedule simulation found, as frozen data: executions, gaps, delays and rates."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.schedule.executions import Execution, ExecutionRun, Executions, SequenceExecution
from harness.schedule.gaps import Gap, UncoveredGaps
from harness.schedule.suppression import Suppression
from harness.timestamps import from_ms

__all__ = [
    "LISTED_AT_MOST",
    "Delays",
    "Execution",
    "Gap",
    "Simulation",
    "delays_dict",
    "delays_of",
    "executions_dict",
    "gap_dict",
    "gaps_dict",
    "iso",
    "per_1000_hosts",
    "per_day",
    "span_days",
    "suppression_dict",
]

_DAY_MS = 86_400_000
# ``as_dict`` lists every execution, and every gap, up to this many; above, the runs of identical
# executions and the gaps holding events (a decade of 5-minute executions is a million of them).
LISTED_AT_MOST = 10_000


@dataclass(frozen=True)
class Delays:
    """Seconds from a malicious event (``labels.intent``) to the execution that alerted on it."""

    alerted: int
    missed: int
    minimum_s: float | None
    median_s: float | None
    maximum_s: float | None


def delays_of(event_times: Sequence[int], alerted_at: Sequence[int | None]) -> Delays:
    """The delays of the malicious events (or sequences, by their last event) at ``event_times``,
    each alerted at ``alerted_at`` or never (None)."""
    seconds = [(at - time) / 1000 for time, at in zip(event_times, alerted_at, strict=True) if at is not None]
    missed = sum(1 for at in alerted_at if at is None)
    if not seconds:
        return Delays(alerted=0, missed=missed, minimum_s=None, median_s=None, maximum_s=None)
    return Delays(
        alerted=len(seconds),
        missed=missed,
        minimum_s=min(seconds),
        median_s=statistics.median(seconds),
        maximum_s=max(seconds),
    )


def span_days(first_ms: int | None, last_ms: int | None) -> float:
    """A corpus's span in days; shorter than a day counts as one, as the validation runner does."""
    if first_ms is None or last_ms is None:
        return 0.0
    return max((last_ms - first_ms) / _DAY_MS, 1.0)


def per_day(count: int, days: float) -> float | None:
    return count / days if days else None


def per_1000_hosts(count_per_day: float | None, hosts: int) -> float | None:
    """A daily count for a fleet of 1,000 hosts like the corpus's ``hosts``."""
    return None if count_per_day is None or not hosts else count_per_day / hosts * 1000


def delays_dict(delays: Delays) -> dict[str, Any]:
    return {
        "alerted": delays.alerted,
        "missed": delays.missed,
        "min_s": delays.minimum_s,
        "median_s": delays.median_s,
        "max_s": delays.maximum_s,
    }


@dataclass(frozen=True)
class Simulation:
    """The executions of one rule over one corpus, and what they add up to."""

    interval_s: int
    lookback_s: int
    max_signals: int
    timestamp_field: str
    duplicates_take_slots: bool
    events: int
    untimed_events: int
    matching_events: int
    hosts: int
    first_event_ms: int | None
    last_event_ms: int | None
    executions: Executions
    lost_alerts: int
    malicious_delays: Delays
    uncovered_gaps: UncoveredGaps
    before_first_window: Gap | None
    suppression: Suppression | None = None  # alerts before and after, when suppression was asked for

    @property
    def alerts(self) -> int:
        return self.executions.alerts

    @property
    def capped_executions(self) -> int:
        return self.executions.capped

    @property
    def days(self) -> float:
        """The corpus's span in days; shorter than a day counts as one, as the validation runner does."""
        return span_days(self.first_event_ms, self.last_event_ms)

    @property
    def alerts_per_day(self) -> float | None:
        return per_day(self.alerts, self.days)

    @property
    def alerts_per_1000_hosts_per_day(self) -> float | None:
        """Alerts per day for a fleet of 1,000 hosts (``host.name``) like the corpus's."""
        return per_1000_hosts(self.alerts_per_day, self.hosts)

    @property
    def uncovered_events(self) -> int:
        """Events in the gaps between windows (not counting those before the first window)."""
        return self.uncovered_gaps.events

    @property
    def uncovered_matches(self) -> int:
        """Matching events in the gaps between windows: never seen, so never alerted."""
        return self.uncovered_gaps.matching_events

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO-8601 UTC strings, rates as floats or None.

        Up to :data:`LISTED_AT_MOST` executions, ``executions`` lists each one; above, it gives way
        to ``execution_runs``: ``{"executions": N, "runs": [...]}``, each run ``count`` executions
        one interval apart from ``first_time`` to ``last_time`` (each window ``[time - lookback_s,
        time]``) with the same ``matches``, ``alerts``, ``duplicates``, ``lost_to_cap`` and ``capped``.
        Likewise ``uncovered.gaps`` lists every gap up to that many; above, it gives way to
        ``uncovered.gaps_with_events`` and ``uncovered.empty_gaps``: ``{"count": N, "total_s": S}``.
        """
        return {
            "schedule": {
                "interval_s": self.interval_s,
                "lookback_s": self.lookback_s,
                "max_signals": self.max_signals,
                "timestamp_field": self.timestamp_field,
                "duplicates_take_slots": self.duplicates_take_slots,
            },
            "corpus": {
                "events": self.events,
                "untimed_events": self.untimed_events,
                "matching_events": self.matching_events,
                "hosts": self.hosts,
                "first_event": iso(self.first_event_ms),
                "last_event": iso(self.last_event_ms),
                "days": self.days,
            },
            "alerts": self.alerts,
            "lost_alerts": self.lost_alerts,
            "capped_executions": self.capped_executions,
            "alerts_per_day": self.alerts_per_day,
            "alerts_per_1000_hosts_per_day": self.alerts_per_1000_hosts_per_day,
            "malicious_delays": delays_dict(self.malicious_delays),
            "uncovered": {
                **gaps_dict(self.uncovered_gaps),
                "events": self.uncovered_events,
                "matching_events": self.uncovered_matches,
                "before_first_window": None
                if self.before_first_window is None
                else gap_dict(self.before_first_window),
            },
            "suppression": suppression_dict(self.suppression),
            **executions_dict(self.executions),
        }


def suppression_dict(suppression: Suppression | None) -> dict[str, Any] | None:
    return None if suppression is None else suppression.as_dict(LISTED_AT_MOST)


def executions_dict(executions: Executions) -> dict[str, Any]:
    if len(executions) <= LISTED_AT_MOST:
        return {"executions": [_execution_dict(e) for e in executions]}
    return {
        "execution_runs": {"executions": len(executions), "runs": [_run_dict(run) for run in executions.runs]}
    }


def _execution_dict(e: Execution) -> dict[str, Any]:
    return {
        "time": iso(e.time_ms),
        "window_start": iso(e.window_start_ms),
        "window_end": iso(e.time_ms),
        **_outcome_dict(e),
    }


def _run_dict(run: ExecutionRun) -> dict[str, Any]:
    return {
        "first_time": iso(run.first.time_ms),
        "last_time": iso(run.last.time_ms),
        "count": run.count,
        **_outcome_dict(run.first),
    }


def _outcome_dict(e: Execution) -> dict[str, Any]:
    if isinstance(e, SequenceExecution):
        return {
            "sequences": e.matches,
            "sequence_alerts": e.alerts,
            "building_block_alerts": e.building_block_alerts,
            "duplicates": e.duplicates,
            "lost_to_cap": e.lost_to_cap,
            "capped": e.capped,
        }
    return {
        "matches": e.matches,
        "alerts": e.alerts,
        "duplicates": e.duplicates,
        "lost_to_cap": e.lost_to_cap,
        "capped": e.capped,
    }


def gaps_dict(gaps: UncoveredGaps) -> dict[str, Any]:
    if len(gaps) <= LISTED_AT_MOST:
        return {"gaps": [gap_dict(gap) for gap in gaps]}
    return {
        "gaps_with_events": [gap_dict(gap) for gap in gaps.with_events],
        "empty_gaps": {"count": gaps.empty_count, "total_s": gaps.empty_ms // 1000},
    }


def gap_dict(gap: Gap) -> dict[str, Any]:
    return {
        "start": iso(gap.start_ms),
        "end": iso(gap.end_ms),
        "events": gap.events,
        "matching_events": gap.matching_events,
    }


def iso(ms: int | None) -> str | None:
    return None if ms is None else from_ms(ms).isoformat().replace("+00:00", "Z")
