"""Bar charts as inline SVG, drawn by pygal.

Why pygal: it is a maintained pure-Python library that writes SVG itself (no browser, no
native library, no font files), escapes every label it writes, and its bars are plain
`<rect>` elements a test can count. Two things of its output do not suit a filed
document and are removed here: the inline `<script>` with its interactive config (the
page forbids scripts) and the comments naming its web site and today's date (the same
report must give the same file). Its random chart id is replaced by a numbered one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from .page import FONTS, esc


@cache
def _pygal() -> Any:
    import pygal  # type: ignore[import-untyped]

    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__module__ != "pygal"]
    return pygal


@cache
def _style() -> Any:
    from pygal.style import Style  # type: ignore[import-untyped]

    return Style(font_family=FONTS.replace('"', ""), background="white",
                 plot_background="white", foreground="#1d1d1f", foreground_strong="#1d1d1f",
                 foreground_subtle="#c8ccd4", colors=("#3b5b8c", "#d08c2c", "#5d9b5a",
                                                      "#a4262c", "#7a5aa6", "#2c8c8c"),
                 title_font_size=15, label_font_size=12, major_label_font_size=12,
                 value_font_size=11, legend_font_size=12, tooltip_font_size=11)


def _plain(root: Any) -> Any:
    """Drop pygal's script and comments (an xml_filter, so any etree backend works)."""
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag
            if callable(tag) or (isinstance(tag, str) and tag.rsplit("}", 1)[-1] == "script"):
                parent.remove(child)
    return root


class Charts:
    """Numbers the charts of one page, so their ids are unique and stable."""

    def __init__(self) -> None:
        self.count = 0

    def bars(self, title: str, labels: Sequence[str],
             series: Sequence[tuple[str, Sequence[float | None]]], *, percent: bool = False,
             stacked: bool = False, note: str = "") -> str:
        """A figure with one bar per label and series (None: no bar), values printed."""
        self.count += 1
        pygal = _pygal()
        kind = pygal.StackedBar if stacked else pygal.Bar
        ticks = None if percent else count_ticks(_top(series, stacked))
        chart = kind(js=[], disable_xml_declaration=True, style=_style(), width=760,
                     height=340, print_values=True, show_legend=len(series) > 1,
                     legend_at_bottom=True, truncate_label=-1, x_label_rotation=0
                     if len(labels) <= 8 else 30, range=(0, 100)
                     if percent else (0, ticks[-1] if ticks else 1),
                     value_formatter=_percent if percent else _count)
        if ticks:
            chart.y_labels = ticks  # counts: whole numbers on the axis, never 0.5 of a case
        else:  # rates: 0 % … 100 % in tens; the bars keep their two decimals
            chart.y_labels = [{"label": f"{v}%", "value": v} for v in range(0, 101, 10)]
        chart.add_xml_filter(_plain)
        chart.uuid = f"fe-chart-{self.count}"
        chart.title = title
        chart.x_labels = list(labels)
        for name, values in series:
            chart.add(name, list(values))
        svg = chart.render(is_unicode=True)
        caption = f"<figcaption>{esc(note)}</figcaption>" if note else ""
        return f'<figure class="chart" data-chart="{self.count}">{svg}{caption}</figure>'


def _top(series: Sequence[tuple[str, Sequence[float | None]]], stacked: bool) -> float:
    """The tallest bar: the largest value, or the largest stack."""
    columns = list(zip(*(v for _, v in series), strict=True)) if series else []
    if stacked:
        return max((sum(x or 0 for x in c) for c in columns), default=0)
    return max((x or 0 for c in columns for x in c), default=0)


def count_ticks(top: float, most: int = 10) -> list[int]:
    """Whole-number axis labels from 0 to at least `top`, at most `most` + 1 of them, a step
    of 1, 2 or 5 times a power of ten (pygal's own scale would label 0.5 cases)."""
    step, steps = 1, _steps()
    while top > step * most:
        step = next(steps)
    last = max(step, -(-int(top) // step) * step)
    if last < top:
        last += step
    return list(range(0, last + 1, step))


def _steps() -> Iterator[int]:
    """2, 5, 10, 20, 50, 100 …"""
    power = 1
    while True:
        for lead in (2, 5, 10):
            yield lead * power
        power *= 10


def _percent(value: float) -> str:
    return f"{value:.2f}%"


def _count(value: float) -> str:
    return f"{value:g}"


__all__ = ["Charts"]
