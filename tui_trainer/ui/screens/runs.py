"""The runs screen: every run folder in the runs directory, newest first; open one, or mark some and compare."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ...compare import load_runs
from ...runlog import RunLogError
from ...runs import RUN_COLUMNS, RunInfo, find_runs, run_cells
from ...text import printable

MARK = "✓"
FIRST_ROWS = 60  # rows added before the first draw: more than a screenful on any terminal

# (key, title) of the table's columns: the mark column first, so a marked run shows at a glance, then
# the same columns as `tui-trainer runs list` (built once, in runs.py).
COLUMNS = (("mark", " "),) + RUN_COLUMNS


def _cells(info: RunInfo, marked: bool) -> tuple[object, ...]:
    # Text, not str: a DataTable reads a str as markup (a name like "[/x]" would raise)
    return (Text(MARK, style="bold green") if marked else "",) + tuple(Text(printable(c)) for c in run_cells(info))


class RunsScreen(Screen):
    """The run folders of ``runs_dir``, newest first.

    ``enter`` posts :class:`RunsScreen.OpenRun` for the run under the cursor (the app replays it);
    ``space`` marks a run, ``c`` compares the marked runs on a
    :class:`~tui_trainer.ui.screens.compare.CompareScreen`, ``r`` reads the folder again.

    Args:
        runs_dir: The folder holding ``<id>/events.jsonl`` run folders.
    """

    DEFAULT_CSS = """
    RunsScreen #runs-title {
        height: 1;
        padding: 0 1;
        text-style: bold;
        color: $text-muted;
    }
    RunsScreen #runs-table {
        height: 1fr;
    }
    RunsScreen #runs-empty {
        height: 1fr;
        padding: 1 2;
        content-align: center middle;
        text-align: center;
    }
    """

    BINDINGS = [
        # priority: the table binds enter too (to a hidden binding), which would keep this one
        # out of the footer.
        Binding("enter", "open", "Open", priority=True),
        Binding("space", "toggle_mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("v", "results", "Results"),
        Binding("r", "refresh", "Refresh"),
        Binding("escape", "close", "Back"),
    ]

    @dataclass
    class OpenRun(Message):
        """The user asked to open a run: replay ``path`` (a run folder) in the monitor."""

        path: Path

    def __init__(self, runs_dir: Path, *, name: Optional[str] = None, id: Optional[str] = None) -> None:  # noqa: A002
        super().__init__(name=name, id=id)
        self.runs_dir = Path(runs_dir)
        self.infos: list[RunInfo] = []
        """The runs listed, newest first."""
        self.marked: list[Path] = []
        """The marked run folders, in the order they were marked (the compare screen's order)."""
        self._fills = 0  # each refresh of the list: rows of an older one are not added

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="runs-title")
        table: DataTable = DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        for key, title in COLUMNS:
            table.add_column(title, key=key)
        yield table
        yield Static("", id="runs-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "runs"
        self.action_refresh()

    # -- the list -------------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Read the runs folder again (in a thread), keeping the marks and the cursor's run where they still exist."""
        self.query_one("#runs-title", Static).update(Text(f"Reading {self.runs_dir}..."))
        self._read_runs()

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-list")
    def _read_runs(self) -> None:
        # Off the UI thread: hundreds of folders (and the events of unfinished runs) take a while to read.
        infos = list(reversed(find_runs(self.runs_dir)))
        self.app.call_from_thread(self._fill, infos)

    def _fill(self, infos: list[RunInfo]) -> None:
        """Show ``infos`` (newest first) in the table."""
        if not self.is_attached:
            return
        table = self.query_one("#runs-table", DataTable)
        current = self.selected_path()
        self.infos = infos
        paths = {info.path for info in self.infos}
        self.marked = [p for p in self.marked if p in paths]
        table.clear()
        # A screenful first, the rest after it is drawn: 500 rows at once kept the screen blank for 0.1 s more.
        self._fills += 1
        self._add_rows(self.infos[:FIRST_ROWS], self._fills, current)
        if len(self.infos) > FIRST_ROWS:
            self.call_after_refresh(self._add_rows, self.infos[FIRST_ROWS:], self._fills, current)
        n = len(self.infos)
        self._update_title()
        empty = self.query_one("#runs-empty", Static)
        if n == 0:
            empty.update(Text.assemble(
                (f"No runs in {self.runs_dir} yet.", "bold"), "\n\nMake one: press ", ("t", "bold"),
                " in the builder,\nor run ", ("tui-trainer train", "bold"), " in a shell.",
            ))
        table.display = n > 0
        empty.display = n == 0
        if n:
            table.focus()
        self.refresh_bindings()  # open, mark and compare show only when there are runs

    def _add_rows(self, infos: list[RunInfo], fill: int, current: Optional[Path]) -> None:
        """Add rows to the table, unless a newer fill has started; then put the cursor back on ``current``."""
        if fill != self._fills or not self.is_attached:
            return
        table = self.query_one("#runs-table", DataTable)
        for info in infos:
            table.add_row(*_cells(info, info.path in self.marked), key=str(info.path))
        if current is not None and any(info.path == current for info in infos):
            table.move_cursor(row=table.get_row_index(str(current)))

    def _update_title(self) -> None:
        n = len(self.infos)
        marks = f" · {len(self.marked)} marked (c compares them)" if self.marked else ""
        title = f"{n} run{'s' if n != 1 else ''} in {self.runs_dir}{marks}" if n else "Runs"
        current = self.selected_path() if n else None
        hint = next((i.hint for i in self.infos if i.path == current and i.hint), None)
        if hint:  # the run under the cursor was killed or cancelled and can go on
            title = f"{current.name}: {hint}"
        self.query_one("#runs-title", Static).update(Text(printable(title)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._update_title()

    def selected_path(self) -> Optional[Path]:
        """The run folder under the cursor, or None when the list is empty."""
        table = self.query_one("#runs-table", DataTable)
        if not self.infos or table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return Path(row_key.value) if row_key.value is not None else None

    # -- actions --------------------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # enter on the table (the table binds enter itself, so the screen's binding only fires
        # when the table is not focused).
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.OpenRun(Path(event.row_key.value)))

    def action_open(self) -> None:
        """Open the run under the cursor."""
        path = self.selected_path()
        if path is None:
            self.notify("No run to open.", severity="warning")
            return
        self.post_message(self.OpenRun(path))

    def action_results(self) -> None:
        """The results of the run under the cursor: confusion matrix, misclassified images, first layer."""
        path = self.selected_path()
        if path is None:
            self.notify("No run to show.", severity="warning")
            return
        from .results import ResultsScreen

        self.app.push_screen(ResultsScreen(path))

    def action_toggle_mark(self) -> None:
        """Mark or unmark the run under the cursor, then move to the next one."""
        path = self.selected_path()
        if path is None:
            return
        table = self.query_one("#runs-table", DataTable)
        if path in self.marked:
            self.marked.remove(path)
            table.update_cell(str(path), "mark", "")
        else:
            self.marked.append(path)
            table.update_cell(str(path), "mark", Text(MARK, style="bold green"))
        self._update_title()
        table.action_cursor_down()

    def action_compare(self) -> None:
        """Compare the marked runs (two or more)."""
        if len(self.marked) < 2:
            have = "one run is" if len(self.marked) == 1 else "no runs are"
            self.notify(f"Mark two or more runs with space to compare them ({have} marked).",
                        severity="warning", title="Compare")
            return
        try:
            runs = load_runs(self.marked)
        except (RunLogError, ValueError, OSError) as exc:
            self.notify(str(exc), severity="error", title="Can't compare")
            return
        from .compare import CompareScreen  # plotext is loaded only when a chart is wanted

        self.app.push_screen(CompareScreen(runs))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        # Back only when there is a screen to go back to; at the bottom of the stack escape falls
        # through to the app.
        if action == "close":
            return len(self.app.screen_stack) > 1 and self.app.screen is self
        if action in ("open", "toggle_mark", "compare", "results"):
            return bool(self.infos)
        return True

    def action_close(self) -> None:
        self.dismiss()
