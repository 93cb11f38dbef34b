"""Executions as runs of identical ones, gaps as a count: what the JSON and the terminal show of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from rich.console import Console

from harness.schedule import (
    LISTED_AT_MOST,
    Execution,
    ExecutionRun,
    Executions,
    Gap,
    UncoveredGaps,
    print_simulation,
    simulate,
)
from harness.timestamps import to_ms

T_MS = to_ms(datetime(2026, 11, 2, 12, 0, tzinfo=UTC))
INTERVAL_S, LOOKBACK_S = 300, 540


def _quiet(time_ms: int) -> Execution:
    """An execution whose window held no match."""
    return Execution(time_ms, time_ms - 540_000, 0, 0, 0, 0, capped=False)


def _two_events(span_s: int, lookback_s: int = LOOKBACK_S) -> Any:
    documents = [{"@timestamp": T_MS}, {"@timestamp": T_MS + span_s * 1000}]
    return simulate(lambda d: True, documents, interval_s=INTERVAL_S, lookback_s=lookback_s)


def test_runs_that_continue_each_other_are_merged() -> None:
    split = Executions(
        [ExecutionRun(_quiet(T_MS), 2, 300_000), ExecutionRun(_quiet(T_MS + 600_000), 3, 300_000)]
    )
    assert split.runs == (ExecutionRun(_quiet(T_MS), 5, 300_000),)
    assert split == Executions([ExecutionRun(_quiet(T_MS), 5, 300_000)])
    assert len(split) == 5 and split[-1] == _quiet(T_MS + 4 * 300_000)
    assert split[1:3] == (_quiet(T_MS + 300_000), _quiet(T_MS + 600_000))


def test_runs_apart_in_time_stay_apart() -> None:
    apart = Executions(
        [ExecutionRun(_quiet(T_MS), 2, 300_000), ExecutionRun(_quiet(T_MS + 900_000), 1, 300_000)]
    )
    assert len(apart.runs) == 2
    with pytest.raises(IndexError):
        apart[3]


def test_a_gap_with_events_must_be_on_the_schedule() -> None:
    with pytest.raises(ValueError, match="is not one of the schedule's gaps"):
        UncoveredGaps(
            first_start_ms=0, every_ms=300_000, length_ms=60_000, count=4, with_events=[Gap(1, 60_001, 1, 0)]
        )


def _span_for(executions: int) -> int:
    """Seconds between two events that make the default schedule run ``executions`` times."""
    # Runs at T + k intervals, k = 1, 2, ... while the window's start is at or before the later event.
    return executions * INTERVAL_S - LOOKBACK_S


@pytest.mark.parametrize(
    ("executions", "listed"),
    [
        pytest.param(LISTED_AT_MOST, True, id="at-the-limit"),
        pytest.param(LISTED_AT_MOST + 1, False, id="past-the-limit"),
    ],
)
def test_json_lists_executions_up_to_the_limit(executions: int, listed: bool) -> None:
    sim = _two_events(_span_for(executions))
    data = json.loads(json.dumps(sim.as_dict()))
    assert len(sim.executions) == executions
    assert ("executions" in data, "execution_runs" in data) == (listed, not listed)
    if listed:
        assert len(data["executions"]) == executions
    else:
        assert data["execution_runs"]["executions"] == executions
        assert sum(run["count"] for run in data["execution_runs"]["runs"]) == executions


def test_json_runs_past_the_limit() -> None:
    sim = _two_events(_span_for(LISTED_AT_MOST + 1))
    runs = sim.as_dict()["execution_runs"]["runs"]
    assert [(run["count"], run["matches"], run["alerts"], run["duplicates"]) for run in runs] == [
        (1, 1, 1, 0),  # T+5m sees the earlier event; T+10m's window starts after it
        (LISTED_AT_MOST - 2, 0, 0, 0),
        (1, 1, 1, 0),  # the first whose window holds the later event
        (1, 1, 0, 1),  # the last: its window starts at the later event, already alerted
    ]
    assert runs[0]["first_time"] == runs[0]["last_time"] == "2026-11-02T12:05:00Z"
    assert runs[1]["first_time"] == "2026-11-02T12:10:00Z"
    assert set(runs[0]) == {
        "first_time",
        "last_time",
        "count",
        "matches",
        "alerts",
        "duplicates",
        "lost_to_cap",
        "capped",
    }


def test_json_gaps_past_the_limit_are_counted() -> None:
    # Looking back 1 minute of every 5 leaves a 4-minute gap between each two executions. The later
    # event is 30 s after the run at T + gaps intervals, inside the last gap; the earlier one lies
    # before the first window ([T+4m, T+5m]).
    gaps = LISTED_AT_MOST + 1
    sim = _two_events(gaps * INTERVAL_S + 30, lookback_s=60)
    uncovered = sim.as_dict()["uncovered"]
    assert len(sim.executions) == gaps + 1 and len(sim.uncovered_gaps) == gaps
    assert "gaps" not in uncovered
    last_gap_start = T_MS + gaps * INTERVAL_S * 1000
    assert sim.uncovered_gaps.with_events == (Gap(last_gap_start, last_gap_start + 240_000, 1, 1),)
    assert uncovered["gaps_with_events"] == [
        {"start": "2026-12-07T05:25:00Z", "end": "2026-12-07T05:29:00Z", "events": 1, "matching_events": 1}
    ]
    assert uncovered["empty_gaps"] == {"count": gaps - 1, "total_s": (gaps - 1) * 240}
    assert (uncovered["events"], uncovered["before_first_window"]["events"]) == (1, 1)


def test_terminal_shows_the_executions_with_matches_from_the_runs() -> None:
    sim = _two_events(10 * 365 * 86_400)  # a decade: about a million executions
    console = Console(record=True, width=140)
    print_simulation(sim, console, max_rows=2)
    text = console.export_text()
    assert f"{len(sim.executions):,}" in text
    assert "Executions with matches (3)" in text
    # max_rows=2: the run that saw the earlier event, and the first that saw the later one.
    assert "2026-11-02 12:05:00" in text and "2036-10-30 12:00:00" in text
    assert "2036-10-30 12:05:00" not in text
