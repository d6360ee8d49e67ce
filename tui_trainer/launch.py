"""The console script's entry point.

``tui-trainer`` with no arguments opens the app at once, without building the
typer command tree first (that import is a tenth of the first-frame budget);
everything else goes through the typer CLI.
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


def open_app(preset: Optional[str], runs_dir: Optional[Path]) -> int:
    """Open the app on a preset, in a terminal or under Textual's web driver; returns the exit code (2 for bad input)."""
    from . import presets
    from .runlog import default_runs_dir
    from .spec import SpecError

    try:
        spec, path = presets.load(preset)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not has_terminal():
        print("error: the app needs a terminal; use `tui-trainer train` for headless training, "
              "or `tui-trainer serve` for a browser", file=sys.stderr)
        return 2

    from .ui.app import TrainerApp
    from .ui.terminal import textual_owns_terminal

    runs = runs_dir or default_runs_dir()
    with textual_owns_terminal(stderr_log_path()):
        TrainerApp(spec, path, runs).run()
    return 0


def main() -> None:
    if len(sys.argv) == 1:
        sys.exit(open_app(None, None))
    from .cli import main as cli_main

    cli_main()
