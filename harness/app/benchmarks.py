"""``bench_rules``: ``validate_many`` timed on 1, 10, 50, every and 200 rules, per corpus format.

The rules are taken in path order with the baseline first: the first single-event rule, the
kind a Parquet scan counts with the others, so "one rule" is the cheap case every other run is
held against (a sequence as the baseline would run alone at any size and make the ratios look
small). A set of N rules is the first N of them; past the rules given, it is the first N copies
(``harness.app.rule_copies``: distinct names, ids and queries, so no scan counts two as one),
and the largest such set is run as the folder of copies, as ``harness validate DIR`` runs it.

Every size runs on the same corpus files: a fleet generated once into a temporary folder as
Parquet and as NDJSON (same seed, same events), or the files given. A run is the whole call
(reading the corpus, the shared scan, every rule); the best of ``repeat`` is kept, after one
untimed run of the baseline per corpus.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from harness.app.corpora import Corpus
from harness.app.many import ManyValidations, validate_many
from harness.app.rule_copies import copy_rules
from harness.bench_rules import RulesBench, RuleSetRun
from harness.errors import HarnessError, UsageError
from harness.rule_paths import expand_rule_paths
from harness.rules import load_rule
from harness.vocabulary import DEFAULT_SEED, Profile

__all__ = ["DEFAULT_SIZES", "FORMATS", "bench_rules", "rule_set_sizes"]

FORMATS = ("parquet", "ndjson")
ALL = "all"
DEFAULT_SIZES: tuple[int | str, ...] = (1, 10, 50, ALL, 200)


def rule_set_sizes(sizes: Iterable[int | str], given: int) -> list[int]:
    """The sizes asked for, ``all`` read as ``given``, 1 always among them (the baseline), sorted."""
    counts = {1}
    for size in sizes:
        if size == ALL:
            counts.add(given)
        elif isinstance(size, int) and not isinstance(size, bool) and size >= 1:
            counts.add(size)
        else:
            raise UsageError(f"a rule set size is a positive number or 'all', not {size!r}")
    return sorted(counts)


def bench_rules(
    paths: Iterable[str | os.PathLike[str]],
    *,
    events: int = 200_000,
    seed: int = DEFAULT_SEED,
    corpora: Sequence[str | os.PathLike[str]] = (),
    formats: Sequence[str] = FORMATS,
    sizes: Iterable[int | str] = DEFAULT_SIZES,
    repeat: int = 1,
    catalogue: str = "appcmd",
    progress: Callable[[int], None] | None = None,
    timed: Callable[[RuleSetRun], None] | None = None,
) -> RulesBench:
    """Time ``validate_many`` on sets of the rules ``paths`` name, on each corpus format.

    ``corpora`` are files to time on (one per format); without them a fleet of ``events`` events
    with ``catalogue``'s scenarios is generated once per format of ``formats``. ``progress``
    hears the number of timed runs done, ``timed`` each set's best run as it is known (a long
    benchmark that is stopped keeps what it measured). Raises :class:`UsageError` for bad input.
    """
    if repeat < 1:
        raise UsageError(f"repeat must be at least 1, not {repeat}")
    ordered = _baseline_first(expand_rule_paths(paths))
    counts = rule_set_sizes(sizes, len(ordered))
    with tempfile.TemporaryDirectory(prefix="harness-bench-rules-") as folder:
        files = _corpus_files(corpora, formats, events, seed, catalogue, Path(folder))
        copies: list[Path] = []
        if counts[-1] > len(ordered):
            (Path(folder) / "copies").mkdir()
            copies = copy_rules(ordered, counts[-1], Path(folder) / "copies")
        runs, done = [], 0
        for fmt, corpus in files.items():
            # One untimed run first: the imports and caches a format's first run pays (DuckDB, the
            # compiled engine) would otherwise be charged to the one-rule baseline, flattering ratios.
            _timed(ordered[:1], corpus)
            for count in counts:
                kind, subset = _subset(ordered, copies, count, Path(folder) / "copies")
                best: tuple[float, ManyValidations] | None = None
                for _ in range(repeat):
                    this = _timed(subset, corpus)
                    best = this if best is None or this[0] < best[0] else best
                    done += 1
                    if progress is not None:
                        progress(done)
                assert best is not None  # repeat >= 1
                runs.append(_run(fmt, count, kind, *best))
                if timed is not None:
                    timed(runs[-1])
    return RulesBench(
        str(ordered[0]),
        {fmt: str(path) for fmt, path in files.items()} if corpora else {fmt: "generated" for fmt in files},
        None if corpora else events,
        None if corpora else seed,
        repeat,
        tuple(runs),
    )


def _baseline_first(rules: list[Path]) -> list[Path]:
    """``rules`` with the first single-event rule moved to the front (the rest stay in path order)."""
    from harness.bench import is_single_event

    for position, path in enumerate(rules):
        try:
            single = is_single_event(load_rule(path))
        except HarnessError:  # a rule that does not load is nobody's baseline; its run reports it
            continue
        if single:
            return [path, *rules[:position], *rules[position + 1 :]]
    raise UsageError("the rules given hold no single-event rule that loads, the one-rule baseline")


def _subset(given: list[Path], copies: list[Path], count: int, folder: Path) -> tuple[str, list[Path]]:
    if count <= len(given):
        return "given", given[:count]
    if count == len(copies):
        return "copies", [folder]  # the whole folder of copies, as `harness validate DIR` reads it
    return "copies", copies[:count]


def _timed(rules: list[Path], corpus: Path) -> tuple[float, ManyValidations]:
    started = time.perf_counter()
    many = validate_many(rules, Corpus(path=str(corpus)))
    return time.perf_counter() - started, many


def _run(fmt: str, count: int, kind: str, seconds: float, many: ManyValidations) -> RuleSetRun:
    if len(many.runs) != count:  # a folder of copies reads back as every copy, or the bench is wrong
        raise HarnessError(f"timed {len(many.runs)} rules where {count} were meant to run")
    errors = sum(run.error is not None for run in many.runs)
    failed = sum(run.validation is not None and not run.passed for run in many.runs)
    return RuleSetRun(fmt, count, kind, seconds, many.corpus_seconds, failed, errors)


def _corpus_files(
    corpora: Sequence[str | os.PathLike[str]],
    formats: Sequence[str],
    events: int,
    seed: int,
    catalogue: str,
    folder: Path,
) -> dict[str, Path]:
    """Format -> file: the files given (one per format), else a fleet written once per format."""
    from generators.corpus import corpus_format

    if corpora:
        files: dict[str, Path] = {}
        for given in corpora:
            path = Path(given)
            try:
                fmt = corpus_format(path) if not path.is_dir() else "parquet"
            except ValueError as error:
                raise UsageError(f"--corpus {path}: {error}") from error
            if not path.exists():
                raise UsageError(f"--corpus {path}: no such file")
            if fmt in files:
                raise UsageError(f"--corpus {path}: a second {fmt} corpus; give one file per format")
            files[fmt] = path
        return files
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown or not formats:
        raise UsageError(f"--formats takes {' and '.join(FORMATS)}, not {', '.join(unknown) or 'nothing'}")
    from generators.corpus import write_corpus
    from generators.profiles import CorpusOptions
    from harness.app.setup import find_catalogue

    options = CorpusOptions(Profile.FLEET, events, seed, catalogue=find_catalogue(catalogue))
    written = {}
    for fmt in dict.fromkeys(formats):
        written[fmt] = folder / f"fleet.{fmt}"
        write_corpus(options, written[fmt])
    return written
