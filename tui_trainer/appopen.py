"""Opening the app: on a preset (``open_app``) or on a recorded run (``open_replay``).

Shared by the console script's fast paths (:mod:`tui_trainer.launch`, no typer) and the typer
commands (:mod:`tui_trainer.cli`), so neither imports the other's module back.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

APP_NAME = "tui-trainer"


def uses_web_driver() -> bool:
    """Whether Textual will draw through its web driver (``tui-trainer serve``), not on a terminal.

    textual-serve starts the app as a subprocess with pipes, not a TTY, and names the driver in
    ``TEXTUAL_DRIVER`` (``textual.drivers.web_driver:WebDriver``); the terminal checks don't apply then.
    """
    return "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")


def has_terminal() -> bool:
    """Whether the app can draw: a TTY on stdin and stdout, or the web driver."""
    return uses_web_driver() or (sys.stdin.isatty() and sys.stdout.isatty())


def stderr_log_path() -> Optional[Path]:
    """Where the app's own native stderr goes: ``stderr.log`` in the user's log folder.

    None when that folder can't be created (read-only home): the lines are then dropped, never drawn.
    """
    try:
        from platformdirs import user_log_dir

        folder = Path(user_log_dir(APP_NAME, appauthor=False))
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, ImportError):
        return None
    path = folder / "stderr.log"
    return path if os.access(folder, os.W_OK) else None


def open_app(preset: Optional[str], runs_dir: Optional[Path], read_only: bool = False) -> int:
    """Open the app on a preset, in a terminal or under Textual's web driver; returns the exit code (2 for bad input).

    ``read_only``: the app opens on the runs and neither trains nor writes anything (``serve --read-only``).
    """
    from . import presets
    from .spec import SpecError

    try:
        spec, path = presets.load(preset)
    except SpecError as exc:
        for line in str(exc).splitlines():  # a preset with several problems: one line each
            print(f"error: {line}", file=sys.stderr)
        return 2
    if not has_terminal():
        print("error: the app needs a terminal; use `tui-trainer train` for headless training, "
              "or `tui-trainer serve` for a browser", file=sys.stderr)
        return 2

    from .ui.app import TrainerApp
    from .ui.terminal import textual_owns_terminal

    with textual_owns_terminal(None if read_only else stderr_log_path()):  # read-only: not even our own log
        app = TrainerApp(spec, path, runs_dir, read_only=read_only)  # None: the app's default, read when first needed
        try:
            app.run()
        finally:
            app.finish_headless()  # SIGHUP: the run is trained and recorded without a screen
    if app.hung_up:  # Textual's last writes to the vanished terminal failed; the run itself went on
        return 0
    return app.return_code or 0


def resolve_run(run: Path, runs_dir: Optional[Path] = None) -> Path:
    """A run argument as given, or, when no such path exists, the run of that id in the runs folder."""
    from .runlog import default_runs_dir

    if run.exists() or len(run.parts) != 1:
        return run
    candidate = (runs_dir or default_runs_dir()) / run
    return candidate if candidate.is_dir() else run


def open_replay(run: Path, speed: float, patience: int = 5) -> int:
    """Replay a recorded run or a TensorBoard log (``patience``: its what-if EarlyStopping's) in the
    monitor screen; returns the exit code (2 for bad input, one line on stderr)."""
    from .runlog import RunLogError, empty_run_message
    from .sources import load
    from .text import printable

    run = resolve_run(run)
    try:
        loaded = load(run, compact=True, patience=patience)  # compact: a 1e6-batch run stays small
    except RunLogError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {printable(run)}: can't read it ({exc.strerror or exc})", file=sys.stderr)
        return 2
    for problem in loaded.warnings:
        print(f"warning: {printable(problem)}", file=sys.stderr)
    if loaded.started is None:  # as export and compare say it
        print(f"error: {printable(empty_run_message(run))}", file=sys.stderr)
        return 2
    if not has_terminal():
        print("error: this command draws in a terminal; for text use `tui-trainer export` or `runs list`",
              file=sys.stderr)
        return 2
    from .ui.viewer import ReplayApp

    from .sources import TBSource, is_foreign

    what_if = (lambda p: TBSource(run, p).load().events) if is_foreign(run) else None  # `+`/`-` move the marks
    ReplayApp(loaded.dir, loaded.events, speed, loaded.warnings, what_if=what_if, patience=patience).run()
    return 0
