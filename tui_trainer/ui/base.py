"""What every app with a monitor screen shares: one path from an event to the screen.

Live training, replay and watch all hand events to ``handle_event``; the
monitor screen redraws from its RunState at most ten times a second.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from textual import on
from textual.app import App

from ..text import printable
from .messages import TrainingEvent

if TYPE_CHECKING:
    from ..events import Event
    from .screens.monitor import MonitorScreen

REDRAW_INTERVAL_S = 0.2  # at most five redraws a second, however fast batches come
APP_NAME = "tui-trainer"
MAX_ERROR_LOG_BYTES = 1_000_000  # errors.log is moved to errors.log.1 past this (one old log kept)
REPEAT_QUIET_S = 10.0  # the same error again within this: logged, not notified again


def state_dir() -> Optional[Path]:
    """The user's state folder for tui-trainer (platformdirs' user_state_dir, ``$XDG_STATE_HOME``), made
    if missing, private to the user; None when it can't be (a read-only home)."""
    try:
        from platformdirs import user_state_dir

        folder = Path(user_state_dir(APP_NAME, appauthor=False))
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except (OSError, ImportError):
        return None
    return folder if folder.is_dir() and not folder.is_symlink() else None


def log_error(error: BaseException) -> Optional[Path]:
    """Append ``error``'s traceback to ``errors.log`` in the state folder; its path, or None if not written.

    Opened with O_NOFOLLOW: a link planted at that name is not written through.
    """
    folder = state_dir()
    if folder is None:
        return None
    path = folder / "errors.log"
    try:
        if path.stat().st_size > MAX_ERROR_LOG_BYTES:  # an error repeating for hours must not fill the disk
            os.replace(path, folder / "errors.log.1")
    except OSError:
        pass
    text = f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n" + "".join(
        traceback.format_exception(type(error), error, error.__traceback__))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError:
        return None
    return path


def usable_folder(folder: Optional[Path]) -> bool:
    """An existing, writable folder that is no link (a link planted at the name is not written through)."""
    return folder is not None and folder.is_dir() and not folder.is_symlink() and os.access(folder, os.W_OK)


def screenshot_folder(app: App) -> Path:
    """Where a screenshot goes: the user's Downloads folder, else the app's runs folder, else the current one.

    The runs folder is the trainer's (``--runs-dir``, ``$TUI_TRAINER_RUNS``, ./runs); a viewer has none
    of its own and uses the default one when it exists.
    """
    try:
        from platformdirs import user_downloads_path

        downloads: Optional[Path] = user_downloads_path()
    except ImportError:
        downloads = None
    if usable_folder(downloads):
        return downloads
    runs = getattr(app, "runs_dir", None)
    if runs is None:
        from ..runlog import default_runs_dir

        runs = default_runs_dir()
    runs = Path(runs).absolute()
    return runs if usable_folder(runs) else Path.cwd()


class MonitorApp(App):
    """An app that shows runs on a MonitorScreen."""

    CSS_PATH = "app.tcss"
    TITLE = "tui-trainer"
    RERAISE_IN_TESTS = True
    """Under ``run_test`` an error caught at the edge is still raised when the test's app closes, so a
    broken handler fails its test; the tests of the edge itself turn it off."""
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
        self._recovering = False
        self._last_error: tuple[str, float] = ("", 0.0)  # what was last notified, and when

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

    # -- screenshots: a folder that exists -------------------------------------------------------------

    def deliver_screenshot(self, filename: Optional[str] = None, path: Optional[str] = None,
                           time_format: Optional[str] = None) -> Optional[str]:
        """The palette's screenshot, saved where it can be: Textual writes to ``~/Downloads`` only, which
        SSH boxes and containers seldom have (the save then failed). Textual's toast names the file."""
        return super().deliver_screenshot(filename, path or str(screenshot_folder(self)), time_format)

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

    # -- the app's edge: an error no handler caught -----------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """Textual's one sink for an error no handler caught, which by default ends the app (exit 1, a
        traceback, the builder's edits lost). Once the app is up the error is logged, the user's work
        autosaved and said in a notification, and the app stays; before that, Textual's default."""
        if not self._first_frame_shown or self._recovering or self._exit_renderables:
            super()._handle_exception(error)
            return
        self._recovering = True
        try:
            self._recover(error)
        except Exception:  # recovering failed too: Textual's way, which at least shows the first error
            super()._handle_exception(error)
        finally:
            self._recovering = False

    async def _dispatch_message(self, message) -> None:
        # Key bindings' actions and the app's own handlers run here: an error escaping would end the
        # app's message loop, and with it the app. Caught, it is handled like any other at the edge.
        try:
            await super()._dispatch_message(message)
        except Exception as error:
            if not self._first_frame_shown:
                raise
            self._handle_exception(error)

    def _register(self, parent, *widgets, **kwargs):
        # Every screen and widget has its own message loop, which Textual ends when one of its handlers
        # raises: the screen then shows but no longer answers (and the app can't be left cleanly).
        # Each loop's dispatch is wrapped, so such an error goes to the app's edge and the loop goes on.
        for widget in widgets:
            self._guard(widget)
        return super()._register(parent, *widgets, **kwargs)

    def _guard(self, pump) -> None:
        if getattr(pump, "_tui_guarded", False):
            return
        dispatch = pump._dispatch_message

        async def guarded(message) -> None:
            try:
                await dispatch(message)
            except Exception as error:
                if not self._first_frame_shown:
                    raise
                self._handle_exception(error)

        pump._dispatch_message = guarded
        pump._tui_guarded = True

    def _recover(self, error: Exception) -> None:
        if self.is_headless and self.RERAISE_IN_TESTS and self._exception is None:
            self._exception = error  # raised by run_test when the test's app closes
        log = log_error(error)
        first = " ".join(str(error).split())[:200]
        what = f"{type(error).__name__}: {first}" if first else type(error).__name__
        now = time.monotonic()
        if what == self._last_error[0] and now - self._last_error[1] < REPEAT_QUIET_S:
            return  # a handler failing on every tick: one notification, every occurrence in the log
        self._last_error = (what, now)
        saved = self.autosave()
        lines = [what, f"Details in {log}" if log else "(the details could not be written to the state folder)"]
        if saved is not None:
            lines.append(f"Your unsaved model is kept in {saved}")
        self.notify("\n".join(lines), title="Something went wrong; the app goes on", severity="error", timeout=20)

    def autosave(self) -> Optional[Path]:
        """Keep what the user would lose (apps with an editor override it); the file written, or None."""
        return None

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
