"""Schedule simulation: a rule's executions over a corpus, with Elastic's windows, cap and de-duplication.

Single-event rules: :func:`simulate` (a matcher per event). Sequence, sample and piped rules:
:func:`simulate_search` (one EQL search per execution, sequence and building-block alerts apart).
"""

from harness.rules import DEFAULT_MAX_SIGNALS
from harness.schedule.executions import Execution, ExecutionRun, Executions, SequenceExecution
from harness.schedule.gaps import Gap, UncoveredGaps
from harness.schedule.report import print_simulation
from harness.schedule.result import LISTED_AT_MOST, Delays, Simulation
from harness.schedule.search_result import SearchKind, SequenceSimulation
from harness.schedule.searches import simulate_rule_search, simulate_search
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
    "SearchKind",
    "SequenceExecution",
    "SequenceSimulation",
    "Simulation",
    "UncoveredGaps",
    "event_time_ms",
    "print_simulation",
    "simulate",
    "simulate_rule",
    "simulate_rule_search",
    "simulate_search",
]
