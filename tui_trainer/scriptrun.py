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

from .autolog import RUN_MARK, RUN_MARK_END
from .runlog import EVENTS, OUTPUT, RUN_LIST_ENV, LogTail

# Terminal control sequences in the script's output (colours, cursor moves): the log pane and
# output.log keep the text.
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
KEEP_LINES = 5000  # output lines held for the log pane
READ_CHUNK = 64 * 1024  # the most read of one line at a time: a 400 MB line never sits in memory whole
PANE_LINE_MAX = 4096  # bytes of one line kept for the log pane (the rest is counted)
HEAD_BYTES = 8 * 1024 * 1024  # output.log keeps the first 8 MB of a fit's output...
TAIL_BYTES = 8 * 1024 * 1024  # ...and the last 8 MB, with one line saying how much was dropped between
_RUN_MARK_RE = re.compile(re.escape(RUN_MARK.encode()) + rb"([^\x07\n]*)" + re.escape(RUN_MARK_END.encode()) + rb"\n?")


def clean_line(raw: bytes) -> str:
    """One output line as text: what a terminal would show last after carriage returns, no escape codes."""
    raw = raw.rstrip(b"\r\n")
    if b"\r" in raw:
        raw = raw.rsplit(b"\r", 1)[-1] or raw.replace(b"\r", b"")
    return _ANSI.sub(b"", raw).decode("utf-8", "replace")


class CappedLog:
    """A run's ``output.log`` that keeps the first ``head`` and the last ``tail`` bytes of what is written.

    The head goes to the file as it comes (``watch`` and ``tail -f`` see it live); past it, the newest
    ``tail`` bytes are held in memory and written, after one line saying how many bytes were dropped,
    when the log is closed. Without a path yet (output before the first fit) everything is held, under
    the same cap, until :meth:`attach` names the file.

    Args:
        path: the file, or None until :meth:`attach`.
        head: bytes written as they come.
        tail: bytes kept from the end.
    """

    def __init__(self, path: Optional[Path], head: int = HEAD_BYTES, tail: int = TAIL_BYTES):
        self.path = path
        self.head, self.tail = head, tail
        self.written = 0  # head bytes taken so far
        self.dropped = 0
        self._held = bytearray()  # head bytes not yet in the file (no path yet)
        self._tail: collections.deque[bytes] = collections.deque()
        self._tail_size = 0
        self._fh = None
        if path is not None:
            self.attach(path)

    def attach(self, path: Path) -> None:
        """Write to ``path`` from now on (what was held goes in first)."""
        self.path = path
        try:
            self._fh = open(path, "ab")
            self._fh.write(self._held)
            self._fh.flush()
        except OSError:
            self._fh = None
        self._held = bytearray()

    def write(self, data: bytes) -> None:
        room = self.head - self.written
        if room > 0:
            part, data = data[:room], data[room:]
            self.written += len(part)
            if self._fh is not None:
                self._fh.write(part)
                self._fh.flush()
            elif self.path is None:
                self._held += part
        if data:
            self._tail.append(bytes(data))
            self._tail_size += len(data)
            while self._tail_size > self.tail:  # drop the oldest bytes, whole chunks then part of one
                extra = self._tail_size - self.tail
                first = self._tail[0]
                if len(first) <= extra:
                    self._tail.popleft()
                    self._tail_size -= len(first)
                    self.dropped += len(first)
                else:
                    self._tail[0] = first[extra:]
                    self._tail_size -= extra
                    self.dropped += extra

    def close(self) -> None:
        """Write the kept tail (after the dropped-bytes line) and close the file."""
        if self._fh is None:
            return
        try:
            if self.dropped:
                self._fh.write(f"\n[tui-trainer: {self.dropped} bytes of output dropped here; output.log keeps "
                               f"the first {self.head // 2**20} MB and the last {self.tail // 2**20} MB]\n".encode())
            self._fh.write(b"".join(self._tail))
            self._fh.close()
        except OSError:
            pass
        self._fh = None
        self._tail.clear()


class _LineBuffer:
    """One output line being read in pieces, at most :data:`PANE_LINE_MAX` bytes of it kept."""

    def __init__(self):
        self._parts = bytearray()
        self._more = 0  # bytes of this line past the cap
        self.pending = False

    def add(self, chunk: bytes) -> bool:
        """Take a piece; True when it ended the line."""
        self.pending = True
        room = PANE_LINE_MAX - len(self._parts)
        self._parts += chunk[:max(room, 0)]
        self._more += max(len(chunk) - max(room, 0), 0)
        return chunk.endswith(b"\n")

    def finish(self) -> bytes:
        raw = bytes(self._parts)
        if self._more:
            raw = raw.rstrip(b"\r\n") + f" [... {self._more} more bytes on this line]".encode()
        self._parts, self._more, self.pending = bytearray(), 0, False
        return raw


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
        self._early = CappedLog(None)  # output before the first fit: the first run's output.log
        self._out: CappedLog = self._early  # where output goes now
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
                    return  # the usual case: one stat, no read
                with open(self.list_file, "rb") as fh:
                    fh.seek(self._list_offset)
                    data = fh.read()
            except (OSError, AttributeError):
                return
            complete = data[: data.rfind(b"\n") + 1]
            self._list_offset += len(complete)
            self.run_dirs.extend(Path(line) for line in complete.decode("utf-8", "replace").splitlines() if line)

    def _switch_output(self, run_dir: Path) -> None:
        """Send further output to ``run_dir``'s output.log (call with the lock held). The first run's
        log also gets what the script printed before its first fit."""
        if self._out is self._early and self._early.path is None:
            self._early.attach(run_dir / OUTPUT)
            return
        if self._out is not None:
            self._out.close()
        self._out = CappedLog(run_dir / OUTPUT)

    def _read_output(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        line = _LineBuffer()
        for chunk in iter(lambda: self.proc.stdout.readline(READ_CHUNK), b""):  # type: ignore[union-attr]
            mark = _RUN_MARK_RE.search(chunk)
            if mark is not None:  # a fit's run folder exists: what follows is that fit's output
                before, after = chunk[: mark.start()], chunk[mark.end():]
                self._take(before, line)
                with self._lock:
                    self._switch_output(Path(os.fsdecode(mark.group(1))))
                chunk = after
            self._take(chunk, line)
        self.proc.stdout.close()
        self._discover()
        with self._lock:
            if line.pending:
                self._add_line(line.finish())
            if self._early.path is None and self.run_dirs:  # no mark seen (a Monitor outside fit's list)
                self._early.attach(self.run_dirs[0] / OUTPUT)
            self._out.close()

    def _take(self, chunk: bytes, line: "_LineBuffer") -> None:
        """One piece of output: to the current output.log as is, to the log pane as whole lines."""
        if not chunk:
            return
        with self._lock:
            self._out.write(chunk)
            if line.add(chunk):
                self._add_line(line.finish())

    def _add_line(self, raw: bytes) -> None:
        self.lines.append(clean_line(raw))
        self.lines_read += 1

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
