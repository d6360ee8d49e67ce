"""RunState: everything a view of one run needs, folded from the event stream.

A live run, a replay and a watched run all feed events into ``apply``; the
monitor screen draws from the state only. No UI imports here, so it is tested
(and benchmarked) without a terminal. How each event type folds in is one entry of ``_FOLDS``.
"""

from __future__ import annotations

import time
from array import array
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Optional

from .events import (
    BatchLosses,
    EarlyStoppingResult,
    EpochEnded,
    Event,
    GradientNorms,
    ModelBuilt,
    Note,
    RunFailed,
    RunFinished,
    RunResumed,
    RunStarted,
    Telemetry,
    grad_ratio,
)
from .verdict import verdict


@dataclass
class Summary:
    """What summary.json holds: :meth:`RunState.summary` of the run's events, so a log rebuilds it."""

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
    origin: str = "preset"  # or "script": recorded by a Monitor in the user's own fit

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    notes: list[str] = field(default_factory=list)  # RunStarted's setup notes, then Note events
    resumed_from: list[int] = field(default_factory=list)  # epochs after which `train --resume` went on
    # when the process now writing the run began writing it (the last resume's time; the run's own start
    # before any resume): whether its pid still names that process is judged against this
    writer_since: str = ""
    grad_initial: Optional[GradientNorms] = None  # diagnostics.gradient_norms: the before-training measurement
    telemetry: Optional[Telemetry] = None  # the latest sample of GPU / CPU use
    live: bool = True  # False for a replay: the clock is the log's own, not the wall's
    last_tick: float = field(default_factory=time.monotonic)  # when the last epoch (or the start) arrived
    version: int = 0  # bumped on every change; views redraw when it moves
    # bumped on every change but batch losses: what only epochs change (the epoch charts, the
    # gradients) need not be drawn again ten times a second while an epoch runs
    epoch_version: int = 0
    # steps an epoch takes, when RunStarted could not tell (a tf.data pipeline of unknown cardinality)
    # and the callback learnt it from the first whole epoch
    learned_steps_per_epoch: int = 0

    # -- folding ----------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one event into the state (by its type, through :data:`_FOLDS`: an event no view needs
        changes nothing but the version)."""
        self.version += 1
        kind = type(event)
        if kind is not BatchLosses and kind is not Telemetry:  # telemetry changes no chart
            self.epoch_version += 1
        fold = _FOLDS.get(kind)
        if fold is not None:
            fold(self, event)

    def _batch_losses(self, event: BatchLosses) -> None:
        self.batch_losses.extend(event.losses)
        self.batch_epochs.extend(array("i", (event.epoch,)) * len(event.losses))
        self.current_epoch, self.current_step = event.epoch, event.last_step
        if event.steps_per_epoch:
            self.learned_steps_per_epoch = event.steps_per_epoch

    def _epoch_ended(self, event: EpochEnded) -> None:
        self.epochs.append(event)
        self.last_tick = time.monotonic()
        self.current_epoch = event.epoch
        if not event.partial:  # a partial epoch stopped at the last step its batches reported
            self.current_step = self.steps_per_epoch

    def _run_started(self, event: RunStarted) -> None:
        self.started = event
        self.notes.extend(event.notes)
        self.last_tick = time.monotonic()

    def _model_built(self, event: ModelBuilt) -> None:
        if self.started is not None:
            self.started = event.describe(self.started)

    def _resume(self, event: RunResumed) -> None:
        """The run goes on after ``from_epoch``: what came later in the log is superseded, and the
        ending (if the run had been closed as cancelled or failed) is no longer the ending."""
        keep = event.from_epoch
        self.epochs = [e for e in self.epochs if e.epoch <= keep]
        cut = len(self.batch_epochs)
        while cut and self.batch_epochs[cut - 1] > keep:
            cut -= 1
        del self.batch_losses[cut:], self.batch_epochs[cut:]
        self.current_epoch, self.current_step = keep, self.steps_per_epoch
        self.early_stopping = self.failure = self.finished = None
        if self.started is not None:  # the process that writes the run now
            self.started = replace(self.started, host=event.host, pid=event.pid,
                                   device=event.device or self.started.device,
                                   epochs=event.epochs or self.started.epochs)
        self.resumed_from.append(keep)
        self.writer_since = event.resumed_at
        self.last_tick = time.monotonic()

    # -- derived values ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.started is not None and self.finished is None

    @property
    def epochs_planned(self) -> int:
        return self.started.epochs if self.started else 0

    @property
    def steps_per_epoch(self) -> int:
        """Steps in an epoch; 0 while unknown (a pipeline of unknown cardinality, first epoch)."""
        known = self.started.steps_per_epoch if self.started else 0
        return known or self.learned_steps_per_epoch

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
        """Names of the Dense and Conv2D layers the gradient norms belong to, input side first (empty: not recorded)."""
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
        """Epochs and the first/last ratio of the gradient norms (first layer with a kernel over the output layer).

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
        """The best epoch: the final verdict's if known, else early stopping's running best.

        None when the epoch Keras holds as best has a NaN (or infinite) value: Keras 3 takes the
        first watched value as its reference whatever it is, and nothing compares better than NaN,
        but a NaN epoch is never called best here. (The value is recorded as None in that case.)
        """
        if self.early_stopping is not None:
            es = self.early_stopping
            return es.best_epoch if es.best_value is not None else None
        for e in reversed(self.epochs):
            if e.best_epoch is not None:
                return e.best_epoch if e.best_value is not None else None
        return None

    @property
    def best_value(self) -> Optional[float]:
        """The best monitored value: the final verdict's if known, else early stopping's running best."""
        if self.early_stopping is not None:
            return self.early_stopping.best_value
        for e in reversed(self.epochs):
            if e.best_epoch is not None:
                return e.best_value
        return None

    @property
    def epochs_run(self) -> int:
        """Epochs that ran, a partial last one included."""
        if self.finished is not None:
            return self.finished.epochs_run
        return self.epochs[-1].epoch if self.epochs else 0

    @property
    def reason(self) -> str:
        """Why the run ended the way it did (a failure's error), or empty."""
        if self.finished is not None and self.finished.reason:
            return self.finished.reason
        return self.failure.error if self.failure else ""

    def summary(self, run_id: str = "") -> Summary:
        """summary.json's fields, from the events folded so far (status ``running`` until the run finishes)."""
        s, es, fin = self.started, self.early_stopping, self.finished
        return Summary(
            run_id=s.run_id if s else run_id,
            preset=s.preset_name if s else "",
            seed=s.seed if s else None,
            status=fin.status if fin else "running",
            reason=self.reason,
            epochs_planned=s.epochs if s else None,
            epochs_run=self.epochs_run,
            device=s.device if s else "",
            started_at=s.started_at if s else "",
            finished_at=fin.finished_at if fin else "",
            wall_time_s=fin.wall_time_s if fin else None,
            replay_of=s.replay_of if s else None,
            early_stopping=es is not None or bool(s and s.monitor is not None),
            monitor=es.monitor if es else (s.monitor if s else None),
            triggered=es.triggered if es else False,
            stopped_epoch=self.stopped_epoch,
            best_epoch=self.best_epoch,
            best_value=self.best_value,
            restored_epoch=self.restored_epoch,
            test_metrics=dict(fin.test_metrics) if fin else {},
            final_metrics=dict(self.epochs[-1].metrics) if self.epochs else {},
            origin=s.origin if s else "preset",
        )

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
            epochs_planned=self.epochs_planned or self.finished.epochs_run,
            reason=self.reason,
        )


# How each event folds into the state: a new event type that a view needs gets a line here (and a method above).
_FOLDS: dict[type, Callable[[RunState, Any], None]] = {
    BatchLosses: RunState._batch_losses,
    EpochEnded: RunState._epoch_ended,
    RunStarted: RunState._run_started,
    ModelBuilt: RunState._model_built,
    EarlyStoppingResult: lambda state, event: setattr(state, "early_stopping", event),
    RunFailed: lambda state, event: setattr(state, "failure", event),
    RunFinished: lambda state, event: setattr(state, "finished", event),
    GradientNorms: lambda state, event: setattr(state, "grad_initial", event),
    Telemetry: lambda state, event: setattr(state, "telemetry", event),
    Note: lambda state, event: state.notes.append(event.message),
    RunResumed: RunState._resume,
}
