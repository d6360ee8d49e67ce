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

__all__ = ["DISK_ERRNOS", "error_text", "is_disk_error", "replacing", "write_error_message", "write_text_atomic"]

# The errors a run can't go on after, whatever tui-trainer does: no space, a read-only file
# system, no permission, a quota.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT})

_WHAT = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


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
def replacing(path: str | os.PathLike[str], suffix: Optional[str] = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; when the block ends without an error, rename it over ``path``.

    On an error the temporary file is removed and ``path`` is left as it was.

    Args:
        path: the file to write.
        suffix: the temporary file's suffix (default: ``path``'s own, which some writers need,
            e.g. Keras wants ``.keras``).
    """
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".tmp-{target.stem}-", suffix=suffix or target.suffix,
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, renamed over it at the end.

    The data is flushed to disk before the rename, so a crash right after leaves the whole new
    file or the old one.

    Raises:
        OSError: the write failed (``path`` is unchanged and no temporary file is left).
    """
    target = Path(path)
    with replacing(target) as tmp:
        with open(tmp, "w", encoding=encoding) as fh:
            fh.write(text)
            fh.flush()
            with contextlib.suppress(OSError):  # not every file system can (some FUSE mounts)
                os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a plain open would honour the umask
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
