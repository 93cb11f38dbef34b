"""``harness bench --rules PATH...``: many-rules runs timed, as a table, JSON and an SVG plot."""

from __future__ import annotations

import click

from harness.app.benchmarks import ALL, DEFAULT_SIZES, FORMATS, bench_rules, rule_set_sizes
from harness.cli.options import progress, tell
from harness.errors import UsageError
from harness.events import atomic_writer
from harness.rule_paths import expand_rule_paths

__all__ = ["one_rule_options_refused", "parse_list", "run_bench_rules"]


def parse_list(text: str | None, option: str) -> list[str] | None:
    """``a,b,c`` as its items; None when the option was not given."""
    if text is None:
        return None
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise UsageError(f"{option} needs a comma-separated list, not {text!r}")
    return items


def _sizes(text: str | None) -> list[int | str]:
    items = parse_list(text, "--sizes")
    if items is None:
        return list(DEFAULT_SIZES)
    sizes: list[int | str] = []
    for item in items:
        if item == ALL:
            sizes.append(ALL)
        elif item.isdigit() and int(item) >= 1:
            sizes.append(int(item))
        else:
            raise UsageError(f"--sizes takes positive numbers of rules and 'all', not {item!r}")
    return sizes


def run_bench_rules(
    rules: tuple[str, ...],
    *,
    events: int,
    seed: int,
    corpora: tuple[str, ...],
    formats_text: str | None,
    sizes_text: str | None,
    repeat: int,
    catalogue: str | None,
    as_json: bool,
    plot: str | None,
) -> None:
    """Time the rule sets, with a progress bar over the timed runs on a terminal, and report them."""
    from harness.bench_plot import rules_bench_svg
    from harness.bench_rules import print_rules_bench, rules_bench_json

    formats = parse_list(formats_text, "--formats")
    if formats is not None and corpora:
        raise UsageError("--formats chooses the generated corpora; with --corpus each file's format is used")
    chosen = formats or list(FORMATS)
    sizes = _sizes(sizes_text)
    given = len(expand_rule_paths(rules))  # a path naming no rule is refused before any work
    runs = (len(corpora) or len(chosen)) * len(rule_set_sizes(sizes, given)) * repeat
    with progress(runs, "timing rule sets") as advance:
        result = bench_rules(
            rules,
            events=events,
            seed=seed,
            corpora=corpora,
            formats=chosen,
            sizes=sizes,
            repeat=repeat,
            catalogue=catalogue or "appcmd",
            progress=advance,
            timed=lambda run: tell(
                f"{run.fmt}: {run.rules} rules ({run.kind}) in {run.seconds:.2f} s "
                f"(corpus {run.corpus_seconds:.2f} s, {run.failed} failed, {run.errors} errors)"
            ),
        )
    where = ", ".join(result.corpora.values()) if corpora else f"{events:,} fleet events (seed {seed})"
    title = f"validate_many on {given} rules' sets: {where}, best of {repeat}"
    if plot is not None:
        with atomic_writer(plot) as stream:
            stream.write(rules_bench_svg(result, title).encode())
    if as_json:
        click.echo(rules_bench_json(result))
    else:
        print_rules_bench(result, title)


def one_rule_options_refused(given: dict[str, bool]) -> None:
    """RULE's options that mean nothing to --rules (and the reverse), refused by name."""
    named = [option for option, present in given.items() if present]
    if named:
        raise UsageError(f"{', '.join(named)}: not an option of this form of bench; see harness bench --help")
