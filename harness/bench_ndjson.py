"""NDJSON validation against its floor: ``validate`` of one rule, and orjson alone, on one file.

The floor is the plainest reading of the file there is, ``for line in f: orjson.loads(line)``:
no duplicate-key check, no labels, no matcher. Both are timed in one process, alternately,
best of ``repeat``, so a machine busy with other work slows both alike; the ratio
``floor / validate`` (1.0: validation costs no more than decoding) is the number to compare
across changes, never a time.

A large file is judged by several processes, a part each (``harness.app.split_rows``), so
the processor time validation spends (its own and its workers') is timed beside the wall
time: ``cpu_ratio``, the floor's time over it, is what one core would see.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from harness.app import validate
from harness.errors import InputError, UsageError

__all__ = ["NdjsonBench", "bench_ndjson"]


@dataclass(frozen=True)
class NdjsonBench:
    rule: str
    corpus: str
    events: int  # the events validate judged or skipped (every line of a plain NDJSON file)
    alerts: int
    floor_seconds: float
    validate_seconds: float
    validate_cpu_seconds: float  # processor time, this process's and its workers'

    @property
    def ratio(self) -> float:
        """``floor / validate``: the share of orjson's speed that validation keeps."""
        return self.floor_seconds / self.validate_seconds

    @property
    def cpu_ratio(self) -> float:
        """``floor / validate`` in processor time (the floor runs on one core: its wall time)."""
        return self.floor_seconds / self.validate_cpu_seconds

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio, "cpu_ratio": self.cpu_ratio}


def bench_ndjson(
    rule: str | os.PathLike[str], corpus: str | os.PathLike[str], *, repeat: int = 3
) -> NdjsonBench:
    """Time the orjson loop and ``validate(rule, corpus)`` (the corpus alone: no derived scenarios).

    ``corpus`` is a plain NDJSON file, one JSON document a line, as the floor reads it.
    """
    if repeat < 1:
        raise UsageError(f"repeat must be at least 1, not {repeat}")
    path = os.fspath(corpus)
    _check_plain(path)
    floor = timed = cpu = float("inf")
    events = alerts = 0
    for _ in range(repeat):
        began = time.perf_counter()
        lines = _floor(path)
        floor = min(floor, time.perf_counter() - began)
        began, began_cpu = time.perf_counter(), _cpu()
        result = validate(rule, path, derived=False).result
        timed = min(timed, time.perf_counter() - began)
        cpu = min(cpu, _cpu() - began_cpu)
        events = result.events + result.unread_events
        alerts = result.alerts
        if events != lines:
            raise InputError(
                path, 0, f"validate read {events} events of {lines} lines: the file is not plain NDJSON"
            )
    return NdjsonBench(os.fspath(rule), path, events, alerts, floor, timed, cpu)


def _cpu() -> float:
    """Processor time of this process and of its children waited for (the workers of a split run)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _floor(path: str) -> int:
    """``for line in f: orjson.loads(line)``, and nothing else; the number of lines."""
    lines = 0
    with open(path, "rb") as stream:
        for lines, line in enumerate(stream, start=1):
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise InputError(
                    path, lines, f"the floor reads one JSON document a line ({error.msg}): give plain NDJSON"
                ) from error
    return lines


def _check_plain(path: str) -> None:
    try:
        with Path(path).open("rb") as stream:
            head = stream.read(2)
    except OSError as error:
        raise InputError(path, 0, f"cannot open: {error.strerror or error}") from error
    if head == b"\x1f\x8b":
        raise InputError(path, 0, "a gzip file: the floor reads plain NDJSON; gunzip it first")
