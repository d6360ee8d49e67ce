"""The one place that quiets TensorFlow and keeps its native lines off the terminal.

TensorFlow's C++ code writes to file descriptor 2 whatever Python does: with op determinism on, every
fit prints an error-level line, and a CUDA probe can print a page. On a terminal UI that garbles the
screen; under the CLI it clutters the answer. So every module that imports TensorFlow (the engine,
``results``, ``predict``, ``doctor``, the data download) goes through here first: set the logging
environment before the import, and point fd 2 at a file while TensorFlow runs. Stdlib only, so importing
it is free.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterator

from .atomic import open_append

__all__ = ["native_stderr_to", "quiet_tensorflow", "quiet_tensorflow_env"]

SCRATCH_LOG = "stderr.log"


def quiet_tensorflow_env() -> None:
    """Keep TensorFlow's C++ log lines off the terminal, unless the user chose otherwise.

    Must run before ``import tensorflow`` (or ``keras`` on its TensorFlow backend): the variables are read
    once, at import.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@contextlib.contextmanager
def native_stderr_to(path: Path) -> Iterator[None]:
    """Point file descriptor 2 at ``path`` (appended to, never through a link) for the duration.

    The lines are kept in that file (a run folder's ``stderr.log``) instead of being lost. With no usable
    fd 2, or a file that can't be opened (full or read-only disk), the native lines go where they went.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (embedded, closed): nothing to protect
        yield
        return
    try:
        try:
            with open_append(path, binary=True) as fh:  # never through a link planted in the run folder
                os.dup2(fh.fileno(), 2)
        except OSError:
            pass
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def quiet_tensorflow(prefix: str = "tui-trainer-") -> Iterator[Path]:
    """Quiet TensorFlow's environment, then send its native lines to a scratch file for the duration.

    For work outside a run folder (loading a run's model, probing the devices): the scratch folder and
    its log are deleted afterwards. Yields the log's path, for a caller that wants to read it back.
    """
    quiet_tensorflow_env()
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        log = Path(tmp) / SCRATCH_LOG
        with native_stderr_to(log):
            yield log
