"""RunState: everything a view of one run needs, folded from the event stream.

A live run, a replay and a watched run all feed events into ``apply``; the
monitor screen draws from the state only. No UI imports here, so it is tested
(and benchmarked) without a terminal.
"""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass, field
from typing import Optional

from .events import (
    BatchLosses,
    EarlyStoppingResult,
    EpochEnded,
    Event,
    GradientNorms,
    RunFailed,
    RunFinished,
    RunStarted,
    Telemetry,
    grad_ratio,
)
from .verdict import verdict


@dataclass
class RunState:
    """The accumulated state of one run."""

    started: Optional[RunStarted] = None
    epochs: list[EpochEnded] = field(default_factory=list)
    # Every batch loss of the run, in order, and the epoch (1-based) each belongs to:
    # compact arrays, since a long run has a million of them.
    batch_losses: array = field(default_factory=lambda: array("d"))
    batch_epochs: array = field(default_factory=lambda: array("i"))
    current_epoch: int = 0
    current_step: int = 0
    early_stopping: Optional[EarlyStoppingResult] = None
    failure: Optional[RunFailed] = None
    finished: Optional[RunFinished] = None
    grad_initial: Optional[GradientNorms] = None  # diagnostics.gradient_norms: the before-training measurement
    telemetry: Optional[Telemetry] = None  # the latest sample of GPU / CPU use
    live: bool = True  # False for a replay: the clock is the log's own, not the wall's
    last_tick: float = field(default_factory=time.monotonic)  # when the last epoch (or the start) arrived
    version: int = 0  # bumped on every change; views redraw when it moves
    # bumped on every change but batch losses: what only epochs change (the epoch charts, the
    # gradients) need not be drawn again ten times a second while an epoch runs
    epoch_version: int = 0

    # -- folding ----------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one event into the state."""
        self.version += 1
        if not isinstance(event, (BatchLosses, Telemetry)):  # telemetry changes no chart
            self.epoch_version += 1
        if isinstance(event, BatchLosses):
            self.batch_losses.extend(event.losses)
            self.batch_epochs.extend(array("i", (event.epoch,)) * len(event.losses))
            self.current_epoch, self.current_step = event.epoch, event.last_step
        elif isinstance(event, EpochEnded):
            self.epochs.append(event)
            self.last_tick = time.monotonic()
            self.current_epoch = event.epoch
            if not event.partial:  # a partial epoch stopped at the last step its batches reported
                self.current_step = self.steps_per_epoch
        elif isinstance(event, RunStarted):
            self.started = event
            self.last_tick = time.monotonic()
        elif isinstance(event, EarlyStoppingResult):
            self.early_stopping = event
        elif isinstance(event, RunFailed):
            self.failure = event
        elif isinstance(event, RunFinished):
            self.finished = event
        elif isinstance(event, GradientNorms):
            self.grad_initial = event
        elif isinstance(event, Telemetry):
            self.telemetry = event

    # -- derived values ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.started is not None and self.finished is None

    @property
    def epochs_planned(self) -> int:
        return self.started.epochs if self.started else 0

    @property
    def steps_per_epoch(self) -> int:
        return self.started.steps_per_epoch if self.started else 0

    @property
    def monitor(self) -> str:
        if self.early_stopping:
            return self.early_stopping.monitor
        return (self.started.monitor if self.started else None) or "val_loss"

    def series(self, name: str) -> tuple[list[int], list[float]]:
        """Epoch numbers and values of one logged quantity (missing values skipped)."""
        xs, ys = [], []
        for e in self.epochs:
            v = e.metrics.get(name)
            if v is not None:
                xs.append(e.epoch)
                ys.append(v)
        return xs, ys

    def metric_names(self) -> list[str]:
        """Logged quantities other than the losses, e.g. ``accuracy``, ``val_accuracy``."""
        names: list[str] = []
        for e in self.epochs:
            for k in e.metrics:
                if k not in names and k not in ("loss", "val_loss", "learning_rate"):
                    names.append(k)
        return names

    @property
    def grad_layer_names(self) -> tuple[str, ...]:
        """Names of the Dense layers the gradient norms belong to, input side first (empty: not recorded)."""
        return self.grad_initial.layers if self.grad_initial else ()

    def grad_norms_history(self) -> list[tuple[int, tuple[Optional[float], ...]]]:
        """``(epoch, norms)`` for every gradient measurement: epoch 0 is before training.

        ``norms`` lines up with ``grad_layer_names``; a None in it is a NaN or infinite norm.
        """
        out: list[tuple[int, tuple[Optional[float], ...]]] = []
        if self.grad_initial is not None:
            out.append((self.grad_initial.epoch, self.grad_initial.norms))
        out.extend((e.epoch, e.grad_norms) for e in self.epochs if e.grad_norms is not None)
        return out

    def grad_ratio_series(self) -> tuple[list[int], list[float]]:
        """Epochs and the first/last ratio of the gradient norms (first Dense layer over the output layer).

        Far below 1 (sigmoid x8: about 1e-5) means the gradient vanishes toward the input.
        Epochs whose ratio can't be told (NaN, a zero output gradient) are skipped.
        """
        xs, ys = [], []
        for epoch, norms in self.grad_norms_history():
            r = grad_ratio(norms)
            if r is not None:
                xs.append(epoch)
                ys.append(r)
        return xs, ys

    @property
    def best_epoch(self) -> Optional[int]:
        """The best epoch: the final verdict's if known, else early stopping's running best."""
        if self.early_stopping is not None:
            return self.early_stopping.best_epoch
        for e in reversed(self.epochs):
            if e.best_epoch is not None:
                return e.best_epoch
        return None

    @property
    def stopped_epoch(self) -> Optional[int]:
        return self.early_stopping.stopped_epoch if self.early_stopping else None

    @property
    def restored_epoch(self) -> Optional[int]:
        return self.early_stopping.restored_epoch if self.early_stopping else None

    @property
    def status(self) -> str:
        if self.finished is not None:
            return self.finished.status
        return "running" if self.started is not None else "waiting"

    def elapsed_s(self) -> float:
        """Seconds since training began: the log's clock at the last epoch, plus, for a run being
        trained or watched now, the time since that epoch arrived."""
        if self.finished is not None:
            return self.finished.wall_time_s
        base = self.epochs[-1].elapsed_s if self.epochs else 0.0
        return base + (time.monotonic() - self.last_tick) if self.running and self.live else base

    def eta_s(self) -> Optional[float]:
        """Seconds left if every epoch runs, from the mean epoch time so far."""
        if not self.epochs or not self.running or not self.live:
            return None
        per_epoch = self.epochs[-1].elapsed_s / len(self.epochs)
        done = len(self.epochs) + (self.current_step / self.steps_per_epoch if self.steps_per_epoch else 0)
        if self.current_epoch == len(self.epochs):  # between epochs
            done = len(self.epochs)
        return max(0.0, (self.epochs_planned - done) * per_epoch)

    def verdict(self) -> Optional[str]:
        """The CLI's closing sentence, once the run has finished."""
        if self.finished is None:
            return None
        return verdict(
            self.early_stopping,
            status=self.finished.status,
            epochs_run=self.finished.epochs_run,
            epochs_planned=self.epochs_planned,
            reason=self.finished.reason or (self.failure.error if self.failure else ""),
        )
