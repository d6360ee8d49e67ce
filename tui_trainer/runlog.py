"""Run folders: ``runs/<timestamp>-<preset>/`` with preset.toml, events.jsonl, summary.json, model.keras.

Writing follows Keras's CSVLogger: open at the start, append and flush every
event (so a kill loses at most the batches of the last tenth of a second),
close at the end. Reading tolerates a cut last line, which is what a killed
writer or a file still being written leaves behind.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from array import array
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterator, Optional, Sequence

from .events import (
    BatchLosses,
    Event,
    RunFinished,
    RunStarted,
    from_dict,
    to_dict,
)
from .runstate import RunState, Summary

if TYPE_CHECKING:  # spec pulls in pydantic (0.1-0.3 s): readers of run folders (runs list, replay) don't need it
    from .spec import Preset

__all__ = ["RunLogWriter", "Summary", "LoadedRun", "RunLogError", "load_run", "iter_events", "parse_line",
           "write_summary", "new_run_dir", "default_runs_dir", "now_iso"]

EVENTS = "events.jsonl"
SUMMARY = "summary.json"
PRESET = "preset.toml"
MODEL = "model.keras"
STDERR = "stderr.log"
# runs recorded by a Monitor in the user's own script (``tui-trainer run``, or added by hand)
SOURCE = "source.json"  # script path, argv, working directory, versions
SCRIPT = "script.py"  # a copy of the script
OUTPUT = "output.log"  # the script's stdout and stderr (``tui-trainer run`` only)
# Set by `tui-trainer run`: a file each Monitor appends its run folder to, one line per fit,
# so the parent process knows which folders its script made.
RUN_LIST_ENV = "TUI_TRAINER_RUN_LIST"


def default_runs_dir() -> Path:
    """``$TUI_TRAINER_RUNS`` or ``./runs``."""
    return Path(os.environ.get("TUI_TRAINER_RUNS") or "runs").expanduser()


def slug(name: str) -> str:
    """A preset name made safe as one path component: no separators, no dots in front."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")
    return s[:40].strip("-.") or "run"


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
    raise RuntimeError(f"could not create a new run folder in {runs_dir}")


class RunLogWriter:
    """Records one run. Call it with each event (it is a sink); ``close()`` writes the summary.

    Args:
        run_dir: the run folder (made by :func:`new_run_dir`).
        preset: what runs, written as preset.toml; None for a run of the user's own
            script (a Monitor), whose folder holds source.json instead.
    """

    def __init__(self, run_dir: Path, preset: Optional[Preset] = None, previous: Sequence[Event] = ()):
        from .spec import dumps_preset

        self.dir = Path(run_dir)
        if preset is not None:
            (self.dir / PRESET).write_text(dumps_preset(preset), encoding="utf-8")
        if previous:
            _drop_cut_line(self.dir / EVENTS)  # a resumed run goes on after the last complete line
        self._fh: Optional[IO[str]] = open(self.dir / EVENTS, "a", encoding="utf-8")
        self.state = RunState(live=False)
        for event in previous:  # a resumed run: its summary covers the whole log
            self.state.apply(event)
        # what the summary says if the run fails before its RunStarted event (a model that won't build)
        self._fallback = Summary(preset=preset.name, seed=preset.seed, epochs_planned=preset.training.epochs) \
            if preset is not None else Summary()

    def __call__(self, event: Event) -> None:
        if self._fh is None:
            return
        # One line per event; flush so `watch` and a kill both see every finished line.
        self._fh.write(json.dumps(to_dict(event), separators=(",", ":")) + "\n")
        self._fh.flush()
        self.state.apply(event)

    @property
    def summary(self) -> Summary:
        summary = self.state.summary(self.dir.name)
        if self.state.started is None:
            summary.preset, summary.seed = self._fallback.preset, self._fallback.seed
            summary.epochs_planned = self._fallback.epochs_planned
        return summary

    def close(self) -> None:
        """Close the events file and write summary.json atomically."""
        if self._fh is None:
            return
        self._fh.close()
        self._fh = None
        write_summary(self.dir, self.summary)


def _drop_cut_line(path: Path) -> None:
    """Cut a file back to its last newline: a line a kill left half-written is not data."""
    try:
        with open(path, "rb+") as fh:
            data = fh.read()
            end = data.rfind(b"\n") + 1
            if end < len(data):
                fh.truncate(end)
    except FileNotFoundError:
        pass


def write_summary(run_dir: Path, summary: Summary) -> None:
    tmp = Path(run_dir) / (SUMMARY + ".tmp")
    tmp.write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, Path(run_dir) / SUMMARY)


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
        return next((e for e in self.events if isinstance(e, RunStarted)), None)

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
        for i, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                break  # a line still being written (or cut by a kill)
            event = parse_line(raw, i, path, problems, compact=compact)
            if event is not None:
                yield event


_BATCHES = b'{"event":"batches",'  # how to_dict's batch lines begin: nearly every line of a long run


def parse_line(raw: bytes, lineno: int, path: Path, problems: Optional[list[str]] = None, *,
               compact: bool = False) -> Optional[Event]:
    """One complete line of events.jsonl as an event; None (and a note naming the line) if it is broken."""
    if raw.startswith(_BATCHES):  # the hot path, without from_dict's generic field checks
        try:
            d = json.loads(raw)
            losses = d["losses"]
            return BatchLosses(epoch=d["epoch"], first_step=d["first_step"],
                               losses=array("d", losses) if compact else tuple(losses),
                               steps_per_epoch=d["steps_per_epoch"])
        except (ValueError, TypeError, KeyError):
            pass  # a null loss, a broken line: the general path below decides and reports
    if not raw.strip():
        return None
    try:
        return from_dict(json.loads(raw))
    except (ValueError, TypeError, AttributeError) as exc:
        msg = f"{path}: line {lineno} skipped: {exc}"
        if problems is not None:
            problems.append(msg)
        else:
            warnings.warn(msg, stacklevel=3)
        return None


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

    def read(self) -> list[Event]:
        """The events completed since the last call (none yet if the file does not exist)."""
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
            if event is not None:
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
        raise RunLogError(f"{run_dir}: not a run folder (no {EVENTS})")
    problems: list[str] = []
    events = list(iter_events(events_file, problems, compact=compact))
    summary = None
    if (d / SUMMARY).is_file():
        try:
            summary = json.loads((d / SUMMARY).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{d / SUMMARY}: unreadable ({exc})")
    return LoadedRun(d, events, summary, problems)


def now_iso() -> str:
    """Local time in ISO 8601 with its UTC offset, e.g. ``2026-01-01T12:00:00+01:00``: a run read on
    another box (or after a daylight-saving change) still says when it happened."""
    return datetime.now().astimezone().isoformat(timespec="seconds")
