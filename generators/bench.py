"""How fast ``harness generate --out X.parquet`` is, against pyarrow writing the same finished table.

The floor is what no Parquet generator can beat: ``pq.write_table`` of the same
documents, already an Arrow table in the same schema, with the same compression,
statistics and row groups. The generator is reported as a ratio to it (its speed
over the floor's: 0.5 means twice the floor's time), with the peak memory each
run added: resident memory (``VmHWM``, reset before each run through
``/proc/self/clear_refs`` where Linux offers it) and Arrow's allocations (a proxy
memory pool of its own for the run).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import pyarrow as pa
import pyarrow.parquet as pq

from generators.corpus import write_corpus
from generators.parquet import ROW_GROUP
from generators.profiles import CorpusOptions
from generators.scenarios import Catalogue

__all__ = ["GenerateRow", "generate_bench"]

_Run: TypeAlias = tuple[float, float, int | None, int]  # wall and processor seconds, peak RSS and Arrow bytes


@dataclass(frozen=True)
class GenerateRow:
    """One timed way of writing the corpus: the generator, or the floor."""

    name: str
    events: int
    seconds: float
    ratio_to_floor: float  # the floor's time over this one's: 1.0 for the floor itself
    cpu_seconds: float  # every thread's processor time: on a loaded machine, what wall time hides
    cpu_ratio_to_floor: float
    peak_rss_bytes: int | None  # resident memory added at the peak of the run (None off Linux)
    peak_arrow_bytes: int  # Arrow's allocations at their peak during the run

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else float("inf")


def generate_bench(
    events: int = 200_000,
    seed: int = 7,
    *,
    profile: str = "fleet",
    catalogue: Catalogue | None = None,
    repeat: int = 1,
    directory: str | Path | None = None,
) -> list[GenerateRow]:
    """Time ``write_corpus`` to a Parquet file and ``pq.write_table`` of the finished table (best of N).

    The finished table is the generator's own file read back (not timed): the same rows,
    schema and values. It is the whole corpus in memory, some 2 kB an event (the floor
    needs it; the generator does not). Files go to a temporary folder under ``directory``
    and are removed.
    """
    if events < 1 or repeat < 1:
        raise ValueError(f"events and repeat must be at least 1, not {events} and {repeat}")
    options = CorpusOptions(profile, events=events, seed=seed, catalogue=catalogue)
    with tempfile.TemporaryDirectory(prefix="generate-bench-", dir=directory) as folder:
        ours = Path(folder) / "generated.parquet"
        floor_path = Path(folder) / "floor.parquet"
        generated = _best(repeat, lambda: write_corpus(options, ours))
        table = pq.read_table(ours)  # a chunk per row group, as it was written
        written = _best(
            repeat,
            lambda: pq.write_table(
                table, floor_path, compression="zstd", write_statistics=True, row_group_size=ROW_GROUP
            ),
        )
    return [
        _row("harness generate --out X.parquet", table.num_rows, generated, written),
        _row("pq.write_table of the finished table", table.num_rows, written, written),
    ]


def _row(name: str, events: int, run: _Run, floor: _Run) -> GenerateRow:
    seconds, cpu, rss, arrow = run
    return GenerateRow(
        name, events, seconds, floor[0] / seconds, cpu, floor[1] / cpu if cpu else 1.0, rss, arrow
    )


def _best(repeat: int, run: Callable[[], object]) -> _Run:
    """The fastest of ``repeat`` runs (wall and processor time), and the highest peaks of memory added."""
    best, cpu, rss, arrow = float("inf"), float("inf"), None, 0
    for _ in range(repeat):
        with _peaks() as peaks:
            began, began_cpu = time.perf_counter(), time.process_time()
            run()
            best = min(best, time.perf_counter() - began)
            cpu = min(cpu, time.process_time() - began_cpu)
        if peaks.rss is not None:
            rss = max(rss or 0, peaks.rss)
        arrow = max(arrow, peaks.arrow)
    return best, cpu, rss, arrow


@dataclass
class _Peaks:
    rss: int | None = None
    arrow: int = 0


@contextmanager
def _peaks() -> Iterator[_Peaks]:
    """The memory a block adds at its peak: resident (Linux) and Arrow's, through a pool of its own."""
    peaks = _Peaks()
    before = _reset_rss_peak()
    pool = pa.proxy_memory_pool(pa.default_memory_pool())
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield peaks
    finally:
        pa.set_memory_pool(previous)
    peaks.arrow = pool.max_memory() or 0
    after = _status("VmHWM")
    peaks.rss = after - before if before is not None and after is not None else None


def _reset_rss_peak() -> int | None:
    """Reset the process's resident peak to its present size (``clear_refs`` 5); that size, or None."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return _status("VmRSS")


def _status(key: str) -> int | None:
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    return None
