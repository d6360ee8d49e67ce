"""Text from files and users made safe to print on a terminal."""

from __future__ import annotations

import re

__all__ = ["one_line", "printable"]

# ANSI/VT escape sequences (CSI ``ESC [ ... final``, OSC ``ESC ] ... BEL or ESC \\``, and two-byte
# ``ESC x``) in their 7-bit and 8-bit (C1) forms, then any other C0/C1 control character. A preset
# name holding them could retitle the window, clear the screen or move the cursor when printed.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC, e.g. set the window title
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[@-Z\\-_]?"  # two-byte sequences, or a lone ESC
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI (U+009B): terminals that read C1 act on it as on ESC [
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x9c|\x1b\\)?"  # 8-bit DCS, SOS, OSC, PM, APC strings
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")  # zero-width, bidi overrides


def printable(text: object, *, newlines: bool = False) -> str:
    """``text`` with escape sequences removed and other control characters shown as ``?``.

    Args:
        text: anything; it is turned into a string first.
        newlines: keep ``\\n`` (for multi-line text such as a preset file); otherwise a newline
            or tab becomes a space, so one value stays on one line.
    """
    s = _ESCAPES.sub("", str(text))
    s = _INVISIBLE.sub("", s)
    if not newlines:
        s = s.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    else:
        s = s.replace("\r\n", "\n").replace("\t", "    ")
    return _CONTROLS.sub("?", s)  # \n (kept above) is outside _CONTROLS's ranges


def one_line(exc: BaseException, *, limit: int = 300) -> str:
    """``"TypeName: first line of the message"``, at most ``limit`` characters of message.

    The one way an error becomes a line of a note, a status bar or a CLI message: a TensorFlow error's
    message can run to hundreds of lines (a graph dump), and a note is one line.
    """
    lines = str(exc).strip().splitlines()
    first = lines[0][:limit] if lines else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
