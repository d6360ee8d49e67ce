"""Where plotext puts things: the canvas grid, label placement, tick choice (no widget here).

Split from :mod:`.charts` so the widgets stay about what they draw; the compare screen's chart
uses the same grid.
"""

from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np
from rich.ansi import AnsiDecoder
from rich.style import Style
from rich.text import Span, Text

from ...esmarks import nice_ticks

# Rows plotext takes from the widget's height outside the canvas: title, x ticks, two axes.
_CHROME_ROWS = 4

# Plotext's output: runs of text, each after its own escape codes and ended by a reset.
_SEGMENT = re.compile(r"((?:\x1b\[[0-9;]*m)*)([^\x1b]*)")
_STYLES: dict[str, Style] = {}  # an escape-code prefix -> the style Rich reads from it


def ansi_text(ansi: str) -> Text:
    """Plotext's ANSI output as a Rich Text, the same as ``Text.from_ansi`` gives, about ten times faster.

    Rich's decoder reads every escape code and character anew (half of a chart's drawing: 5 ms of
    10 at 72x35); plotext repeats a handful of code prefixes, so each prefix is read once by Rich
    and its style kept.
    """
    plain: list[str] = []
    spans: list[Span] = []
    pos = 0
    for prefix, chunk in _SEGMENT.findall(ansi):
        if not chunk:
            continue
        if prefix:
            style = _STYLES.get(prefix)
            if style is None:
                probe = AnsiDecoder().decode_line(prefix + "x")
                style = probe.spans[0].style if probe.spans else Style.null()
                if len(_STYLES) < 4096:  # bounded: a theme's and the charts' colours
                    _STYLES[prefix] = style  # type: ignore[assignment]
            if style:
                spans.append(Span(pos, pos + len(chunk), style))
        plain.append(chunk)
        pos += len(chunk)
    return Text("".join(plain), spans=spans)


def _nice_step(span: float, max_ticks: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... giving at most ``max_ticks`` ticks over ``span``."""
    max_ticks = max(max_ticks, 2)
    magnitude = 1
    while True:
        for m in (1, 2, 5):
            step = m * magnitude
            if math.floor(span / step) + 1 <= max_ticks:
                return step
        magnitude *= 10


def _epoch_ticks(first: int, last: int, width: int) -> list[int]:
    """Integer epoch ticks from ``first`` to ``last`` that fit ``width`` columns."""
    label = max(len(str(last)), 1) + 3  # a label and some air between labels
    step = _nice_step(last - first, max(width // label, 2))
    ticks = [t for t in range(step * math.ceil(first / step), last + 1, step)]
    if first not in ticks and (not ticks or ticks[0] - first >= max(step / 2, 1)):
        ticks.insert(0, first)
    return ticks or [first]


def _enter_at(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """The curve without its leading points outside ``[lo, hi]``, starting where it crosses into it."""
    inside = np.flatnonzero((y >= lo) & (y <= hi))
    if inside.size == 0:
        return x[:0], y[:0]
    k = int(inside[0])
    if k == 0:
        return x, y
    edge = hi if y[k - 1] > hi else lo
    x0, y0, x1, y1 = x[k - 1], y[k - 1], x[k], y[k]
    cross = x0 + (x1 - x0) * (y0 - edge) / (y0 - y1)
    return np.concatenate([[cross], x[k:]]), np.concatenate([[edge], y[k:]])


def _legend_rows(entries: list, width: int) -> list[list]:
    """The legend's entries split into rows of at most ``width`` columns (two spaces between entries)."""
    rows: list[list] = []
    used = width + 1
    for entry in entries:
        n = len(entry[0]) + 1 + len(entry[1])
        if used + 2 + n > width:
            rows.append([])
            used = -2
        rows[-1].append(entry)
        used += 2 + n
    return rows


class _LabelPlacer:
    """Finds each label the highest canvas row where it overlaps neither the legend nor another label."""

    def __init__(self, grid: "_Grid", legend_labels: Sequence[str], *, from_bottom: bool = False) -> None:
        self.grid = grid
        self.from_bottom = from_bottom  # the lowest free row instead (a legend at the bottom: rising curves)
        # plotext's legend: top-left of the canvas, one row per label, 3 cells of marker then
        # " label " padded to the longest.
        self.legend_rows = len(legend_labels)
        self.legend_cols = 3 + max((len(t) for t in legend_labels), default=0) + 2 if legend_labels else 0
        self.taken: dict[int, list[tuple[int, int]]] = {}

    def place(self, x: float, length: int, alignment: str) -> float:
        col = int(self.grid.col(x))
        start = col if alignment == "left" else col - length + 1
        span = (start, start + length)  # [start, end)
        rows = range(self.grid.height - 1, -1, -1) if self.from_bottom else range(self.grid.height)
        for row in rows:
            if row < self.legend_rows and span[0] < self.legend_cols + 1:
                continue
            if any(a < span[1] + 1 and span[0] < b + 1 for a, b in self.taken.get(row, [])):
                continue
            self.taken.setdefault(row, []).append(span)
            return self.grid.row_y(row)
        return self.grid.row_y(0)


class _Grid:
    """Where plotext will put things, worked out the way plotext does, so marks land on cells.

    Plotext maps a value to a cell by rounding on that series' own grid: braille lines on a grid
    2x4 times finer than whole-cell markers, so an epoch's marker and its braille dot can miss
    each other by a cell. Knowing the canvas size exactly (we set the y tick labels, so their
    width is known) lets markers, mark lines and labels be moved to the braille dot's cell.
    """

    def __init__(self, widget_width: int, widget_height: int, xlim: tuple[float, float], lo: float, hi: float,
                 legend_rows: int, *, round_ticks: bool = False, unit: bool = False,
                 legend_at_bottom: bool = False) -> None:
        self.x_lo, self.x_hi = xlim
        # Canvas rows: widget height less title, x tick labels and the two horizontal axes.
        self.height = max(widget_height - _CHROME_ROWS, 1)
        head = min(legend_rows + 0.6, self.height * 0.35)
        room = (hi - lo) * head / max(self.height - head, 1)  # the legend's rows, in data units
        self.lo, self.top = (lo - room, hi) if legend_at_bottom else (lo, hi + room)
        if unit:  # accuracy and the like: the axis stays in [0, 1], the legend's rows or not
            self.lo = max(self.lo, 0.0)
            self.top = min(self.top, 1.0) if hi < 1.0 else max(hi, 1e-9)
        lo = self.lo
        n = int(min(5, max(2, self.height // 2)))
        span = self.top - lo
        if round_ticks:  # 0.2, 0.4, ... rather than 0.307, 0.516
            ticks, decimals = nice_ticks(lo, self.top, n + 1)
            self.yticks = [float(v) for v in ticks]
        else:
            self.yticks = [float(v) for v in np.linspace(lo, self.top, n)]
            decimals = max(0, min(6, 2 - math.floor(math.log10(span)))) if span > 0 else 2
        self.ylabels = [f"{v:.{decimals}f}" for v in self.yticks]
        # Canvas columns: widget width less the y tick labels and the two vertical axes.
        self.width = max(widget_width - 2 - max(len(s) for s in self.ylabels), 1)

    @staticmethod
    def _cell(v, lim: tuple[float, float], bins: int, factor: int):
        # plotext's get_matrix_data on a grid `factor` times finer, then the cell holding that dot.
        f = (np.asarray(v, dtype=float) - lim[0]) / (lim[1] - lim[0])
        return np.floor(np.round(0.5 + (bins * factor - 1) * f, 8)) // factor

    def col(self, x):
        """The canvas column (0-based) where a braille series puts ``x``."""
        return self._cell(x, (self.x_lo, self.x_hi), self.width, 2)

    def col_x(self, col: int) -> float:
        """The x value whole-cell text (``plt.text``) puts on canvas column ``col``."""
        return self.x_lo + col * (self.x_hi - self.x_lo) / max(self.width - 1, 1)

    def snap_x(self, x):
        lim = (self.x_lo, self.x_hi)
        c = self._cell(x, lim, self.width, 2)
        out = lim[0] + c * (lim[1] - lim[0]) / max(self.width - 1, 1)
        return float(out) if np.ndim(out) == 0 else out

    def snap_y(self, y):
        lim = (self.lo, self.top)
        c = self._cell(y, lim, self.height, 4)
        out = lim[0] + c * (lim[1] - lim[0]) / max(self.height - 1, 1)
        return float(out) if np.ndim(out) == 0 else out

    def row_y(self, k: int) -> float:
        """The y value of the ``k``-th canvas row from the top."""
        return self.top - k * (self.top - self.lo) / max(self.height - 1, 1)
