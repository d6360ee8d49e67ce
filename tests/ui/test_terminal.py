"""Native writes to fd 2 go to a log file while the app runs; Textual keeps the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_native_stderr_goes_to_the_log_and_textual_keeps_the_terminal(tmp_path):
    log = tmp_path / "stderr.log"
    script = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        from tui_trainer.ui.terminal import textual_owns_terminal
        with textual_owns_terminal(Path({str(log)!r})):
            os.write(2, b"E0000 node_def_util.cc native line\\n")  # what TensorFlow's C++ does
            sys.__stderr__.write("drawn by textual\\n")          # where Textual's driver writes
            sys.__stderr__.flush()
        os.write(2, b"after the app\\n")
    """)
    master, slave = os.openpty()  # fd 2 must be a terminal, as it is for a user
    proc = subprocess.run([sys.executable, "-c", script], stdin=slave, stdout=slave, stderr=slave, timeout=60)
    os.close(slave)
    screen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.close(master)
    assert proc.returncode == 0
    assert b"drawn by textual" in screen and b"after the app" in screen
    assert b"node_def_util" not in screen
    assert "node_def_util.cc native line" in log.read_text()
