"""Checks on files a user names (presets, data) before they are opened.

A device, a FIFO or a socket given as a preset or a data file would be read forever
(``/dev/zero`` until the memory runs out) or block on open: they are refused by name,
before anything opens them.
"""

from __future__ import annotations

import os
import stat
from typing import Optional

__all__ = ["MAX_PRESET_BYTES", "file_problem", "size_text"]

MAX_PRESET_BYTES = 1_000_000  # a preset is a few hundred bytes; a megabyte is a wrong file


def size_text(n: int) -> str:
    """``1.5 MB``, ``820 kB``, ``12 bytes``."""
    if n >= 1e6:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e3:.0f} kB" if n >= 1e3 else f"{n} bytes"


def file_problem(path: str | os.PathLike[str], *, max_bytes: Optional[int] = None,
                 what: str = "a regular file") -> Optional[str]:
    """What is wrong with reading ``path`` as a regular file, in a few words; None if nothing is.

    Missing files and folders are left to the caller (it knows what to suggest).

    Args:
        path: the file.
        max_bytes: the largest size accepted, if any.
        what: what the file should be, for the message (``a preset (.toml) file``).
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
        if max_bytes is not None and stat.S_ISREG(st.st_mode) and st.st_size > max_bytes:
            return f"too large ({size_text(st.st_size)}; {what} is at most {size_text(max_bytes)})"
        return None
    kind = ("a character device" if stat.S_ISCHR(st.st_mode) else "a block device" if stat.S_ISBLK(st.st_mode)
            else "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
            else "a special file")
    return f"not a regular file ({kind}); expected {what}"


def is_regular(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a regular file (following symlinks), without opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


