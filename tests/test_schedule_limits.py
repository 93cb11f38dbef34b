"""No corpus or schedule makes the simulation's cost follow the time span instead of the matches.

Each case runs in a child process with a 60-second timeout, so a regression fails the test
instead of hanging the suite; what is asserted is the counts, never a time. How fast is the
benchmarks' business (``tests/benchmarks/test_schedule_span.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from harness.timestamps import to_ms

LAST_MS = to_ms(datetime(2026, 1, 1, tzinfo=UTC))
INTERVAL_MS, LOOKBACK_MS = 300_000, 540_000  # Kibana's defaults: every 5 minutes, looking back 9
CENTURY_S = 36_500 * 86_400  # the longest look-back a rule may have

_CHILD = """
import json, sys
from harness.schedule import simulate

times, interval_s, lookback_s = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
documents = [{"@timestamp": t, "labels": {"intent": "malicious"}} for t in times]
sim = simulate(lambda d: True, documents, interval_s=interval_s, lookback_s=lookback_s)
report = sim.as_dict()
print(json.dumps({
    "executions": len(sim.executions),
    "with_matches": sim.executions.count_with_matches(),
    "alerts": sim.alerts,
    "lost_alerts": sim.lost_alerts,
    "max_delay_s": sim.malicious_delays.maximum_s,
    "gaps": len(sim.uncovered_gaps),
    "listed": "executions" in report,
    "runs_total": sum(run["count"] for run in report["execution_runs"]["runs"]),
}))
"""


def _simulate(times: list[int], interval_s: int, lookback_s: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(times), str(interval_s), str(lookback_s)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_two_events_56_years_apart_on_the_default_schedule() -> None:
    result = _simulate([0, LAST_MS], INTERVAL_MS // 1000, LOOKBACK_MS // 1000)
    # Runs at k intervals after epoch 0, k = 1, 2, ... while the window's start is at or before LAST_MS.
    expected = (LAST_MS + LOOKBACK_MS) // INTERVAL_MS
    assert expected > 5_890_000
    assert result == {
        "executions": expected,
        "with_matches": 3,  # the first event in the first window; the last on a run's `now`, and the next
        "alerts": 2,
        "lost_alerts": 0,
        "max_delay_s": 300.0,  # the first event, alerted one interval later by the first run
        "gaps": 0,
        "listed": False,
        "runs_total": expected,
    }


def test_a_century_of_look_back_over_three_hundred_events() -> None:
    times = [LAST_MS + i * 290_000 for i in range(300)]
    result = _simulate(times, INTERVAL_MS // 1000, CENTURY_S)
    # Runs at times[0] + k intervals, k = 1, 2, ... while the window's start is at or before times[-1].
    expected = (times[-1] - times[0] + CENTURY_S * 1000) // INTERVAL_MS
    assert expected > 10_500_000
    assert result == {
        "executions": expected,
        "with_matches": expected,  # every window of the century holds events
        # Each search returns its window's most recent 100 (the EQL search's tail): events come 290 s
        # apart, at most two per 300 s interval, so each is alerted on by the first run whose window
        # holds it, at most one interval later (the first event waits the whole first interval).
        "alerts": 300,
        "lost_alerts": 0,
        "max_delay_s": 300.0,
        "gaps": 0,
        "listed": False,
        "runs_total": expected,
    }


def test_gaps_over_decades_are_counted_not_listed() -> None:
    # A look-back shorter than the interval: a gap between every two of the ~5.9 million executions.
    result = _simulate([0, LAST_MS], INTERVAL_MS // 1000, 60)
    # No window reaches back to LAST_MS from a run after it: the last run is the one at LAST_MS, a
    # whole number of intervals after epoch 0.
    expected = LAST_MS // INTERVAL_MS
    assert result["executions"] == result["runs_total"] == expected
    assert result["gaps"] == expected - 1
