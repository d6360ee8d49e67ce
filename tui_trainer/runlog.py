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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterator, Optional

from .events import (
    BatchLosses,
    EarlyStoppingResult,
    EpochEnded,
    Event,
    RunFailed,
    RunFinished,
    RunStarted,
    from_dict,
    to_dict,
)

if TYPE_CHECKING:  # spec pulls in pydantic (0.1-0.3 s): readers of run folders (runs list, replay) don't need it
    from .spec import Preset

EVENTS = "events.jsonl"
SUMMARY = "summary.json"
PRESET = "preset.toml"
MODEL = "model.keras"
STDERR = "stderr.log"


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
    """Records one run. Call it with each event (it is a sink); ``close()`` writes the summary."""

    def __init__(self, run_dir: Path, preset: Preset):
        from .spec import dumps_preset

        self.dir = Path(run_dir)
        (self.dir / PRESET).write_text(dumps_preset(preset), encoding="utf-8")
        self._fh: Optional[IO[str]] = open(self.dir / EVENTS, "a", encoding="utf-8")
        self._summary = Summary(run_id=self.dir.name, preset=preset.name, seed=preset.seed,
                                epochs_planned=preset.training.epochs)

    def __call__(self, event: Event) -> None:
        if self._fh is None:
            return
        # One line per event; flush so `watch` and a kill both see every finished line.
        self._fh.write(json.dumps(to_dict(event), separators=(",", ":")) + "\n")
        self._fh.flush()
        self._summary.update(event)

    @property
    def summary(self) -> "Summary":
        return self._summary

    def close(self) -> None:
        """Close the events file and write summary.json atomically."""
        if self._fh is None:
            return
        self._fh.close()
        self._fh = None
        write_summary(self.dir, self._summary)


def write_summary(run_dir: Path, summary: "Summary") -> None:
    tmp = Path(run_dir) / (SUMMARY + ".tmp")
    tmp.write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, Path(run_dir) / SUMMARY)


@dataclass
class Summary:
    """What summary.json holds; built from the events, so a replay can rebuild it."""

    run_id: str = ""
    preset: str = ""
    seed: Optional[int] = None
    status: str = "running"
    reason: str = ""
    epochs_planned: Optional[int] = None
    epochs_run: int = 0
    device: str = ""
    started_at: str = ""
    finished_at: str = ""
    wall_time_s: Optional[float] = None
    replay_of: Optional[str] = None
    early_stopping: bool = False
    monitor: Optional[str] = None
    triggered: bool = False
    stopped_epoch: Optional[int] = None
    best_epoch: Optional[int] = None
    best_value: Optional[float] = None
    restored_epoch: Optional[int] = None
    test_metrics: dict[str, float] = field(default_factory=dict)
    final_metrics: dict[str, float] = field(default_factory=dict)

    def update(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.run_id, self.preset, self.seed = event.run_id, event.preset_name, event.seed
            self.device, self.started_at, self.replay_of = event.device, event.started_at, event.replay_of
            self.epochs_planned, self.monitor = event.epochs, event.monitor
            self.early_stopping = event.monitor is not None
        elif isinstance(event, EpochEnded):
            self.epochs_run = event.epoch
            self.final_metrics = dict(event.metrics)
            if event.best_epoch is not None:
                self.best_epoch, self.best_value = event.best_epoch, event.best_value
        elif isinstance(event, EarlyStoppingResult):
            self.monitor, self.triggered = event.monitor, event.triggered
            self.stopped_epoch, self.best_epoch = event.stopped_epoch, event.best_epoch
            self.best_value, self.restored_epoch = event.best_value, event.restored_epoch
        elif isinstance(event, RunFailed):
            self.reason = event.error
        elif isinstance(event, RunFinished):
            self.status, self.epochs_run = event.status, event.epochs_run
            self.test_metrics, self.wall_time_s = dict(event.test_metrics), event.wall_time_s
            self.reason = event.reason or self.reason
            self.finished_at = now_iso()

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


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
        summary = Summary(run_id=self.dir.name)
        for event in self.events:
            summary.update(event)
        return summary.to_dict()


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
