"""Writing files so that a full disk or a kill never leaves a half-written file in place of a good one.

Every file tui-trainer writes whole (summary.json, preset.toml, exports, presets saved from the
builder, model.keras) goes to a temporary file in the same folder first and is then renamed over
the target: a rename within one file system is atomic, so a reader sees the old file or the new
one, never a part. What a write fails with is said in one line by :func:`write_error_message`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import Iterator, Optional

__all__ = ["DISK_ERRNOS", "LinkError", "append_fd", "dir_mode", "error_text", "file_mode", "is_disk_error",
           "open_append", "refuse_link", "replacing", "write_bytes_atomic", "write_error_message", "write_text_atomic"]

# The errors a run can't go on after, whatever tui-trainer does: no space, a read-only file
# system, no permission, a quota.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT})

_WHAT = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "a link is in the place of a run file (refused, not followed)",
}


class LinkError(OSError):
    """A symbolic link stands where a run file should be; ``str()`` is one line naming it."""


def refuse_link(path: str | os.PathLike[str]) -> None:
    """Raise :class:`LinkError` when ``path`` is a symbolic link (a run file is never written through one).

    A rename over a link replaces the link and writes nothing outside, but a link there was put by
    someone else: saying so beats silently replacing it.
    """
    if os.path.islink(path):
        raise LinkError(errno.ELOOP, f"{os.fspath(path)} is a symbolic link; tui-trainer never writes through "
                                     "one (remove it)", os.fspath(path))


def append_fd(path: str | os.PathLike[str]) -> int:
    """A descriptor open for appending to ``path``, made without following a link (``O_NOFOLLOW``): a link
    planted where a run file should be is refused with :class:`LinkError`, never followed out of the run
    folder. The file is created with the umask's mode, like ``open(path, "a")``; wrap it with ``open(fd, "a")``.
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            refuse_link(path)
        raise


def open_append(path: str | os.PathLike[str], binary: bool = False):
    """``open(path, "a")`` without following a link (see :func:`append_fd`)."""
    return open(append_fd(path), "ab" if binary else "a", **({} if binary else {"encoding": "utf-8"}))


def is_disk_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a write failure of the disk (full, read-only, not allowed)."""
    return isinstance(exc, OSError) and exc.errno in DISK_ERRNOS


def error_text(exc: OSError) -> str:
    """What an OSError means, in a few words: ``no space left on device``, ``read-only file system``."""
    return _WHAT.get(exc.errno) or (exc.strerror or str(exc) or type(exc).__name__).lower()


def write_error_message(exc: OSError, path: str | os.PathLike[str]) -> str:
    """``no space left on device writing runs/x/events.jsonl``: what failed, in words, and where."""
    return f"{error_text(exc)} writing {os.fspath(path)}"


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str], suffix: Optional[str] = None, *, run_file: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; when the block ends without an error, rename it over ``path``.

    On an error the temporary file is removed and ``path`` is left as it was.

    Args:
        path: the file to write.
        suffix: the temporary file's suffix (default: ``path``'s own, which some writers need,
            e.g. Keras wants ``.keras``).
        run_file: ``path`` is in a run folder: a link standing there is refused (:class:`LinkError`).
            (Elsewhere, e.g. an export the user names, a link there is replaced, never followed.)
    """
    target = Path(path)
    if run_file:
        refuse_link(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".tmp-{target.stem}-", suffix=suffix or target.suffix,
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with contextlib.suppress(OSError):  # mkstemp makes 0600; every run file gets the umask's mode
            os.chmod(tmp, file_mode(), follow_symlinks=False)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str, encoding: str = "utf-8", *,
                      run_file: bool = False) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, renamed over it at the end.

    The data is flushed to disk before the rename, so a crash right after leaves the whole new
    file or the old one.

    Raises:
        OSError: the write failed (``path`` is unchanged and no temporary file is left).
    """
    return write_bytes_atomic(path, text.encode(encoding), run_file=run_file)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, *, run_file: bool = False) -> Path:
    """Write ``data`` to ``path`` through a unique temporary file (``mkstemp``) in the same folder, renamed
    over it at the end; see :func:`write_text_atomic`.

    Raises:
        LinkError: ``path`` is a symbolic link (nothing is written).
        OSError: the write failed (``path`` is unchanged and no temporary file is left).
    """
    target = Path(path)
    with replacing(target, run_file=run_file) as tmp:
        with open(tmp, "r+b") as fh:  # mkstemp made it, exclusively: no link can stand there
            fh.write(data)
            fh.flush()
            with contextlib.suppress(OSError):  # not every file system can (some FUSE mounts)
                os.fsync(fh.fileno())
    return target


def umask() -> int:
    """This process's umask, read without changing it where Linux tells it (/proc/self/status): setting it
    to read it, as ``os.umask`` must, would give a file another thread makes meanwhile mode 0666."""
    try:
        fd = os.open("/proc/self/status", os.O_RDONLY)
        try:
            status = os.read(fd, 1 << 16).decode("ascii", "replace")
        finally:
            os.close(fd)
        for line in status.splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a plain ``open`` gives a new file under this process's umask (0644 under umask 022)."""
    return 0o666 & ~umask()


def dir_mode() -> int:
    """The mode a plain ``mkdir`` gives a new folder under this process's umask (0755 under umask 022)."""
    return 0o777 & ~umask()
