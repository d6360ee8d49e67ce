"""The console script's entry point.

``tui-trainer`` with no arguments opens the app at once, without building the
typer command tree first (that import is a tenth of the first-frame budget);
everything else goes through the typer CLI.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional


def open_app(preset: Optional[str], runs_dir: Optional[Path]) -> int:
    """Open the terminal app on a preset; returns the exit code (2 for bad input)."""
    from . import presets
    from .runlog import default_runs_dir
    from .spec import SpecError

    try:
        spec, path = presets.load(preset)
    except SpecError as exc:
        for line in str(exc).splitlines():  # a preset with several problems: one line each
            print(f"error: {line}", file=sys.stderr)
        return 2
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("error: the app needs a terminal; use `tui-trainer train` for headless training", file=sys.stderr)
        return 2

    from .ui.app import TrainerApp
    from .ui.terminal import textual_owns_terminal

    runs = runs_dir or default_runs_dir()
    with textual_owns_terminal(runs / "tui-trainer-stderr.log"):
        app = TrainerApp(spec, path, runs)
        try:
            app.run()
        finally:
            app.finish_headless()  # SIGHUP: the run is trained and recorded without a screen
    if app.hung_up:  # Textual's last writes to the vanished terminal failed; the run itself went on
        return 0
    return app.return_code or 0


def main() -> None:
    if len(sys.argv) == 1:
        sys.exit(open_app(None, None))
    from .cli import main as cli_main

    cli_main()
