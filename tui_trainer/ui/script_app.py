"""``tui-trainer run SCRIPT``: the monitor screen on a user's own script, with its output in a log pane.

The script runs in a child process (see :mod:`tui_trainer.scriptrun`); this app
follows the newest run folder its fits make through the same path live
training, replay and watch take (``MonitorApp.handle_event``), and shows the
script's stdout/stderr below the charts. Nothing here imports TensorFlow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Log

from ..runlog import EVENTS, LogTail
from ..scriptrun import ScriptRun
from .base import MonitorApp
from .screens.monitor import MonitorScreen

POLL_S = 0.2


class ScriptMonitorScreen(MonitorScreen):
    """The monitor screen with the script's output in a scrollable pane at the bottom (``l`` enlarges it)."""

    DEFAULT_CSS = """
    ScriptMonitorScreen #script-output {
        height: 8;
        border-top: solid $primary-muted;
    }
    ScriptMonitorScreen #script-output.-large {
        height: 2fr;
    }
    """

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if widget.__class__.__name__ == "Footer":
                yield Log(id="script-output", max_lines=5000, highlight=False)
            yield widget

    def _draw(self, state) -> None:
        super()._draw(state)
        if state.started is None:  # nothing to train here ("Press t to train" is the lessons' line)
            ended = getattr(self.app, "exit_code", None) is not None
            wait = "The script recorded no fit." if ended else "Waiting for the script's first fit."
            self._parts()["progress"].show(Text(wait, style="dim"))

    @property
    def output(self) -> Log:
        return self.query_one("#script-output", Log)


class ConfirmQuit(ModalScreen[bool]):
    """Asks before leaving a script that is still running."""

    BINDINGS = [Binding("y", "answer(True)", "Stop it and quit"), Binding("n,escape", "answer(False)", "Keep running")]
    DEFAULT_CSS = """
    ConfirmQuit { align: center middle; }
    ConfirmQuit > Vertical { width: 64; height: auto; padding: 1 2; border: thick $warning; background: $surface; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("The script is still running.\n\n"
                        "y: stop it (its run is closed as cancelled) and quit\n"
                        "n: keep it running and stay")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ScriptApp(MonitorApp):
    """Runs a script with a Monitor on each fit and shows its newest run live.

    Args:
        run: the script, not started yet (the app starts it once its screen is up).
        poll_s: how often the run log and the output are read.
    """

    BINDINGS = [
        Binding("c", "cancel", "Cancel"),
        Binding("l", "toggle_output", "Output"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, run: ScriptRun, poll_s: float = POLL_S):
        super().__init__()
        self.script_run = run
        self.poll_s = poll_s
        self.exit_code: Optional[int] = None  # the script's, once it ended
        self._tail: Optional[LogTail] = None
        self._seen_lines = 0
        self._runs_seen = 0
        self._quitting = False

    @property
    def monitor(self) -> ScriptMonitorScreen:  # type: ignore[override]
        if self._monitor is None:
            self._monitor = ScriptMonitorScreen()
            self.install_screen(self._monitor, "monitor")
        return self._monitor  # type: ignore[return-value]

    def on_mount(self) -> None:
        super().on_mount()
        self.push_screen(self.monitor)
        self.title = f"tui-trainer run {self.script_run.script.name}"
        try:
            self.script_run.start()
        except OSError as exc:
            self.monitor.show_error(f"could not start the script: {exc}")
            self.exit_code = 1
            return
        self.monitor.set_note(f"running {self.script_run.script.name} (pid {self.script_run.pid})")
        self.set_interval(self.poll_s, self._poll)

    # -- following the script ----------------------------------------------------------------------

    def _poll(self) -> None:
        if self.exit_code is not None:
            return
        running = self.script_run.running  # read first: output and events written before the end are read below
        lines, self._seen_lines = self.script_run.output_since(self._seen_lines)
        if lines:
            self.monitor.output.write_lines(lines)
        for run_dir in self.script_run.run_dirs_after(self._runs_seen):
            self._runs_seen += 1
            self._tail = LogTail(run_dir / EVENTS)  # the monitor follows the newest fit
            self.new_run()
            self.monitor.set_note(self._note())
        if self._tail is not None:
            for event in self._tail.read():
                self.handle_event(event)
        if not running:
            self._ended()

    def _note(self) -> str:
        fits = len(self.script_run.run_dirs)
        which = f"fit {fits} of the script" if fits > 1 else self.script_run.script.name
        if self.exit_code is None:
            return f"{which} · running (pid {self.script_run.pid}) · c cancels"
        return f"{which} · script exited with code {self.exit_code}"

    def _ended(self) -> None:
        code = self.script_run.wait(5)
        self.exit_code = code if code is not None else 1
        lines, self._seen_lines = self.script_run.output_since(self._seen_lines)
        if lines:
            self.monitor.output.write_lines(lines)
        if self._tail is not None:  # whatever the run log got before the end
            for event in self._tail.read():
                self.handle_event(event)
        self.script_run.cleanup()
        if not self.script_run.run_dirs:
            self.monitor.output.add_class("-large")  # nothing recorded: the output says why
            self.monitor.set_note(no_fit_note(self.script_run.script.name, self.exit_code))
        else:
            self.monitor.set_note(self._note())
        self.notify(f"The script exited with code {self.exit_code}. q quits.",
                    severity="information" if self.exit_code == 0 else "warning", timeout=8)
        if self._quitting:
            self.exit(return_code=self.exit_code)

    # -- keys ----------------------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if not self.script_run.running:
            self.notify("The script is not running.", severity="warning")
            return
        self.script_run.cancel()
        self.monitor.set_note("cancelling: the fit stops after the current batch")

    def action_toggle_output(self) -> None:
        self.monitor.output.toggle_class("-large")

    async def action_quit(self) -> None:
        if not self.script_run.running:
            self.exit(return_code=self.exit_code if self.exit_code is not None else 0)
            return

        def answered(stop: Optional[bool]) -> None:
            if stop:
                self._quitting = True
                self.script_run.cancel()
                self.monitor.set_note("stopping the script...")
                self.set_timer(15, self._kill_if_stuck)

        self.push_screen(ConfirmQuit(), answered)

    async def stop_for_signal(self) -> None:
        """SIGTERM: stop the script as `c` does (its run closed as cancelled), then leave."""
        self._quitting = True
        if self.script_run.running:
            self.script_run.cancel()
            self.set_timer(15, self._kill_if_stuck)
        else:
            self.exit(return_code=143)

    def _kill_if_stuck(self) -> None:
        if self.script_run.running:
            self.script_run.kill()


def no_fit_note(script: str, code: int) -> str:
    """The header when a script ended with no recorded fit (a fit may still have run unrecorded)."""
    if code == 0:
        return f"{script} ran to the end (exit 0) without a recorded fit: nothing recorded; its output is below"
    return f"the script exited with code {code} before any fit was recorded; its output is below"


def run_script_app(script: Path, args: list[str], runs_dir: Path) -> int:
    """Open the app on a script; returns the script's exit code."""
    app = ScriptApp(ScriptRun(script, args, runs_dir))
    try:
        app.run()
    finally:
        # The app closed some other way (an error): do not leave the script behind. After a hang-up the
        # script goes on by itself (it runs in its own session) and its Monitor records the run.
        if app.script_run.running and not app.hung_up:
            app.script_run.stop()
        app.script_run.cleanup()
    return app.exit_code if app.exit_code is not None else (app.return_code or 0)
