"""The runs screen, the workspace: every run of the runs folder, newest first, kept up to date while open.

Live runs update their rows in place (status, epoch, best so far) and runs that start after it opened
appear; ``space`` selects runs, whose curves overlay on one chart, each in a colour of its own; a side
pane shows the highlighted run's summary and setup. ``enter`` opens a run in the monitor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ...compare import available_metrics, load_runs
from ...runlog import RunLogError
from ...runs import RunInfo, _read_summary
from ...text import printable
from ...workspace import Changes, Selection, Workspace, head_state, load_state, overview
from ..widgets.runs_pane import COLUMNS, MARK, Overlay, RunPane, column_widths
from ..widgets.runs_table import FIRST_ROWS, RunsTable
POLL_S = 1.0  # how often the folder and the unfinished runs are looked at
NARROW = 100  # below this many columns the side pane narrows
# The workspace's own keys, first in the footer: at 80 columns the app's keys (train, builder, quit)
# are the ones cut, and they are listed under ctrl+p, Keys.
ESSENTIAL = ("open", "toggle_mark", "compare", "close", "cycle_metric")

__all__ = ["COLUMNS", "FIRST_ROWS", "MARK", "RunsScreen"]


def empty_text(runs_dir: Path) -> Text:
    """What the workspace says when the folder holds no run."""
    return Text.assemble((f"No runs in {runs_dir} yet.", "bold"), "\n\nMake one: press ", ("t", "bold"),
                         " in the builder,\nor run ", ("tui-trainer train", "bold"), " in a shell.")


def slot_color(slot: Optional[int]) -> Optional[str]:
    """The colour of a selected run's slot, as ``#rrggbb``; None for a run not selected."""
    if slot is None:
        return None
    from .compare import RUN_COLORS

    return "#{:02x}{:02x}{:02x}".format(*RUN_COLORS[slot % len(RUN_COLORS)])


def essential_first(bindings: dict[str, ActiveBinding], screen: Screen) -> dict[str, ActiveBinding]:
    """``bindings`` with ``screen``'s :data:`ESSENTIAL` keys first, in that order."""
    first = {k: b for k, b in bindings.items() if b.node is screen and b.binding.action in ESSENTIAL}
    first = dict(sorted(first.items(), key=lambda item: ESSENTIAL.index(item[1].binding.action)))
    return {**first, **{k: b for k, b in bindings.items() if k not in first}}


class RunsScreen(Screen):
    """The run folders of ``runs_dir``, newest first, live.

    ``enter`` posts :class:`RunsScreen.OpenRun` for the run under the cursor (the app replays it, or
    follows it if it is still running); ``space`` selects a run for the overlay chart, ``c`` compares
    the selected runs on a :class:`~tui_trainer.ui.screens.compare.CompareScreen`, ``v`` shows the
    results of the run under the cursor, ``m`` overlays the next metric the selected runs logged, ``r``
    reads the folder again.

    Args:
        runs_dir: The folder holding ``<id>/events.jsonl`` run folders.
    """

    DEFAULT_CSS = """
    RunsScreen #runs-title { height: 1; padding: 0 1; text-style: bold; color: $text-muted; }
    RunsScreen #ws-body { height: 1fr; }
    RunsScreen #runs-table { height: auto; max-height: 45%; min-height: 5; }
    RunsScreen #ws-bottom { height: 1fr; min-height: 8; }
    RunsScreen.-narrow RunPane { width: 30; }
    RunsScreen #runs-empty { height: 1fr; padding: 1 2; content-align: center middle; text-align: center; }
    """

    BINDINGS = [
        # priority: the table binds enter too (to a hidden binding), which would keep this one
        # out of the footer.
        Binding("enter", "open", "Open", priority=True),
        Binding("space", "toggle_mark", "Select"),
        Binding("c", "compare", "Compare"),
        Binding("escape", "close", "Back"),
        Binding("m", "cycle_metric", "Metric"),
        Binding("v", "results", "Results"),
        Binding("r", "refresh", "Refresh"),
    ]

    @dataclass
    class OpenRun(Message):
        """The user asked to open a run: replay ``path`` (a run folder) in the monitor."""

        path: Path

    def __init__(self, runs_dir: Path, *, name: Optional[str] = None, id: Optional[str] = None) -> None:  # noqa: A002
        super().__init__(name=name, id=id)
        self.runs_dir = Path(runs_dir)
        self.workspace = Workspace(self.runs_dir)
        self.selection = Selection()
        self.infos: list[RunInfo] = []
        """The runs listed, newest first."""
        self._reading = False  # a worker is reading the folder: the poll waits
        self._read_once = False  # the first read is in: the poll may start
        self._heads: dict[Path, tuple] = {}  # a finished run's first events and summary, for the pane
        self.metric = "val_loss"
        """The quantity the overlay draws; ``m`` cycles through those the selected runs logged."""

    @property
    def marked(self) -> list[Path]:
        """The selected run folders, in the order they were selected (the compare screen's order)."""
        return list(self.selection.paths)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="runs-title")
        with Vertical(id="ws-body"):
            yield RunsTable(self._color, id="runs-table")
            yield Overlay(id="ws-bottom")
        yield Static("", id="runs-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "runs"
        self.set_class(self.app.size.width < NARROW, "-narrow")
        self._show_overlay()
        self.action_refresh()
        self.set_interval(POLL_S, self._poll)

    # -- the list -------------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Read the runs folder again (in a thread), keeping the selection and the cursor's run where they still exist."""
        self.query_one("#runs-title", Static).update(Text(f"Reading {self.runs_dir}..."))
        self._reading = True
        self._heads.clear()
        self._read_runs()

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-list")
    def _read_runs(self) -> None:
        # Off the UI thread: hundreds of folders (and the events of unfinished runs) take a while to read.
        infos = self.workspace.load()
        widths = column_widths(infos)  # here, not on the UI thread: 10 ms for 500 runs
        self.app.call_from_thread(self._fill, infos, widths)

    def _fill(self, infos: list[RunInfo], widths: Optional[dict[str, int]] = None) -> None:
        """Show ``infos`` (newest first) in the table; ``widths``: the cells each column needs."""
        self._reading = False
        if not self.is_attached:
            return
        self._read_once = True
        table = self.query_one(RunsTable)
        current = self.selected_path()
        self.infos = infos
        self.selection.keep({info.path for info in infos})
        for path in self.selection.paths:  # a followed run's state is a new object after a reload
            state = self.workspace.state(path)
            if state is not None:
                self.selection.states[path] = state
        table.fill(infos, widths, current)
        n = len(infos)
        self._update_title()
        empty = self.query_one("#runs-empty", Static)
        if n == 0:
            empty.update(empty_text(self.runs_dir))
        self.query_one("#ws-body").display = table.display = n > 0
        empty.display = n == 0
        if n:
            table.focus()
        self._show_overlay()
        self._show_pane()
        self.refresh_bindings()  # open, select and compare show only when there are runs

    def on_resize(self, event) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")
        self.query_one(RunsTable).fit(event.size.width)

    def _color(self, path: Path) -> Optional[str]:
        return slot_color(self.selection.slot(path))

    def _update_title(self) -> None:
        n = len(self.infos)
        k = len(self.selection.paths)
        marks = f" · {k} marked: {self.metric} below{' (c compares them)' if k > 1 else ''}" if k else ""
        title = f"{n} run{'s' if n != 1 else ''} in {self.runs_dir}{marks}" if n else "Runs"
        current = self.selected_path() if n else None
        hint = next((i.hint for i in self.infos if i.path == current and i.hint), None)
        if hint:  # the run under the cursor was killed or cancelled and can go on
            title = f"{current.name}: {hint}"
        self.query_one("#runs-title", Static).update(Text(printable(title)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._update_title()
        self._show_pane()

    def selected_path(self) -> Optional[Path]:
        """The run folder under the cursor, or None when the list is empty."""
        return self.query_one(RunsTable).current_path() if self.infos else None

    # -- live -----------------------------------------------------------------------------------------

    def _poll(self) -> None:
        """Once a second: new run folders, and what the unfinished runs wrote (see :class:`Workspace`)."""
        if self._reading or not self.is_attached or not self._read_once:
            return  # the first read is not in yet
        changes = self.workspace.poll()
        if changes:
            self._apply(changes)

    def _apply(self, changes: Changes) -> None:
        table = self.query_one(RunsTable)
        current = self.selected_path()
        self.infos = self.workspace.listed()
        if changes.added or changes.removed or not table.row_count:
            self._fill(self.infos)  # new runs go on top: the rows again (a sort, no file read)
            return
        for info in changes.changed:
            table.update_run(info)
            live = self.workspace.state(info.path)
            if live is not None and info.path in self.selection.paths:  # a selected run resumed: its live curve
                self.selection.states[info.path] = live
        changed = {info.path for info in changes.changed}
        if changed & set(self.selection.paths):
            self._show_overlay()
        if current in changed:
            self._show_pane()
            self._update_title()

    # -- the overlay and the pane --------------------------------------------------------------------

    def _show_overlay(self) -> None:
        """Draw the selected runs on the chart (or say how to select some)."""
        self.query_one(Overlay).show(self.selection.compared(), bool(self.selection.paths), self.metric)

    def action_cycle_metric(self) -> None:
        """Overlay the next quantity the selected runs logged (val_loss, loss, val_accuracy, ...)."""
        logged = available_metrics(self.selection.compared())
        if not logged:
            self.notify("The selected runs have no finished epoch yet.", severity="warning", title="Metric")
            return
        i = logged.index(self.metric) if self.metric in logged else -1
        self.metric = logged[(i + 1) % len(logged)]
        self._show_overlay()
        self._update_title()

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The keys as the footer shows them: the workspace's own first (see :data:`ESSENTIAL`)."""
        return essential_first(super().active_bindings, self)

    def _show_pane(self) -> None:
        pane = self.query_one(RunPane)
        path = self.selected_path()
        info = next((i for i in self.infos if i.path == path), None)
        if info is None:
            pane.clear("No run under the cursor.")
            return
        state = self.workspace.state(path)
        summary = None
        if state is None:
            if path not in self._heads:  # read once: the first lines of its log and its summary.json
                self._heads[path] = (head_state(path), _read_summary(path))
            state, summary = self._heads[path]
        pane.show(info.id, *overview(info, state, summary))

    @work(thread=True, exit_on_error=False, group="runs-load")
    def _load_selected(self, path: Path) -> None:
        try:
            state = load_state(path)
        except (RunLogError, OSError, ValueError) as exc:
            self.app.call_from_thread(self.notify, f"{path.name}: {exc}", severity="error")
            return
        self.app.call_from_thread(self._loaded, path, state)

    def _loaded(self, path: Path, state) -> None:
        if path in self.selection.paths and self.is_attached:
            self.selection.states[path] = state
            self._show_overlay()

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
        """Select or unselect the run under the cursor for the overlay, then move to the next one."""
        path = self.selected_path()
        if path is None:
            return
        table = self.query_one(RunsTable)
        if self.selection.toggle(path):
            live = self.workspace.state(path)
            if live is not None:
                self.selection.states[path] = live
            elif path not in self.selection.states:
                self._load_selected(path)
        table.set_mark(path)
        self._update_title()
        self._show_overlay()
        self.refresh_bindings()  # m shows while runs are selected
        table.action_cursor_down()

    def action_compare(self) -> None:
        """Compare the selected runs (two or more) on the full compare screen."""
        marked = self.selection.paths
        if len(marked) < 2:
            have = "one run is" if len(marked) == 1 else "no runs are"
            self.notify(f"Mark two or more runs with space to compare them ({have} marked).",
                        severity="warning", title="Compare")
            return
        try:
            runs = load_runs(marked)
        except (RunLogError, ValueError, OSError) as exc:
            self.notify(str(exc), severity="error", title="Can't compare")
            return
        from .compare import CompareScreen

        self.app.push_screen(CompareScreen(runs))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        # Back only when there is a screen to go back to; at the bottom of the stack escape falls
        # through to the app.
        if action == "close":
            return len(self.app.screen_stack) > 1 and self.app.screen is self
        if action in ("open", "toggle_mark", "compare", "results"):
            return bool(self.infos)
        if action == "cycle_metric":
            return bool(self.selection.paths)
        return True

    def action_close(self) -> None:
        self.dismiss()
