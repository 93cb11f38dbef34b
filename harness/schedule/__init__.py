"""Schedule simulation: a rule's executions over a corpus, with Elastic's windows, cap and de-duplication."""

from harness.rules import DEFAULT_MAX_SIGNALS
from harness.schedule.executions import Execution, ExecutionRun, Executions
from harness.schedule.gaps import Gap, UncoveredGaps
from harness.schedule.report import print_simulation
from harness.schedule.result import LISTED_AT_MOST, Delays, Simulation
from harness.schedule.simulation import simulate, simulate_rule
from harness.schedule.timestamps import event_time_ms

__all__ = [
    "DEFAULT_MAX_SIGNALS",
    "LISTED_AT_MOST",
    "Delays",
    "Execution",
    "ExecutionRun",
    "Executions",
    "Gap",
    "Simulation",
    "UncoveredGaps",
    "event_time_ms",
    "print_simulation",
    "simulate",
    "simulate_rule",
]
