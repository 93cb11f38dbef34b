"""Seconds per run against the number of rules, one line per corpus format, as a standalone SVG.

Drawn by hand like the report's charts: no script, no font files, no plotting library. Every
point carries ``data-format``, ``data-rules`` and ``data-seconds`` so the figures can be read back.
"""

from __future__ import annotations

from html import escape

from harness.bench_rules import RulesBench

__all__ = ["rules_bench_svg"]

# Okabe and Ito's palette, as the HTML report's charts use it: told apart with colour-vision deficiencies.
_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7")
_WIDTH, _HEIGHT = 560, 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 120, 28, 44


def rules_bench_svg(bench: RulesBench, title: str) -> str:
    """The chart: x the rules in a run (linear from 0), y its seconds (linear from 0)."""
    formats = list(dict.fromkeys(run.fmt for run in bench.runs))
    most_rules = max((run.rules for run in bench.runs), default=1)
    most_seconds = max((run.seconds for run in bench.runs), default=0.0) or 1.0
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    base = _TOP + plot_h

    def x(rules: int) -> float:
        return round(_LEFT + plot_w * rules / most_rules, 1)

    def y(seconds: float) -> float:
        return round(base - plot_h * seconds / most_seconds, 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="{escape(title)}" '
        'font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{_WIDTH}" height="{_HEIGHT}" fill="#fff"/>',
        f'<text x="{_LEFT}" y="16" font-size="12">{escape(title)}</text>',
        f'<line x1="{_LEFT}" y1="{base}" x2="{_LEFT + plot_w}" y2="{base}" stroke="#888"/>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{base}" stroke="#888"/>',
        f'<text x="{_LEFT - 6}" y="{_TOP + 4}" text-anchor="end">{most_seconds:,.1f} s</text>',
        f'<text x="{_LEFT - 6}" y="{base}" text-anchor="end">0</text>',
        f'<text x="{_LEFT + plot_w / 2}" y="{_HEIGHT - 8}" text-anchor="middle">rules in the run</text>',
    ]
    ticks = sorted({run.rules for run in bench.runs})
    parts.extend(
        f'<text x="{x(rules)}" y="{base + 16}" text-anchor="middle">{rules}</text>' for rules in ticks
    )
    for position, fmt in enumerate(formats):
        colour = _COLOURS[position % len(_COLOURS)]
        runs = sorted((run for run in bench.runs if run.fmt == fmt), key=lambda run: run.rules)
        points = " ".join(f"{x(run.rules)},{y(run.seconds)}" for run in runs)
        parts.append(f'<g class="series" data-format="{escape(fmt)}">')
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for run in runs:
            ratio = bench.ratio(run)
            shown = "" if ratio is None else f", {ratio:.2f}x one rule"
            parts.append(
                f'<circle data-format="{escape(fmt)}" data-rules="{run.rules}" '
                f'data-seconds="{run.seconds:.3f}" cx="{x(run.rules)}" cy="{y(run.seconds)}" r="3" '
                f'fill="{colour}">'
                f"<title>{escape(f'{fmt}: {run.rules} rules, {run.seconds:.2f} s{shown}')}</title></circle>"
            )
        legend_y = _TOP + 14 + 18 * position
        parts.append(
            f'<line x1="{_WIDTH - _RIGHT + 12}" y1="{legend_y - 4}" x2="{_WIDTH - _RIGHT + 32}" '
            f'y2="{legend_y - 4}" stroke="{colour}" stroke-width="2"/>'
            f'<text x="{_WIDTH - _RIGHT + 38}" y="{legend_y}">{escape(fmt)}</text>'
        )
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
