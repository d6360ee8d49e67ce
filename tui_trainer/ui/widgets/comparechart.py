"""One per-epoch quantity of several runs on one chart: the compare screen's and the runs workspace's.

Each run has its colour and its style: a line (braille dots or the heavier half-blocks, in turn) and
a symbol repeated along it at epochs the other runs leave free, so two curves that sit on each other
are still told apart. What a run's marks are (best, restored, stop) and what ``z`` zooms to come from
:mod:`tui_trainer.esmarks`; this module only draws.
"""

from __future__ import annotations

import math
from typing import Mapping, NamedTuple, Optional, Sequence

import numpy as np

from ...compare import ComparedRun, metric_series
from ...decimate import minmax_decimate
from ...esmarks import Marks, is_unit_metric, readable_range, run_marks, zoom_span
from ...runstate import RunState
from .chartgrid import _CHROME_ROWS, _enter_at, _Grid, _LabelPlacer, _legend_rows
from .charts import _FALLBACK_HEIGHT, _MIN_LEGEND_ROWS, COLORS, EpochChart, _finite

__all__ = ["CompareChart", "RUN_COLORS", "RUN_STYLES", "run_color", "run_style", "legend_symbol"]

RGB = tuple[int, int, int]

# One colour per run, explicit RGB for the same reason as the monitor's (ANSI names follow the
# terminal's palette). The first two are the monitor's own blue and amber, far apart in hue and in
# lightness, so a relu run and a sigmoid run stay apart even for colour-blind eyes.
RUN_COLORS: tuple[RGB, ...] = (
    COLORS["train"],  # blue
    COLORS["patience"],  # amber
    (80, 220, 210),  # teal
    (255, 110, 180),  # pink
    COLORS["val"],  # violet
    (160, 220, 70),  # lime
    (255, 140, 70),  # orange
    (200, 200, 200),  # grey
)

# (plotext line marker, the legend's line glyph, the symbol repeated along the curve). Braille lines
# are thin dots, "hd" lines half-blocks: where two runs' curves share cells the heavier one shows
# which is which, and every run's own symbol sits at epochs no other run's symbol takes.
RUN_STYLES: tuple[tuple[str, str, str], ...] = (
    ("braille", "─", "•"),
    ("hd", "━", "+"),
    ("braille", "─", "▪"),
    ("hd", "━", "*"),
    ("braille", "─", "^"),
    ("hd", "━", "="),
)
_SYMBOL_GAP = 8  # columns between one run's symbols, at the least


def run_color(index: int) -> RGB:
    """The colour of the ``index``-th run of a comparison (colours repeat after eight runs)."""
    return RUN_COLORS[index % len(RUN_COLORS)]


def run_style(index: int) -> tuple[str, str, str]:
    """The ``index``-th run's line marker, legend glyph and symbol (styles repeat after six runs)."""
    return RUN_STYLES[index % len(RUN_STYLES)]


def legend_symbol(index: int) -> str:
    """How the legend and the facts table's headers draw the ``index``-th run: ``─•─``, ``━+━``."""
    _, line, symbol = run_style(index)
    return f"{line}{symbol}{line}"


class _Run(NamedTuple):
    run: ComparedRun
    index: int
    color: RGB
    x: np.ndarray
    y: np.ndarray
    marks: dict


class CompareChart(EpochChart):
    """One per-epoch quantity of several runs, each in its colour and style, with each run's marks.

    * the curve of ``metric`` per run, named in the legend by the run's label;
    * a diamond on the curve at the run's best epoch (the restored one when Keras restored it);
    * a vertical line at the epoch where the run's early stopping fired, labelled ``stop N``;
    * ``zoom`` (the screen's ``z``): only the epochs around the runs' best and stop epochs.

    It reuses the epoch chart's grid, label placement, theme handling and resize path. The runs
    workspace updates it in place: set ``runs`` (and ``run_colors``), then call :meth:`replot`.

    Args:
        runs: The runs to draw, in legend order.
        metric: The quantity to draw, e.g. ``"val_loss"``.
        colors: A colour per run label, so a run keeps its colour while others come and go; a run
            without one takes the palette's colour for its place.
    """

    def __init__(
        self,
        runs: Sequence[ComparedRun],
        metric: str = "val_loss",
        *,
        colors: Optional[Mapping[str, RGB]] = None,
        name: Optional[str] = None,
        id: Optional[str] = None,  # noqa: A002
        classes: Optional[str] = None,
    ) -> None:
        super().__init__(metric, name=name, id=id, classes=classes)
        self.runs = list(runs)
        self.run_colors: dict[str, RGB] = dict(colors or {})
        """The colour per run label (Widget.colors is Textual's own); set it with ``runs`` before replot()."""
        # _Chart's replot() draws "a state"; this chart draws self.runs, so it gets a placeholder
        # and keeps the shared path (theme, empty message, size bookkeeping) unchanged.
        self._state = RunState()
        self.run_marks: dict[str, dict[str, int]] = {}
        """Per run label, the marks of the latest draw: ``{"best": 28, "stop": 33}``."""
        self.legend: list[str] = []
        """The run labels the legend of the latest draw names (empty when the chart is too short for one)."""
        self.plotted: dict[str, int] = {}
        """Per run label, the points of its curve the latest draw handed plotext."""
        self.x_range: tuple[float, float] = (0.0, 0.0)
        """The epochs in view in the latest draw, as plotext's x limits (``(0.5, 33.5)``)."""
        self.y_range: tuple[float, float] = (0.0, 0.0)
        """The values in view in the latest draw, the legend's rows included, as plotext's y limits."""

    def run_color(self, label: str, index: int) -> RGB:
        """The colour the run called ``label`` is drawn in: its own, else the palette's for ``index``."""
        return tuple(self.run_colors.get(label, run_color(index)))  # type: ignore[return-value]

    def set_metric(self, metric: str) -> None:
        """Draw another quantity."""
        self.metric = metric
        self.replot()

    def _title(self) -> str:
        zoomed = " (zoomed: z)" if self.zoom else ""
        return f"{self.metric} per epoch{zoomed}   ◆ best epoch   │ early stop"

    def _draw(self, _placeholder: RunState) -> Optional[str]:
        self.marks, self.labels, self.legend, self.run_marks, self.plotted = {}, [], [], {}, {}
        metric = self.metric or "val_loss"
        if not self.runs:
            return "no runs to draw"
        drawn = []
        for i, run in enumerate(self.runs):
            x, y = _finite(*metric_series(run.state, metric))
            if y.size:
                drawn.append(_Run(run, i, self.run_color(run.label, i), x, y, run_marks(run.state)))
        if not drawn:
            return f"none of these runs logged a finite {metric}"
        grid, drawn, legend, bottom = self._layout(metric, drawn)
        # The legend's rows: the top ones, or the bottom ones under rising accuracy curves.
        first_row = grid.height - len(legend) if bottom else 0
        span = (grid.lo, grid.row_y(len(legend))) if not bottom else (grid.row_y(first_row - 1), grid.top)
        for r in drawn:  # 1. the stop lines first, so every curve draws over them; clear of the legend
            if "stop" in r.marks and grid.x_lo <= r.marks["stop"] <= grid.x_hi:
                x = grid.snap_x(r.marks["stop"])
                self.plt.plot([x, x], list(span), marker="│", color=r.color)
                self.last_point_count += 2
        for r in drawn:  # 2. the curves, cut to the plot's width
            self._run_curve(grid, r)
        self._symbols(grid, drawn)  # 3. each run's symbol along its curve, at epochs of its own
        placer = _LabelPlacer(grid, [], from_bottom=bottom)
        self._draw_legend(grid, placer, legend, first_row)
        self.legend = [r.run.label for r in drawn] if legend else []
        for r in drawn:  # 4. each run's best epoch on its curve, and the stop labels
            self._run_marks(grid, placer, r)
        last = max(int(r.run.state.epochs[-1].epoch) for r in drawn if r.run.state.epochs)
        self._axes(grid, grid.x_lo, grid.x_hi, min(last, math.floor(grid.x_hi)))
        return None

    def _layout(self, metric: str, drawn: list[_Run]) -> tuple[_Grid, list[_Run], list, bool]:
        """The epochs in view (all, or around the marks when zoomed), the y range, the legend's rows and
        the grid, and whether the legend goes to the bottom (rising [0, 1] curves fill the top rows)."""
        last = max(max(int(r.x.max()), *r.marks.values()) for r in drawn)
        first, end = (1, max(last, 2))
        if self.zoom:
            first, end = zoom_span([e for r in drawn for e in r.marks.values()], last)
            drawn = [r._replace(x=r.x[(r.x >= first) & (r.x <= end)], y=r.y[(r.x >= first) & (r.x <= end)])
                     for r in drawn]
        xs = np.concatenate([r.x for r in drawn])
        ys = np.concatenate([r.y for r in drawn])
        unit = is_unit_metric(metric, ys.tolist())
        bests = [r.marks["best"] for r in drawn if "best" in r.marks]
        focus = Marks(best=min(bests)) if bests else Marks()
        lo, hi, clipped = readable_range(xs.tolist(), ys.tolist(), focus, unit=unit)
        if clipped:  # the curves come in at the data's edge, not through the legend above it
            drawn = [r._replace(**dict(zip("xy", _enter_at(r.x, r.y, lo, hi)))) for r in drawn]
        height = self.size.height or _FALLBACK_HEIGHT
        # Too short for a legend: the facts table's column headers, in the same colours and symbols,
        # name the runs.
        entries = [(legend_symbol(r.index), r.run.label, r.color) for r in drawn]
        rows = _legend_rows(entries, max(self._width - 8, 20)) if height - _CHROME_ROWS >= _MIN_LEGEND_ROWS else []
        ends = [float(r.y[-1]) for r in drawn if r.y.size]
        bottom = bool(unit and ends and sum(ends) / len(ends) > (lo + hi) / 2)
        grid = _Grid(self._width, height, (first - 0.5, end + 0.5), lo, hi, legend_rows=len(rows),
                     round_ticks=True, unit=unit, legend_at_bottom=bottom)
        self.x_range, self.y_range = (grid.x_lo, grid.x_hi), (grid.lo, grid.top)
        return grid, drawn, rows, bottom

    def _run_curve(self, grid: _Grid, r: _Run) -> None:
        self.plotted[r.run.label] = 0
        if r.y.size == 0:
            return
        marker = run_style(r.index)[0]
        dx, dy = minmax_decimate(r.y, grid.width, x=r.x)
        self.plt.plot(dx.tolist(), dy.tolist(), marker=marker, color=r.color)
        self.plotted[r.run.label] = int(dx.size)
        self.last_point_count += int(dx.size)

    def _symbols(self, grid: _Grid, drawn: list[_Run]) -> None:
        """Each run's symbol every ``step`` epochs, run ``k`` offset by ``k * step / runs``: no two runs
        put a symbol on the same epoch, so curves that coincide still show every run's symbol."""
        n = len(drawn)
        cols_per_epoch = grid.width / max(grid.x_hi - grid.x_lo, 1)
        step = max(n, math.ceil(_SYMBOL_GAP / max(cols_per_epoch, 1e-9)))
        for k, r in enumerate(drawn):
            epochs = np.round(r.x).astype(int)
            pick = ((epochs + k * (step // n)) % step == 0) & (r.y >= grid.lo) & (r.y <= grid.top)
            pick &= np.isclose(r.x, epochs)  # a clipped curve's entry point is no epoch
            if pick.any():
                self.plt.scatter(grid.snap_x(r.x[pick]).tolist(), grid.snap_y(r.y[pick]).tolist(),
                                 marker=run_style(r.index)[2], color=r.color)
                self.last_point_count += int(pick.sum())

    def _run_marks(self, grid: _Grid, placer: _LabelPlacer, r: _Run) -> None:
        self.run_marks[r.run.label] = dict(r.marks)
        best = r.marks.get("best")
        at = r.y[r.x == best] if best is not None else r.y[:0]
        if at.size and grid.lo <= float(at[0]) <= grid.top:
            self.plt.scatter([grid.snap_x(best)], [grid.snap_y(float(at[0]))], marker="◆", color=r.color)
            self.last_point_count += 1
        stop = r.marks.get("stop")
        if stop is not None and grid.x_lo <= stop <= grid.x_hi:
            self._label(placer, f"stop {stop}", stop, r.color)
