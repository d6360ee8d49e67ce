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
  shaded with a dim band, and the monitored curve drawn inside it in amber
  with ``x`` markers: the epochs that did not improve, which EarlyStopping
  counted against its patience.
"""

from __future__ import annotations

import math
import time
from typing import Optional, Sequence

import numpy as np
from textual import events
from textual.color import Color
from textual_plotext import PlotextPlot

from ...decimate import minmax_decimate
from ...runstate import RunState

__all__ = ["BatchChart", "EpochChart", "MetricChart", "COLORS"]

# Explicit RGB, not ANSI names: ANSI colours follow the terminal's palette and can
# vanish on some themes; these read on Textual's default dark surface (#1e1e1e-ish)
# and still on the light ones.
COLORS: dict[str, tuple[int, int, int]] = {
    "train": (64, 156, 255),  # loss / accuracy: blue
    "val": (190, 120, 255),  # val_loss / val_accuracy: violet
    "patience": (255, 184, 28),  # the monitored curve inside the patience window: amber
    "shade": (70, 70, 82),  # the patience band behind the data
    "best": (70, 210, 100),  # best / restored epoch: green
    "stop": (255, 70, 70),  # early stopping fired: red
    "boundary": (80, 80, 92),  # epoch boundaries on the batch chart
    "muted": (150, 150, 150),  # the waiting message
}

_FALLBACK_WIDTH = 100  # before the first layout, size is 0x0
_FALLBACK_HEIGHT = 25
# Rows plotext takes from the widget's height outside the canvas: title, x ticks, two axes.
_CHROME_ROWS = 4
_MIN_LEGEND_ROWS = 8  # canvas rows below which the epoch chart leaves its legend out


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


def _dim_colors(theme_variables: dict[str, str]) -> dict[str, tuple[int, int, int]]:
    """The background-ish colours, mixed from the app theme so they stay dim on dark and light themes."""
    try:
        surface = Color.parse(theme_variables["surface"])
        foreground = Color.parse(theme_variables["foreground"])
    except Exception:  # a theme without those variables: keep the dark-theme defaults
        return {}
    return {
        "shade": surface.blend(foreground, 0.22).rgb,
        "boundary": surface.blend(foreground, 0.28).rgb,
        "muted": surface.blend(foreground, 0.6).rgb,
    }


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
    _render_s = 0.0  # UI-thread CPU seconds the last render() (plotext build + ANSI decoding) took

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
        t0 = time.thread_time()
        try:
            return super().render()
        finally:
            self._render_s = time.thread_time() - t0

    def replot(self) -> None:
        """Clear, plot, mark, then refresh: the chart's one drawing path."""
        self._last_draw = time.monotonic()
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
        self.marks = {}
        self.labels = []
        self.plotted: dict[str, int] = {}  # points drawn per curve, e.g. {"loss": 12, "val_loss": 12}
        metric = self.metric
        if not state.epochs:
            return self._nothing(state, "epochs")
        if metric is None:
            return "no metric other than the loss was logged"
        val = f"val_{metric}"
        tx, ty = _finite(*state.series(metric))
        vx, vy = _finite(*state.series(val))
        if ty.size == 0 and vy.size == 0:
            return f"no finite {metric} value{' yet' if state.finished is None else ''} (NaN?)"

        plt = self.plt
        last = int(state.epochs[-1].epoch)
        x_lo, x_hi = 0.5, max(last, 2) + 0.5

        # Early stopping, when it watches this chart's metric.
        watched = state.monitor in (metric, val)
        stop = state.stopped_epoch if watched else None
        restored = state.restored_epoch if watched else None
        best = (restored or state.best_epoch) if watched else None
        monitored = (vx, vy) if state.monitor == val else (tx, ty)
        end = stop if stop is not None else last
        window = best is not None and end > best
        # Marks past the last epoch logged (a log whose last epoch lines are broken or skipped): widen
        # the axis to show them; plotext fails on a series outside its limits.
        x_hi = max(x_hi, max(end, best or 0) + 0.5)
        if best is None:
            word = None
        elif restored is not None:
            word = "restored"
        elif state.early_stopping is not None:
            word = "best"
        else:
            word = "best so far"  # still running: EpochEnded's running best

        # Zoomed: leave out the first epochs' steep drop, so the scale shows what happens near the
        # best epoch (a val_loss that turns up again). The best and stop epochs stay in view.
        if self.zoom and last >= 6:
            first = max(1, min(last // 4, (best or last) - 1))
            tx, ty = tx[tx > first], ty[tx > first]
            vx, vy = vx[vx > first], vy[vx > first]
            monitored = (vx, vy) if state.monitor == val else (tx, ty)
            x_lo = first + 0.5

        # y range from the data, with headroom on top for the legend and the labels, so they
        # do not sit on the curves.
        ys = np.concatenate([ty, vy])
        lo, hi = float(ys.min()), float(ys.max())
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        pad = (hi - lo) * 0.04
        lo = 0.0 if 0 <= lo < pad else lo - pad  # a little air below, but a loss axis stops at 0
        height = self.size.height or _FALLBACK_HEIGHT
        # On a short chart a legend would cover the curves: leave it out (the colours are the same
        # on every chart, and the big one has it).
        show_legend = height - _CHROME_ROWS >= _MIN_LEGEND_ROWS
        legend_rows = (2 + window) if show_legend else 0
        grid = _Grid(self._width, height, (x_lo, x_hi), lo, hi, legend_rows=legend_rows)

        # 1. The patience window: a dim band from the best epoch to the stop (or the last epoch).
        #    A filled series, first, so everything else draws over it.
        if window:
            plt.plot(
                [grid.snap_x(best), grid.snap_x(end)], [grid.top, grid.top], fillx=True, marker="░",
                color=self.chart_colors["shade"], label=f"patience {end - best}" if show_legend else None,
            )
            self.last_point_count += 2

        # 2. The mark lines, as data after the band so the band cannot hide them (plotext draws its
        #    own vline() under all data), before the curves so the curves stay readable.
        if best is not None:
            self._mark_line(grid, best, self.chart_colors["best"])
        if stop is not None:
            self._mark_line(grid, stop, self.chart_colors["stop"])

        # 3. The curves: braille lines (4 rows of dots a cell), cut to the plot's width; a marker
        #    per epoch while they stay apart, moved onto the cell its braille dot landed in.
        colors = self.chart_colors
        for (x, y), color, label in (((tx, ty), colors["train"], metric), ((vx, vy), colors["val"], val)):
            if y.size == 0:
                continue
            dx, dy = minmax_decimate(y, grid.width, x=x)
            plt.plot(dx.tolist(), dy.tolist(), marker="braille", color=color, label=label if show_legend else None)
            self.plotted[label] = dx.size
            self.last_point_count += dx.size
            if dx.size * 3 <= grid.width:
                plt.scatter(grid.snap_x(dx).tolist(), grid.snap_y(dy).tolist(), marker="•", color=color)
                self.last_point_count += dx.size

        # 4. The monitored curve inside the window, in amber with x marks: the epochs that did not
        #    improve, which EarlyStopping counted against its patience.
        if window:
            mx, my = monitored
            inside = (mx >= best) & (mx <= end)
            if inside.any():
                sx, sy = minmax_decimate(my[inside], grid.width, x=mx[inside])
                plt.plot(sx.tolist(), sy.tolist(), marker="braille", color=self.chart_colors["patience"])
                after = sx > best
                plt.scatter(grid.snap_x(sx[after]).tolist(), grid.snap_y(sy[after]).tolist(), marker="x",
                            color=self.chart_colors["patience"])
                self.last_point_count += sx.size + int(after.sum())

        # 5. The best point itself, and the labels on the top rows, each beside its line.
        legend = [f"patience {end - best}"] if window else []
        legend += [n for n, y in ((metric, ty), (val, vy)) if y.size]
        if not show_legend:
            legend = []
        placer = _LabelPlacer(grid, legend)
        if stop is not None:
            self.marks["stop"] = stop
            self._label(placer, f"stop {stop}", stop, self.chart_colors["stop"])
        if best is not None and word is not None:
            self.marks[word] = best
            at = monitored[1][monitored[0] == best]
            if at.size:
                best_xy = [grid.snap_x(best)], [grid.snap_y(float(at[0]))]
                plt.scatter(*best_xy, marker="◆", color=self.chart_colors["best"])
                self.last_point_count += 1
            self._label(placer, f"{word} {best}", best, self.chart_colors["best"])

        self._axes(grid, x_lo, x_hi, last)
        return None

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


class _LabelPlacer:
    """Finds each label the highest canvas row where it overlaps neither the legend nor another label."""

    def __init__(self, grid: "_Grid", legend_labels: Sequence[str]) -> None:
        self.grid = grid
        # plotext's legend: top-left of the canvas, one row per label, 3 cells of marker then
        # " label " padded to the longest.
        self.legend_rows = len(legend_labels)
        self.legend_cols = 3 + max((len(t) for t in legend_labels), default=0) + 2 if legend_labels else 0
        self.taken: dict[int, list[tuple[int, int]]] = {}

    def place(self, x: float, length: int, alignment: str) -> float:
        col = int(self.grid.col(x))
        start = col if alignment == "left" else col - length + 1
        span = (start, start + length)  # [start, end)
        for row in range(self.grid.height):
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
                 legend_rows: int) -> None:
        self.x_lo, self.x_hi = xlim
        # Canvas rows: widget height less title, x tick labels and the two horizontal axes.
        self.height = max(widget_height - _CHROME_ROWS, 1)
        head = min(legend_rows + 0.6, self.height * 0.35)
        self.lo = lo
        self.top = hi + (hi - lo) * head / max(self.height - head, 1)
        n = int(min(5, max(2, self.height // 2)))
        self.yticks = [float(v) for v in np.linspace(lo, self.top, n)]
        span = self.top - lo
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


class MetricChart(EpochChart):
    """An :class:`EpochChart` for the run's first metric other than loss (e.g. accuracy) and its ``val_`` twin.

    The metric is picked from ``state.metric_names()`` at each update: the first
    name that does not start with ``val_``.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(None, **kwargs)  # the metric is known once the run has logged one

    def update_from(self, state: RunState) -> None:
        names = [n for n in state.metric_names() if not n.startswith("val_")]
        self.metric = names[0] if names else None
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
