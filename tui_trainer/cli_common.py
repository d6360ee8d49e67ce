"""What every ``tui-trainer`` command module shares: the typer ``app``, the common options, and the
one-line error/warning, terminal and Ctrl-C helpers.

:mod:`tui_trainer.cli` and the command modules (``cli_presets``, ``cli_runs``, ``cli_results``,
``cli_script``) all import from here and never from each other, so there is no import cycle; a new
command goes in the module of its concern (or a new ``cli_*.py``) and registers itself on :data:`app`,
then :mod:`tui_trainer.cli` imports that module so the command is there (tests/unit/test_architecture.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

from .appopen import has_terminal, resolve_run
from .text import printable

__all__ = ["HELP_OPTIONS", "Interrupts", "PresetArgument", "RunsDirOption", "SafeStdout", "app", "complete_preset",
           "complete_run", "fail", "has_terminal", "needs_terminal", "resolve_run", "warn"]

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="tui-trainer",
    help="Build, train and watch a Keras model from a terminal.",
    no_args_is_help=False,
    add_completion=True,  # --install-completion / --show-completion; presets and run folders complete
    pretty_exceptions_enable=False,
    context_settings=HELP_OPTIONS,
)


def complete_preset(incomplete: str) -> list[str]:
    """Shell completion: preset names (built-in and the user's) starting with what was typed."""
    from . import presets

    return [e.name for e in presets.available() if e.name.startswith(incomplete)]


def complete_run(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion: runs in the runs folder (``--runs-dir``, ``$TUI_TRAINER_RUNS`` or ./runs).

    A bare start (``2026``) completes to run ids, which every run argument accepts; a start with a
    slash (``runs/2026``) completes to folder paths.
    """
    from .runlog import EVENTS, default_runs_dir

    root = Path((ctx.params.get("runs_dir") if ctx is not None else None) or default_runs_dir())
    try:
        folders = sorted(p for p in root.iterdir() if (p / EVENTS).is_file())
    except OSError:
        return []
    shown = [str(p) for p in folders] if "/" in incomplete else [p.name for p in folders]
    return [s for s in shown if s.startswith(incomplete)]


RunsDirOption = Annotated[
    Optional[Path],
    typer.Option(envvar="TUI_TRAINER_RUNS", show_envvar=True, help="Where run folders are (default ./runs)."),
]
PresetArgument = Annotated[
    Optional[str],
    typer.Argument(help="Preset name or path to a .toml file (default: digits).", autocompletion=complete_preset),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print the message to stderr, ``error: `` before each of its lines, and return the Exit to raise.

    One line, except for a preset with several problems: one line each (SpecError). The message often
    echoes a file's content or a name a user chose: control characters and escape sequences are taken
    out first (:func:`~tui_trainer.text.printable`).
    """
    for line in str(message).splitlines() or [""]:
        typer.echo(f"error: {printable(line)}", err=True)
    return typer.Exit(code=code)


def warn(message: str) -> None:
    typer.echo(f"warning: {printable(message)}", err=True)


class Interrupts:
    """First Ctrl-C (or SIGTERM) cancels at the next batch; a second Ctrl-C aborts.

    A hang-up (the SSH session went away) is ignored, so a run started without
    nohup still finishes and closes its log.
    """

    def __init__(self, cancel: threading.Event, *, abort_until_training: bool = False):
        self.cancel = cancel
        self.saved: dict[int, object] = {}
        self._terminal: Optional[int] = None  # fd 2 as it is now: training points fd 2 at stderr.log
        # train: until the first batch nothing checks ``cancel`` (data loading, TensorFlow's import,
        # building the model), so a signal then interrupts at once instead of waiting for training
        self.abort_now = abort_until_training

    def __enter__(self) -> "Interrupts":
        if threading.current_thread() is not threading.main_thread():
            return self
        with contextlib.suppress(OSError):
            self._terminal = os.dup(2)
        self.saved[signal.SIGINT] = signal.signal(signal.SIGINT, self._on_signal)
        self.saved[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._on_signal)
        if hasattr(signal, "SIGHUP"):
            self.saved[signal.SIGHUP] = signal.signal(signal.SIGHUP, signal.SIG_IGN)
        return self

    def training_started(self) -> None:
        """From now on the training callback checks ``cancel`` after every batch."""
        self.abort_now = False

    def _on_signal(self, signum, frame) -> None:
        if self.abort_now:
            self.cancel.set()
            raise KeyboardInterrupt
        if self.cancel.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.cancel.set()
        if self._terminal is not None:  # on the terminal, not into the run's stderr.log
            with contextlib.suppress(OSError):
                os.write(self._terminal, b"\nCancelling after the current batch (Ctrl-C again to abort)...\n")

    def __exit__(self, *exc) -> None:
        for signum, handler in self.saved.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        if self._terminal is not None:
            with contextlib.suppress(OSError):
                os.close(self._terminal)
            self._terminal = None


def needs_terminal() -> None:
    if not has_terminal():
        raise fail("this command draws in a terminal; for text use `tui-trainer export` or `runs list`")


class SafeStdout:
    """stdout that goes quiet instead of raising once the terminal is gone (SIGHUP, closed pipe)."""

    def __init__(self) -> None:
        self.dead = False

    def write(self, text: str) -> int:
        if not self.dead:
            try:
                return sys.stdout.write(text)
            except (OSError, ValueError):
                self.dead = True
        return len(text)

    def flush(self) -> None:
        if not self.dead:
            try:
                sys.stdout.flush()
            except (OSError, ValueError):
                self.dead = True
