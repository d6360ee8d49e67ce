"""The trainer app's training glue: the worker that trains, its start and end, cancel, quit.

A mixin of :class:`~tui_trainer.ui.app.TrainerApp` (kept apart so the app class reads as its screens and
keys). It expects the app's ``builder``, ``preset``, ``source``, ``runs_dir``, ``monitor`` and ``inbox``.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Optional

from textual import work
from textual.worker import Worker, WorkerState

from ..spec import Preset
from ..text import one_line
from .screens.preset_dialogs import QuitConfirmScreen


def detach_from_terminal() -> None:
    """Point stdin, stdout and stderr at /dev/null: the terminal is gone, and writing to it would fail
    (Python exits with code 120 when it can't flush stdout at the end)."""
    import os
    import sys

    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    for fd in (0, 1, 2):
        try:
            os.dup2(null, fd)
        except OSError:
            pass
    os.close(null)
    sys.stdout = open(os.devnull, "w")
    sys.stderr = open(os.devnull, "w")



class TrainingMixin:
    """Train the builder's preset in a thread worker; cancel it; quit without losing the run log."""

    @property
    def training(self) -> bool:
        return any(w.group in ("training", "lesson") and w.is_running for w in self.workers)

    def action_train(self) -> None:
        if self.read_only:
            self.action_refuse("Training is off")
            return
        if self.training:
            if self.monitor.state.started is None:
                self.notify(f"Training is starting ({self.monitor.phase or 'loading data'}); press c to cancel it.",
                            severity="warning")
            else:
                self.notify("Training is already running; press c to cancel it.", severity="warning")
            return
        builder = self.builder
        preset = builder.current_preset()
        if preset is None:
            self.notify(f"Fix the marked fields before training: {builder.first_error()}", severity="error",
                        title="Can't train yet")
            self.action_show_builder()
            return
        token = self.new_run()
        self._cancel = threading.Event()
        self._phase = (token, "loading data")  # the engine's first step, said from the key press on
        self._starting = preset.name
        self.monitor.set_phase("loading data")
        self.action_show_monitor()
        self.sub_title = f"{preset.name} · starting"
        self._train(preset, token, self._cancel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="training")
    def _train(self, preset: Preset, token: int, cancel: threading.Event):
        from ..engine import train  # imports TensorFlow on first use, in this thread

        self.training_thread = threading.current_thread()

        def sink(event) -> None:
            self.inbox.append((token, event))  # thread-safe, never blocks, never wakes the UI

        def on_phase(phase: str) -> None:
            self._phase = (token, phase)  # one assignment: read at the next redraw tick

        return train(preset, sink, cancel, runs_dir=self.runs_dir, source=str(self.source) if self.source else None,
                     on_phase=on_phase)

    def drain_inbox(self) -> None:
        """The run's events, and what its start is doing until the first one."""
        super().drain_inbox()
        if self._monitor is None or self._starting is None:
            return
        token, phase = self._phase
        if self.monitor.state.started is not None or token != self._run_token:
            self._starting = None
        elif phase != self.monitor.phase:
            self.monitor.set_phase(phase)
            self.sub_title = f"{self._starting} · starting: {phase}"

    def action_cancel(self) -> None:
        if not self.training:
            self.notify("Nothing is training.", severity="information")
            return
        self._cancel.set()
        self.notify("Cancelling after the current batch...")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "training":
            return
        self.drain_inbox()  # the run's last events, before its verdict is read
        self.refresh_bindings()
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            from ..datasets import DataError
            from ..runlog import RunDirError
            from ..spec import SpecError

            text = str(error) if isinstance(error, (DataError, SpecError, RunDirError)) else one_line(error)
            self.sub_title = self._starting or self.preset.name  # no longer "· starting"
            self._starting = None
            self.monitor.set_phase("")
            self.monitor.show_error(f"Training did not start: {text}")
            self.action_show_builder()  # back to where it can be fixed, the toast saying why
            self.notify(text, severity="error", title="Training did not start", timeout=10)
        elif event.state == WorkerState.SUCCESS:
            self.last_result = event.worker.result
            self._dirty = True
            status = self.last_result.status
            self.notify(self.monitor.state.verdict() or status, title=f"Run {status}",
                        severity="error" if status == "failed" else "information", timeout=8)

    async def action_quit(self) -> None:
        """Quit cleanly, even mid-training: cancel first so the run log is closed.

        With unsaved or invalid edits in the builder, ask first (Save / Discard / Cancel).
        """
        builder = self.builder
        if builder is not None and builder.is_mounted and not isinstance(self.screen, QuitConfirmScreen):
            invalid = builder.current_preset() is None
            if invalid or builder.modified:
                why = ("Some fields are invalid: the edits can't be saved until they are fixed." if invalid
                       else "The model has unsaved changes.")
                self.push_screen(QuitConfirmScreen(why, can_save=not invalid, save=builder.action_save),
                                 self._after_quit_question)
                return
        await self._leave()

    async def _after_quit_question(self, choice: Optional[str]) -> None:
        # "saved" needs nothing here: the prompt saved and asked to quit again, which finds nothing unsaved
        if choice == "discard":
            await self._leave()

    async def _leave(self) -> None:
        await self._cancel_training("Cancelling training before quitting...")
        self.exit()

    async def stop_for_signal(self) -> None:
        """SIGTERM: the run is closed as cancelled (summary and model written), then the app leaves."""
        await self._cancel_training("Terminated: cancelling training...")
        self.exit(return_code=143)

    async def _cancel_training(self, note: str) -> None:
        workers = [w for w in self.workers if w.group in ("training", "lesson") and w.is_running]
        if workers:
            self._cancel.set()
            self.notify(note)
            try:
                await asyncio.wait_for(asyncio.gather(*(w.wait() for w in workers), return_exceptions=True), 60)
            except asyncio.TimeoutError:
                pass

    def finish_headless(self) -> None:
        """After a hang-up: the app is gone with its terminal, the run it was training goes on to its end."""
        if not self.hung_up:
            return
        detach_from_terminal()
        thread = self.training_thread
        if thread is not None and thread.is_alive():
            thread.join()
