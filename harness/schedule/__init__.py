"""Schedule simulation: a rule's executions over a corpus, with Elastic's windows, cap and de-duplication."""

from harness.rules import DEFAULT_MAX_SIGNALS
from harness.schedule.report import print_simulation
from harness.schedule.result import Delays, Execution, Gap, Simulation
from harness.schedule.simulation import simulate, simulate_rule
from harness.schedule.timestamps import event_time_ms

__all__ = [
    "DEFAULT_MAX_SIGNALS",
    "Delays",
    "Execution",
    "Gap",
    "Simulation",
    "event_time_ms",
    "print_simulation",
    "simulate",
    "simulate_rule",
]
