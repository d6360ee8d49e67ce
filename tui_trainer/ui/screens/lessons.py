"""The lessons screen: pick a lesson, watch its variants train one after another, then compare them.

The variants train in a worker thread (TensorFlow never touches the UI thread);
each epoch's line goes into a queue the screen drains a few times a second. When
the last variant has finished, the compare screen opens with the lesson's reading
of the measured numbers.
"""

from __future__ import annotations

import collections
import threading
from pathlib import Path
from typing import Optional

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Log, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ...lesson import LESSONS, get_lesson

__all__ = ["LessonsScreen"]


class _Lines:
    """A file-like sink for the console printer: whole lines into a thread-safe queue."""

    def __init__(self, queue: collections.deque) -> None:
        self.queue = queue
        self._partial = ""

    def write(self, text: str) -> int:
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        self.queue.extend(lines)
        return len(text)

    def flush(self) -> None:
        pass


class LessonsScreen(Screen):
    """The lessons, one line each; ``enter`` runs the one under the cursor.

    Args:
        runs_dir: where the lesson's run folders go.
    """

    DEFAULT_CSS = """
    LessonsScreen #lessons-list { height: auto; max-height: 12; }
    LessonsScreen #lessons-epochs { width: 30; }
    LessonsScreen #lessons-help { height: auto; padding: 0 1; color: $text-muted; }
    LessonsScreen #lessons-log { height: 1fr; }
    """

    BINDINGS = [
        Binding("enter", "start", "Run lesson", priority=True),
        Binding("c", "cancel", "Cancel"),
        Binding("escape", "close", "Back"),
    ]

    def __init__(self, runs_dir: Path, *, name: Optional[str] = None, id: Optional[str] = None) -> None:  # noqa: A002
        super().__init__(name=name, id=id)
        self.runs_dir = Path(runs_dir)
        self.cancel = threading.Event()
        self.lines: collections.deque = collections.deque()
        self.running: Optional[str] = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield OptionList(*(Option(Text.assemble((f"{lesson.name:<20}", "bold"), lesson.summary), id=lesson.name)
                           for lesson in LESSONS.values()), id="lessons-list")
        yield Input(placeholder="epochs (empty: the lesson's own)", id="lessons-epochs", type="integer")
        yield Static("enter runs the lesson under the cursor; every variant is a recorded run, then they open "
                     "side by side with a reading of the numbers.", id="lessons-help")
        yield Log(id="lessons-log", highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "lessons"
        self.query_one(OptionList).focus()
        self.set_interval(0.2, self._drain)

    def _drain(self) -> None:
        log = self.query_one(Log)
        lines = []
        while self.lines:
            lines.append(self.lines.popleft())
        if lines:
            log.write_lines(lines)

    # -- running -------------------------------------------------------------------------------------

    def action_start(self) -> None:
        """Run the lesson under the cursor."""
        if self.running or getattr(self.app, "training", False):
            self.notify("A run is training; wait for it, or cancel it (c).", severity="warning")
            return
        option_list = self.query_one(OptionList)
        if option_list.highlighted is None:
            return
        name = option_list.get_option_at_index(option_list.highlighted).id or ""
        text = self.query_one("#lessons-epochs", Input).value.strip()
        epochs = int(text) if text.isdigit() and int(text) > 0 else None
        self.cancel = threading.Event()
        if hasattr(self.app, "_cancel"):
            self.app._cancel = self.cancel  # the app's c and q cancel the lesson as they cancel a run
        self.running = name
        self.query_one(Log).clear()
        self.lines.append(f"Lesson {name}" + (f", {epochs} epochs a variant" if epochs else "") + " …")
        self._run(name, epochs, self.cancel)
        self.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, group="lesson")
    def _run(self, name: str, epochs: Optional[int], cancel: threading.Event):
        from ...console import ConsolePrinter
        from ...lesson import run_lesson

        out = _Lines(self.lines)

        def sink_for(label: str):
            self.lines.append(f"== {label} ==")
            return ConsolePrinter(out)

        outcome = run_lesson(name, epochs=epochs, runs_dir=self.runs_dir, sink_for=sink_for, cancel=cancel)
        runs = outcome.load() if len(outcome.folders) >= 2 else []
        return outcome, runs

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "lesson" or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        name, self.running = self.running, None
        self.refresh_bindings()
        self._drain()
        if event.state == WorkerState.ERROR:
            self.lines.append(f"The lesson stopped: {type(event.worker.error).__name__}: {event.worker.error}")
            return
        outcome, runs = event.worker.result
        if self.cancel.is_set():
            self.lines.append("Lesson cancelled.")
            return
        if not runs:
            self.lines.append("Too few variants ran to compare.")
            return
        lesson = get_lesson(name)
        from .compare import CompareScreen

        self.app.push_screen(CompareScreen(runs, lesson.metric, reading=lesson.reading(runs, outcome),
                                           facts=lesson.facts))

    def action_cancel(self) -> None:
        """Stop the lesson at the next batch."""
        if self.running:
            self.cancel.set()
            self.lines.append("Cancelling after the current batch…")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        if action == "cancel":
            return self.running is not None
        if action == "close":
            return len(self.app.screen_stack) > 1 and self.app.screen is self and self.running is None
        return True

    def action_close(self) -> None:
        self.dismiss()
