"""The Textual app: the builder, the monitor, and training in a thread worker.

TensorFlow is imported only inside the training worker (by the engine), so the
app paints its first frame without waiting for it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterable, Optional

from textual import on
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ..spec import Preset
from .app_training import TrainingMixin
from .base import MonitorApp
from .screens.builder import BuilderScreen


def _builder_toml(builder: BuilderScreen, preset: Optional[Preset]) -> Optional[str]:
    """The builder's model as TOML: the preset when valid, else its fields as they stand."""
    if preset is not None:
        from ..spec import dumps_preset

        return dumps_preset(preset)
    import tomli_w

    def plain(value):  # TOML has no null: fields left empty are left out
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [plain(v) for v in value if v is not None]
        return value

    raw = plain(builder.read_raw())
    note = "# The builder's fields when an error stopped it; some are invalid (fix them before training).\n"
    return note + tomli_w.dumps(raw)


class TrainerApp(TrainingMixin, MonitorApp):
    """Build a model, train it, watch it."""

    IDLE = "Press t to train."

    BINDINGS = [
        Binding("t", "train", "Train"),
        # A field takes `t` as text: ctrl+t trains from anywhere (priority: before the focused Input sees it).
        Binding("ctrl+t", "train_anywhere", "Train", priority=True),
        Binding("c", "cancel", "Cancel"),
        Binding("m", "show_monitor", "Monitor"),
        Binding("b", "show_builder", "Builder"),
        Binding("r", "show_runs", "Runs"),
        Binding("escape", "back_to_runs", "Runs", show=False),
        Binding("q", "quit", "Quit"),
        # Read-only (`serve --read-only`): the keys that would train, edit or write say why they don't.
        Binding("t", "refuse('Training is off')", show=False),
        Binding("b,o,ctrl+s", "refuse('There is no builder: no presets are opened or saved')", show=False),
    ]

    def __init__(self, preset: Preset, source: Optional[Path] = None, runs_dir: Optional[Path] = None, *,
                 read_only: bool = False):
        super().__init__()
        self.read_only = read_only
        """Recorded runs only: the app opens on the runs screen, has no builder, trains and writes nothing."""
        self.builder: Optional[BuilderScreen] = None  # made on mount, unless read-only
        self.preset = preset
        self.source = source
        self._runs_dir = Path(runs_dir) if runs_dir else None
        self._cancel = threading.Event()
        self.last_result = None  # the engine's RunResult of the last finished run
        self.training_thread: Optional[threading.Thread] = None
        self._phase: tuple[int, str] = (0, "")  # (run token, phase) the training thread last reported
        self._starting: Optional[str] = None  # the preset name while a start has no RunStarted yet
        self._opened_from_runs = False  # the monitor shows a run opened from the workspace: esc goes back to it

    @property
    def runs_dir(self) -> Path:
        """Where runs are recorded (``$TUI_TRAINER_RUNS`` or ``./runs`` unless given)."""
        if self._runs_dir is None:
            from ..runlog import default_runs_dir  # the run log's modules are not needed for the first frame

            self._runs_dir = default_runs_dir()
        return self._runs_dir

    @runs_dir.setter
    def runs_dir(self, value: Path) -> None:
        self._runs_dir = Path(value)

    # -- screens ----------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        if self.read_only:  # the runs are the home screen: there is no builder to go back to
            from .screens.runs import RunsScreen

            return RunsScreen(self.runs_dir)
        return super().get_default_screen()

    def on_mount(self) -> None:
        super().on_mount()
        if self.read_only:
            self.sub_title = "read-only"
            return
        # Kept as an attribute: timers and late worker messages may still ask for it while the app shuts down.
        self.builder = BuilderScreen(self.preset, self.source, defer_forms=True)
        self.install_screen(self.builder, "builder")
        self.push_screen("builder")
        self.sub_title = self.preset.name

    def on_ready(self) -> None:
        super().on_ready()
        if self.builder is None:
            return
        # The first frame is on the screen: now the builder's forms (styling their 80 widgets before it
        # doubled its time), after the refresh its first contents asked for, or those would wait too.
        self.builder.call_after_refresh(self.builder.mount_forms)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        # Keep the footer short (80 columns): show only what makes sense where the user is.
        if action == "refuse":  # read-only: its hidden keys stand in for those below
            return self.read_only
        if self.read_only and action in ("train", "train_anywhere", "show_builder", "show_lessons"):
            return False
        if action in ("train", "train_anywhere"):  # the footer names the key that trains from where focus is
            return self._typing() == (action == "train_anywhere")
        if action == "cancel":
            return self.training
        if action == "back_to_runs":
            return self._opened_from_runs and self.screen is self._monitor
        if action == "show_builder":
            return self.screen is not self.builder
        if action == "show_monitor":  # nothing to show before the first run
            return self._monitor is not None and self.screen is not self._monitor
        return True

    def _typing(self) -> bool:
        """Whether the focused widget takes printable keys as text (so `t` types rather than trains)."""
        from textual.widgets import Input

        return isinstance(self.focused, Input)

    def action_train_anywhere(self) -> None:
        self.action_train()

    def action_refuse(self, what: str) -> None:
        self.notify(f"{what}: this app is read-only (recorded runs only).", severity="warning", title="Read-only")

    def _over_runs(self) -> None:
        """Read-only: back to the runs screen at the bottom, the only one not pushed."""
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def action_show_builder(self) -> None:
        if self.screen is not self.builder:
            self.switch_screen("builder")
            self.refresh_bindings()

    def action_show_monitor(self) -> None:
        if self.screen is not self.monitor:
            if self.read_only:  # pushed over the runs, not switched for them
                self._over_runs()
                self.push_screen("monitor")
            else:
                self.switch_screen("monitor")
            self.monitor.refresh_view(force=True)
            self.refresh_bindings()

    def action_show_runs(self) -> None:
        """Browse recorded runs: open one in the monitor, mark several and compare them."""
        from .screens.runs import RunsScreen

        if self.read_only:
            self._over_runs()
        elif not isinstance(self.screen, RunsScreen):
            # installed once: the workspace keeps its selection and cursor while a run is opened from it
            if not self.is_screen_installed("runs"):
                self.install_screen(RunsScreen(self.runs_dir), "runs")
            self.push_screen("runs")

    def action_back_to_runs(self) -> None:
        """esc in the monitor of a run opened from the workspace: back to it, as it was left."""
        self._opened_from_runs = False
        self.action_show_runs()

    def action_show_results(self) -> None:
        """The results of the run in the monitor (the monitor's v)."""
        self.monitor.action_results()

    def action_show_lessons(self) -> None:
        """Pick a lesson and run it; its runs then open side by side."""
        from .screens.lessons import LessonsScreen

        if self.read_only:
            self.action_refuse("Lessons train")
            return
        if not isinstance(self.screen, LessonsScreen):
            self.push_screen(LessonsScreen(self.runs_dir))

    def on_runs_screen_open_run(self, message) -> None:
        """Show a recorded run in the monitor, through the same path live events take."""
        from ..runlog import RunLogError
        from ..sources import load  # our run folder or a TensorBoard log

        try:
            run = load(message.path)
        except RunLogError as exc:
            self.notify(str(exc), severity="error")
            return
        if self.training:
            self.notify("A run is training; the monitor shows it. Cancel it (c) to open another.",
                        severity="warning")
            return
        if not self.read_only:  # read-only: the runs screen stays, under the monitor
            self.pop_screen()
        self.new_run()
        self.monitor.state.live = False
        for event in run.events:
            self.handle_event(event)
        for problem in run.warnings:
            self.notify(problem, severity="warning")
        self.monitor.set_note("recorded run")
        self.monitor.run_dir = message.path
        self._opened_from_runs = True
        self.action_show_monitor()
        if run.finished is None and run.started is not None and (message.path / "events.jsonl").is_file():
            from .screens.workspace_follow import follow_live  # still written: the monitor follows it

            follow_live(self, message.path, len(run.events))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if not (self.read_only and command.title == "Screenshot"):  # it saves a file
                yield command
        if not self.read_only:
            yield SystemCommand("Train", "Train the model in the builder (t)", self.action_train)
            if self.training:  # offered only when there is something to cancel
                yield SystemCommand("Cancel training", "Stop at the next batch (c)", self.action_cancel)
            yield SystemCommand("Show builder", "Edit layers, data and early stopping (b)", self.action_show_builder)
        yield SystemCommand("Show monitor", "Charts of the current or last run (m)", self.action_show_monitor)
        yield SystemCommand("Runs", "Browse recorded runs, open or compare them (r)", self.action_show_runs)
        yield SystemCommand("Results", "Confusion matrix, misclassified images, first layer of the run shown (v)",
                            self.action_show_results)
        if not self.read_only:
            yield SystemCommand("Lessons", "Run a lesson: presets that differ in one thing, compared",
                                self.action_show_lessons)

    # -- after an error no handler caught (see MonitorApp._handle_exception) ----------------------

    def autosave(self) -> Optional[Path]:
        """The builder's edits, saved to ``<state folder>/autosave/`` when they are not saved elsewhere.

        A valid model is written as a preset (open it with o, or ``tui-trainer train PATH``); one with
        invalid fields as the fields as they stand, to copy from.
        """
        builder = self.builder
        if builder is None or self.read_only:
            return None
        from .base import state_dir

        folder = state_dir()
        try:
            preset = builder.current_preset()
            if preset is not None and not builder.modified:
                return None  # nothing to lose: it is what was loaded or last saved
            text = _builder_toml(builder, preset)
            if folder is None or text is None:
                return None
            folder = folder / "autosave"
            folder.mkdir(mode=0o700, exist_ok=True)
            if folder.is_symlink():
                return None
            from ..atomic import write_text_atomic  # a temp file renamed over: never writes through a link

            return write_text_atomic(folder / f"builder-{time.strftime('%Y%m%d-%H%M%S')}.toml", text)
        except Exception:  # the builder itself may be what broke; the notification says nothing was kept
            return None

    # -- training (the worker and its end, cancel and quit live in TrainingMixin) -------------------

    @on(BuilderScreen.TrainRequested)
    def _on_train_requested(self) -> None:
        self.action_train()
