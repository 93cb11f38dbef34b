"""``harness bench --generate`` and ``harness bench RULE --corpus X.ndjson``: a job against its floor.

Each is timed in one process beside the floor it is measured against (pyarrow writing the
finished table; a plain ``orjson.loads`` loop over the file), and reported as their ratio,
so a loaded machine slows both alike.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import orjson

__all__ = ["is_ndjson", "run_generate_bench", "run_ndjson_bench"]


def is_ndjson(path: str) -> bool:
    """Whether ``bench RULE --corpus PATH`` times NDJSON validation rather than the Parquet engines."""
    return path.lower().endswith((".ndjson", ".jsonl"))


def run_generate_bench(
    *, events: int, seed: int, profile: str, catalogue: str | None, repeat: int, as_json: bool
) -> None:
    from generators.bench import generate_bench
    from harness.app import find_catalogue

    rows = generate_bench(
        events,
        seed,
        profile=profile,
        catalogue=None if catalogue is None else find_catalogue(catalogue),
        repeat=repeat,
    )
    if as_json:
        click.echo(_json([{**asdict(row), "events_per_second": row.events_per_second} for row in rows]))
        return
    title = f"harness generate --out X.parquet: {events:,} {profile} events (seed {seed}), best of {repeat}"
    _print(
        title,
        ["", "events/s", "s", "x floor", "CPU s", "x floor (CPU)", "peak RSS added", "Arrow peak"],
        [
            [
                row.name,
                f"{row.events_per_second:,.0f}",
                f"{row.seconds:.2f}",
                f"{row.ratio_to_floor:.2f}",
                f"{row.cpu_seconds:.2f}",
                f"{row.cpu_ratio_to_floor:.2f}",
                "-" if row.peak_rss_bytes is None else _mib(row.peak_rss_bytes),
                _mib(row.peak_arrow_bytes),
            ]
            for row in rows
        ],
    )


def run_ndjson_bench(rule: str, corpus: str, *, repeat: int, as_json: bool) -> None:
    from harness.bench_ndjson import bench_ndjson

    run = bench_ndjson(rule, corpus, repeat=repeat)
    if as_json:
        click.echo(_json(run.as_dict()))
        return
    _print(
        f"NDJSON validation against its floor: {corpus}, best of {repeat}",
        ["", "s", "events/s", "x floor", "cpu s", "cpu x floor"],
        [
            [
                "for line in f: orjson.loads(line)",
                f"{run.floor_seconds:.2f}",
                _rate(run.events, run.floor_seconds),
                "1.00",
                f"{run.floor_seconds:.2f}",
                "1.00",
            ],
            [
                f"validate {Path(rule).name}",
                f"{run.validate_seconds:.2f}",
                _rate(run.events, run.validate_seconds),
                f"{run.ratio:.2f}",
                f"{run.validate_cpu_seconds:.2f}",
                f"{run.cpu_ratio:.2f}",
            ],
        ],
        caption=f"{run.events:,} events, {run.alerts:,} alerts",
    )


def _print(title: str, columns: list[str], rows: list[list[str]], caption: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, title=title, caption=caption)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def _rate(events: int, seconds: float) -> str:
    return f"{events / seconds:,.0f}" if seconds > 0 else "-"


def _mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
