"""What every app with a monitor screen shares: one path from an event to the screen.

Live training, replay and watch all hand events to ``handle_event``; the
monitor screen redraws from its RunState at most ten times a second.
"""

from __future__ import annotations

import asyncio
import collections
import signal
import threading
from typing import TYPE_CHECKING, Optional

from textual import on
from textual.app import App

from ..text import printable
from .messages import TrainingEvent

if TYPE_CHECKING:
    from ..events import Event
    from .screens.monitor import MonitorScreen

REDRAW_INTERVAL_S = 0.2  # at most five redraws a second, however fast batches come


class MonitorApp(App):
    """An app that shows runs on a MonitorScreen."""

    CSS_PATH = "app.tcss"
    TITLE = "tui-trainer"
    DEFER_CHARTS = False
    IDLE = "Waiting for the run's first event."
    """What the monitor says before a run has started: viewers wait for one; only the trainer says
    "Press t" (a viewer can't train)."""
    """Whether the monitor's charts come after the app's first frame (replay and watch: the verdict first)."""

    def __init__(self) -> None:
        super().__init__()
        # Events from the training thread wait here for the next redraw tick. Posting each one
        # as a message would wake the UI ten times a second, and every wake-up makes the training
        # thread wait for the GIL (measured: the app attached cost 14 % of training time).
        self.inbox: collections.deque = collections.deque()
        self._run_token = 0
        self._dirty = False
        self._monitor: Optional["MonitorScreen"] = None
        self.hung_up = False  # SIGHUP: the terminal is gone (the SSH connection dropped)
        self.terminations = 0  # SIGTERMs received
        self._signals: list[int] = []
        self._first_frame_shown = False

    @property
    def monitor(self) -> "MonitorScreen":
        """The monitor screen, made on first use: its charts pull in plotext and numpy, which a
        first frame without charts does not need."""
        if self._monitor is None:
            from .screens.monitor import MonitorScreen

            self._monitor = MonitorScreen(defer_charts=self.DEFER_CHARTS and not self._first_frame_shown)
            self.install_screen(self._monitor, "monitor")
        return self._monitor

    def on_ready(self) -> None:
        """The first frame is on the screen: what was left out of it comes now."""
        self._first_frame_shown = True
        if self._monitor is not None:
            # after the refresh the first contents asked for, or they would wait for the charts too
            self._monitor.call_after_refresh(self._monitor.mount_charts)

    def on_mount(self) -> None:
        self.set_interval(REDRAW_INTERVAL_S, self._redraw)
        self._install_signal_handlers()

    # -- signals: a run survives its terminal -------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        """SIGTERM and SIGHUP end the app through Textual, so the terminal is restored and runs are closed.

        Without these Python dies at once on either: no summary, no model, the terminal left in the
        alternate screen with the mouse captured.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for name, handler in (("SIGTERM", self._on_sigterm), ("SIGHUP", self._on_sighup)):
            signum = getattr(signal, name, None)
            if signum is None:
                continue
            try:
                loop.add_signal_handler(signum, handler)
            except (NotImplementedError, RuntimeError, ValueError):
                continue
            self._signals.append(signum)

    def on_unmount(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        for signum in self._signals:
            loop.remove_signal_handler(signum)
        self._signals = []

    def _on_sigterm(self) -> None:
        self.terminations += 1
        if self.terminations > 1:  # a second one: leave now (the terminal is still restored)
            self.exit(return_code=143)
            return
        self.run_worker(self.stop_for_signal(), group="signal", exclusive=True)

    def _on_sighup(self) -> None:
        self.hung_up = True
        self.exit()

    async def stop_for_signal(self) -> None:
        """SIGTERM: close what is running as cancelled, then leave (apps that run something override it)."""
        self.exit(return_code=143)

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
        from ..events import RunStarted  # here: the builder's first frame doesn't need the module

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
        stack = self.screen_stack
        if monitor is not None and (not stack or stack[-1] is not monitor):
            return  # not on screen: draw when it is shown (showing it forces a redraw); keep _dirty
        if monitor is not None and (self._dirty or monitor.state.running):
            self._dirty = False
            monitor.refresh_view()
