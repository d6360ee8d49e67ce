"""A run's per-epoch metrics as CSV, its summary as a dict."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from .events import EpochEnded, json_safe
from .runlog import LoadedRun
from .runstate import RunState


def epochs_csv(run: LoadedRun) -> str:
    """One row per epoch: the epoch (from 1), every logged metric, timing and early stopping's state.

    Epochs a resume superseded (logged after the checkpoint it went on from) are left out, as every
    reader leaves them out: the run's state decides which epochs stand.
    """
    state = RunState(live=False)
    for event in run.events:
        state.apply(event)
    epochs: list[EpochEnded] = list(state.epochs)
    metric_names: list[str] = []
    for e in epochs:
        metric_names += [k for k in e.metrics if k not in metric_names]
    # loss first, each val_ column right after its training twin
    metric_names.sort(key=lambda k: (k.removeprefix("val_") != "loss", k.removeprefix("val_"), k.startswith("val_")))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["epoch", *metric_names, "duration_s", "elapsed_s", "partial", "best_epoch", "wait"])
    for e in epochs:
        writer.writerow([e.epoch, *(_cell(e.metrics.get(k)) for k in metric_names), f"{e.duration_s:.4f}",
                         f"{e.elapsed_s:.4f}", int(e.partial), _cell(e.best_epoch), _cell(e.wait)])
    return out.getvalue()


def _cell(value: Any) -> Any:
    return "" if value is None else repr(value) if isinstance(value, float) else value


def summary_dict(run: LoadedRun) -> dict[str, Any]:
    """summary.json when the run finished; otherwise the same fields rebuilt from its events."""
    data = dict(run.summary_dict())
    if data["status"] == "running":
        data["status"] = "unfinished"  # no summary.json: still running, or killed
    return data


def summary_json(run: LoadedRun) -> str:
    """:func:`summary_dict` as strict JSON: a NaN or infinite number (from a hand-edited summary.json)
    is written as null, never as the ``NaN`` token JSON readers refuse."""
    return json.dumps(json_safe(summary_dict(run)), indent=2, allow_nan=False)


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` (resolved, links followed) is ``folder`` or lies inside it."""
    try:
        target, root = path.resolve(), folder.resolve()
    except (OSError, RuntimeError):
        return False
    if target == root or root in target.parents:
        return True
    try:  # another name for one of its files (a hard link)
        return target.exists() and any(os.path.samefile(target, f) for f in root.iterdir())
    except OSError:
        return False


def to_tensorboard(run: LoadedRun, dest: Path) -> Path:
    """Write a run's scalars as TensorBoard event files under ``dest/<run id>``, laid out as Keras's
    TensorBoard callback writes them (see :mod:`tui_trainer.tbwrite`); returns that folder.

    Per epoch ``epoch_<metric>`` (val_ metrics in ``validation/``, step = epoch - 1 as Keras counts);
    per batch ``batch_loss`` by global step; early stopping's marks and the verdict as text.

    Raises:
        OSError: the folder can't be written, or ``dest/<run id>`` exists already (never overwritten).
    """
    from .runstate import RunState
    from .events import BatchLosses
    from .tbwrite import EventWriter

    state = RunState(live=False)
    for e in run.events:
        state.apply(e)
    target = Path(dest) / run.dir.name
    if target.exists() or target.is_symlink():
        raise FileExistsError(f"{target}: exists already; export into another folder")
    start = _start_wall(state)
    with EventWriter(target / "train") as train, EventWriter(target / "validation") as val:
        for e in state.epochs:
            wall = start + e.elapsed_s
            for name, value in e.metrics.items():
                writer, base = (val, name[4:]) if name.startswith("val_") else (train, name)
                writer.scalar(f"epoch_{base}", value, e.epoch - 1, wall)
        step = 0
        for e in run.events:
            if isinstance(e, BatchLosses):
                for loss in e.losses:
                    train.scalar("batch_loss", loss, step, start)
                    step += 1
        train.text("early_stopping", _marks_text(state), max(0, state.epochs_run - 1))
    return target


def _start_wall(state) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(state.started.started_at).timestamp()
    except (AttributeError, TypeError, ValueError):
        return 0.0


def _marks_text(state) -> str:
    """Early stopping's marks and the verdict, as TensorBoard's Text tab shows them (markdown)."""
    rows = [("best epoch", state.best_epoch), ("best value", state.best_value),
            ("stopped at epoch", state.stopped_epoch), ("restored epoch", state.restored_epoch),
            ("monitor", state.early_stopping.monitor if state.early_stopping else None),
            ("patience", state.early_stopping.patience if state.early_stopping else None)]
    lines = [state.verdict() or "", "", "| mark | value |", "|---|---|"]
    lines += [f"| {k} | {'' if v is None else v} |" for k, v in rows]
    return "\n".join(lines)
