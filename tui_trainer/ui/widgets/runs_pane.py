"""The workspace's pieces: the run overview pane, and which table columns fit the terminal's width."""

from __future__ import annotations

from typing import Optional, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from ...compare import available_metrics
from ...runs import RUN_COLUMNS, RunInfo, run_cells
from ...text import printable

MARK = "✓"

# (key, title) of the table's columns: the mark column first (a selected run's colour at a glance),
# then the same columns as `tui-trainer runs list` (built once, in runs.py).
COLUMNS = (("mark", " "),) + RUN_COLUMNS

# Which columns stay when the table is narrow: the run, how it is doing, its best value and its test
# accuracy first; the epoch counts and the preset (the run id ends with its name) go first.
PRIORITY = ("mark", "id", "status", "best_value", "test_acc", "epochs", "best", "stop", "preset")
_CELL_PAD = 2  # a DataTable column's padding, one cell either side
_SCROLLBAR = 2


def column_widths(infos: Sequence[RunInfo]) -> dict[str, int]:
    """The cells each column needs for ``infos`` (the newest 200: enough to be right without measuring 500)."""
    need = {key: len(title) for key, title in COLUMNS}
    for info in infos[:200]:
        for (key, _), cell in zip(COLUMNS[1:], run_cells(info)):
            need[key] = max(need[key], len(printable(cell)))
    return need


def columns_for(width: int, need: dict[str, int]) -> list[str]:
    """The keys of the columns that fit in ``width`` cells, in the table's order, by :data:`PRIORITY`.

    Args:
        width: The table's width.
        need: The cells each column needs (:func:`column_widths`).
    """
    room = width - _SCROLLBAR
    chosen: set[str] = set()
    for key in PRIORITY:
        cost = need[key] + _CELL_PAD
        if cost > room and chosen:
            continue  # a later, narrower column may still fit
        chosen.add(key)
        room -= cost
    return [key for key, _ in COLUMNS if key in chosen]


def mark_cell(color: Optional[str]) -> object:
    """The mark column of a run: a check in the run's overlay colour when selected, else nothing."""
    return Text(MARK, style=f"bold {color}") if color else ""


def row_cells(info: RunInfo, keys: Sequence[str], color: Optional[str]) -> list[object]:
    """A run's cells for the shown columns (Text, not str: a DataTable reads a str as markup)."""
    cells = dict(zip((k for k, _ in COLUMNS[1:]), run_cells(info)))
    return [mark_cell(color) if key == "mark" else Text(printable(cells[key])) for key in keys]


class RunPane(VerticalScroll):
    """The highlighted run: how it went (status, epochs, best, stop, restore, test accuracy, duration)
    and its setup (layers, learning rate, batch size, early stopping...)."""

    DEFAULT_CSS = """
    RunPane {
        width: 38;
        padding: 0 1;
        background: $boost;
        scrollbar-size-vertical: 1;
    }
    """

    def compose(self):
        yield Static("", id="pane-text")

    def show(self, title: str, summary: list[tuple[str, str]], setup: list[tuple[str, str]]) -> None:
        """Show one run's overview."""
        rows = summary + ([("setup", "")] + setup if setup else [])
        self.text = "\n".join([title] + [f"{name}  {value}".rstrip() for name, value in rows])
        self.query_one("#pane-text", Static).update(self._overview(title, summary, setup))

    text = ""
    """What the pane shows, as plain text (one ``name  value`` line a row)."""

    def clear(self, why: str = "") -> None:
        self.text = why
        self.query_one("#pane-text", Static).update(Text(why, style="italic"))

    @staticmethod
    def _overview(title: str, summary: list[tuple[str, str]], setup: list[tuple[str, str]]) -> Group:
        # The summary's names are short: a grid. The setup's are long ("validation split"): a line a
        # field, name then value, wrapping in a narrow pane rather than squeezing the values.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        for name, value in summary:
            grid.add_row(name, Text(printable(value)))
        parts: list = [Text(printable(title), style="bold underline"), grid]
        if setup:
            parts.append(Text("setup", style="bold italic"))
            for name, value in setup:
                line = Text(f"{printable(name)}: {printable(value)}")
                line.stylize("bold", 0, len(printable(name)))
                parts.append(line)
        return Group(*parts)


class Overlay(Horizontal):
    """The workspace's lower half: the selected runs on one chart (or how to select some) beside the pane.

    The chart is made at the first selection drawn, so plotext loads only then.
    """

    DEFAULT_CSS = """
    Overlay #ws-chart { width: 1fr; height: 1fr; }
    Overlay #ws-hint { width: 1fr; height: 1fr; padding: 1 2; color: $text-muted; }
    """

    def compose(self):
        yield Static("", id="ws-hint")
        yield RunPane(id="ws-pane")

    def chart(self, make: bool = False):
        """The overlay's :class:`~tui_trainer.ui.screens.compare.CompareChart`; None before it is needed."""
        found = self.query("#ws-chart")
        if found:
            return found.first()
        if not make:
            return None
        from ..screens.compare import CompareChart

        chart = CompareChart([], "val_loss", id="ws-chart")
        chart.display = False  # shown by show(), which then draws it once laid out
        self.mount(chart, before=self.query_one(RunPane))
        return chart

    def show(self, runs: list, selected: bool, metric: str = "val_loss") -> None:
        """Draw ``runs`` (:meth:`tui_trainer.workspace.Selection.compared`); ``selected``: any run is;
        ``metric``: the quantity drawn, else (one none of them logged) the first they did."""
        hint = self.query_one("#ws-hint", Static)
        shown = any(run.state.epochs for run in runs)
        chart = self.chart(make=shown)
        if selected and not shown:
            hint.update(Text("The selected runs have no finished epoch yet.", style="italic"))
        elif not shown:
            hint.update(Text.assemble(("space", "bold"), " selects runs: their ", ("val_loss", "bold"),
                                      " curves overlay here, each in a colour of its own.", style="italic"))
        hint.display = not shown
        if chart is None:
            return
        appearing = shown and not chart.display
        chart.display = shown
        if shown:
            chart.runs = runs
            logged = available_metrics(runs)
            chart.metric = metric if metric in logged or not logged else logged[0]
            chart.replot()
            if appearing:  # its size is known after the next layout: draw again then
                chart.call_after_refresh(chart.replot)
