"""The compare screen: one metric of several runs on one chart, and their early-stopping facts side by side.

Where a learner puts a relu run next to a sigmoid run: the curves show which
one learns, the marks show where each one's EarlyStopping stopped and which
epoch it kept, and the table says it in numbers.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ...compare import GAP, ComparedRun, available_metrics, facts_table, format_cell, metric_series, what_differs
from ...text import printable
from ...decimate import minmax_decimate
from ...runstate import RunState
from ..widgets.charts import (
    _CHROME_ROWS,
    _FALLBACK_HEIGHT,
    _MIN_LEGEND_ROWS,
    COLORS,
    EpochChart,
    _finite,
    _Grid,
    _LabelPlacer,
)

__all__ = ["CompareChart", "CompareScreen", "RUN_COLORS", "run_color"]

# One colour per run, explicit RGB for the same reason as the monitor's (ANSI names follow the
# terminal's palette). The first two are the monitor's own blue and amber, far apart in hue and in
# lightness, so a relu run and a sigmoid run stay apart even for colour-blind eyes.
RUN_COLORS: tuple[tuple[int, int, int], ...] = (
    COLORS["train"],  # blue
    COLORS["patience"],  # amber
    (80, 220, 210),  # teal
    (255, 110, 180),  # pink
    COLORS["val"],  # violet
    (160, 220, 70),  # lime
    (255, 140, 70),  # orange
    (200, 200, 200),  # grey
)


def run_color(index: int) -> tuple[int, int, int]:
    """The colour of the ``index``-th run of a comparison (colours repeat after eight runs)."""
    return RUN_COLORS[index % len(RUN_COLORS)]


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


class CompareChart(EpochChart):
    """One per-epoch quantity of several runs, each in its colour, with each run's marks.

    * the curve of ``metric`` per run, labelled in the legend with the run's label;
    * a diamond on the curve at the run's best epoch (the restored one when Keras restored it);
    * a vertical line at the epoch where the run's early stopping fired, labelled ``stop N``.

    It reuses the epoch chart's grid, label placement, theme handling and resize path: it is an
    :class:`EpochChart` whose ``_draw`` reads ``runs`` instead of one state.

    Args:
        runs: The runs to draw, in legend order.
        metric: The quantity to draw, e.g. ``"val_loss"``.
    """

    def __init__(
        self,
        runs: Sequence[ComparedRun],
        metric: str = "val_loss",
        *,
        name: Optional[str] = None,
        id: Optional[str] = None,  # noqa: A002
        classes: Optional[str] = None,
    ) -> None:
        super().__init__(metric, name=name, id=id, classes=classes)
        self.runs = list(runs)
        # _Chart's replot() draws "a state"; this chart draws self.runs, so it gets a placeholder
        # and keeps the shared path (theme, empty message, size bookkeeping) unchanged.
        self._state = RunState()
        self.run_marks: dict[str, dict[str, int]] = {}
        """Per run label, the marks of the latest draw: ``{"best": 28, "stop": 33}``."""
        self.legend: list[str] = []
        """The legend entries of the latest draw (empty when the chart is too short for one)."""

    def set_metric(self, metric: str) -> None:
        """Draw another quantity."""
        self.metric = metric
        self.replot()

    def _title(self) -> str:
        return f"{self.metric} per epoch   ◆ best epoch   │ early stop"

    def _draw(self, _placeholder: RunState) -> Optional[str]:
        self.marks, self.labels, self.legend, self.run_marks = {}, [], [], {}
        self.plotted = {}
        metric = self.metric or "val_loss"
        series = []
        for i, run in enumerate(self.runs):
            x, y = _finite(*metric_series(run.state, metric))
            series.append((run, run_color(i), x, y))
        drawn = [s for s in series if s[3].size]
        if not drawn:
            return f"none of these runs logged a finite {metric}"

        plt = self.plt
        last = max(int(run.state.epochs[-1].epoch) for run, *_ in drawn)
        x_lo, x_hi = 0.5, max(last, 2) + 0.5
        ys = np.concatenate([y for *_, y in drawn])
        lo, hi = float(ys.min()), float(ys.max())
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        pad = (hi - lo) * 0.04
        lo = 0.0 if 0 <= lo < pad else lo - pad
        height = self.size.height or _FALLBACK_HEIGHT
        # Too short for a legend: the facts table's column headers, in the same colours, name the runs.
        show_legend = height - _CHROME_ROWS >= _MIN_LEGEND_ROWS
        legend = [run.label for run, *_ in drawn] if show_legend else []
        grid = _Grid(self._width, height, (x_lo, x_hi), lo, hi, legend_rows=len(legend))

        # 1. The stop lines first, so every curve draws over them.
        for run, color, _, _ in drawn:
            stop = run.state.stopped_epoch
            if stop is not None:
                self._mark_line(grid, stop, color)

        # 2. The curves, cut to the plot's width.
        for run, color, x, y in drawn:
            dx, dy = minmax_decimate(y, grid.width, x=x)
            plt.plot(dx.tolist(), dy.tolist(), marker="braille", color=color,
                     label=run.label if show_legend else None)
            self.plotted[run.label] = int(dx.size)
            self.last_point_count += int(dx.size)

        # 3. Each run's best epoch on its curve, and the stop labels on the top rows.
        placer = _LabelPlacer(grid, legend)
        for run, color, x, y in drawn:
            marks: dict[str, int] = {}
            state = run.state
            best = state.restored_epoch or state.best_epoch
            if best is not None:
                marks["best"] = best
                at = y[x == best]
                if at.size:
                    plt.scatter([grid.snap_x(best)], [grid.snap_y(float(at[0]))], marker="◆", color=color)
                    self.last_point_count += 1
            if state.stopped_epoch is not None:
                marks["stop"] = state.stopped_epoch
                self._label(placer, f"stop {state.stopped_epoch}", state.stopped_epoch, color)
            self.run_marks[run.label] = marks
        self.legend = legend

        self._axes(grid, x_lo, x_hi, last)
        return None


def _worth_a_row(row: dict, runs: Sequence[ComparedRun], differs: set[str]) -> bool:
    """Whether a facts row tells the reader something: not the activations when the layers that differ
    are listed above it, not a measurement no run made (every fact stays in view at 80x24)."""
    fact = row["fact"]
    if fact == "hidden layers" and "hidden layers" in differs:
        return False
    unmeasured = {format_cell(fact, None)} <= {"—", "not measured"}
    return not (unmeasured and all(row.get(run.label) is None for run in runs))


class CompareScreen(Screen):
    """Several runs side by side: a chart of one metric per epoch over the table of their facts.

    The runs are labelled (legend, column headers) by what differs in their setups; the table opens
    with those fields (``learning rate  0.001  0.01``), then the early-stopping facts.

    Args:
        runs: The runs, as :func:`tui_trainer.compare.load_runs` returns them (two or more).
        metric: The quantity drawn first; ``m`` cycles through loss, val_loss, accuracy and
            val_accuracy (those the runs logged).
    """

    DEFAULT_CSS = """
    CompareScreen #compare-chart {
        height: 1fr;
        min-height: 8;
    }
    /* Every fact in view (a header, ten rows and room for a horizontal scrollbar when many runs
       are wider than the terminal); the chart takes the rest. */
    CompareScreen #compare-facts {
        height: auto;
        max-height: 14;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
    }
    CompareScreen #compare-reading {
        height: auto;
        max-height: 8;
        padding: 0 1;
        background: $boost;
    }
    """

    BINDINGS = [
        Binding("m", "cycle_metric", "Metric"),
        Binding("v", "results", "Results"),
        Binding("escape", "close", "Back"),
        Binding("q", "close", "Back", show=False),
    ]

    def __init__(self, runs: Sequence[ComparedRun], metric: str = "val_loss", *, reading: str = "",
                 facts: Sequence = (), name: Optional[str] = None, id: Optional[str] = None) -> None:  # noqa: A002
        super().__init__(name=name, id=id)
        self.runs = list(runs)
        self.reading = reading  # a paragraph saying what the numbers show (the lesson command writes one)
        self.facts = tuple(facts)  # a lesson's own rows after the early-stopping facts
        self.metrics = available_metrics(self.runs) or [metric]
        if metric == GAP and metric not in self.metrics:  # derived: shown when a lesson asks for it
            self.metrics.append(GAP)
        self.metric = metric if metric in self.metrics else self.metrics[0]

    def compose(self) -> ComposeResult:
        yield Header()
        yield CompareChart(self.runs, self.metric, id="compare-chart")
        table: DataTable = DataTable(id="compare-facts", cursor_type="none", zebra_stripes=True)
        yield table
        if self.reading:
            yield Static(self.reading, id="compare-reading")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"compare {len(self.runs)} runs · {self.metric}"
        table = self.query_one("#compare-facts", DataTable)
        table.add_column("", key="fact")
        for i, run in enumerate(self.runs):
            table.add_column(Text.assemble(("━ ", f"bold {_hex(run_color(i))}"), printable(run.label)), key=run.label)
        differs = what_differs(self.runs)
        for key, values in differs:  # what tells the runs apart, first and in view
            table.add_row(Text(printable(key), style="bold italic"), *(Text(printable(v)) for v in values),
                          key=f"setup:{key}")
        for row in facts_table(self.runs, self.facts):
            fact = row["fact"]
            if not _worth_a_row(row, self.runs, {key for key, _ in differs}):
                continue
            cells = (Text(printable(format_cell(fact, row[run.label]))) for run in self.runs)  # Text: no markup
            table.add_row(Text(fact, style="bold"), *cells, key=fact)

    # -- actions --------------------------------------------------------------------------------------

    def action_cycle_metric(self) -> None:
        """Draw the next metric the runs logged."""
        i = self.metrics.index(self.metric) if self.metric in self.metrics else -1
        self.metric = self.metrics[(i + 1) % len(self.metrics)]
        self.query_one(CompareChart).set_metric(self.metric)
        self.sub_title = f"compare {len(self.runs)} runs · {self.metric}"

    def action_results(self) -> None:
        """The runs' results (confusion matrix, mistakes, first layer's features), one after another (``]``)."""
        from .results import ResultsScreen

        self.app.push_screen(ResultsScreen([run.path for run in self.runs]))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        # Back only when there is a screen to go back to; at the bottom of the stack the keys fall
        # through to the app (q quits CompareApp).
        if action == "close":
            return len(self.app.screen_stack) > 1 and self.app.screen is self
        return True

    def action_close(self) -> None:
        self.dismiss()
