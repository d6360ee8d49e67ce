"""Loss charts: per-epoch curves with the early-stopping marks, and per-batch loss.

Each chart is a ``textual_plotext.PlotextPlot`` that owns its data: callers
hand it the whole :class:`~tui_trainer.runstate.RunState` through
``update_from(state)``; the chart keeps what it needs and redraws (one
``replot()``: clear, plot, mark, refresh) only when ``state.version`` moved.
Plotext's cost grows with the points it is handed, so every series is cut to
at most about two points per plot column first (``minmax_decimate``).

The early-stopping highlight on :class:`EpochChart`:

* a red vertical line at the epoch where early stopping fired, labelled
  ``stop N`` on the top row;
* a green vertical line at the best epoch, labelled ``restored N`` when Keras
  restored that epoch's weights, ``best N`` when it did not, and
  ``best so far N`` while the run is still going;
* the patience window (after the best epoch, up to the stop or the last epoch)
  tinted behind the curves (a background colour: it hides no dot), and the
  monitored curve drawn inside it in amber with ``×`` markers: the epochs that
  did not improve, which EarlyStopping counted against its patience;
* a legend entry for each curve and each mark.

What is marked comes from :func:`tui_trainer.esmarks.es_marks`, and the y range
from :func:`~tui_trainer.esmarks.readable_range` (it clips the first epochs'
steep drop when that would squash the window): this module only draws.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple, Optional, Sequence

import numpy as np
from rich.style import Style
from textual import events
from textual.color import Color
from textual_plotext import PlotextPlot

from ...decimate import minmax_decimate
from ...esmarks import Marks, es_marks, is_unit_metric, readable_range, zoom_first
from ...runstate import RunState
from .chartgrid import _CHROME_ROWS, _enter_at, _epoch_ticks, _Grid, _LabelPlacer, _legend_rows, ansi_text

__all__ = ["BatchChart", "EpochChart", "MetricChart", "COLORS"]

# Explicit RGB, not ANSI names: ANSI colours follow the terminal's palette and can
# vanish on some themes; these read on Textual's default dark surface (#1e1e1e-ish)
# and still on the light ones.
COLORS: dict[str, tuple[int, int, int]] = {
    "train": (64, 156, 255),  # loss / accuracy: blue
    "val": (190, 120, 255),  # val_loss / val_accuracy: violet
    "patience": (255, 184, 28),  # the monitored curve inside the patience window: amber
    "tint": (74, 62, 30),  # the patience window's background: a dim amber
    "best": (70, 210, 100),  # best / restored epoch: green
    "stop": (255, 70, 70),  # early stopping fired: red
    "boundary": (80, 80, 92),  # epoch boundaries on the batch chart
    "muted": (150, 150, 150),  # the waiting message
}

_FALLBACK_WIDTH = 100  # before the first layout, size is 0x0
_FALLBACK_HEIGHT = 25
_MIN_LEGEND_ROWS = 8  # canvas rows below which the epoch chart leaves its legend out


def _dim_colors(theme_variables: dict[str, str]) -> dict[str, tuple[int, int, int]]:
    """The background-ish colours, mixed from the app theme so they stay dim on dark and light themes."""
    try:
        surface = Color.parse(theme_variables["surface"])
        foreground = Color.parse(theme_variables["foreground"])
    except Exception:  # a theme without those variables: keep the dark-theme defaults
        return {}
    return {
        "tint": surface.blend(Color(*COLORS["patience"]), 0.22).rgb,
        "boundary": surface.blend(foreground, 0.28).rgb,
        "muted": surface.blend(foreground, 0.6).rgb,
    }


class _View(NamedTuple):
    """What an epoch chart shows, worked out before anything is drawn."""

    grid: _Grid
    x_lo: float
    x_hi: float
    curves: dict  # label -> (x, y) in view, e.g. {"loss": (...), "val_loss": (...)}
    in_view: dict  # label -> epochs in view, those clipped off the top too
    legend: list  # the legend's rows of (symbol, words, colour)
    legend_row: int  # the canvas row of the legend's first row
    legend_at_bottom: bool


def _finite(xs: Sequence[float], ys: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=float)
    ok = np.isfinite(y) & np.isfinite(x)
    return x[ok], y[ok]


class _Chart(PlotextPlot):
    """What both charts share: the version check, the theme, the empty message, resizing.

    A chart redraws when what it shows moved (its ``_version``). Epoch charts then draw at the
    monitor's next tick, always: epochs are rare, and a chart behind the header is wrong. The
    batch chart (``PACED``) changes every tick while a live run trains, so it is paced by its own
    drawing cost: no more often than keeps its drawing (plotext's build and Rich's ANSI decoding)
    under ``CPU_BUDGET`` of one core, and at least every ``MAX_INTERVAL_S``. The cost is the UI
    thread's CPU time, not wall time: wall time counts the waits for the GIL the training thread
    holds (and a loaded machine), which once stretched the pause to tens of seconds.
    """

    TITLE = ""
    WAITING = "waiting for the first epoch"
    PACED = False  # True: paced by its drawing cost while a live run trains (the batch chart)
    MAX_INTERVAL_S = 1.5  # a paced chart still redraws at least this often
    CPU_BUDGET = 0.01  # of one core, for a paced chart while a live run trains
    _last_draw = 0.0
    _replot_s = 0.0  # UI-thread CPU seconds the last replot() took
    _render_s = 0.0  # UI-thread CPU seconds showing the last draw took (render_lines(), summed)

    def __init__(
        self,
        *,
        name: Optional[str] = None,
        id: Optional[str] = None,  # noqa: A002 - Textual's name
        classes: Optional[str] = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._state: Optional[RunState] = None
        self._drawn_version: Optional[int] = None
        self._drawn_size: tuple[int, int] = (0, 0)
        self.last_point_count = 0
        """Data points handed to plotext by the latest ``replot()`` (all series together)."""
        self.message: Optional[str] = None
        """What the latest ``replot()`` said instead of a plot ("waiting for the first batch"); None: it drew."""
        self.chart_colors: dict[str, tuple[int, int, int]] = dict(COLORS)

    # -- public -------------------------------------------------------------------------------------

    def _version(self, state: RunState) -> int:
        """The state's change counter this chart follows: epoch charts ignore batch-only changes."""
        return state.epoch_version

    def update_from(self, state: RunState) -> None:
        """Take the run's latest state; redraw only if what this chart shows changed since the last draw
        (and, for a paced chart while a live run trains, not before :meth:`pace_s` has passed)."""
        if state is self._state and self._version(state) == self._drawn_version:
            return
        if self.PACED and state is self._state and state.running and state.live:
            if time.monotonic() - self._last_draw < self.pace_s():
                return  # the monitor asks again at its next tick
        self._state = state
        self.replot()

    def pace_s(self) -> float:
        """Seconds between a paced chart's draws: its last draw's CPU cost over the budget, capped."""
        return min(self.MAX_INTERVAL_S, (self._replot_s + self._render_s) / self.CPU_BUDGET)

    def render(self):
        # textual-plotext 1.0's render(), with a faster reading of plotext's ANSI output.
        if not hasattr(self, "_plot"):  # another textual-plotext: its own render()
            return super().render()
        self._plot.plotsize(self.size.width, self.size.height)
        self._plot._set_size(self.size.width, self.size.height)
        self._plot.theme(self._get_plotext_theme_name(self.app.theme))
        return ansi_text(self._plot.build())

    def render_lines(self, crop):
        # The whole cost of showing a draw: plotext's build, the ANSI decoding and Textual's lines and
        # styles (about as much again as render() alone), summed over the calls after one replot.
        t0 = time.thread_time()
        try:
            return super().render_lines(crop)
        finally:
            self._render_s += time.thread_time() - t0

    def replot(self) -> None:
        """Clear, plot, mark, then refresh: the chart's one drawing path."""
        self._last_draw = time.monotonic()
        self._render_s = 0.0  # summed by render_lines() until the next draw
        t0 = time.thread_time()
        try:
            self._replot()
        finally:
            self._replot_s = time.thread_time() - t0

    def _replot(self) -> None:
        plt = self.plt
        plt.clear_figure()  # also resets the theme, so set it again (text backgrounds read it)
        self.chart_colors = dict(COLORS)
        if self.is_mounted:
            # textual-plotext 1.0's own name for the app theme's plotext theme (it applies the
            # same one in render()).
            plt.theme(self._get_plotext_theme_name(self.app.theme))
            self.chart_colors.update(_dim_colors(self.app.theme_variables))
        self.last_point_count = 0
        state = self._state
        message = self._draw(state) if state is not None else self.WAITING
        self.message = message
        if message is not None:
            self._draw_message(message)
        self._drawn_version = self._version(state) if state is not None else None
        self._drawn_size = (self.size.width, self.size.height)
        self.refresh()

    # -- for subclasses -----------------------------------------------------------------------------

    def _draw(self, state: RunState) -> Optional[str]:
        """Plot ``state`` and return None; or, when there is nothing to plot, the words to show instead."""
        raise NotImplementedError

    def _nothing(self, state: RunState, what: str) -> str:
        """Why there is nothing to plot: still waiting, or the run ended without any."""
        if state.failure is not None:
            return f"no {what} to draw: the run failed"
        if state.finished is not None:
            return f"no {what} recorded"
        return self.WAITING

    @property
    def _width(self) -> int:
        return self.size.width or _FALLBACK_WIDTH

    def _title(self) -> str:
        return self.TITLE

    def _draw_message(self, message: str) -> None:
        plt = self.plt
        plt.title(self._title())
        plt.xlim(0, 1)
        plt.ylim(0, 1)
        plt.xticks([])
        plt.yticks([])
        plt.text(message, 0.5, 0.5, color=self.chart_colors["muted"], alignment="center")

    # -- Textual hooks --------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        # Decimation and label placement depend on the size: redraw for the new one.
        if (event.size.width, event.size.height) != self._drawn_size:
            self.replot()

    def _register_theme(self, app_theme_name: str) -> None:
        # textual-plotext calls this on mount and on every app theme change; the labels'
        # background is taken from the theme when they are drawn, so draw again.
        super()._register_theme(app_theme_name)
        self.replot()


class EpochChart(_Chart):
    """One metric and its ``val_`` twin per epoch, with the early-stopping marks.

    Args:
        metric: The training-side name (``"loss"``, ``"accuracy"``); its twin is
            ``"val_" + metric``. Early-stopping marks appear when the run's
            monitor is one of the two.
        name, id, classes, disabled: As for any Textual widget.
    """

    def __init__(
        self,
        metric: Optional[str] = "loss",
        *,
        name: Optional[str] = None,
        id: Optional[str] = None,  # noqa: A002
        classes: Optional[str] = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.metric: Optional[str] = metric
        self.marks: dict[str, int] = {}
        """The marks of the latest draw, e.g. ``{"stop": 33, "restored": 28}`` (for tests and banners)."""
        self.labels: list[str] = []
        """The label texts drawn by the latest replot, e.g. ``["stop 33", "restored 28"]``."""

    zoom = False  # True: the y scale leaves out the first epochs (the monitor's `z`)

    def _title(self) -> str:
        zoomed = " (zoomed: z)" if self.zoom else ""
        return f"{self.metric or 'metric'} per epoch{zoomed}"

    def _draw(self, state: RunState) -> Optional[str]:
        self.marks, self.labels = {}, []
        self.legend: list[str] = []  # the legend's entries as drawn, e.g. ["── loss", "◆│ restored 28"]
        self.plotted: dict[str, int] = {}  # epochs in view per curve (decimated), e.g. {"loss": 12, "val_loss": 12}
        self.drawn_to: dict[str, float] = {}  # the newest epoch each curve reaches, e.g. {"loss": 12.0}
        self.clipped = False  # the first epochs' drop leaves the plot through its top edge
        self._tint = None
        metric = self.metric
        if not state.epochs:
            return self._nothing(state, "epochs")
        if metric is None:
            return "no metric other than the loss was logged"
        val = f"val_{metric}"
        curves = {metric: _finite(*state.series(metric)), val: _finite(*state.series(val))}
        if all(y.size == 0 for _, y in curves.values()):
            return f"no finite {metric} value{' yet' if state.finished is None else ''} (NaN?)"
        marks = es_marks(state, metric)
        view = self._view(state, metric, curves, marks)
        grid, colors = view.grid, self.chart_colors
        # 1. The patience window: a tint behind the cells from the best epoch to the stop (or the last
        #    epoch), laid on the rendered text (render()), so it hides no dot of any curve.
        if marks.window:
            legend = range(view.legend_row, view.legend_row + len(view.legend))  # rows the tint leaves plain
            self._tint = (int(grid.col(marks.window[0])), int(grid.col(marks.window[1])), legend)
        # 2. The mark lines, before the curves so the curves stay readable.
        for epoch, color in ((marks.best, colors["best"]), (marks.stop, colors["stop"])):
            if epoch is not None:
                self._mark_line(grid, epoch, color)
        # 3. The curves; 4. the monitored one inside the window in amber with × marks.
        for (label, (x, y)), color in zip(view.curves.items(), (colors["train"], colors["val"])):
            self._curve(grid, label, x, y, color, view.in_view[label])
        if marks.window:
            self._patience(grid, *view.curves[marks.monitor], marks.window)
        # 5. The best point itself; the legend; each mark's label beside its line.
        self._marks(grid, marks, view)
        self._axes(grid, view.x_lo, view.x_hi, int(state.epochs[-1].epoch))
        return None

    def _view(self, state: RunState, metric: str, curves: dict, marks: Marks) -> "_View":
        """What is in view: the epochs (all, or zoomed past the first drop), the y range, the legend, the grid."""
        last = int(state.epochs[-1].epoch)
        # Marks past the last epoch logged (a log whose last epoch lines are broken or skipped): widen
        # the axis to show them; plotext fails on a series outside its x limits.
        x_lo, x_hi = 0.5, max(last, 2, marks.last_marked) + 0.5
        if self.zoom and last >= 6:  # the best and stop epochs stay in view
            first = zoom_first(last, marks.best)
            curves = {k: (x[x > first], y[x > first]) for k, (x, y) in curves.items()}
            x_lo = first + 0.5
        # The y range: unzoomed too, the first epochs' drop is clipped when it would squash the best
        # epoch and the patience window onto the bottom rows; a [0, 1] metric stays in [0, 1].
        xs = np.concatenate([x for x, _ in curves.values()])
        ys = np.concatenate([y for _, y in curves.values()])
        unit = is_unit_metric(metric, ys.tolist())
        lo, hi, self.clipped = readable_range(xs.tolist(), ys.tolist(), marks, unit=unit)
        in_view = {k: y.size for k, (_, y) in curves.items()}  # epochs on the chart, those clipped off its top too
        if self.clipped:  # the curves come in at the data's edge, not through the legend above it
            curves = {k: _enter_at(x, y, lo, hi) for k, (x, y) in curves.items()}
        height = self.size.height or _FALLBACK_HEIGHT
        # On a short chart a legend would cover the curves: leave it out (the colours are the same
        # on every chart, and the big one has it).
        has = [curves[k][1].size > 0 for k in curves]
        entries = self._legend_entries(metric, f"val_{metric}", *has, marks)
        rows = _legend_rows(entries, max(self._width - 8, 20)) if height - _CHROME_ROWS >= _MIN_LEGEND_ROWS else []
        # A rising [0, 1] curve (accuracy) fills the top rows at the end: its legend goes to the bottom.
        bottom = bool(unit and ys.size and float(ys[np.argmax(xs)]) > (lo + hi) / 2)
        grid = _Grid(self._width, height, (x_lo, x_hi), lo, hi, legend_rows=len(rows) + 1, round_ticks=True,
                     unit=unit, legend_at_bottom=bottom)
        return _View(grid, x_lo, x_hi, curves, in_view, rows, grid.height - len(rows) if bottom else 0, bottom)

    def _curve(self, grid: _Grid, label: str, x: np.ndarray, y: np.ndarray, color, in_view: int) -> None:
        """A braille line (4 rows of dots a cell) cut to the plot's width; a marker per epoch while the
        epochs stay apart, moved onto the cell its braille dot landed in."""
        if y.size == 0:
            return
        plt = self.plt
        dx, dy = minmax_decimate(y, grid.width, x=x)
        plt.plot(dx.tolist(), dy.tolist(), marker="braille", color=color)
        self.plotted[label] = min(in_view, 2 * grid.width)
        self.drawn_to[label] = float(dx[-1])
        self.last_point_count += dx.size
        if dx.size * 3 <= grid.width:
            inside = (dy >= grid.lo) & (dy <= grid.top)  # a clipped first epoch has no cell
            plt.scatter(grid.snap_x(dx[inside]).tolist(), grid.snap_y(dy[inside]).tolist(), marker="•", color=color)
            self.last_point_count += int(inside.sum())

    def _patience(self, grid: _Grid, mx: np.ndarray, my: np.ndarray, window: tuple[int, int]) -> None:
        """The monitored curve inside the window, in amber with × marks: the epochs that did not improve,
        which EarlyStopping counted against its patience."""
        inside = (mx >= window[0]) & (mx <= window[1])
        if not inside.any():
            return
        color = self.chart_colors["patience"]
        sx, sy = minmax_decimate(my[inside], grid.width, x=mx[inside])
        self.plt.plot(sx.tolist(), sy.tolist(), marker="braille", color=color)
        after = (sx > window[0]) & (sy >= grid.lo) & (sy <= grid.top)
        self.plt.scatter(grid.snap_x(sx[after]).tolist(), grid.snap_y(sy[after]).tolist(), marker="×", color=color)
        self.last_point_count += sx.size + int(after.sum())

    def _marks(self, grid: _Grid, marks: Marks, view: "_View") -> None:
        """The best point (◆), the legend, and each mark's label beside its line."""
        colors = self.chart_colors
        best, stop = marks.best, marks.stop
        if best is not None and marks.best_value is not None and grid.lo <= marks.best_value <= grid.top:
            self.plt.scatter([grid.snap_x(best)], [grid.snap_y(marks.best_value)], marker="◆", color=colors["best"])
            self.last_point_count += 1
        placer = _LabelPlacer(grid, [], from_bottom=view.legend_at_bottom)
        self._draw_legend(grid, placer, view.legend, view.legend_row)
        if stop is not None:
            self.marks["stop"] = stop
            self._label(placer, f"stop {stop}", stop, colors["stop"])
        if best is not None and marks.word is not None:
            self.marks[marks.word] = best
            self._label(placer, f"{marks.word} {best}", best, colors["best"])

    def _legend_entries(self, metric: str, val: str, has_train: bool, has_val: bool, marks: Marks) -> list:
        """``(symbol, words, colour)`` for every curve and mark drawn: nothing on the chart unexplained."""
        c = self.chart_colors
        entries = [("──", metric, c["train"])] if has_train else []
        entries += [("──", val, c["val"])] if has_val else []
        if marks.window:
            entries += [("██", f"patience {marks.patience}", c["tint"]),
                        ("─×", "not improved", c["patience"])]  # short: two legend rows fit 80 columns
        if marks.best is not None and marks.word is not None:
            entries += [("◆│", marks.word, c["best"])]
        if marks.stop is not None:
            entries += [("│", "stop", c["stop"])]
        return entries

    def _draw_legend(self, grid: "_Grid", placer: "_LabelPlacer", rows: list, first_row: int) -> None:
        """The legend, left to right from canvas row ``first_row`` (plotext's own takes a row per entry)."""
        for k, row in enumerate(rows, start=first_row):
            col = 0
            for symbol, words, color in row:
                text = f"{symbol} {words}"
                self.plt.text(symbol, grid.col_x(col), grid.row_y(k), color=color, alignment="left")
                self.plt.text(words, grid.col_x(col + len(symbol) + 1), grid.row_y(k), color=self.chart_colors["muted"],
                              alignment="left")
                placer.taken.setdefault(k, []).append((col, col + len(text)))
                placer.legend_row_set.add(k)
                self.legend.append(text)
                col += len(text) + 2

    def render(self):
        text = super().render()
        tint = getattr(self, "_tint", None)
        if tint is None:
            return text
        # The patience window as a background tint on the canvas cells between its two columns.
        lines = text.plain.split("\n")
        top = next((i for i, line in enumerate(lines) if "┌" in line), None)
        if top is None:
            return text
        left = lines[top].index("┌") + 1
        style = Style(bgcolor=Color(*self.chart_colors["tint"]).rich_color)
        offset = sum(len(line) + 1 for line in lines[: top + 1])
        first, last, legend_rows = tint
        for k, line in enumerate(lines[top + 1:]):
            if "└" in line:
                break
            if k not in legend_rows:  # the legend's rows keep the plain background: its ██ stays legible
                text.stylize(style, offset + left + first, offset + left + min(last, len(line) - left - 2) + 1)
            offset += len(line) + 1
        return text

    def _axes(self, grid: "_Grid", x_lo: float, x_hi: float, last: int) -> None:
        """Title, limits and ticks: integer epochs on x, the grid's own ticks on y."""
        plt = self.plt
        plt.title(self._title())
        plt.xlim(x_lo, x_hi)
        plt.ylim(grid.lo, grid.top)
        plt.yticks(grid.yticks, grid.ylabels)
        plt.xticks(_epoch_ticks(math.ceil(x_lo), max(last, 2), grid.width))

    def _mark_line(self, grid: "_Grid", epoch: int, color) -> None:
        x = grid.snap_x(epoch)
        self.plt.plot([x, x], [grid.lo, grid.top], marker="│", color=color)
        self.last_point_count += 2

    def _label(self, placer: "_LabelPlacer", text: str, epoch: int, color) -> None:
        # Left of the line in the right half of the chart, right of it in the left half, so it
        # stays on the canvas; the space on the line's side sits on the line's column.
        grid = placer.grid
        x = grid.snap_x(epoch)
        right_half = x > (grid.x_lo + grid.x_hi) / 2
        label = f"{text} " if right_half else f" {text}"
        y = placer.place(x, len(label), "right" if right_half else "left")
        self.plt.text(label, x, y, color=color, alignment="right" if right_half else "left", style="bold")
        self.labels.append(text)


class MetricChart(EpochChart):
    """An :class:`EpochChart` for a metric other than loss (e.g. accuracy) and its ``val_`` twin.

    The metric is picked from ``state.metric_names()`` at each update: the one early
    stopping watches when that is not the loss, else the first name that does not
    start with ``val_``.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(None, **kwargs)  # the metric is known once the run has logged one

    def update_from(self, state: RunState) -> None:
        names = [n for n in state.metric_names() if not n.startswith("val_")]
        # The one early stopping watches comes first (monitor="val_auc" with metrics=["accuracy", AUC()]):
        # its marks must be on a chart.
        watched = (state.monitor or "").removeprefix("val_")
        self.metric = watched if watched in names and watched != "loss" else (names[0] if names else None)
        super().update_from(state)


class BatchChart(_Chart):
    """The loss of every batch of the run, on a fractional-epoch axis that lines up with :class:`EpochChart`.

    Batch ``s`` of epoch ``e`` sits at ``x = e - 1 + s / steps_per_epoch``, so
    epoch ``e``'s batches end at ``x = e``, where the epoch chart draws epoch
    ``e``. The series is min-max decimated to the widget's width in columns
    before plotext sees it: ``last_point_count <= 2 * width``.
    """

    TITLE = "loss per batch"
    WAITING = "waiting for the first batch"

    last_series: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0))
    """The decimated ``(x, loss)`` the latest replot drew (x in fractional epochs when known)."""

    # Batches arrive about ten times a second; drawing each tick was half the UI's CPU while
    # training (the training thread shares the GIL with the UI): paced by its cost instead.
    PACED = True

    def _version(self, state: RunState) -> int:
        return state.version

    def _draw(self, state: RunState) -> Optional[str]:
        self.last_series = (np.empty(0), np.empty(0))
        n = len(state.batch_losses)
        if n == 0 and state.started is not None and state.started.batch_stride == 0:
            return "no batch losses: this run records epochs only (batch_stride = 0)"
        if n == 0:
            return self._nothing(state, "batches")
        plt = self.plt
        width = self._width
        # Zero-copy views of the run's arrays. Only small fancy-indexed copies may outlive this
        # method: a live numpy view would stop RunState.apply from growing the arrays (BufferError).
        losses = np.frombuffer(state.batch_losses, dtype=np.float64)
        epochs = np.frombuffer(state.batch_epochs, dtype=np.dtype(f"i{state.batch_epochs.itemsize}"))
        try:
            # x = global batch number, 1-based. One column less, so the first and the last batch
            # can always be added: the line starts at the run's start and ends at the newest batch.
            gx, _ = minmax_decimate(losses, max(width - 1, 1))
            idx = gx.astype(np.int64) - 1
            if idx.size and idx[0] != 0:
                idx = np.concatenate([[0], idx])
            if idx.size and idx[-1] != n - 1:
                idx = np.concatenate([idx, [n - 1]])
            dy = losses[idx]  # a fancy-indexed copy
            ep = np.asarray(epochs[idx], dtype=np.int64)
            spe = state.steps_per_epoch
            if spe > 0 and epochs.size == n:
                # Epochs only grow along the run, so each epoch's first batch is a binary search away;
                # the step within the epoch is the distance from it.
                start = np.searchsorted(epochs, ep, side="left")
                dx = ep - 1 + (idx - start + 1) / spe
                epoch_axis = True
            else:
                dx = idx + 1.0
                epoch_axis = False
        finally:
            del losses, epochs
        ok = np.isfinite(dy)
        dx, dy = dx[ok], dy[ok]
        if dx.size == 0:
            return f"no finite batch loss{' yet' if state.finished is None else ''} (NaN?)"

        if epoch_axis:
            x_hi = max(math.ceil(float(dx.max()) - 1e-9), 1)  # the end of the epoch in progress
            # Light epoch boundaries, only when epochs are wide enough not to hatch the chart.
            if width / max(x_hi, 1) >= 8:
                for b in range(1, x_hi):
                    plt.vline(b, self.chart_colors["boundary"])
            plt.xlim(0, x_hi)
            plt.xticks(_epoch_ticks(0, x_hi, width - 8)[1:] or [x_hi])
            plt.xlabel("epoch")

        plt.plot(dx.tolist(), dy.tolist(), marker="braille", color=self.chart_colors["train"])
        self.last_point_count = int(dx.size)
        self.last_series = (dx, dy)
        plt.title(self._title())
        return None
