"""Keep native log lines off the screen: Textual draws on its own copy of the terminal.

TensorFlow's C++ code writes to file descriptor 2, whatever its log level, and
Textual draws on fd 2 too. Before the app starts we give Textual a duplicate of
the terminal's descriptor and point fd 2 at a log file, so nothing native can
reach the screen and nothing is lost. The engine additionally sends fd 2 to each
run's own ``stderr.log`` while it trains.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Iterator, Optional


@contextlib.contextmanager
def textual_owns_terminal(log_path: Optional[Path]) -> Iterator[None]:
    """Run the app inside this: Textual writes to a private duplicate of fd 2; fd 2 goes to ``log_path``.

    Only a terminal's fd 2 is taken over. Under the web driver (``tui-trainer serve``) fd 2 is a
    pipe that textual-serve reads and Textual draws on stdout: nothing to protect, so nothing changes.
    With ``log_path`` None (or unwritable) native lines are dropped rather than drawn.
    """
    try:
        if not os.isatty(2):
            yield
            return
        sys.stderr.flush()
        term_fd = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    saved_dunder, saved_stderr = sys.__stderr__, sys.stderr
    terminal = open(term_fd, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    try:
        try:
            if log_path is None:
                raise OSError
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = open(log_path, "ab")
        except OSError:
            log = open(os.devnull, "ab")
        with log:
            os.dup2(log.fileno(), 2)
        # Textual's Linux driver writes to sys.__stderr__ (read when the app starts).
        sys.__stderr__ = sys.stderr = terminal
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):  # a hung-up terminal (SSH gone) can't be written
            terminal.flush()
        sys.__stderr__, sys.stderr = saved_dunder, saved_stderr
        os.dup2(term_fd, 2)
        os.close(term_fd)
