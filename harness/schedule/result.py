"""What a schedule simulation found, as frozen data: executions, gaps, delays and rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from harness.timestamps import from_ms

__all__ = ["Delays", "Execution", "Gap", "Simulation"]

_DAY_MS = 86_400_000


@dataclass(frozen=True)
class Execution:
    """One run of the rule at ``time`` over ``[window_start, time]``, both ends inclusive.

    ``duplicates`` are matches the search returned that an earlier execution already alerted on;
    ``lost_to_cap`` are matches in the window that no execution so far has alerted on (a later,
    overlapping one may still). ``capped`` is Kibana's "max signals reached" warning condition:
    the window held at least ``max_signals`` matches.
    """

    time_ms: int
    window_start_ms: int
    matches: int
    alerts: int
    duplicates: int
    lost_to_cap: int
    capped: bool

    @property
    def time(self) -> datetime:
        return from_ms(self.time_ms)

    @property
    def window_start(self) -> datetime:
        return from_ms(self.window_start_ms)

    @property
    def window_end(self) -> datetime:
        return from_ms(self.time_ms)


@dataclass(frozen=True)
class Gap:
    """Times strictly between ``start`` and ``end`` that no execution's window covers.

    Between two executions ``start`` is the earlier one's ``now`` and ``end`` the later one's window
    start, both covered themselves. Before the first window, ``start`` is one millisecond before the
    earliest event, so the range holds every event that precedes the first window.
    """

    start_ms: int
    end_ms: int
    events: int
    matching_events: int

    @property
    def start(self) -> datetime:
        return from_ms(self.start_ms)

    @property
    def end(self) -> datetime:
        return from_ms(self.end_ms)


@dataclass(frozen=True)
class Delays:
    """Seconds from a malicious event (``labels.intent``) to the execution that alerted on it."""

    alerted: int
    missed: int
    minimum_s: float | None
    median_s: float | None
    maximum_s: float | None


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
    executions: tuple[Execution, ...]
    lost_alerts: int
    malicious_delays: Delays
    uncovered_gaps: tuple[Gap, ...]
    before_first_window: Gap | None

    @property
    def alerts(self) -> int:
        return sum(execution.alerts for execution in self.executions)

    @property
    def capped_executions(self) -> int:
        return sum(1 for execution in self.executions if execution.capped)

    @property
    def days(self) -> float:
        """The corpus's span in days; shorter than a day counts as one, as the validation runner does."""
        if self.first_event_ms is None or self.last_event_ms is None:
            return 0.0
        return max((self.last_event_ms - self.first_event_ms) / _DAY_MS, 1.0)

    @property
    def alerts_per_day(self) -> float | None:
        return self.alerts / self.days if self.days else None

    @property
    def alerts_per_1000_hosts_per_day(self) -> float | None:
        """Alerts per day for a fleet of 1,000 hosts (``host.name``) like the corpus's."""
        per_day = self.alerts_per_day
        return None if per_day is None or not self.hosts else per_day / self.hosts * 1000

    @property
    def uncovered_events(self) -> int:
        """Events in the gaps between windows (not counting those before the first window)."""
        return sum(gap.events for gap in self.uncovered_gaps)

    @property
    def uncovered_matches(self) -> int:
        """Matching events in the gaps between windows: never seen, so never alerted."""
        return sum(gap.matching_events for gap in self.uncovered_gaps)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO-8601 UTC strings, rates as floats or None."""
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
                "first_event": _iso(self.first_event_ms),
                "last_event": _iso(self.last_event_ms),
                "days": self.days,
            },
            "alerts": self.alerts,
            "lost_alerts": self.lost_alerts,
            "capped_executions": self.capped_executions,
            "alerts_per_day": self.alerts_per_day,
            "alerts_per_1000_hosts_per_day": self.alerts_per_1000_hosts_per_day,
            "malicious_delays": {
                "alerted": self.malicious_delays.alerted,
                "missed": self.malicious_delays.missed,
                "min_s": self.malicious_delays.minimum_s,
                "median_s": self.malicious_delays.median_s,
                "max_s": self.malicious_delays.maximum_s,
            },
            "uncovered": {
                "gaps": [_gap_dict(gap) for gap in self.uncovered_gaps],
                "events": self.uncovered_events,
                "matching_events": self.uncovered_matches,
                "before_first_window": None
                if self.before_first_window is None
                else _gap_dict(self.before_first_window),
            },
            "executions": [
                {
                    "time": _iso(e.time_ms),
                    "window_start": _iso(e.window_start_ms),
                    "window_end": _iso(e.time_ms),
                    "matches": e.matches,
                    "alerts": e.alerts,
                    "duplicates": e.duplicates,
                    "lost_to_cap": e.lost_to_cap,
                    "capped": e.capped,
                }
                for e in self.executions
            ],
        }


def _gap_dict(gap: Gap) -> dict[str, Any]:
    return {
        "start": _iso(gap.start_ms),
        "end": _iso(gap.end_ms),
        "events": gap.events,
        "matching_events": gap.matching_events,
    }


def _iso(ms: int | None) -> str | None:
    return None if ms is None else from_ms(ms).isoformat().replace("+00:00", "Z")
