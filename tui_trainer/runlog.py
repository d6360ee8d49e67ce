"""Run folders: ``runs/<timestamp>-<preset>/`` with preset.toml, events.jsonl, summary.json, model.keras.

Writing follows Keras's CSVLogger: open at the start, append and flush every
event (so a kill loses at most the batches of the last tenth of a second),
close at the end. Reading tolerates a cut last line, which is what a killed
writer or a file still being written leaves behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import tempfile
import warnings
from array import array
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator, Optional, Sequence

from .atomic import append_fd, dir_mode, error_text, refuse_link, write_error_message, write_text_atomic
from .events import (STATUSES, BatchLosses, EpochEnded, Event, GradientNorms, ModelBuilt, RunFinished, RunResumed,
                     RunStarted,
                     _all_finite_numbers, check_fields, from_dict, json_safe, to_dict)
from .runstate import RunState, Summary

if TYPE_CHECKING:  # spec pulls in pydantic (0.1-0.3 s): readers of run folders (runs list, replay) don't need it
    from .spec import Preset

__all__ = ["RunLogWriter", "RunDirError", "check_runs_dir", "empty_run_message", "Summary", "LoadedRun", "RunLogError",
           "LogTail", "load_run", "iter_events", "parse_line", "write_summary", "new_run_dir", "default_runs_dir",
           "now_iso"]

EVENTS = "events.jsonl"
SUMMARY = "summary.json"
PRESET = "preset.toml"
MODEL = "model.keras"
STDERR = "stderr.log"
BEST = "best.keras"  # the best model so far (tui_trainer.checkpoint writes these three)
BEST_INFO = "best.json"  # its epoch
CHECKPOINT = "checkpoint.npz"  # the last finished epoch's full state, for `train --resume`
# runs recorded by a Monitor in the user's own script (``tui-trainer run``, or added by hand)
SOURCE = "source.json"  # script path, argv, working directory, versions
SCRIPT = "script.py"  # a copy of the script
OUTPUT = "output.log"  # the script's stdout and stderr (``tui-trainer run`` only)
# Set by `tui-trainer run`: a file each Monitor appends its run folder to, one line per fit,
# so the parent process knows which folders its script made.
RUN_LIST_ENV = "TUI_TRAINER_RUN_LIST"
# Every name tui-trainer writes inside a run folder. A module that writes another one adds it here
# (results.py, runlock.py), so the test that plants a link in place of each one covers it too.
PREDICTIONS = "predictions.npz"  # the test set's predictions (results.py)
PREPROCESSING = "preprocessing.json"  # how inputs were scaled, for `predict` (results.py)
LOCK = ".lock"  # the writer's lock (runlock.py)
WRITTEN: set[str] = {EVENTS, SUMMARY, PRESET, MODEL, STDERR, BEST, BEST_INFO, CHECKPOINT, SOURCE, SCRIPT, OUTPUT,
                     PREDICTIONS, PREPROCESSING, LOCK}


def default_runs_dir() -> Path:
    """``$TUI_TRAINER_RUNS`` or ``./runs``."""
    return Path(os.environ.get("TUI_TRAINER_RUNS") or "runs").expanduser()


def slug(name: str) -> str:
    """A preset name made safe as one path component: no separators, no dots in front."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")
    return s[:40].strip("-.") or "run"


class RunDirError(ValueError):
    """The runs folder can't take a new run (read-only, full, a file in its place); ``str()`` is one line."""


def check_runs_dir(runs_dir: Path) -> None:
    """Make sure a run folder can be written in ``runs_dir``, before any training; nothing is created.

    An existing folder is tried with a file made and removed at once; a missing one by its
    nearest existing parent (writable, on a file system mounted read-write).

    Raises:
        RunDirError: naming the folder, what is wrong, and how to choose another.
    """
    runs_dir = Path(runs_dir).expanduser()
    hint = "choose another with --runs-dir or $TUI_TRAINER_RUNS"
    base = runs_dir
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise RunDirError(f"{runs_dir}: not a folder (a file is in the way); {hint}")
    try:
        if base == runs_dir:
            fd, probe = tempfile.mkstemp(prefix=".tui-trainer-probe-", dir=runs_dir)
            os.close(fd)
            os.unlink(probe)
        elif os.statvfs(base).f_flag & os.ST_RDONLY:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        elif not os.access(base, os.W_OK | os.X_OK):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES))
    except OSError as exc:
        raise RunDirError(f"{runs_dir}: can't write run folders there ({error_text(exc)}); {hint}") from None


def new_run_dir(runs_dir: Path, preset_name: str, now: Optional[datetime] = None) -> Path:
    """Create and return a fresh run folder inside ``runs_dir``, never outside it."""
    runs_dir = Path(runs_dir).expanduser()
    runs_dir.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{slug(preset_name)}"
    for n in range(1, 1000):
        candidate = runs_dir / (base if n == 1 else f"{base}-{n}")
        # the slug can't escape, but check the resolved parent anyway: the folder name is user data
        if candidate.resolve().parent != runs_dir.resolve():
            raise ValueError(f"run folder {candidate} would leave {runs_dir}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    # A thousand runs of one preset within one second (a sweep): a unique random suffix, never a failure.
    candidate = Path(tempfile.mkdtemp(prefix=f"{base}-", dir=runs_dir))
    os.chmod(candidate, dir_mode())  # mkdtemp makes 0700; a plain mkdir honours the umask
    return candidate


class RunLogWriter:
    """Records one run. Call it with each event (it is a sink); ``close()`` writes the summary.

    Args:
        run_dir: the run folder (made by :func:`new_run_dir`).
        preset: what runs, written as preset.toml; None for a run of the user's own
            script (a Monitor), whose folder holds source.json instead.
    """

    def __init__(self, run_dir: Path, preset: Optional[Preset] = None, previous: Sequence[Event] = (),
                 on_error: Optional[Callable[[str], None]] = None):
        from .spec import dumps_preset

        self.dir = Path(run_dir)
        for name in (PRESET, EVENTS):  # checked before either is touched
            refuse_link(self.dir / name)
        if preset is not None:
            write_text_atomic(self.dir / PRESET, dumps_preset(preset), run_file=True)
        if previous:
            _drop_cut_line(self.dir / EVENTS)  # a resumed run goes on after the last complete line
        self._fh: Optional[IO[str]] = open(append_fd(self.dir / EVENTS), "a", encoding="utf-8")  # never a link
        self.state = RunState(live=False)
        for event in previous:  # a resumed run: its summary covers the whole log
            self.state.apply(event)
        # what the summary says if the run fails before its RunStarted event (a model that won't build)
        self._fallback = Summary(preset=preset.name, seed=preset.seed, epochs_planned=preset.training.epochs) \
            if preset is not None else Summary()
        # A write that failed (a full disk): the one line saying so; the log stops there, the run goes on
        # being folded in ``state``, and ``on_error`` (the engine's stop) is told once.
        self.error: Optional[str] = None
        self.on_error = on_error
        self.complete_epochs = 0  # the last epoch whose line made it to the file
        self._closed = False

    def __call__(self, event: Event) -> None:
        if self._fh is not None:
            # One line per event; flush so `watch` and a kill both see every finished line.
            try:
                self._fh.write(json.dumps(to_dict(event), separators=(",", ":")) + "\n")
                self._fh.flush()
            except OSError as exc:
                self._failed(exc, self.dir / EVENTS)
            else:
                if isinstance(event, EpochEnded):
                    self.complete_epochs = event.epoch
        self.state.apply(event)

    def _failed(self, exc: OSError, path: Path) -> None:
        """Stop writing after a failed write, keep the first failure's line, and tell ``on_error``."""
        if self._fh is not None:
            fh, self._fh = self._fh, None
            with contextlib.suppress(OSError):
                fh.close()
        self.record_failure(exc, path)

    def record_failure(self, exc: OSError, path: Path) -> None:
        """Note that writing ``path`` (this run's log, summary or model) failed; the first failure is kept.

        ``error`` becomes one line: ``no space left on device writing …/events.jsonl; the run log is
        complete up to epoch N``.
        """
        if self.error is None:
            n = self.complete_epochs
            held = f"complete up to epoch {n}" if n else "without a finished epoch"
            self.error = f"{write_error_message(exc, path)}; the run log is {held}"
            if self.on_error is not None:
                self.on_error(self.error)

    @property
    def summary(self) -> Summary:
        summary = self.state.summary(self.dir.name)
        if self.state.started is None:
            summary.preset, summary.seed = self._fallback.preset, self._fallback.seed
            summary.epochs_planned = self._fallback.epochs_planned
        return summary

    def close(self) -> None:
        """Close the events file and write summary.json atomically.

        A failed write is kept in ``error`` rather than raised: summary.json is then the previous
        one or none, never a part of one.
        """
        if self._closed:
            return
        self._closed = True
        if self._fh is not None:
            fh, self._fh = self._fh, None
            try:
                fh.close()
            except OSError as exc:
                self._failed(exc, self.dir / EVENTS)
        try:
            write_summary(self.dir, self.summary)
        except OSError as exc:
            self._failed(exc, self.dir / SUMMARY)


def _drop_cut_line(path: Path) -> None:
    """Cut a file back to its last newline: a line a kill left half-written is not data."""
    try:
        with os.fdopen(os.open(path, os.O_RDWR | os.O_NOFOLLOW), "rb+") as fh:
            data = fh.read()
            end = data.rfind(b"\n") + 1
            if end < len(data):
                fh.truncate(end)
    except FileNotFoundError:
        pass


def write_summary(run_dir: Path, summary: Summary) -> None:
    """Write summary.json atomically, as strict JSON (a NaN or infinite number is written as null)."""
    text = json.dumps(json_safe(summary.to_dict()), indent=2, allow_nan=False) + "\n"
    write_text_atomic(Path(run_dir) / SUMMARY, text, run_file=True)


# --- reading -------------------------------------------------------------------------------------


class RunLogError(ValueError):
    """A path is not a readable run; ``str()`` is one line."""


@dataclass
class LoadedRun:
    """A run folder read back."""

    dir: Path
    events: list[Event]
    summary: Optional[dict[str, Any]]
    warnings: list[str]

    @property
    def started(self) -> Optional[RunStarted]:
        """The run's RunStarted, with the model's description once it was built (ModelBuilt)."""
        started = next((e for e in self.events if isinstance(e, RunStarted)), None)
        built = next((e for e in self.events if isinstance(e, ModelBuilt)), None)
        return built.describe(started) if started is not None and built is not None else started

    @property
    def finished(self) -> Optional[RunFinished]:
        return next((e for e in reversed(self.events) if isinstance(e, RunFinished)), None)

    def summary_dict(self) -> dict[str, Any]:
        """summary.json when the run wrote it; otherwise the same fields rebuilt from the events
        (status ``running`` when they don't finish: still running, or killed)."""
        if self.summary is not None:
            return self.summary
        state = RunState(live=False)
        for event in self.events:
            state.apply(event)
        return state.summary(self.dir.name).to_dict()


def iter_events(path: Path, problems: Optional[list[str]] = None, *, compact: bool = False) -> Iterator[Event]:
    """Yield the events of an events.jsonl file.

    A last line without its newline is a write in progress (or cut by a kill):
    it is skipped silently. A broken line in the middle is skipped and reported
    in ``problems`` (or as a warning) by its line number. The file is read line
    by line, so a long log is never held twice in memory.

    With ``compact``, batch losses come as ``array('d')`` rather than tuples of
    floats: a 1,000,000-batch run then takes 8 MB instead of 32 (replay).
    """
    with open(path, "rb") as fh:
        bounds = EventBounds()
        for i, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                break  # a line still being written (or cut by a kill)
            event = parse_line(raw, i, path, problems, compact=compact)
            if event is not None and bounds.admit(event, i, path, problems):
                yield event


_BATCHES = b'{"event":"batches",'  # how to_dict's batch lines begin: nearly every line of a long run


def parse_line(raw: bytes, lineno: int, path: Path, problems: Optional[list[str]] = None, *,
               compact: bool = False) -> Optional[Event]:
    """One complete line of events.jsonl as an event; None (and a note naming the line) if it is broken."""
    if raw.startswith(_BATCHES):  # the hot path, without from_dict's generic field checks
        try:
            d = json.loads(raw)
            losses = d["losses"]
            ints = (d["epoch"], d["first_step"], d["steps_per_epoch"])
            if (isinstance(losses, list) and _all_finite_numbers(losses)
                    and all(type(v) is int and 0 <= v < 2**31 for v in ints)):
                return BatchLosses(epoch=ints[0], first_step=ints[1],
                                   losses=array("d", losses) if compact else tuple(losses), steps_per_epoch=ints[2])
        except (ValueError, TypeError, KeyError):
            pass  # a null loss, a broken line: the general path below decides and reports
    if not raw.strip():
        return None
    try:
        return from_dict(json.loads(raw))
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        if isinstance(exc, RecursionError):
            exc = ValueError("nested too deeply")  # a hostile line: `[[[[...` a hundred thousand deep
        _report(f"{path}: line {lineno} skipped: {exc}", problems)
        return None


def _report(msg: str, problems: Optional[list[str]]) -> None:
    if problems is not None:
        problems.append(msg)
    else:
        warnings.warn(msg, stacklevel=4)


# How far ahead of the last epoch seen a line may jump: more than one, since a broken line can take a
# whole epoch's lines with it; far less than the million-epoch jumps that stall the charts.
MAX_EPOCH_GAP = 1000


class EventBounds:
    """What no real run writes, though each line is well typed: an epoch past the run's planned
    epochs (or below 1), a jump far ahead of the last epoch, a batch step past an epoch's steps. Charts
    size themselves by these (an epoch of 123456789 after epoch 5 made plotext draw a line of
    millions of points). Epochs may go back (a resumed run repeats the epoch it was killed in)."""

    def __init__(self) -> None:
        self.epochs = 0  # planned, from run_started; 0: not known
        self.last = 0  # the epoch of the last epoch or batch line kept

    def admit(self, event: Event, lineno: int, path: Path, problems: Optional[list[str]] = None) -> bool:
        """True to keep ``event``; False (with a note naming the line) to skip it."""
        why = None
        if isinstance(event, RunStarted):
            self.epochs = event.epochs
        elif isinstance(event, RunResumed):
            self.epochs = event.epochs or self.epochs  # `--resume --epochs N` raised the total
            self.last = min(self.last, event.from_epoch)
        elif isinstance(event, (EpochEnded, BatchLosses)) and event.epoch < 1:
            why = f"epoch {event.epoch} (epochs count from 1)"
        elif isinstance(event, (EpochEnded, BatchLosses, GradientNorms)) and 0 < self.epochs < event.epoch:
            why = f"epoch {event.epoch} is past the run's {self.epochs} epochs"
        elif isinstance(event, (EpochEnded, BatchLosses, GradientNorms)) and event.epoch > self.last + MAX_EPOCH_GAP:
            why = f"epoch {event.epoch} comes after epoch {self.last}"
        elif isinstance(event, BatchLosses) and (event.first_step < 1 or 0 < event.steps_per_epoch < event.last_step):
            why = f"steps {event.first_step}..{event.last_step} are outside the epoch's {event.steps_per_epoch} steps"
        if why:
            _report(f"{path}: line {lineno} skipped: {why}", problems)
        elif isinstance(event, (EpochEnded, BatchLosses)):
            self.last = event.epoch  # one broken line must not hide the epochs after it
        return why is None


class LogTail:
    """Reads the events another process appends to an events.jsonl, a batch of complete lines at a time.

    A line still being written (no newline yet) waits for the next read; a broken
    line is skipped and noted in ``problems``. Used by ``watch``, ``run`` and its
    console follower.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.offset = 0
        self.lineno = 0
        self.problems: list[str] = []
        self._pending = b""
        self._bounds = EventBounds()

    def read(self) -> list[Event]:
        """The events completed since the last call (none yet if the file does not exist, or is not a
        regular file: opening a FIFO would wait for a writer)."""
        from .inputs import is_regular

        if not is_regular(self.path):
            return []
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()  # no newline yet: the writer is mid-line
        events = []
        for raw in lines:
            self.lineno += 1
            event = parse_line(raw, self.lineno, self.path, self.problems)
            if event is not None and self._bounds.admit(event, self.lineno, self.path, self.problems):
                events.append(event)
        return events


def load_run(run_dir: str | Path, *, compact: bool = False) -> LoadedRun:
    """Read a run folder: its events and, if the run ended, its summary.

    ``compact``: batch losses as arrays, not tuples (see :func:`iter_events`).

    Raises:
        RunLogError: the folder is missing or holds no events file.
    """
    d = Path(run_dir).expanduser()
    if not d.is_dir():
        raise RunLogError(f"{run_dir}: no such run folder")
    events_file = d / EVENTS
    if not events_file.is_file():
        from .inputs import file_problem

        problem = file_problem(events_file, what=f"a run log ({EVENTS})") if events_file.exists() else None
        raise RunLogError(f"{events_file}: {problem}" if problem else f"{run_dir}: not a run folder (no {EVENTS})")
    problems: list[str] = []
    events = list(iter_events(events_file, problems, compact=compact))
    summary = None
    if (d / SUMMARY).is_file():
        try:
            summary = json.loads((d / SUMMARY).read_text(encoding="utf-8"))
            check_summary(summary)
        except (OSError, ValueError, RecursionError) as exc:
            problems.append(f"{d / SUMMARY}: ignored, rebuilt from the events ({exc})")
            summary = None
    return LoadedRun(d, events, summary, problems)


def check_summary(data: Any) -> None:
    """Raise ValueError unless ``data`` reads as summary.json: an object with a known status, fields typed."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("status") not in (*STATUSES, "running"):
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    check_fields(Summary, data, "summary")


# What every command says of a run folder whose log holds no run_started event (0 bytes, or only a
# cut line): its process died before training began, or is starting right now.
EMPTY = "empty"


def empty_run_message(run_dir: str | Path) -> str:
    """The one line ``export``, ``compare`` and ``replay`` give for an empty run (``runs list`` says ``empty``)."""
    return (f"{run_dir}: empty: the run never started ({EVENTS} holds no run_started event; "
            f"if it is starting right now, follow it with `tui-trainer watch {run_dir}`)")


def now_iso() -> str:
    """Local time in ISO 8601 with its UTC offset, e.g. ``2026-01-01T12:00:00+01:00``: a run read on
    another box (or after a daylight-saving change) still says when it happened."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def not_replayable(run_dir: Path) -> str:
    """Why a folder can't be re-run with ``train --replay``, and what would re-run it."""
    if (run_dir / SOURCE).is_file():
        try:
            script = json.loads((run_dir / SOURCE).read_text(encoding="utf-8")).get("script")
        except (OSError, ValueError, AttributeError, RecursionError):
            script = None
        copy = run_dir / SCRIPT
        target = script or (str(copy) if copy.is_file() else "your script")
        return f"{run_dir}: recorded from a script, not a preset; re-run it with `tui-trainer run {target}`"
    return f"{run_dir}: not a run folder (no {PRESET})"
