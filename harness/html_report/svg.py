"""Small inline SVG charts written by hand: the page must load with no script and no library."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["SERIES_COLOURS", "grouped_bars"]

# Distinguishable for the common colour-vision deficiencies (Okabe and Ito's palette).
SERIES_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")

_PLOT_HEIGHT = 160
_BAR_WIDTH = 14
_GROUP_GAP = 18
_LEFT = 48
_TOP = 12
_BOTTOM = 36


def grouped_bars(groups: Sequence[str], series: Mapping[str, Mapping[str, int]], *, title: str) -> str:
    """One group of bars per entry of ``groups`` (a day), one bar per series; heights proportional to counts.

    Every bar carries ``data-count`` and every group ``data-group`` so the numbers can be read back.
    """
    names = list(series)
    peak = max((series[name].get(group, 0) for name in names for group in groups), default=0)
    scale = _PLOT_HEIGHT / peak if peak else 0.0
    group_width = max(len(names), 1) * _BAR_WIDTH + _GROUP_GAP
    width = _LEFT + len(groups) * group_width + 8
    height = _TOP + _PLOT_HEIGHT + _BOTTOM
    base = _TOP + _PLOT_HEIGHT
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{_LEFT}" y1="{base}" x2="{width - 4}" y2="{base}" stroke="#888"/>',
        f'<text x="{_LEFT - 6}" y="{_TOP + 4}" text-anchor="end" class="axis">{peak:,}</text>',
        f'<text x="{_LEFT - 6}" y="{base}" text-anchor="end" class="axis">0</text>',
    ]
    for index, group in enumerate(groups):
        x0 = _LEFT + index * group_width + _GROUP_GAP // 2
        parts.append(f'<g class="group" data-group="{escape(group)}">')
        for position, name in enumerate(names):
            count = series[name].get(group, 0)
            bar = round(count * scale, 2)
            colour = SERIES_COLOURS[position % len(SERIES_COLOURS)]
            parts.append(
                f'<rect class="bar" data-series="{escape(name)}" data-count="{count}" '
                f'x="{x0 + position * _BAR_WIDTH}" y="{round(base - bar, 2)}" width="{_BAR_WIDTH - 2}" '
                f'height="{bar}" fill="{colour}"><title>{escape(f"{name} {group}: {count:,}")}</title></rect>'
            )
        label_x = x0 + len(names) * _BAR_WIDTH / 2
        short = escape(group[5:])  # the month and day of an ISO date: the year is in the title
        parts.append(f'<text x="{label_x}" y="{base + 16}" text-anchor="middle" class="axis">{short}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)
