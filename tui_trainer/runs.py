"""Finding runs and telling what state each is in, without TensorFlow or a UI."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Optional

from .runlog import BEST, BEST_INFO, CHECKPOINT, EVENTS, SUMMARY, LoadedRun, RunLogError, check_summary, default_runs_dir, load_run
from .runlock import held
from .runstate import RunState

# A run whose process we can't check (another host) and whose log has not grown for
# this long is reported as stalled rather than running.
STALE_AFTER_S = 600


def process_alive(pid: Optional[int]) -> bool:
    """Whether a process with this id exists on this machine."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def process_start_time(pid: int) -> Optional[float]:
    """When process ``pid`` started (Unix time), from /proc; None where /proc can't tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime, in clock ticks since boot
        with open("/proc/stat") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def pid_reused(pid: int, started_at: str) -> bool:
    """Whether ``pid`` now belongs to a process that started after the run did: the run's own died,
    and the system gave its id to another (a dead run must not look "running" forever)."""
    began = process_start_time(pid)
    try:
        run_began = datetime.fromisoformat(started_at).timestamp()
    except (TypeError, ValueError, OverflowError, OSError):
        return False
    # the writer's process starts before its run_started event, which is written to the second
    return began is not None and began > run_began + 2


def liveness(state: RunState, run_dir: Path) -> str:
    """``finished``, ``running``, ``gone`` (the writer died without finishing) or ``stalled``.

    ``stalled``: written on another host and silent for a long time; we can't check its process.
    """
    if state.finished is not None:
        return "finished"
    s = state.started
    if s is not None and s.host == socket.gethostname() and s.pid:
        since = state.writer_since or s.started_at  # a resumed run's pid is the resuming process's
        return "running" if process_alive(s.pid) and not pid_reused(s.pid, since) else "gone"
    try:
        age = time.time() - (run_dir / EVENTS).stat().st_mtime
    except OSError:
        return "gone"
    return "running" if age < STALE_AFTER_S else "stalled"


@dataclass
class RunInfo:
    """One line of ``tui-trainer runs list``."""

    id: str
    path: Path
    preset: str
    status: str  # a finished status, or running / gone / stalled / empty
    epochs: int
    stopped_epoch: Optional[int]
    best_epoch: Optional[int]
    best_value: Optional[float]
    monitor: Optional[str]
    test_accuracy: Optional[float]
    started_at: str
    hint: Optional[str] = None  # a killed or cancelled run that can go on: what is kept, how to resume


def resume_hint(run_dir: Path, status: str, epochs: int) -> Optional[str]:
    """``killed at epoch 17 — best weights (epoch 12) kept — resume with `...``` for a run that can go on.

    Only for runs whose process is gone or that were cancelled, and that left a checkpoint; reads
    two small files, so listing hundreds of finished runs costs nothing more.
    """
    if status not in ("gone", "cancelled") or not (run_dir / CHECKPOINT).is_file():
        return None
    what = "killed" if status == "gone" else "cancelled"
    kept = ""
    try:
        best = json.loads((run_dir / BEST_INFO).read_text(encoding="utf-8"))["epoch"]
        if (run_dir / BEST).is_file() and type(best) is int:
            kept = f" — best weights (epoch {best}) kept"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return f"{what} at epoch {epochs}{kept} — resume with `tui-trainer train --resume {run_dir}`"


# The table of runs, built once for `tui-trainer runs list` and the app's runs screen: the early-stopping
# facts first so they fit an 80-column terminal, the preset last (the run id already ends with its name).
RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "run"),
    ("status", "status"),
    ("epochs", "epochs"),
    ("stop", "stop"),
    ("best", "best"),
    ("best_value", "best value"),
    ("test_acc", "test acc"),
    ("preset", "preset"),
)


def run_cells(info: RunInfo) -> tuple[str, ...]:
    """One run's row of :data:`RUN_COLUMNS` as text, e.g. ``("2026…-digits", "early_stopped", "33", …, "97.21%")``."""
    from .verdict import num, percent

    def whole(v: Optional[int]) -> str:
        return "—" if v is None else str(v)

    return (info.id, info.status, str(info.epochs), whole(info.stopped_epoch), whole(info.best_epoch),
            num(info.best_value, none="—"), percent(info.test_accuracy), info.preset)


def fold(run: LoadedRun) -> RunState:
    """The RunState of a loaded run."""
    state = RunState()
    for event in run.events:
        state.apply(event)
    return state


def _read_summary(run_dir: Path) -> Optional[dict]:
    """summary.json as a dict; None when it is missing or unreadable (the events then tell)."""
    try:
        with open(run_dir / SUMMARY, "rb") as fh:
            data = json.loads(fh.read())
        check_summary(data)  # typed as load_run checks it: a hostile file is no summary
    except (OSError, ValueError, TypeError, RecursionError):
        return None
    return data if isinstance(data, dict) and "status" in data else None


def run_info(run_dir: Path) -> RunInfo:
    """Summarise one run folder, from summary.json when the run finished, else from its events.

    A finished run's events.jsonl is never opened: summary.json holds every field listed, and the
    events of a long run are megabytes (500 runs must list in a blink).

    Raises:
        RunLogError: not a run folder.
    """
    d = Path(run_dir).expanduser()
    s = _read_summary(d)
    run = None
    if s is None:
        run = load_run(d)
        s = run.summary_dict()
    elif not (d / EVENTS).is_file():
        raise RunLogError(f"{run_dir}: not a run folder (no {EVENTS})")
    status = s.get("status") or "running"
    writing = held(d)  # a writer holds the run's lock: starting, running, or resumed after a summary
    if status == "running" or writing:  # no summary: the writer is alive, gone, or out of sight on another host
        run = run or load_run(d)
        state = fold(run)
        if state.started is None:
            status = "starting" if writing else "empty"  # a starting run imports TensorFlow before its first line
        else:
            status = "running" if writing else liveness(state, run.dir)
    return info_from_summary(d, s, status)


def info_from_summary(d: Path, s: dict, status: str) -> RunInfo:
    """A run's row from its summary's fields (summary.json, or :meth:`RunState.summary` of its events)."""
    return RunInfo(
        id=d.name, path=d, preset=s.get("preset") or "?", status=status,
        epochs=s.get("epochs_run", 0), stopped_epoch=s.get("stopped_epoch"), best_epoch=s.get("best_epoch"),
        best_value=s.get("best_value"), monitor=s.get("monitor"),
        test_accuracy=(s.get("test_metrics") or {}).get("accuracy"), started_at=s.get("started_at", ""),
        hint=resume_hint(d, status, s.get("epochs_run", 0)),
    )


def find_runs(runs_dir: Optional[Path] = None) -> list[RunInfo]:
    """Every run folder in ``runs_dir``, oldest first. Folders that aren't runs are skipped."""
    root = Path(runs_dir) if runs_dir else default_runs_dir()
    if not root.is_dir():
        return []
    infos = []
    try:
        with os.scandir(root) as entries:
            folders = sorted(Path(e.path) for e in entries if e.is_dir())
    except OSError:  # not readable: nothing to list
        return []
    from .sources import discover, event_files

    tb: list[Path] = [root] if event_files(root) else []
    for d in folders:
        try:
            infos.append(run_info(d))
        except (RunLogError, OSError, json.JSONDecodeError):
            tb += [] if (d / EVENTS).exists() else discover(d)  # TensorBoard's runs: any folder with event files
    for d in tb:
        try:
            infos.append(tb_run_info(d, root))
        except (RunLogError, OSError):
            continue
    return infos


def tb_run_info(run: Path, root: Path) -> RunInfo:
    """A TensorBoard run as a row of ``runs list``: its path below the runs folder as id, the what-if
    early stopping's epochs as stop and best, status ``tensorboard``."""
    from .sources import TBSource

    state = fold(TBSource(run).load())
    rel = run.relative_to(root) if run != root else Path(run.name)
    es = state.early_stopping
    return RunInfo(
        id=str(rel), path=run, preset="tensorboard", status="tensorboard", epochs=state.epochs_run,
        stopped_epoch=state.stopped_epoch, best_epoch=state.best_epoch, best_value=state.best_value,
        monitor=es.monitor if es else None, test_accuracy=None,
        started_at=state.started.started_at if state.started else "", hint=None,
    )


def newest_run(runs_dir: Optional[Path] = None) -> Optional[Path]:
    """The run folder that started last (by name: names begin with a timestamp)."""
    root = Path(runs_dir) if runs_dir else default_runs_dir()
    if not root.is_dir():
        return None
    candidates = sorted(p for p in root.iterdir() if p.is_dir() and (p / EVENTS).is_file())
    return candidates[-1] if candidates else None
