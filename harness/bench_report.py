"""``harness bench`` results as JSON or a rich table, with each rate's ratio to its baseline.

Ratios are to the empty loop (the floor of a per-event matcher), to the ``eql``
package (the peer), to the reference search (a sequence or sample rule) and, for
engines that scan Parquet, to DuckDB's scan of the same files: every baseline ran in
the same process, on the same events.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from harness.bench import BenchRow

__all__ = ["bench_json", "print_bench"]


def _baselines(rows: Sequence[BenchRow]) -> dict[str, float | None]:
    def rate_of(name: str) -> float | None:
        return next((r.rate for r in rows if r.engine == name), None)

    return {
        "empty loop": rate_of("empty loop"),
        "eql": rate_of("eql (peer)"),
        "duckdb": rate_of("duckdb (parquet)"),
        # Only a search bench (a sequence or sample rule) is read against the reference search.
        "reference": rate_of("reference") if _searches(rows) else None,
    }


def _searches(rows: Sequence[BenchRow]) -> bool:
    return any(r.found != "events" for r in rows)


def _times(rate: float | None, base: float | None) -> float | None:
    return rate / base if rate and base else None


def _scans_parquet(row: BenchRow) -> bool:
    return "parquet" in row.engine


def bench_json(rows: Sequence[BenchRow]) -> str:
    base = _baselines(rows)
    return orjson.dumps(
        [
            {
                "engine": r.engine,
                "events": r.events,
                "seconds": r.seconds,
                "events_per_second": r.rate,
                "matches": r.matches,
                "found": r.found,
                "ratio_to_empty_loop": _times(r.rate, base["empty loop"]),
                "ratio_to_reference": _times(r.rate, base["reference"]),
                "ratio_to_eql": _times(r.rate, base["eql"]),
                "ratio_to_duckdb_parquet": _times(r.rate, base["duckdb"]) if _scans_parquet(r) else None,
                "note": r.note,
            }
            for r in rows
        ],
        option=orjson.OPT_INDENT_2,
    ).decode()


def print_bench(rows: Sequence[BenchRow], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    base = _baselines(rows)
    # A ratio column only where its baseline was timed: a narrow terminal keeps the headers whole.
    columns = [
        (header, base[key], digits, parquet_only)
        for header, key, digits, parquet_only in [
            ("x empty loop", "empty loop", 3, False),
            ("x eql", "eql", 1, False),
            ("x reference", "reference", 2, False),
            ("x duckdb scan", "duckdb", 2, True),
        ]
        if base[key] is not None
    ]
    found = "matches" if not _searches(rows) else rows[0].found
    table = Table("engine", "events/s", *(c[0] for c in columns), found, "note", title=title)
    for r in rows:
        cells = []
        for _, baseline, digits, parquet_only in columns:
            ratio = _times(r.rate, baseline) if _scans_parquet(r) or not parquet_only else None
            cells.append("" if ratio is None else f"{ratio:.{digits}f}")
        table.add_row(
            r.engine,
            f"{r.rate:,.0f}" if r.rate else "-",
            *cells,
            "-" if r.matches is None else f"{r.matches:,}",
            r.note,
        )
    Console().print(table)
