"""The compare screen: one metric of several runs on one chart, and their early-stopping facts side by side.

Where a learner puts a relu run next to a sigmoid run: the curves show which
one learns, the marks show where each one's EarlyStopping stopped and which
epoch it kept, and the table says it in numbers.
"""

from __future__ import annotations

from typing import Optional, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ...compare import GAP, ComparedRun, available_metrics, facts_table, format_cell, what_differs
from ...text import printable
from ..widgets.comparechart import RUN_COLORS, CompareChart, legend_symbol, run_color

__all__ = ["CompareChart", "CompareScreen", "RUN_COLORS", "run_color"]

_CHART_ROWS = 12  # the chart's least height: 8 rows of plot (title, x ticks and axes take 4)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


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
        min-height: 12;
    }
    /* Every fact in view when there is room (a header, ten rows and room for a horizontal scrollbar
       when many runs are wider than the terminal); on a short terminal the chart keeps 8 rows of
       plot and the table scrolls (on_resize). */
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
        Binding("z", "zoom", "Zoom"),
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
            # The legend's symbol in the run's colour: on a chart too short for a legend, the headers are it.
            symbol = (f"{legend_symbol(i)} ", f"bold {_hex(run_color(i))}")
            table.add_column(Text.assemble(symbol, printable(run.label)), key=run.label)
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

        self._fit_table()

    def on_resize(self) -> None:
        self._fit_table()

    def _fit_table(self) -> None:
        """Leave the chart its 8 rows of plot: the facts table gets what remains (and scrolls)."""
        if not self.is_mounted:
            return
        reading = self.query("#compare-reading")
        taken = 2 + sum(w.outer_size.height for w in reading)  # header, footer, a lesson's reading
        room = max(self.size.height - taken - _CHART_ROWS, 3)
        self.query_one("#compare-facts", DataTable).styles.max_height = min(14, room)

    # -- actions --------------------------------------------------------------------------------------

    def action_zoom(self) -> None:
        """Toggle the chart between every epoch and the epochs around the runs' best and stop epochs."""
        chart = self.query_one(CompareChart)
        chart.zoom = not chart.zoom
        chart.replot()

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
