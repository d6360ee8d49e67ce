"""``CheckpointCallback``: keeps a run's best.keras (and checkpoint.npz) while it trains.

Its own callback, apart from the streaming one, as Keras keeps ``ModelCheckpoint``
apart from ``CSVLogger``: streaming says what happened, this keeps the weights. It
reads EarlyStopping's state of an epoch, so it must run after EarlyStopping has
handled that epoch: the engine puts it after EarlyStopping in ``fit``'s
callbacks; the :class:`~tui_trainer.monitor.Monitor`, which can stand anywhere in
a user's list, drives it from its own hook that runs after EarlyStopping's.

The writing is :class:`~tui_trainer.checkpoint.Checkpointer`'s, in a background
thread; on the training thread this only decides whether the epoch improved and
copies variables to NumPy when a file will be written from them.

Imported only once a fit runs (it subclasses a Keras class).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

import keras

from .checkpoint import Checkpointer, TrainingState, snapshot
from .events import Event, Note

if TYPE_CHECKING:
    from .callback import StreamingCallback


class CheckpointCallback(keras.callbacks.Callback):
    """best.keras whenever the watched value improves; with ``resumable``, checkpoint.npz every whole epoch.

    Args:
        run_dir: the run folder.
        sink: where the problems met (a full disk) go, as notes, when training ends.
        stream: the fit's streaming callback: whether its epoch was partial or the loss went NaN
            (no checkpoint of either).
        early_stopping: the fit's EarlyStopping, whose ``best_epoch`` decides what improved
            (None: the lowest ``val_loss``, else ``loss``, so far).
        resumable: write checkpoint.npz every whole epoch (the engine's runs).
        resume: the state an interrupted fit of this run left: early stopping's counters carry over.
        resume_best_weights: the best epoch's weights so far, for early stopping to restore.
    """

    def __init__(self, run_dir: Path, sink: Callable[[Event], None], stream: "StreamingCallback", *,
                 early_stopping: Optional[keras.callbacks.EarlyStopping] = None, resumable: bool = False,
                 resume: Optional[TrainingState] = None, resume_best_weights: Optional[list] = None):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.sink = sink
        self.stream = stream
        self.early_stopping = early_stopping
        self.resumable = resumable
        self.resume = resume
        self.resume_best_weights = resume_best_weights
        self._writer: Optional[Checkpointer] = None
        self._restored: Optional[tuple] = None  # the best epoch EarlyStopping restored, for close()
        self._best_seen: Optional[float] = None
        self._best_weights: Optional[list] = resume_best_weights
        self._t_train = 0.0

    def on_train_begin(self, logs=None):
        # After EarlyStopping's own on_train_begin, which reset the counters a resume carries over.
        self._t_train = time.perf_counter() - (self.resume.elapsed_s if self.resume is not None else 0.0)
        self._best_seen = None
        self._best_weights = self.resume_best_weights
        if self.resume is not None:
            self._carry_over(self.resume)
        self._writer = Checkpointer(self.run_dir, self.model, self.resumable)

    def _carry_over(self, state: TrainingState) -> None:
        """Early stopping's counters as the interrupted fit left them (Keras reset them at train begin)."""
        es, saved = self.early_stopping, state.early_stopping
        if es is None or not saved or saved.get("best") is None:
            return
        es.wait = int(saved.get("wait", 0))
        es.best = float(saved["best"])
        es.best_epoch = int(saved.get("best_epoch", 1)) - 1
        if es.restore_best_weights and self.resume_best_weights is not None:
            es.best_weights = self.resume_best_weights

    def on_epoch_end(self, epoch, logs=None):
        """Hand the best weights (when this epoch improved) and the epoch's state to the writer."""
        writer = self._writer
        if writer is None or self.stream.failure is not None:
            return
        if self._improved(epoch, logs or {}):
            writer.best(epoch + 1, self._best_weights)
        if writer.resumable and not self.stream.last_partial and (not writer.busy or self._last_epoch(epoch)):
            # Copied only when the writer can take it (a slow disk skips epochs rather than queue copies),
            # and always at the fit's last epoch, which a resume goes on from.
            writer.last(snapshot(self.model, epoch + 1, self._es_state(), time.perf_counter() - self._t_train,
                                 self._best_weights))

    def _last_epoch(self, epoch: int) -> bool:
        """Whether ``epoch`` (0-based) ends the fit: the last planned, or something (EarlyStopping) stops it."""
        return bool(getattr(self.model, "stop_training", False)) or epoch + 1 >= int(
            (self.params or {}).get("epochs") or 0)

    def _improved(self, epoch: int, logs: dict) -> bool:
        """Whether ``epoch`` is a new best; if so its weights are kept in ``_best_weights``."""
        es = self.early_stopping
        if es is not None:
            improved = es.best is not None and es.best_epoch == epoch and epoch >= es.start_from_epoch
            weights = es.best_weights if improved and es.restore_best_weights else None
        else:
            value = logs.get("val_loss", logs.get("loss"))
            improved = value is not None and math.isfinite(value) and (
                self._best_seen is None or value < self._best_seen)
            if improved:
                self._best_seen = float(value)
            weights = None
        if improved:  # EarlyStopping's own copy when it keeps one, else a copy now
            self._best_weights = weights if weights is not None else self.model.get_weights()
        return improved

    def _es_state(self) -> dict:
        es = self.early_stopping
        if es is None or es.best is None:
            return {}
        best = float(es.best)
        return {"wait": int(es.wait), "best": best if math.isfinite(best) else None, "best_epoch": es.best_epoch + 1}

    def on_train_end(self, logs=None):
        # The last best.keras is written while the caller goes on (the engine predicts the test split
        # meanwhile); close() waits for it. When EarlyStopping has just restored the best weights, the
        # model about to be saved as model.keras is that best model: close() copies that file instead.
        writer = self._writer
        if writer is None:
            return
        es = self.early_stopping
        if es is not None and es.restore_best_weights and es.best_weights is not None:
            pending = writer.take_best()
            if pending is not None and pending[0] == es.best_epoch + 1:
                self._restored = pending
            elif pending is not None:
                writer.best(*pending)
        writer.finish()

    def close(self, model_file: Optional[Path] = None) -> None:
        """Write what is waiting and stop the writer; what it could not write goes to the sink as notes.

        Args:
            model_file: model.keras, once saved with the weights the fit ended with: best.keras is
                copied from it when those are the restored best weights (else the writer saves them).
        """
        writer, self._writer = self._writer, None
        if writer is None:
            return
        restored, self._restored = self._restored, None
        if restored is not None and model_file is not None and Path(model_file).is_file():
            writer.best_from(Path(model_file), restored[0])
        elif restored is not None:
            writer.best(*restored)
        for problem in writer.close():
            self.sink(Note(problem, epoch=self.stream.epochs_run or None))
