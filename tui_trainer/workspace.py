"""The runs folder kept up to date: new run folders, and the runs still being written, without re-reading it all.

The workspace screen lists every run once (:func:`tui_trainer.runs.find_runs`, from summary.json for a
finished run), then calls :meth:`Workspace.poll` about once a second. A poll costs a ``stat`` of the
runs folder, a ``stat`` of each unfinished run's events.jsonl and, for a run whose log grew, a read of
the bytes appended since the last poll, plus a ``stat`` of each finished run's events.jsonl (half a
millisecond for 500): a finished run that ``train --resume`` takes up again grows, and is followed again.
A folder that holds no run yet is looked into for TensorBoard logs every few ticks. No UI imports here.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .compare import ComparedRun
from .runlog import EVENTS, LoadedRun, LogTail, RunLogError
from .runlock import held
from .runs import RunInfo, find_runs, info_from_summary, liveness, run_info, tb_run_info
from .runstate import RunState
from .setup import labels_by_difference, setup_of
from .sources import discover, load

# Statuses a run may still leave: its log is followed. ("gone" too: `train --resume` takes it up again.)
UNFINISHED = frozenset({"running", "starting", "empty", "stalled", "gone"})
TB_EVERY = 3  # polls between looks for TensorBoard logs in folders that hold no run yet (a walk, not a stat)


@dataclass
class Followed:
    """An unfinished run: its log read so far and its events folded."""

    tail: LogTail
    state: RunState = field(default_factory=lambda: RunState(live=True))
    size: int = -1  # events.jsonl's size at the last read; -1: never read

    def catch_up(self) -> bool:
        """Read what was appended since the last call (only when the file grew); True if anything was."""
        try:
            size = os.stat(self.tail.path).st_size
        except OSError:
            return False
        if size == self.size:
            return False
        self.size = size
        events = self.tail.read()
        for event in events:
            self.state.apply(event)
        return bool(events)


@dataclass
class Changes:
    """What one poll found: runs that changed (status, epochs, best) and runs that appeared."""

    changed: list[RunInfo] = field(default_factory=list)
    added: list[RunInfo] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changed or self.added or self.removed)


def _status(d: Path, state: RunState) -> str:
    """An unfinished run's status, as :func:`tui_trainer.runs.run_info` tells it."""
    if state.finished is not None:
        return state.finished.status
    writing = held(d)
    if state.started is None:
        return "starting" if writing else "empty"
    return "running" if writing else liveness(state, d)


def info_of(d: Path, state: RunState) -> RunInfo:
    """A followed run's row, from its folded events (its summary.json may not be written yet)."""
    return info_from_summary(d, state.summary(d.name).to_dict(), _status(d, state))


class Workspace:
    """Every run of ``root``, newest first, and what changed since the last look.

    Args:
        root: The runs folder.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.infos: dict[Path, RunInfo] = {}
        self.followed: dict[Path, Followed] = {}
        self.pending: set[Path] = set()  # folders with no events.jsonl yet: a run being created, or not a run
        # Finished runs' events.jsonl (as a str: a Path join per run per tick would cost more than the stat)
        # and its size: one that changes was resumed.
        self.sizes: dict[Path, tuple[str, int]] = {}
        self._root_mtime: Optional[int] = None
        self._ticks = 0
        self.reads = 0  # events files read (appended bytes) by polls: what a tick cost

    # -- the first look ---------------------------------------------------------------------------

    def load(self) -> list[RunInfo]:
        """Read the folder (as ``runs list`` does) and start following the unfinished runs; newest first."""
        self._root_mtime = self._mtime()
        infos = find_runs(self.root)
        self.infos = {info.path: info for info in infos}
        for info in infos:
            if info.status in UNFINISHED:
                self._follow(info.path)
            else:
                self._watch_size(info)
        self.pending = self._folders() - set(self.infos) - self._tb_parents()
        return self.listed()

    def listed(self) -> list[RunInfo]:
        """The runs, newest first (run ids begin with their start time)."""
        return sorted(self.infos.values(), key=lambda i: i.id, reverse=True)

    def state(self, path: Path) -> Optional[RunState]:
        """The folded state of a followed (unfinished) run, kept current by :meth:`poll`; else None."""
        f = self.followed.get(Path(path))
        return f.state if f else None

    # -- each tick --------------------------------------------------------------------------------

    def poll(self) -> Changes:
        """Look for new run folders and read what the unfinished runs appended."""
        changes = Changes()
        self._ticks += 1
        mtime = self._mtime()
        if mtime != self._root_mtime:  # a folder came or went
            self._root_mtime = mtime
            self._rescan(changes)
        for d in sorted(self.pending):  # a run folder gets its events.jsonl a moment after the folder
            if (d / EVENTS).is_file():
                self._add(d, changes)
            elif self._ticks % TB_EVERY == 0 and self._add_tensorboard(d, changes):
                self.pending.discard(d)  # made empty, then a TensorBoard writer wrote into it
        self._resumed(changes)
        for d, f in list(self.followed.items()):
            old = self.infos.get(d)
            grew = f.catch_up()
            self.reads += grew
            if not grew and old is not None and old.status not in ("running", "starting"):
                continue  # a gone or stalled run that wrote nothing: unchanged
            info = info_of(d, f.state) if f.state.started else self._refresh(d, old)
            if info is None:
                continue
            if info != old:
                self.infos[d] = info
                changes.changed.append(info)
            if f.state.finished is not None:
                del self.followed[d]  # summary.json follows; the row already says how it ended
                self.sizes[d] = (str(f.tail.path), f.size)
        return changes

    def _watch_size(self, info: RunInfo) -> None:
        """Note a finished run's log size, so that a resume (the log growing) is seen."""
        if info.status != "tensorboard":
            with contextlib.suppress(OSError):
                events = str(info.path / EVENTS)
                self.sizes[info.path] = (events, os.stat(events).st_size)

    def _resumed(self, changes: Changes) -> None:
        """Follow again the finished runs whose logs grew: ``train --resume`` went on with them."""
        for d, (events, size) in list(self.sizes.items()):
            try:
                grew = os.stat(events).st_size != size
            except OSError:
                continue  # gone: the rescan drops it
            if not grew or d in self.followed:
                continue
            del self.sizes[d]
            self._follow(d)
            self.reads += 1
            f = self.followed[d]
            info = info_of(d, f.state) if f.state.started else None
            if info is not None and info != self.infos.get(d):
                self.infos[d] = info
                changes.changed.append(info)

    def _refresh(self, d: Path, old: Optional[RunInfo]) -> Optional[RunInfo]:
        try:
            return run_info(d)
        except (RunLogError, OSError, ValueError):
            return old

    def _rescan(self, changes: Changes) -> None:
        folders = self._folders()
        known = set(self.infos) | self.pending
        for d in sorted(folders - known):
            self._add(d, changes)
        for d in [p for p in self.infos if p.parent == self.root and p not in folders and not p.is_dir()]:
            del self.infos[d]
            self.followed.pop(d, None)
            self.sizes.pop(d, None)
            changes.removed.append(d)
        self.pending &= folders

    def _add(self, d: Path, changes: Changes) -> None:
        try:
            info = run_info(d)
        except (RunLogError, OSError, ValueError):
            if not (d / EVENTS).exists() and self._add_tensorboard(d, changes):
                return
            self.pending.add(d)  # no events.jsonl yet (or not a run: a stat per tick is all it costs)
            return
        self.pending.discard(d)
        self.infos[d] = info
        if info.status in UNFINISHED:
            self._follow(d)
            self.followed[d].catch_up()
        else:
            self._watch_size(info)
        changes.added.append(info)

    def _add_tensorboard(self, d: Path, changes: Changes) -> bool:
        """A new folder of TensorBoard runs (as ``runs list`` finds them); False when it holds none."""
        found = []
        for run in discover(d):
            try:
                found.append(tb_run_info(run, self.root))
            except (RunLogError, OSError):
                continue
        for info in found:
            self.infos[info.path] = info
            changes.added.append(info)
        return bool(found)

    def _follow(self, d: Path) -> None:
        if d not in self.followed:
            f = Followed(LogTail(d / EVENTS))
            f.catch_up()
            self.followed[d] = f

    def _folders(self) -> set[Path]:
        try:
            with os.scandir(self.root) as entries:
                return {Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)}
        except OSError:
            return set()

    def _tb_parents(self) -> set[Path]:
        """Top folders holding TensorBoard runs: listed through their runs, not pending themselves."""
        return {self.root / Path(info.id).parts[0] for info in self.infos.values() if info.status == "tensorboard"}

    def _mtime(self) -> Optional[int]:
        try:
            return os.stat(self.root).st_mtime_ns
        except OSError:
            return None


# -- the runs selected for the overlay ---------------------------------------------------------------


def load_state(path: Path) -> RunState:
    """A run's events folded (our run folder or a TensorBoard log), batch losses kept compact.

    Raises:
        RunLogError: not a run.
    """
    state = RunState(live=False)
    for event in load(path, compact=True).events:
        state.apply(event)
    return state


class Selection:
    """The runs selected for the overlay, each with a colour slot that stays its own.

    A run keeps its slot while selected (selecting a third run never recolours the first two); a new
    one takes the lowest free slot, or its old one when that is free again.
    """

    def __init__(self) -> None:
        self.paths: list[Path] = []
        """The selected runs, in the order they were selected."""
        self.slots: dict[Path, int] = {}
        self.states: dict[Path, RunState] = {}
        """The runs' folded events: a followed run's live state, else its log read once."""

    def toggle(self, path: Path) -> bool:
        """Select ``path``, or unselect it if it was; True when it is selected now."""
        path = Path(path)
        if path in self.paths:
            self.paths.remove(path)
            return False
        used = {self.slots[p] for p in self.paths}
        if self.slots.get(path) in used or path not in self.slots:
            self.slots[path] = next(i for i in range(len(used) + 1) if i not in used)
        self.paths.append(path)
        return True

    def keep(self, paths: set[Path]) -> None:
        """Forget selected runs whose folders are gone."""
        self.paths = [p for p in self.paths if p in paths]

    def slot(self, path: Path) -> Optional[int]:
        """The colour slot of a selected run; None when it is not selected."""
        return self.slots[path] if path in self.paths else None

    def labels(self) -> dict[Path, str]:
        """Each loaded selected run's label: what differs between their setups, else their ids."""
        ready = [p for p in self.paths if p in self.states]
        labels = labels_by_difference([setup_of(self.states[p].started) for p in ready], fallback=[p.name for p in ready])
        return dict(zip(ready, labels))

    def compared(self) -> list:
        """The selected runs as the compare chart takes them, each at its slot's index (colour).

        A free slot holds a run with no epochs, which the chart skips, keeping the colours put.
        """
        labels = self.labels()
        by_slot = {self.slots[p]: p for p in labels}
        out = []
        for i in range(max(by_slot, default=-1) + 1):
            p = by_slot.get(i)
            if p is None:
                out.append(ComparedRun(f"free {i}", f"\0free {i}", Path(), LoadedRun(Path(), [], None, []), RunState()))
                continue
            state = self.states[p]
            out.append(ComparedRun(p.name, labels[p], p, LoadedRun(p, [], None, []), state, setup_of(state.started)))
        return out


# -- the overview of one run -------------------------------------------------------------------------

HEAD_LINES = 20  # events read from a finished run's log for its setup: RunStarted, ModelBuilt come first


def head_state(path: Path) -> RunState:
    """The first events of a run's log folded: enough for its setup, without reading a long log."""
    from itertools import islice

    from .runlog import iter_events

    state = RunState(live=False)
    try:
        for event in islice(iter_events(Path(path) / EVENTS, problems=[]), HEAD_LINES):
            state.apply(event)
    except OSError:
        pass
    return state


def duration(seconds: Optional[float]) -> str:
    """``42 s``, ``3 min 20 s``, ``1 h 05 min``; ``—`` when not known."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def overview(info: RunInfo, state: RunState, summary: Optional[dict] = None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A run's summary rows and setup rows, as ``(name, value)`` text pairs.

    Args:
        info: The run's row in the list.
        state: Its events folded (all of them for a followed run; the first few for a finished one).
        summary: Its summary.json, when the run finished (restored epoch, duration).
    """
    from .setup import format_value
    from .verdict import num, percent

    s = summary or state.summary(info.id).to_dict()
    best = "—" if info.best_epoch is None else f"epoch {info.best_epoch}: {info.monitor or 'value'} {num(info.best_value)}"
    stop = s.get("stopped_epoch")
    restored = s.get("restored_epoch")
    planned = s.get("epochs_planned")
    seconds = s.get("wall_time_s")
    if seconds is None and state.epochs:
        seconds = state.epochs[-1].elapsed_s
    rows = [
        ("status", info.status),
        ("epochs", f"{info.epochs} of {planned}" if planned else str(info.epochs)),
        ("best", best),
        ("stopped", "—" if stop is None else f"epoch {stop}"),
        ("restored", "—" if restored is None else f"epoch {restored}"),
        ("test acc", percent(info.test_accuracy)),
        ("duration", duration(seconds)),
    ]
    return rows, [(k, format_value(v)) for k, v in setup_of(state.started).items()]
