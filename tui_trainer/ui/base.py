"""What every app with a monitor screen shares: one path from an event to the screen.

Live training, replay and watch all hand events to ``handle_event``; the
monitor screen redraws from its RunState at most ten times a second.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Optional

from textual import on
from textual.app import App

from ..events import Event, RunStarted
from ..text import printable
from .messages import TrainingEvent

if TYPE_CHECKING:
    from .screens.monitor import MonitorScreen

REDRAW_INTERVAL_S = 0.2  # at most five redraws a second, however fast batches come


class MonitorApp(App):
    """An app that shows runs on a MonitorScreen."""

    CSS_PATH = "app.tcss"
    TITLE = "tui-trainer"

    def __init__(self) -> None:
        super().__init__()
        # Events from the training thread wait here for the next redraw tick. Posting each one
        # as a message would wake the UI ten times a second, and every wake-up makes the training
        # thread wait for the GIL (measured: the app attached cost 14 % of training time).
        self.inbox: collections.deque = collections.deque()
        self._run_token = 0
        self._dirty = False
        self._monitor: Optional["MonitorScreen"] = None

    @property
    def monitor(self) -> "MonitorScreen":
        """The monitor screen, made on first use: its charts pull in plotext and numpy, which a
        first frame without charts does not need."""
        if self._monitor is None:
            from .screens.monitor import MonitorScreen

            self._monitor = MonitorScreen()
            self.install_screen(self._monitor, "monitor")
        return self._monitor

    def on_mount(self) -> None:
        self.set_interval(REDRAW_INTERVAL_S, self._redraw)

    def notify(self, message: str, *, title: str = "", severity="information", timeout=None,
               markup: bool = True) -> None:
        """A toast, always as plain text: messages echo file contents and names (a preset named
        ``[/x]`` would be a markup error; an escape sequence would reach the terminal)."""
        super().notify(printable(message, newlines=True), title=printable(title), severity=severity,
                       timeout=timeout, markup=False)

    def new_run(self) -> int:
        """Forget the shown run; returns the token that events of the next run must carry."""
        self._run_token += 1
        self.monitor.reset()
        return self._run_token

    def handle_event(self, event: Event) -> None:
        """Fold one event into the monitor's state; the next tick redraws."""
        self.monitor.state.apply(event)
        if isinstance(event, RunStarted):
            self.sub_title = f"{event.preset_name} · {event.device}"
        self._dirty = True

    @on(TrainingEvent)
    def _on_training_event(self, message: TrainingEvent) -> None:
        if message.run_token == self._run_token:  # a late event of an older run must not leak in
            self.handle_event(message.event)

    def drain_inbox(self) -> None:
        """Apply the events the training thread left since the last tick."""
        inbox = self.inbox
        while inbox:
            token, event = inbox.popleft()
            if token == self._run_token:  # a late event of an older run must not leak in
                self.handle_event(event)

    def _redraw(self) -> None:
        self.drain_inbox()
        monitor = self._monitor
        if monitor is not None and (self._dirty or monitor.state.running):
            self._dirty = False
            monitor.refresh_view()
