"""A single-event rule judged on a large plain NDJSON file by several processes, one part each.

Reading NDJSON is decoding JSON and judging documents in Python, one core's work however
many the machine has. Each line's verdict depends on that line alone, so the file is cut at
line starts (``harness.events.line_ranges``), each part is read and judged by a forked copy of
this process exactly as the whole file would be (same reader, same mapping, same matcher, same
exceptions), and the parts' results are combined in file order (``result_parts.combine``): the
result is field for field the one reading the file whole gives.

A part that fails for any reason (a bad line, an evaluation error, a worker lost) gives no
result, and the caller reads the whole file as before, so an error names its line exactly as
it always has. Forking is used only on Linux, where it is cheap and safe for a process running
no threads of its own; elsewhere, and for small files, the file is read whole.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from harness.corpus import open_line_range
from harness.events import line_ranges
from harness.validation import ValidationResult
from harness.validation.result_parts import combine, portable

__all__ = ["MIN_BYTES", "judge_in_parts", "workers"]

# Below this a file is read whole: forking and combining cost more than the parts save.
MIN_BYTES = 32 << 20
_MAX_WORKERS = 8

Run = Callable[[Iterator[dict[str, Any]]], ValidationResult]

Job = tuple[str, list[tuple[int, int]], Run]  # the file, its parts, the rule's run
_INHERITED: dict[str, Job] = {}  # what the forked workers find set: nothing is sent to them


def workers() -> int:
    """The processes a file is read by: the cores this process may run on, at most eight."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, _MAX_WORKERS))


def judge_in_parts(path: str, run: Run, *, parts: int | None = None) -> ValidationResult | None:
    """``run`` (a rule's ``run_validation`` over documents) on ``path`` read in parts by forked
    workers, combined; None when the file is read whole instead (too small, not plain NDJSON, one
    core, no fork) or a part failed: the caller then reads it whole and meets the error there."""
    count = workers() if parts is None else parts
    if not _can_fork() or count < 2 or _size(path) < MIN_BYTES:
        return None
    ranges = line_ranges(path, count)
    if ranges is None:
        return None
    _INHERITED["job"] = (path, ranges, run)
    try:
        # An executor, not a Pool: a worker that dies (killed, out of memory) breaks it, where a
        # Pool would wait for its task for ever.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(len(ranges), mp_context=context) as executor:
            results = list(executor.map(_judge_part, range(len(ranges))))
    except Exception:  # a worker lost, a result that could not be sent back
        return None
    finally:
        del _INHERITED["job"]
    if any(result is None for result in results):
        return None
    # The rule's expectations, scope and exceptions, from a run on no documents: the parts' are left out.
    return combine([result for result in results if result is not None], like=run(iter(())))


def _judge_part(number: int) -> ValidationResult | None:
    path, ranges, run = _INHERITED["job"]  # set before the pool forked this worker
    start, end = ranges[number]
    try:
        result = run(open_line_range(path, start, end))
    except Exception:  # the caller reads the whole file and raises it with its place
        return None
    return portable(result)


def _can_fork() -> bool:
    return sys.platform == "linux" and threading.active_count() == 1


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
