"""The console script's entry point.

``tui-trainer`` with no arguments opens the app at once, without building the
typer command tree first (that import is a tenth of the first-frame budget),
and so does the plain ``tui-trainer replay RUN [--speed S]`` (typer's option
handling imports pydantic: 0.1 s and 10 MB a replay has no use for);
everything else, ``-h`` and every mistake included, goes through the typer CLI.

What opens the app lives in :mod:`tui_trainer.appopen`, which the typer commands use too: this module
imports :mod:`tui_trainer.cli` and nothing imports it back (tests/unit/test_architecture.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

from .appopen import open_app, open_replay


def _plain_replay_args(args: list[str]) -> Optional[tuple[Path, float]]:
    """``RUN [--speed S]`` (either order, ``--speed=S`` too) as (run, speed); None for anything else."""
    run, speed, i = None, 0.0, 0
    while i < len(args):
        a = args[i]
        if a == "--speed" and i + 1 < len(args):
            value, i = args[i + 1], i + 2
        elif a.startswith("--speed="):
            value, i = a.split("=", 1)[1], i + 1
        elif not a.startswith("-") and run is None and a:
            run, i = Path(a), i + 1
            continue
        else:
            return None
        try:
            speed = float(value)
        except ValueError:
            return None
        if not speed >= 0:  # negative or NaN: typer says why
            return None
    return (run, speed) if run is not None else None


def completion_requested() -> bool:
    """Whether the shell is asking for completions (Tab after ``--install-completion``).

    The installed scripts call ``tui-trainer`` with no arguments and ``_TUI_TRAINER_COMPLETE`` set
    (click names it after the program, so any ``_<PROG>_COMPLETE`` counts: ``python -m`` runs too);
    only typer can answer that, so the app's fast paths must not open first.
    """
    return any(key.startswith("_") and key.endswith("_COMPLETE") and value for key, value in os.environ.items())


def main() -> None:
    if completion_requested():
        from .cli import main as cli_main

        cli_main()
        return
    if len(sys.argv) == 1:
        sys.exit(open_app(None, None))
    if sys.argv[1] == "replay" and (plain := _plain_replay_args(sys.argv[2:])) is not None:
        sys.exit(open_replay(*plain))
    from .cli import main as cli_main

    cli_main()
