"""``tui-trainer run SCRIPT``: the parent's side of running a user's own Keras script.

The script runs in a child process (``python -m tui_trainer.autolog``) that
puts a Monitor on every ``fit``. The child's stdout and stderr (its prints,
Keras's progress bar, TensorFlow's log lines) come here through a pipe: they
are kept for the app's log pane and written to the newest run folder's
``output.log`` (what came before the first ``fit`` goes into the first run's).
Each Monitor names its run folder in a list file, so the parent knows which
folders its script made. No TensorFlow here, no UI.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Optional

from .runlog import EVENTS, OUTPUT, RUN_LIST_ENV, LogTail

# Terminal control sequences in the script's output (colours, cursor moves): the log pane and
# output.log keep the text.
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
KEEP_LINES = 5000  # output lines held for the log pane


def clean_line(raw: bytes) -> str:
    """One output line as text: what a terminal would show last after carriage returns, no escape codes."""
    raw = raw.rstrip(b"\r\n")
    if b"\r" in raw:
        raw = raw.rsplit(b"\r", 1)[-1] or raw.replace(b"\r", b"")
    return _ANSI.sub(b"", raw).decode("utf-8", "replace")


class ScriptRun:
    """A user's script running in a child process, with a Monitor on each of its fits.

    Args:
        script: the script's path.
        args: its arguments.
        runs_dir: where its run folders go.
    """

    def __init__(self, script: Path, args: list[str], runs_dir: Path):
        self.script = Path(script)
        self.args = list(args)
        self.runs_dir = Path(runs_dir)
        self.proc: Optional[subprocess.Popen] = None
        self.run_dirs: list[Path] = []
        self.lines: collections.deque[str] = collections.deque(maxlen=KEEP_LINES)
        self.lines_read = 0  # output lines received in all (the deque keeps the newest)
        self._lock = threading.Lock()
        self._early: list[bytes] = []  # output before the first run folder exists
        self._out = None  # the current run folder's output.log
        self._list_offset = 0
        self._reader: Optional[threading.Thread] = None
        self.cancel_requested = False

    # -- the child -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the script. Raises OSError if the Python interpreter can't be started."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        fd, list_file = tempfile.mkstemp(prefix=".run-list-", suffix=".txt", dir=self.runs_dir)
        os.close(fd)
        self.list_file = Path(list_file)
        env = dict(os.environ)
        env.update({RUN_LIST_ENV: str(self.list_file), "TUI_TRAINER_RUNS": str(self.runs_dir.resolve()),
                    "PYTHONUNBUFFERED": "1"})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui_trainer.autolog", str(self.script), *self.args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,  # the terminal's Ctrl-C and hang-up reach tui-trainer, which decides
        )
        self._reader = threading.Thread(target=self._read_output, name="script-output", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    @property
    def returncode(self) -> Optional[int]:
        """The script's exit code once it has ended (a signal's as 128 + its number), else None."""
        if self.proc is None:
            return None
        code = self.proc.poll()
        if code is not None and code < 0:
            code = 128 - code
        return code

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cancel(self) -> None:
        """Ask the script to stop: its fit ends after the current batch, the run is closed as cancelled.
        A second call interrupts the script wherever it is."""
        self.cancel_requested = True
        self._signal(signal.SIGINT)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, signum: int) -> None:
        if self.running:
            try:
                self.proc.send_signal(signum)  # type: ignore[union-attr]
            except ProcessLookupError:
                pass

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """Wait for the script to end and its output to be read; its exit code (None on timeout)."""
        if self.proc is None:
            return None
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        if self._reader is not None:
            self._reader.join(timeout=5)
        self._discover()
        return self.returncode

    def stop(self, grace_s: float = 10.0) -> Optional[int]:
        """Cancel, wait ``grace_s`` for the run to close, then kill; the exit code."""
        if self.running:
            self.cancel()
            if self.wait(grace_s) is None:
                self.kill()
        return self.wait(5)

    # -- run folders and output ------------------------------------------------------------------

    def run_dirs_after(self, seen: int) -> list[Path]:
        """Run folders the script's fits made after the first ``seen`` ones, oldest first."""
        self._discover()
        with self._lock:
            return self.run_dirs[seen:]

    def _discover(self) -> None:
        """Read the run folders the Monitors announced since the last look (thread-safe)."""
        with self._lock:
            try:
                if os.stat(self.list_file).st_size <= self._list_offset:
                    return  # the usual case, checked for every output line: one stat, no read
                with open(self.list_file, "rb") as fh:
                    fh.seek(self._list_offset)
                    data = fh.read()
            except (OSError, AttributeError):
                return
            complete = data[: data.rfind(b"\n") + 1]
            self._list_offset += len(complete)
            found = [Path(line) for line in complete.decode("utf-8", "replace").splitlines() if line]
            if found:
                self.run_dirs.extend(found)
                self._switch_output(found[-1])

    def _switch_output(self, run_dir: Path) -> None:
        """Send further output to ``run_dir``'s output.log (call with the lock held)."""
        if self._out is not None:
            self._out.close()
        try:
            self._out = open(run_dir / OUTPUT, "ab")
        except OSError:
            self._out = None
            return
        if self._early:  # what the script printed before its first fit
            self._out.write(b"".join(self._early))
            self._early = []
        self._out.flush()

    def _read_output(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            self._discover()  # a fit may have begun since the last line: its output goes to its folder
            with self._lock:
                self.lines.append(clean_line(raw))
                self.lines_read += 1
                if self._out is not None:
                    self._out.write(raw)
                    self._out.flush()
                elif len(self._early) < KEEP_LINES:
                    self._early.append(raw)
        self.proc.stdout.close()
        with self._lock:
            if self._out is not None:
                self._out.close()
                self._out = None

    def output_since(self, seen: int) -> tuple[list[str], int]:
        """Output lines after the first ``seen`` ones, and the new count (thread-safe)."""
        with self._lock:
            new = self.lines_read - seen
            lines = list(self.lines)[-new:] if new > 0 else []
            return lines, self.lines_read

    def cleanup(self) -> None:
        """Remove the list file (the run folders stay)."""
        try:
            self.list_file.unlink()
        except (OSError, AttributeError):
            pass


def follow_runs(run: ScriptRun, printer_for, poll_s: float = 0.2) -> Optional[int]:
    """Print every run the script makes, event by event, until it ends (``--no-ui``); its exit code.

    Args:
        run: a started ScriptRun.
        printer_for: called with each new run folder; returns the sink its events go to.
        poll_s: how often the logs are read.
    """
    tails: list[tuple[LogTail, object]] = []
    while True:
        ended = not run.running  # read once more after the end: the last lines and a late fit
        if ended:
            run.wait()
        for run_dir in run.run_dirs_after(len(tails)):
            tails.append((LogTail(run_dir / EVENTS), printer_for(run_dir)))
        for tail, sink in tails:
            for event in tail.read():
                sink(event)  # type: ignore[operator]
        if ended:
            return run.returncode
        run.wait(poll_s)
