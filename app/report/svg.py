"""Small inline SVG charts for the report: lines, bars and a heat map, with no dependencies.

Every chart is one ``<svg>`` string that scales to the page width (``viewBox``), with a
``<title>`` tooltip on each mark so exact values show on hover. Text is escaped.

    >>> svg = line_chart({"memrl": [0.0, 0.5, None, 1.0]}, y_label="success", y_range=(0, 1))
    >>> svg.startswith("<svg") and svg.count("<circle") == 3
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["PALETTE", "bar_chart", "heatmap", "line_chart", "nice_ticks"]

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf")


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [lo, hi].

    >>> nice_ticks(0, 1)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    if hi - lo < 1e-9:  # one value: a unit range around it
        lo, hi = lo - 0.5, hi + 0.5
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(lo / step + 1e-9) * step  # the ticks enclose [lo, hi]
    last = math.ceil(hi / step - 1e-9) * step
    ticks, value = [], first
    while value <= last + step * 1e-6:
        ticks.append(round(value, 10) + 0.0)  # + 0.0 turns -0.0 into 0.0
        value += step
    return ticks


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) >= 0.01 or value == 0 else f"{value:.1e}"


@dataclass(frozen=True)
class _Frame:
    """Plot area inside a width x height canvas, mapping data to pixels."""

    width: int
    height: int
    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float
    left: int = 56
    right: int = 16
    top: int = 28
    bottom: int = 44

    def x(self, value: float) -> float:
        span = (self.x_hi - self.x_lo) or 1.0
        return self.left + (value - self.x_lo) / span * (self.width - self.left - self.right)

    def y(self, value: float) -> float:
        span = (self.y_hi - self.y_lo) or 1.0
        return self.height - self.bottom - (value - self.y_lo) / span * (
            self.height - self.top - self.bottom)


def _open(frame: _Frame, label: str) -> str:
    return (f'<svg viewBox="0 0 {frame.width} '
            f'{frame.height}" width="{frame.width}" role="img" aria-label="{escape(label)}" '
            'class="chart">')


def _text(x: float, y: float, text: str, anchor: str = "middle", cls: str = "tick") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">'
            f"{escape(text)}</text>")


def _axes(frame: _Frame, x_ticks: Sequence[tuple[float, str]], y_ticks: Sequence[float],
          x_label: str, y_label: str) -> str:
    parts = []
    for value in y_ticks:
        y = frame.y(value)
        parts.append(f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" '
                     f'y2="{y:.1f}" class="grid"/>')
        parts.append(_text(frame.left - 6, y + 4, _fmt(value), "end"))
    base = frame.height - frame.bottom
    for value, label in x_ticks:
        parts.append(_text(frame.x(value), base + 16, label))
    parts.append(f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{base}" '
                 f'y2="{base}" class="axis"/>')
    parts.append(_text((frame.left + frame.width - frame.right) / 2, frame.height - 6, x_label,
                       cls="label"))
    middle = (frame.top + base) / 2
    parts.append(f'<text transform="translate(14,{middle:.1f}) rotate(-90)" '
                 f'text-anchor="middle" class="label">{escape(y_label)}</text>')
    return "".join(parts)


def _legend(names: Sequence[str], frame: _Frame) -> str:
    parts, x = [], float(frame.left)
    for index, name in enumerate(names):
        color = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x:.1f}" y="8" width="12" height="12" fill="{color}"/>')
        parts.append(_text(x + 16, 18, name, "start", "legend"))
        x += 28 + 7 * len(name)
    return "".join(parts)


def _int_ticks(n: int, first: int = 1) -> list[tuple[float, str]]:
    every = max(1, math.ceil(n / 12))
    return [(float(i), str(i)) for i in range(first, first + n) if (i - first) % every == 0]


def line_chart(series: Mapping[str, Sequence[float | None]], *, y_label: str,
               x_label: str = "epoch", y_range: tuple[float, float] | None = None,
               width: int = 900, height: int = 300, first_x: int = 1) -> str:
    """One line per series over x = first_x, first_x+1, ...; None values leave a gap."""
    values = [v for vs in series.values() for v in vs if v is not None]
    lo, hi = y_range if y_range is not None else (min(values, default=0.0),
                                                  max(values, default=1.0))
    n = max((len(vs) for vs in series.values()), default=1)
    ticks = nice_ticks(min(lo, hi), max(lo, hi))
    frame = _Frame(width, height, first_x - 0.3, first_x + max(n - 1, 1) + 0.3, min(ticks),
                   max(ticks))
    parts = [_open(frame, f"{y_label} per {x_label}"),
             _axes(frame, _int_ticks(n, first_x), ticks, x_label, y_label)]
    for index, (name, ys) in enumerate(series.items()):
        parts.append(_series(frame, name, ys, PALETTE[index % len(PALETTE)], first_x))
    parts.append(_legend(list(series), frame))
    return "".join(parts) + "</svg>"


def _series(frame: _Frame, name: str, ys: Sequence[float | None], color: str,
            first_x: int) -> str:
    parts: list[str] = []
    run: list[str] = []
    for i, value in enumerate([*ys, None]):
        if value is None:
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" '
                             f'stroke="{color}" stroke-width="2"/>')
            run = []
            continue
        x, y = frame.x(first_x + i), frame.y(value)
        run.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}">'
                     f"<title>{escape(name)}: {first_x + i} -> {value:.3g}</title></circle>")
    return "".join(parts)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, y_label: str,
              x_label: str = "", color: str = PALETTE[0], width: int = 900,
              height: int = 260) -> str:
    """Vertical bars, one per label (labels thinned out when there are many).

    >>> bar_chart(["a", "b"], [1, 3], y_label="count").count("<rect")
    2
    """
    top = max(values, default=1.0) or 1.0
    ticks = nice_ticks(0.0, float(top))
    frame = _Frame(width, height, -0.5, len(labels) - 0.5, 0.0, max(ticks))
    every = max(1, math.ceil(len(labels) / 16))
    x_ticks = [(float(i), label) for i, label in enumerate(labels) if i % every == 0]
    parts = [_open(frame, f"{y_label} by {x_label}"),
             _axes(frame, x_ticks, ticks, x_label, y_label)]
    slot = min((frame.x(1) - frame.x(0)) if len(labels) > 1 else 100.0, 100.0)
    for i, (label, value) in enumerate(zip(labels, values)):
        x0, y0 = frame.x(i) - slot * 0.4, frame.y(value)
        parts.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{slot * 0.8:.1f}" '
                     f'height="{frame.y(0) - y0:.1f}" fill="{color}">'
                     f"<title>{escape(label)}: {_fmt(value)}</title></rect>")
    return "".join(parts) + "</svg>"


def heatmap(columns: Sequence[Sequence[int]], edges: Sequence[float], *, x_label: str = "epoch",
            y_label: str = "Q-value", width: int = 900, height: int = 300) -> str:
    """Counts per (column, bin): one column per epoch, bins between ``edges`` bottom to top;
    darker cells hold more memories.

    >>> heatmap([[0, 2], [1, 1]], [-1.0, 0.0, 1.0]).count("<rect")
    4
    """
    n = max(len(columns), 1)
    frame = _Frame(width, height, 0.5, n + 0.5, float(edges[0]), float(edges[-1]))
    parts = [_open(frame, f"{y_label} histogram per {x_label}"),
             _axes(frame, _int_ticks(n), nice_ticks(edges[0], edges[-1]), x_label, y_label)]
    peak = max((c for column in columns for c in column), default=0) or 1
    cell = frame.x(1.5) - frame.x(0.5)
    for i, column in enumerate(columns, 1):
        for b, count in enumerate(column):
            top, bottom = frame.y(edges[b + 1]), frame.y(edges[b])
            shade = 0.06 + 0.94 * count / peak if count else 0.0
            parts.append(f'<rect x="{frame.x(i - 0.5):.1f}" y="{top:.1f}" width="{cell:.1f}" '
                         f'height="{bottom - top:.1f}" fill="#1f77b4" fill-opacity="{shade:.2f}">'
                         f"<title>{x_label} {i}, Q in [{edges[b]:g}, {edges[b + 1]:g}): "
                         f"{count}</title></rect>")
    return "".join(parts) + "</svg>"
