"""A progress bar for Spark's jobs on a terminal: tasks done of the running stages, polled from the driver.

Spark's own console bar is off (it would interleave with the report); this one shows
the same counts through rich, and nothing at all when stderr is not a terminal.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["spark_progress"]

_POLL_SECONDS = 0.25


@contextmanager
def spark_progress(session: Any, description: str, *, console: Any = None) -> Iterator[None]:
    """Show the tasks of Spark's running stages while the body runs (on a terminal only)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = console if console is not None else Console(stderr=True)
    if not console.is_terminal:
        yield
        return
    tracker = session.sparkContext.statusTracker()
    done = threading.Event()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"Spark: {description}", total=None)

        def poll() -> None:
            while not done.wait(_POLL_SECONDS):
                stages = [tracker.getStageInfo(i) for i in tracker.getActiveStageIds()]
                stages = [s for s in stages if s is not None]
                if stages:
                    total = sum(s.numTasks for s in stages)
                    progress.update(task, total=total, completed=sum(s.numCompletedTasks for s in stages))

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()
