"""Checkpoints while training, so a kill loses at most the epoch in progress.

Two files in the run folder, each written to a temporary name and renamed, so
a kill mid-write leaves the previous one:

- ``best.keras`` (with ``best.json`` naming its epoch): the model with the best
  weights so far, written when the monitored value improves (at most every
  ``BEST_EVERY_S`` seconds, and at the end). It loads with
  ``keras.saving.load_model``.
- ``checkpoint.npz``: the last finished epoch's full state (model and optimizer
  variables, early stopping's counters and best weights), what ``tui-trainer
  train --resume`` continues from. Written by the engine's runs only, every epoch.

The training thread only copies the variables to NumPy (a few milliseconds
for the lesson's models); the writing happens in a background thread, and a
slow disk makes it skip to the newest state rather than queue them.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from .atomic import replacing, write_bytes_atomic
from .runlog import BEST, BEST_INFO, CHECKPOINT, EVENTS, PRESET

FORMAT = 1
# best.keras is a whole Keras model file (config, weights, a zip): writing it costs a few hundred
# milliseconds of Python, which competes with training for the interpreter on a small machine
# (measured: 8 % of a 5-second epoch when written every epoch). It is written at most this often, and
# once more at the end; checkpoint.npz, cheap to write, carries the best weights every epoch.
BEST_EVERY_S = 30.0


@dataclass
class TrainingState:
    """What resuming needs: the epoch it ends at, every variable, and early stopping's counters."""

    epoch: int  # 1-based: the last finished epoch
    model_vars: list[np.ndarray]
    optimizer_vars: list[np.ndarray]
    early_stopping: dict[str, Any] = field(default_factory=dict)  # wait, best, best_epoch (1-based)
    elapsed_s: float = 0.0
    # the best epoch's weights, for early stopping to restore after a resume (best.keras is written
    # less often: this copy is always in step with the counters above)
    best_weights: Optional[list[np.ndarray]] = None
    # whose checkpoint it is: the run's id (its run_started event's) and a hash of its preset (see
    # :func:`preset_hash`); resuming refuses a checkpoint of another run, or of an edited preset
    run_id: Optional[str] = None
    preset_hash: Optional[str] = None

    def to_bytes(self) -> bytes:
        best = self.best_weights or []
        meta = {"format": FORMAT, "epoch": self.epoch, "n_model": len(self.model_vars),
                "n_optimizer": len(self.optimizer_vars), "n_best": len(best),
                "early_stopping": self.early_stopping, "elapsed_s": self.elapsed_s,
                "run_id": self.run_id, "preset_hash": self.preset_hash}
        arrays = {f"m{i}": a for i, a in enumerate(self.model_vars)}
        arrays.update({f"o{i}": a for i, a in enumerate(self.optimizer_vars)})
        arrays.update({f"b{i}": a for i, a in enumerate(best)})
        buf = io.BytesIO()
        np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
        return buf.getvalue()

    @classmethod
    def load(cls, path: Path) -> "TrainingState":
        """Read a checkpoint.npz whole (every array is read, so a cut file is found here, not later).

        Raises:
            ValueError: one line: it is not one this version wrote (empty, cut, another format).
        """
        try:
            if Path(path).is_symlink():
                raise ValueError("a symbolic link, not the run's own file")
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                    raise ValueError(f"format {meta.get('format') if isinstance(meta, dict) else meta!r}, "
                                     f"expected {FORMAT}")
                model_vars = [data[f"m{i}"] for i in range(meta["n_model"])]
                optimizer_vars = [data[f"o{i}"] for i in range(meta["n_optimizer"])]
                best = [data[f"b{i}"] for i in range(meta.get("n_best", 0))]
                state = cls(int(meta["epoch"]), model_vars, optimizer_vars, dict(meta.get("early_stopping") or {}),
                            float(meta.get("elapsed_s") or 0.0), best or None, meta.get("run_id"),
                            meta.get("preset_hash"))
        except Exception as exc:  # numpy and zipfile raise many kinds (BadZipFile, EOFError, ...) for a cut file
            why = str(exc).strip().splitlines()
            raise ValueError(f"{path}: not a readable checkpoint ({type(exc).__name__}: "
                             f"{why[0][:200] if why else 'empty'})") from None
        if state.epoch < 1:
            raise ValueError(f"{path}: not a readable checkpoint (epoch {state.epoch})")
        return state


def snapshot(model, epoch: int, early_stopping: dict[str, Any], elapsed_s: float,
             best_weights: Optional[list[np.ndarray]] = None) -> TrainingState:
    """Copy the model's and its optimizer's variables now (on the training thread)."""
    optimizer = getattr(model, "optimizer", None)
    opt_vars = [np.array(v) for v in optimizer.variables] if optimizer is not None else []
    return TrainingState(epoch, model.get_weights(), opt_vars, early_stopping, elapsed_s, best_weights)


def restore(model, state: TrainingState) -> None:
    """Put a checkpoint's variables into a freshly built and compiled ``model``.

    Raises:
        ValueError: the checkpoint's variables don't fit this model (another preset).
    """
    current = model.get_weights()
    if len(current) != len(state.model_vars) or any(a.shape != b.shape for a, b in zip(current, state.model_vars)):
        raise ValueError("the checkpoint's weights don't fit the preset's model (was the preset edited?)")
    model.set_weights(state.model_vars)
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    if len(optimizer.variables) != len(state.optimizer_vars):
        raise ValueError("the checkpoint's optimizer state doesn't fit the preset's optimizer")
    for var, value in zip(optimizer.variables, state.optimizer_vars):
        var.assign(value)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to the run file ``path`` through a unique temporary file, then rename it (never
    through a link standing at ``path``)."""
    write_bytes_atomic(path, data, run_file=True)


def preset_hash(path: Path) -> Optional[str]:
    """A hash of a run's preset.toml as it parses, ``training.epochs`` left out (``--resume --epochs``
    rewrites it); None when there is none (a Monitor's run) or it can't be read."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, ValueError):
        return None
    training = data.get("training")
    if isinstance(training, dict):
        training.pop("epochs", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_id_of(run_dir: Path) -> Optional[str]:
    """The run id in the first line of a run's events.jsonl (its run_started event), read without the rest."""
    try:
        with open(Path(run_dir) / EVENTS, "rb") as fh:
            first = json.loads(fh.readline(1 << 20))
        return str(first["run_id"]) if first.get("event") == "run_started" else None
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return None


def write_best(run_dir: Path, model, epoch: int, weights: list[np.ndarray]) -> None:
    """Write best.keras (``model`` with ``weights``) and best.json naming ``epoch``, each renamed into place."""
    model.set_weights(weights)
    with replacing(Path(run_dir) / BEST, run_file=True) as tmp:  # a unique .keras name (Keras wants the suffix)
        model.save(tmp)
    write_atomic(Path(run_dir) / BEST_INFO, (json.dumps({"epoch": epoch}) + "\n").encode())


class Checkpointer:
    """Writes best.keras and checkpoint.npz from a background thread.

    Args:
        run_dir: the run folder.
        model: the model being trained (cloned once, so the best weights can be saved as a
            whole model while training goes on).
        resumable: also write checkpoint.npz every epoch (the engine's runs).
    """

    def __init__(self, run_dir: Path, model, resumable: bool):
        import keras

        self.dir = Path(run_dir)
        self.resumable = resumable
        self.errors: list[str] = []  # what could not be written; the callback turns them into notes
        self._cond = threading.Condition()
        self._best: Optional[tuple[int, list[np.ndarray]]] = None
        self._last: Optional[TrainingState] = None
        self._closing = False
        self._writing_last = False  # checkpoint.npz being written now
        self.run_id, self.preset_hash = run_id_of(self.dir), preset_hash(self.dir / PRESET)
        try:
            self._clone = keras.models.clone_model(model)
        except Exception as exc:  # a subclassed model without get_config: no best.keras
            self._clone = None
            self.errors.append(f"best weights are not checkpointed: the model can't be cloned ({_short(exc)})")
        self._thread = threading.Thread(target=self._write_loop, name="checkpoints", daemon=True)
        self._thread.start()

    def best(self, epoch: int, weights: list[np.ndarray]) -> None:
        """The weights of a new best epoch (1-based); only the newest waiting one is written."""
        if self._clone is None:
            return
        with self._cond:
            self._best = (epoch, weights)
            self._cond.notify()

    def take_best(self) -> Optional[tuple[int, list[np.ndarray]]]:
        """The best weights waiting to be written, taken back (None: none waits)."""
        with self._cond:
            best, self._best = self._best, None
            return best

    def best_from(self, model_file: Path, epoch: int) -> None:
        """best.keras as a copy of ``model_file``, a saved model holding ``epoch``'s weights (on the caller's
        thread: a file copy instead of saving the model once more)."""
        try:
            with replacing(self.dir / BEST, run_file=True) as tmp:
                shutil.copyfile(model_file, tmp)
            write_atomic(self.dir / BEST_INFO, (json.dumps({"epoch": epoch}) + "\n").encode())
        except Exception as exc:
            self.errors.append(f"checkpoint not written: {_short(exc)}")

    @property
    def busy(self) -> bool:
        """Whether checkpoint.npz is still being written (or waits to be): a new state now would only
        replace the waiting one, so the caller may skip copying it."""
        with self._cond:
            return self._writing_last or self._last is not None

    def last(self, state: TrainingState) -> None:
        """The state at the end of an epoch; only the newest waiting one is written."""
        if not self.resumable:
            return
        with self._cond:
            self._last = state
            self._cond.notify()

    def finish(self) -> None:
        """Write what is waiting now, then stop, without waiting for it (:meth:`close` waits)."""
        with self._cond:
            self._closing = True
            self._cond.notify()

    def close(self, timeout: float = 60.0) -> list[str]:
        """Write what is waiting, stop the thread; the errors met."""
        self.finish()
        self._thread.join(timeout)
        return self.errors

    def _write_loop(self) -> None:
        next_best = time.monotonic()  # the first best is written at once
        while True:
            with self._cond:
                while not self._closing and self._last is None and (
                        self._best is None or time.monotonic() < next_best):
                    self._cond.wait(None if self._best is None else max(0.0, next_best - time.monotonic()))
                closing = self._closing
                best = self._best if closing or time.monotonic() >= next_best else None
                last = self._last
                if best is not None:
                    self._best = None
                    next_best = time.monotonic() + BEST_EVERY_S
                self._last = None
                self._writing_last = last is not None
            try:
                if best is not None:
                    self._write_best(*best)
                if last is not None:
                    last.run_id, last.preset_hash = self.run_id, self.preset_hash
                    write_atomic(self.dir / CHECKPOINT, last.to_bytes())
            except Exception as exc:  # a full disk: training goes on, the run says what is missing
                message = f"checkpoint not written: {_short(exc)}"
                if message not in self.errors:
                    self.errors.append(message)
            with self._cond:
                self._writing_last = False
            if closing and self._best is None and self._last is None:
                return

    def _write_best(self, epoch: int, weights: list[np.ndarray]) -> None:
        write_best(self.dir, self._clone, epoch, weights)


def catch_up_best(model, run_dir: Path, state: TrainingState) -> None:
    """Make best.keras and best.json hold the checkpoint's best epoch before a resume goes on.

    best.keras is written at most every BEST_EVERY_S seconds, so a kill can leave it behind the best
    epoch that checkpoint.npz carries (and early stopping restores at the end): a resumed run that
    never improves again would otherwise end with a best.* its verdict contradicts.
    """
    import keras

    best_epoch = state.early_stopping.get("best_epoch")
    weights = state.best_weights
    if not weights or not isinstance(best_epoch, int) or best_epoch_kept(run_dir) == best_epoch:
        return
    try:
        write_best(run_dir, keras.models.clone_model(model), best_epoch, weights)
    except Exception:  # a full disk: the callback's own best.* writes say so; training goes on
        pass


def best_epoch_kept(run_dir: Path) -> Optional[int]:
    """The epoch whose weights best.keras holds, if the run kept one."""
    try:
        if not (Path(run_dir) / BEST).is_file():
            return None
        return int(json.loads((Path(run_dir) / BEST_INFO).read_text(encoding="utf-8"))["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _short(exc: BaseException) -> str:
    first = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {first[0][:200] if first else ''}"
