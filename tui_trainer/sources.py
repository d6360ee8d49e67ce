"""Where a run comes from: our run folder (events.jsonl) or a TensorBoard log from any framework,
behind one reader, so replay, watch, compare, export and ``runs list`` never ask which.

A TensorBoard log becomes our event stream: ``RunStarted``, per-step ``BatchLosses``, per-epoch
``EpochEnded`` carrying what EarlyStopping *would* have done (:mod:`tui_trainer.whatif`), and, for a
log read whole, an ``EarlyStoppingResult`` marked ``whatif`` and a ``RunFinished``.

Runs are found as TensorBoard finds them: each folder with event files is a run, except that
Keras's ``train/`` + ``validation/`` pair is one run (their parent).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
import os
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Optional

from .events import BatchLosses, EpochEnded, Event, RunFinished, RunStarted
from .runlog import EVENTS, LoadedRun, RunLogError
from .tbread import EventFileReader, TBFormatError, event_files, is_event_file
from .whatif import DEFAULT_PATIENCE, what_if

TRAIN = {"train", "training", "trn"}
VAL = {"val", "valid", "validation", "eval", "evaluation"}
ALIASES = {"acc": "accuracy"}
MAX_EPOCH_POINTS = 5000  # a curve with no validation tag and at most this many points: one point an epoch
MAX_DEPTH = 6  # how deep `runs list` looks for TensorBoard runs under the runs folder


class NotOurRun(RunLogError):
    """A TensorBoard log given to a command that needs a tui-trainer run folder."""


def not_our_run(path: Path, what: str) -> str:
    """The one line for ``results``, ``predict``, ``train --resume``, ``summary`` on a TensorBoard log."""
    return f"{path}: is a TensorBoard log, not a tui-trainer run; {what} needs a run trained by tui-trainer"


# --- discovery ----------------------------------------------------------------------------------


def _role_dirs(folder: Path) -> dict[str, Path]:
    """The Keras pair below ``folder``: {"train": ..., "val": ...} for the subfolders with event files."""
    roles = {}
    for name in sorted(TRAIN | VAL):
        sub = folder / name
        if sub.is_dir() and not sub.is_symlink() and event_files(sub):
            roles.setdefault("val" if name in VAL else "train", sub)
    return roles


def is_tb_run(path: Path) -> bool:
    """Whether ``path`` is one TensorBoard run: an event file, a folder with event files, or a Keras pair."""
    path = Path(path)
    if path.is_file():
        return is_event_file(path)
    return path.is_dir() and not (path / EVENTS).exists() and bool(event_files(path) or _role_dirs(path))


def discover(root: Path, depth: int = MAX_DEPTH) -> list[Path]:
    """The TensorBoard runs at or below ``root`` (links not followed), sorted by path."""
    root = Path(root)
    if is_tb_run(root):
        return [root]
    found: list[Path] = []
    if depth <= 0 or (root / EVENTS).exists():
        return found
    try:
        subs = sorted(e.path for e in os.scandir(root) if e.is_dir(follow_symlinks=False))
    except OSError:
        return found
    for sub in subs:
        found += discover(Path(sub), depth - 1)
    return found


def _files(run: Path) -> list[tuple[str, Path]]:
    """(role, file) for every event file of one run; role "" for files of the run's own folder."""
    if run.is_file():
        return [("", run)]
    out = [("", f) for f in event_files(run)]
    for role, sub in _role_dirs(run).items():
        out += [(role, f) for f in event_files(sub)]
    return out


# --- tag names ----------------------------------------------------------------------------------


def canonical(tag: str, role: str = "") -> tuple[str, bool]:
    """A tag as our metric name, and whether it is one value per epoch by its name (Keras's ``epoch_*``).

    ``epoch_loss`` in ``validation/`` -> ``val_loss``; ``train/loss``, ``loss/train``, ``train_loss``
    -> ``loss``; ``val/acc`` -> ``val_accuracy``; anything else keeps its own name.
    """
    t, per_epoch = tag.strip(), False
    low = t.lower()
    if low.startswith("epoch_"):
        t, low, per_epoch = t[6:], low[6:], True
    elif low.startswith("batch_") and role:
        return t, False  # Keras's per-batch curve: the batch chart's, never an epoch's metric
    split, base = role, None
    parts = low.split("/")
    if len(parts) == 2:
        a, b = parts
        for part, other in ((a, b), (b, a)):
            if part in TRAIN or part in VAL:
                split, base = ("val" if part in VAL else "train"), other
                break
    elif len(parts) == 1:
        m = re.fullmatch(r"(train|training|val|valid|validation|eval)_(.+)", low) or None
        if m:
            split, base = ("train" if m.group(1) in TRAIN else "val"), m.group(2)
        elif split:
            base = low
        elif low in ("loss", "acc", "accuracy"):
            base = low
    if base is None:
        return t, per_epoch
    base = ALIASES.get(base, base)
    return ("val_" + base if split == "val" else base), per_epoch


# --- the reader ---------------------------------------------------------------------------------


class _Series:
    __slots__ = ("steps", "values", "walls", "per_epoch")

    def __init__(self, per_epoch: bool):
        self.steps: list[int] = []
        self.values: list[float] = []
        self.walls: list[float] = []
        self.per_epoch = per_epoch


class TBSource:
    """A TensorBoard run read as our events, whole (:meth:`load`) or as it grows (:meth:`read`).

    Args:
        path: an event file, a folder of them, or a Keras ``train/``+``validation/`` parent.
        patience: the what-if EarlyStopping's patience.
    """

    def __init__(self, path: Path, patience: int = DEFAULT_PATIENCE):
        self.path = Path(path)
        self.patience = patience
        self.readers: dict[Path, tuple[str, EventFileReader]] = {}
        self.series: dict[str, _Series] = {}
        self.problems: list[str] = []
        self.started: Optional[RunStarted] = None
        self.epochs_sent = 0
        self.batches_sent = 0
        self._epoch_counts: dict[int, int] = {}
        self._epoch_walls: list[float] = []  # Keras logs: when each epoch's values were written
        self._names: dict[tuple[str, str], tuple[str, bool]] = {}  # canonical() of each (tag, role) met  # batch losses sent so far, by epoch (watch)
        self.last_growth = time.time()

    # -- reading the files --

    def _pull(self, strict: bool = False) -> bool:
        """Read what the files gained (and any new file); True if any scalar came.

        ``strict``: a file that is no event file raises TBFormatError; otherwise it is noted once and skipped.
        """
        grew, names = False, self._names
        for role, f in _files(self.path):
            if f not in self.readers:
                self.readers[f] = (role, EventFileReader(f))
            role, reader = self.readers[f]
            try:
                scalars = reader.read()
            except TBFormatError as exc:
                if strict:
                    raise
                reader.broken = True
                self.problems.append(str(exc))
                continue
            except OSError as exc:
                self.problems.append(f"{f}: can't read it ({exc.strerror or exc})")
                continue
            self.problems += reader.problems
            reader.problems.clear()
            for s in scalars:
                key = (s.tag, role)
                name, per_epoch = names.get(key) or names.setdefault(key, canonical(s.tag, role))
                series = self.series.get(name)
                if series is None:
                    series = self.series[name] = _Series(per_epoch)
                series.steps.append(s.step)
                series.values.append(s.value)
                series.walls.append(s.wall_time)
            grew = grew or bool(scalars)
        if grew:
            self.last_growth = time.time()
        return grew

    def load(self) -> LoadedRun:
        """The whole log as a finished run (its last epoch included).

        Raises:
            RunLogError: no event file, garbage, or no scalar in it.
        """
        if not _files(self.path):
            raise RunLogError(f"{self.path}: no TensorBoard event files (events.out.tfevents.*) in it")
        try:
            self._pull(strict=True)
        except TBFormatError as exc:
            raise RunLogError(str(exc)) from None
        for s in self.series.values():  # several files (a restarted writer): in step order
            if any(a > b for a, b in zip(s.steps, s.steps[1:])):
                order = sorted(range(len(s.steps)), key=s.steps.__getitem__)
                s.steps, s.values, s.walls = ([xs[i] for i in order] for xs in (s.steps, s.values, s.walls))
        if not self.series:
            raise RunLogError(f"{self.path}: a TensorBoard log without scalars (only images, histograms or graphs?)")
        events = self._events(final=True)
        return LoadedRun(self.path if self.path.is_dir() else self.path.parent, events, None, list(self.problems))

    def read(self) -> list[Event]:
        """The events the log gained since the last call (``watch``); a file still being written is waited for."""
        self._pull()
        return self._events(final=False) if self.series else []

    def liveness(self) -> str:
        """``running`` while the files grew in the last minutes, else ``stalled`` (a writer that ended
        looks the same: TensorBoard logs don't say they are finished)."""
        return "running" if time.time() - self.last_growth < 300 else "stalled"

    # -- turning series into events --

    def _epochs(self, final: bool):
        """(monitor, end step of each epoch, whether the per-epoch tags are Keras's)."""
        keras = {n: s for n, s in self.series.items() if s.per_epoch}
        if keras:
            steps = sorted({st for s in keras.values() for st in s.steps})
            if not final and steps:  # the newest epoch is whole once every per-epoch tag has it
                last = steps[-1]
                if not all(s.steps and s.steps[-1] >= last for s in keras.values()):
                    steps = steps[:-1]
            return steps, True
        vals = [n for n in self.series if n.startswith("val_")]
        clock = "val_loss" if "val_loss" in self.series else (min(vals, key=lambda n: len(self.series[n].steps)) if vals else None)
        if clock is None and "loss" in self.series and len(self.series["loss"].steps) <= MAX_EPOCH_POINTS:
            clock = "loss"
        if clock is None:
            return [], False
        return sorted(set(self.series[clock].steps)), False

    def _events(self, final: bool) -> list[Event]:
        ends, keras = self._epochs(final)
        out: list[Event] = []
        first_wall = min((s.walls[0] for s in self.series.values() if s.walls), default=time.time())
        batch = self._batch_series(keras, len(ends))
        spe = self._steps_per_epoch(batch, ends, keras)
        if self.started is None:
            self.started = self._run_started(first_wall, len(ends) if final else 0, spe)
            out.append(self.started)
        metrics = [self._epoch_metrics(i, ends, keras) for i in range(len(ends))]
        monitor = self._monitor(metrics)
        result, states = what_if([m.get(monitor) for m in metrics], monitor=monitor, patience=self.patience)
        body: list[Event] = list(self._batches(batch, ends, keras, spe))
        prev_wall = (self._epoch_wall(ends[self.epochs_sent - 1], keras) if self.epochs_sent else None) or first_wall
        for i in range(self.epochs_sent, len(ends)):
            wall = self._epoch_wall(ends[i], keras) or prev_wall
            st = states[min(i, len(states) - 1)] if states else None
            body.append(EpochEnded(epoch=i + 1, metrics=metrics[i], duration_s=max(0.0, wall - prev_wall),
                                  elapsed_s=max(0.0, wall - first_wall), best_epoch=st and st.best_epoch,
                                  best_value=st and st.best_value, wait=st and st.wait))
            prev_wall = wall
        self.epochs_sent = len(ends)
        out += sorted(body, key=lambda e: (e.epoch, isinstance(e, EpochEnded)))  # an epoch's batches, then its end
        if final:
            last_wall = max((s.walls[-1] for s in self.series.values() if s.walls), default=first_wall)
            out += [result, RunFinished(status="completed", epochs_run=len(ends), test_metrics={},
                                        wall_time_s=max(0.0, last_wall - first_wall), finished_at=_iso(last_wall))]
        return out

    def _monitor(self, metrics: list[dict]) -> str:
        names = {k for m in metrics for k in m}
        for name in ("val_loss", *sorted(n for n in names if n.startswith("val_")), "loss"):
            if name in names:
                return name
        return "val_loss"

    def _batch_series(self, keras: bool, n_epochs: int) -> Optional[_Series]:
        s = self.series.get("batch_loss" if keras else "loss")
        if s is None or s.per_epoch:
            return None
        if not keras and len(s.steps) <= 2 * max(n_epochs, 1):
            return None  # one train value an epoch: an epoch curve, not a batch curve
        return s

    def _steps_per_epoch(self, batch: Optional[_Series], ends: list[int], keras: bool) -> int:
        if batch is None or not ends:
            return 0
        if keras:  # Keras's batch steps are global; its epoch steps are epoch numbers
            self._epoch_walls = self._keras_epoch_walls(ends)
            counts = [0] * (len(ends) + 1)
            for w in batch.walls:
                counts[min(bisect_left(self._epoch_walls, w), len(ends))] += 1
            return max(counts)
        edges = [ends[0] + 1] + [b - a for a, b in zip(ends, ends[1:])]
        return max(edges)

    def _keras_epoch_walls(self, ends: list[int]) -> list[float]:
        """When each epoch's ``epoch_*`` values were written: batches written before belong to it."""
        walls = [self._epoch_wall(e, True) for e in ends]
        out, last = [], 0.0
        for w in walls:
            last = max(last, w or last)
            out.append(last)
        return out

    def _batches(self, batch: Optional[_Series], ends: list[int], keras: bool, spe: int) -> list[BatchLosses]:
        """BatchLosses for the batch values not sent yet, one per epoch they fall in (past the last
        epoch's end: the epoch still running)."""
        if batch is None:
            return []
        out: list[BatchLosses] = []
        i, limit = self.batches_sent, len(batch.steps)
        keys, marks = (batch.walls, self._epoch_walls) if keras else (batch.steps, ends)
        while i < limit:
            epoch = bisect_left(marks, keys[i]) + 1
            j = bisect_right(keys, marks[epoch - 1], i) if epoch <= len(marks) else limit
            j = max(j, i + 1)  # steps out of order (a restarted writer): one at a time, never stuck
            start = self._epoch_counts.get(epoch, 0)
            losses = tuple(batch.values[i:j])
            out.append(BatchLosses(epoch=epoch, first_step=start + 1, losses=losses, steps_per_epoch=spe))
            self._epoch_counts[epoch] = start + len(losses)
            i = j
        self.batches_sent = limit
        return out

    def _epoch_metrics(self, i: int, ends: list[int], keras: bool) -> dict[str, float]:
        out: dict[str, float] = {}
        lo = ends[i - 1] if i else -(1 << 62)
        hi = ends[i]

        for name, s in self.series.items():
            if keras and not s.per_epoch:
                continue
            a, b = bisect_right(s.steps, lo), bisect_right(s.steps, hi)
            if keras:
                k = bisect_left(s.steps, hi)
                if k < len(s.steps) and s.steps[k] == hi:
                    out[name] = s.values[k]
            elif b > a:
                dense = len(s.steps) > 2 * len(ends)
                vals = s.values[a:b]
                out[name] = math.fsum(vals) / len(vals) if dense else vals[-1]
        return out

    def _epoch_wall(self, end: int, keras: bool) -> Optional[float]:

        walls = []
        for s in self.series.values():
            if keras and not s.per_epoch:
                continue
            k = bisect_left(s.steps, end)
            if k < len(s.steps) and s.steps[k] == end:
                walls.append(s.walls[k])
        return max(walls) if walls else None

    def _run_started(self, first_wall: float, epochs: int, spe: int) -> RunStarted:
        name = self.path.name if self.path.is_dir() else self.path.parent.name
        return RunStarted(
            run_id=name, run_dir=str(self.path), preset_name="tensorboard", preset={}, seed=None, device="",
            dataset=name, data_source="tensorboard", n_train=0, n_val=0, n_test=0, input_shape=(), num_classes=0,
            layers=(), params_total=0, epochs=epochs, batch_size=0, steps_per_epoch=spe, monitor="val_loss",
            patience=self.patience, started_at=_iso(first_wall), origin="tensorboard",
            notes=(f"a TensorBoard log: the early-stopping marks are what EarlyStopping(patience {self.patience}) "
                   "would have done; no EarlyStopping watched this run",))


def _iso(wall: float) -> str:
    try:
        return datetime.fromtimestamp(wall).astimezone().isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return ""


# --- one entry for every command ----------------------------------------------------------------


def load(path: Path, *, compact: bool = False, patience: int = DEFAULT_PATIENCE) -> LoadedRun:
    """Any run-like path read back: our run folder, or one TensorBoard run.

    Raises:
        RunLogError: not a run, or a folder holding several TensorBoard runs (named in the message).
    """
    from .runlog import load_run

    path = Path(path).expanduser()
    if path.exists() and not (path.is_dir() and (path / EVENTS).exists()):
        if is_tb_run(path):
            return TBSource(path, patience).load()
        if path.is_file():
            raise RunLogError(f"{path}: not a run folder or a TensorBoard event file (events.out.tfevents.*)")
        runs = discover(path)
        if runs:
            names = ", ".join(str(r.relative_to(path)) for r in runs[:5]) + (", ..." if len(runs) > 5 else "")
            raise RunLogError(f"{path}: holds {len(runs)} TensorBoard runs; name one: {names}")
    return load_run(path, compact=compact)


def is_foreign(path: Path) -> bool:
    """Whether ``path`` is a TensorBoard log rather than a tui-trainer run folder."""
    path = Path(path).expanduser()
    return path.exists() and not (path / EVENTS).exists() and (is_tb_run(path) or bool(path.is_dir() and discover(path, 2)))
