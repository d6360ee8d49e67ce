"""Time from `tui-trainer` starting to its first frame on a real (pseudo) terminal.

Target: 0.35 s on a 2-core machine (issue 14). TensorFlow is only imported when training
starts, so it must not be part of this figure.

    python bench/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Optional

TARGET_S = 0.35
FIRST_FRAME_MARK = b"Total:"  # the builder's parameter count line: the screen is drawn


def first_frame_s(cmd: list[str], cwd: str, mark: bytes = FIRST_FRAME_MARK, peak: Optional[dict] = None,
                  then: Optional[bytes] = None) -> float:
    """Seconds from starting ``cmd`` in a 100x30 pseudo-terminal until ``mark`` is drawn.

    With ``peak`` (a dict), ``peak["mb"]`` is set to the process's peak resident memory (VmHWM) at that moment.
    With ``then`` too, reading goes on until ``then`` is drawn as well: ``peak["then_s"]`` is its time, and
    the memory is read then.
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="100", LINES="30")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, close_fds=True)
    os.close(slave)
    seen = b""
    took: Optional[float] = None
    try:
        while time.perf_counter() - t0 < 20:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                seen += chunk
                if mark in seen and took is None:
                    took = time.perf_counter() - t0
                if took is not None and (then is None or then in seen):
                    if peak is not None:
                        if then is not None:
                            peak["then_s"] = time.perf_counter() - t0
                        peak["mb"] = peak_rss_mb(proc.pid)  # when everything asked for is drawn
                    return took
        raise RuntimeError("no first frame within 20 s")
    finally:
        proc.kill()
        proc.wait()
        os.close(master)


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a live process, in MB (10^6 bytes)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def tui_trainer_command() -> list[str]:
    """The console script installed beside this interpreter.

    Not the first `tui-trainer` on PATH: under pyenv that is a shim, a shell script that
    spends ~0.1 s finding the interpreter before ours even starts.
    """
    script = Path(sys.executable).parent / "tui-trainer"
    if script.exists():
        return [str(script)]
    exe = shutil.which("tui-trainer")
    return [exe] if exe else [sys.executable, "-m", "tui_trainer"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cmd = tui_trainer_command()
    with tempfile.TemporaryDirectory() as cwd:
        first_frame_s(cmd, cwd)  # warm the file cache, as a second launch would be
        times = [first_frame_s(cmd, cwd) for _ in range(args.runs)]
    median = statistics.median(times)
    verdict = "PASS" if median < TARGET_S else "FAIL"
    print(f"time to first frame: median {median:.3f} s, min {min(times):.3f} s, max {max(times):.3f} s "
          f"over {args.runs} launches (target < {TARGET_S} s): {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
