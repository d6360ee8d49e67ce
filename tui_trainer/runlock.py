"""One writer per run folder: an exclusive ``flock`` on a lock file inside the run.

``train``, ``train --resume`` and the Monitor hold it for the whole run; a second writer is told
at once who holds it (``RUN: another process (pid N) is writing this run``). Readers (``runs list``,
``watch``, ``replay``, ``export``) never take it. The kernel drops the lock when its process dies,
whatever way, so a killed run never leaves a stale lock behind; ``runs list`` can ask, without
waiting, whether anyone holds it (:func:`held`).
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from typing import Optional

from .atomic import file_mode, refuse_link
from .runlog import LOCK  # inside the run folder; holds the writer's pid while it is held

__all__ = ["LOCK", "RunLock", "RunLocked", "held"]


class RunLocked(ValueError):
    """Another process writes this run; ``str()`` is one line naming its pid."""


def _open(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags, file_mode())
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            refuse_link(path)
        raise


class RunLock:
    """The write lock of one run folder.

    Args:
        run_dir: the run folder.
    """

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK
        self._fd: Optional[int] = None

    def acquire(self) -> "RunLock":
        """Take the lock now, or fail at once.

        Raises:
            RunLocked: another process holds it.
            LinkError: a link stands where the lock file should be.
            OSError: the lock file can't be made (a read-only or full disk).
        """
        fd = _open(self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            pid = _read_pid(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                who = f"pid {pid}" if pid else "another pid"
                raise RunLocked(f"{self.run_dir}: another process ({who}) is writing this run") from None
            raise
        try:  # who holds it, for the message the next writer gets
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # a full disk: the lock still holds, the message just names no pid
        self._fd = fd
        return self

    def release(self) -> None:
        """Let the lock go (closing the file drops the flock). The file stays: removing it would let a
        process that opened it a moment ago lock a file nobody else can find."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    @property
    def locked(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> "RunLock":
        return self.acquire() if self._fd is None else self

    def __exit__(self, *exc) -> None:
        self.release()


def _read_pid(fd: int) -> Optional[int]:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except (OSError, ValueError):
        return None


def held(run_dir: Path) -> bool:
    """Whether a writer holds ``run_dir``'s lock right now (without taking it, and without making the file)."""
    try:  # read-only: a reader may not own the run, and flock needs no write access
        fd = os.open(Path(run_dir) / LOCK, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
