"""Bar charts as SVG text, written with the standard library only.

A chart is categories down the left, one horizontal bar per series in each category, a
value axis with round ticks, an optional vertical reference line (the whole
workforce's share, or 1.0 for a relative likelihood) and optional whiskers
(confidence intervals). A value
that is not published (``<10``, ``[c]``, ``[z]``) is drawn as a **gap** with its
symbol written where the bar would stand, never as a zero bar.

Output is deterministic: the same chart gives the same bytes (coordinates are written
with one decimal, no clock, no random ids). Every text is escaped. The SVG is
well-formed XML, so it can be written to a file or inlined in the XHTML report.

Pure: values in, text out. It never prints, logs or touches files.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from html import escape

__all__ = ["BarChart", "Point", "Series", "render_bar_chart"]

PLOT_W = 440
RIGHT = 28
TOP = 60  # title, then the reference line's label
BAR = 14
GAP = 12
CHAR_W = 6.2  # average advance of an 11 px sans-serif character
COLOURS = ("#005eb8", "#ed8b00", "#330072", "#009639", "#7c2855")


@dataclass(frozen=True)
class Point:
    """One bar: ``value`` when published, else None and ``display`` is its symbol."""

    display: str
    value: Decimal | None
    low: Decimal | None = None
    high: Decimal | None = None


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[Point, ...]


@dataclass(frozen=True)
class BarChart:
    """A grouped bar chart; every series has one point per category."""

    id: str
    """Prefix for element ids, unique within the document the chart is put in."""
    title: str
    description: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    value_label: str
    reference: Decimal | None = None
    reference_label: str = ""

    def __post_init__(self) -> None:
        for series in self.series:
            if len(series.points) != len(self.categories):
                raise ValueError(
                    f"chart {self.id!r}: series {series.name!r} needs one point per"
                    " category"
                )


def _f(x: float) -> str:
    return f"{x:.1f}"


def _nice_step(span: float) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about five ticks."""
    raw = span / 5
    power = math.pow(10.0, math.floor(math.log10(raw)))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if raw <= factor * power:
            return factor * power
    return 10.0 * power  # pragma: no cover - the loop always returns by factor 10


def _axis(chart: BarChart) -> tuple[float, float, float]:
    """``(low, high, step)`` of the value axis: 0, every value, whisker and line."""
    values = [0.0]
    for series in chart.series:
        for p in series.points:
            values += [float(v) for v in (p.value, p.low, p.high) if v is not None]
    if chart.reference is not None:
        values.append(float(chart.reference))
    low, high = min(values), max(values)
    if high == low:
        high = low + 1.0
    step = _nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _tick_label(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{value:.{decimals}f}"


def render_bar_chart(chart: BarChart) -> str:
    """Return the chart as a standalone SVG document (text).

    Bars are horizontal: categories run down the left, so long names (bodies, staff
    groups) stay readable; values run along the x axis from its zero line.
    """
    n_series = max(len(chart.series), 1)
    block = n_series * BAR + GAP
    longest = max((len(c) for c in chart.categories), default=0)
    left = 16 + math.ceil(CHAR_W * longest)
    plot_h = max(len(chart.categories), 1) * block
    legend_h = 18 * len(chart.series) if len(chart.series) > 1 else 0
    width = max(left + PLOT_W + RIGHT, 24 + math.ceil(8.5 * len(chart.title)))
    height = TOP + plot_h + 44 + legend_h
    low, high, step = _axis(chart)

    def x(value: float) -> float:
        return left + PLOT_W * (value - low) / (high - low)

    cid = escape(chart.id)
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}"'
            f' height="{height}" viewBox="0 0 {width} {height}" role="img"'
            f' aria-labelledby="{cid}-title {cid}-desc"'
            ' font-family="Arial, sans-serif" font-size="11">'
        ),
        f'<title id="{cid}-title">{escape(chart.title)}</title>',
        f'<desc id="{cid}-desc">{escape(chart.description)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        (
            f'<text x="12" y="22" font-size="14" font-weight="bold">'
            f"{escape(chart.title)}</text>"
        ),
    ]
    bottom = TOP + plot_h
    for i in range(round((high - low) / step) + 1):
        value = low + i * step
        tx = x(value)
        out.append(
            f'<line x1="{_f(tx)}" y1="{TOP}" x2="{_f(tx)}" y2="{bottom}"'
            ' stroke="#e8edee" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{_f(tx)}" y="{bottom + 14}" text-anchor="middle">'
            f"{escape(_tick_label(value, step))}</text>"
        )
    zero = x(0.0)
    out.append(
        f'<line x1="{_f(zero)}" y1="{TOP}" x2="{_f(zero)}" y2="{bottom}"'
        ' stroke="#425563" stroke-width="1"/>'
    )
    out.append(
        f'<line x1="{left}" y1="{bottom}" x2="{left + PLOT_W}" y2="{bottom}"'
        ' stroke="#425563" stroke-width="1"/>'
    )
    out.append(
        f'<text x="{_f(left + PLOT_W / 2)}" y="{bottom + 32}" text-anchor="middle">'
        f"{escape(chart.value_label)}</text>"
    )
    for c, category in enumerate(chart.categories):
        y0 = TOP + c * block + GAP / 2
        for s, series in enumerate(chart.series):
            out += _bar(chart, series, s, c, category, y0 + s * BAR, x, zero)
        out.append(
            f'<text x="{left - 8}" y="{_f(y0 + n_series * BAR / 2 + 4)}"'
            f' text-anchor="end">{escape(category)}</text>'
        )
    if chart.reference is not None:
        rx = x(float(chart.reference))
        out.append(
            f'<line x1="{_f(rx)}" y1="{TOP - 6}" x2="{_f(rx)}" y2="{bottom}"'
            ' stroke="#d5281b" stroke-width="1.5" stroke-dasharray="6 3"/>'
        )
        # keep the label inside the picture when the line is near either edge
        share = (rx - left) / PLOT_W
        anchor = "end" if share > 0.75 else "start" if share < 0.25 else "middle"
        out.append(
            f'<text x="{_f(rx)}" y="{TOP - 10}" text-anchor="{anchor}"'
            f' fill="#d5281b">{escape(chart.reference_label)}</text>'
        )
    if len(chart.series) > 1:
        for s, series in enumerate(chart.series):
            colour = COLOURS[s % len(COLOURS)]
            ly = bottom + 44 + 18 * s
            out.append(
                f'<rect x="{left}" y="{ly}" width="12" height="12" fill="{colour}"/>'
            )
            out.append(
                f'<text x="{left + 18}" y="{ly + 10}">{escape(series.name)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _bar(
    chart: BarChart,
    series: Series,
    s: int,
    c: int,
    category: str,
    y: float,
    x: Callable[[float], float],
    zero: float,
) -> list[str]:
    point = series.points[c]
    name = f"{category}: {series.name}" if len(chart.series) > 1 else category
    mid = y + BAR / 2
    if point.value is None:
        # a gap, never a zero bar: the symbol stands where the bar would start
        gap = (
            f'<text x="{_f(zero + 4)}" y="{_f(mid + 3.5)}" fill="#425563"'
            f' font-size="10" class="gap">{escape(point.display)}'
            f"<title>{escape(f'{name}: {point.display} (not published)')}</title>"
            "</text>"
        )
        return [gap]
    colour = COLOURS[s % len(COLOURS)]
    end = x(float(point.value))
    x0, w = min(end, zero), abs(end - zero)
    bar = (
        f'<rect x="{_f(x0)}" y="{_f(y + 1)}" width="{_f(w)}" height="{BAR - 2}"'
        f' fill="{colour}"><title>{escape(f"{name}: {point.display}")}</title></rect>'
    )
    out = [bar]
    if point.low is not None and point.high is not None:
        lo, hi = x(float(point.low)), x(float(point.high))
        out.append(
            f'<path d="M{_f(lo)} {_f(mid)} H{_f(hi)} M{_f(lo)} {_f(mid - 4)}'
            f' V{_f(mid + 4)} M{_f(hi)} {_f(mid - 4)} V{_f(mid + 4)}"'
            ' stroke="#212b32" stroke-width="1.2" fill="none"/>'
        )
    return out
