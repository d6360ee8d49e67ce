"""Replay a recorded run, or watch one another process is still writing.

Both feed the monitor screen through ``MonitorApp.handle_event``, the path
live training takes, so a replayed run looks exactly like the live one did.
Nothing here imports TensorFlow, and nothing here writes to the run folder.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable, Optional

from textual import work
from textual.binding import Binding

from ..events import EpochEnded, Event
from ..runlog import EVENTS, LogTail
from ..runlock import held
from ..runs import liveness
from .base import MonitorApp

POLL_S = 0.2  # how often `watch` looks for new lines


class ReplayApp(MonitorApp):
    """The monitor screen fed from a run's events.jsonl.

    Args:
        run_dir: the run folder.
        events: its events, already read (the CLI reads them to report problems before the app opens).
        speed: epochs a second; 0 shows the whole run at once.
        problems: warnings from reading the log, shown as notifications.
        what_if: for a TensorBoard log, its events again with another what-if patience; ``+`` and
            ``-`` then move the early-stopping marks.
    """

    BINDINGS = [
        Binding("space", "pause", "Pause/resume"),
        Binding("n", "step", "Step epoch"),
        Binding("r", "restart", "Restart"),
        Binding("plus", "patience(1)", "Patience +1", show=False),
        Binding("minus", "patience(-1)", "Patience -1", show=False),
        Binding("q", "quit", "Quit"),
    ]
    DEFER_CHARTS = True  # the verdict in words first; the charts need numpy and plotext loaded

    def __init__(self, run_dir: Path, events: list[Event], speed: float = 0.0, problems: Optional[list[str]] = None,
                 what_if: Optional[Callable[[int], list[Event]]] = None, patience: int = 5):
        super().__init__()
        self.what_if = what_if
        self.patience = patience
        self.run_dir = Path(run_dir)
        self.events = events
        self.speed = speed
        self.problems = problems or []
        self.paused = False
        self._step = asyncio.Event()
        self.position = 0  # events shown so far

    def on_mount(self) -> None:
        super().on_mount()
        self.push_screen(self.monitor)
        for problem in self.problems:
            self.notify(problem, severity="warning", timeout=10)
        self.action_restart()

    def action_restart(self) -> None:
        token = self.new_run()
        self.monitor.state.live = False
        self.position = 0
        self._note()
        self._feed(token)

    def action_patience(self, delta: int) -> None:
        """A TensorBoard log: the what-if EarlyStopping with one epoch more (or less) of patience."""
        if self.what_if is None:
            self.notify("This run's EarlyStopping really ran; its patience is part of the record.", severity="warning")
            return
        self.patience = max(1, self.patience + delta)
        self.events = self.what_if(self.patience)
        self.action_restart()
        self.notify(f"What-if patience: {self.patience}", timeout=3)

    def action_pause(self) -> None:
        self.paused = not self.paused
        self._note()

    def action_step(self) -> None:
        """Show the next epoch, then stay paused."""
        self.paused = True
        self._step.set()
        self._note()

    def _note(self, extra: str = "") -> None:
        done = self.position >= len(self.events)
        state = "replay finished" if done else ("paused: space resumes, n steps" if self.paused else
                                                  f"replaying at {self.speed:g} epochs/s")
        self.monitor.set_note(f"{state}{extra}")

    @work(exclusive=True, group="feed")
    async def _feed(self, token: int) -> None:
        if self.speed <= 0:
            for event in self.events:
                self.handle_event(event)
            self.position = len(self.events)
            self._finish_note()
            return
        while self.position < len(self.events):
            if token != self._run_token:
                return
            if self.paused and not self._step.is_set():
                await asyncio.sleep(0.05)
                continue
            event = self.events[self.position]
            self.position += 1
            self.handle_event(event)
            if isinstance(event, EpochEnded):
                if self._step.is_set():
                    self._step.clear()
                    self._note()
                    continue
                await asyncio.sleep(1.0 / self.speed)
        self._finish_note()

    def _finish_note(self) -> None:
        state = self.monitor.state
        if state.finished is None and state.started is not None:
            self.monitor.set_note(
                f"the log ends at epoch {len(state.epochs)} without a finish: the run was killed, or is still "
                "being written (try `tui-trainer watch`)"
            )
        else:
            self._note()


class WatchApp(MonitorApp):
    """Follow a run's events.jsonl as another process appends to it.

    A line still being written (no newline yet) is waited for, not an error.
    Shows whether the writer is running, finished, or gone without finishing.
    """

    BINDINGS = [Binding("q", "quit", "Quit")]
    DEFER_CHARTS = True

    def __init__(self, run_dir: Path, poll_s: float = POLL_S, source=None):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.source = source  # a TensorBoard log (sources.TBSource): read() and liveness() as LogTail's
        self.poll_s = poll_s
        self.problems: list[str] = []  # broken lines met so far, each also shown as a notification
        self.liveness = "waiting"

    def on_mount(self) -> None:
        super().on_mount()
        self.push_screen(self.monitor)
        self.monitor.set_note(f"watching {self.run_dir}")
        self._follow(self.new_run())

    @work(exclusive=True, group="feed")
    async def _follow(self, token: int) -> None:
        tail = self.source or LogTail(self.run_dir / EVENTS)
        while token == self._run_token:
            for event in tail.read():
                self.handle_event(event)
            while tail.problems:
                problem = tail.problems.pop(0)
                self.problems.append(problem)
                self.notify(problem, severity="warning", timeout=10)
            state = self.monitor.state
            if self.source is not None:
                self.liveness = self.source.liveness() if state.started else "waiting"
            else:
                self.liveness = self._liveness(state)
            if self.liveness == "finished":
                self.monitor.set_note(f"finished: {state.status}")
            elif self.liveness == "gone":
                state.live = False  # nothing more will come: stop the clock and the estimate
                self.monitor.set_note(f"process gone without finishing, after epoch {len(state.epochs)}")
            else:
                state.live = True  # a resume brings a stopped run back
                epochs = f", epoch {state.current_epoch}" if state.current_epoch else ""
                what = {"running": "running", "stalled": "no news for a long time (another host?)",
                        "resuming": "resuming", "waiting": "waiting for the run to start"}[self.liveness]
                self.monitor.set_note(f"watching: {what}{epochs}")
            # a finished or gone run is still followed, more slowly: `train --resume` may take it up again
            await asyncio.sleep(self.poll_s if self.liveness not in ("finished", "gone") else max(self.poll_s, 1.0))

    def _liveness(self, state) -> str:
        """The writer's state; a held run lock means a writer is at work (a resume before its first line)."""
        if state.started is None:
            return "waiting"
        found = liveness(state, self.run_dir)
        # a writer holds the lock of a run that ended or whose process is gone: a resume, before its first line
        return "resuming" if found in ("finished", "gone") and held(self.run_dir) else found
