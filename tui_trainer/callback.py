"""StreamingCallback: turns Keras's training loop into events.

Imported only by the engine, after TensorFlow's environment is set up.
"""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING, Callable, Optional

import keras
import numpy as np

from . import keras_compat
from .events import BatchLosses, EarlyStoppingResult, EpochEnded, Event, GradientNorms, Note

if TYPE_CHECKING:
    from .checkpoint import TrainingState

Sink = Callable[[Event], None]


def _number(value) -> Optional[float]:
    """``value`` as one float (a Python or NumPy number, a one-element array or tensor of any backend);
    None when it is not one number (a vector, a string)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(array.reshape(())) if array.size == 1 else None


def _finite_or_none(value) -> Optional[float]:
    """A finite float of ``value`` (see _number), else None."""
    value = _number(value) if value is not None else None
    return value if value is not None and math.isfinite(value) else None


def _stride(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"batch_stride must be a whole number >= 0 (0: epochs only), not {value!r}")
    return value


class StreamingCallback(keras.callbacks.Callback):
    """Sends batch losses, epoch metrics and the early-stopping facts to a sink.

    The one streaming callback, the engine's and :class:`tui_trainer.Monitor`'s. Epochs and steps
    are converted from Keras's 0-based counters to 1-based here, once. It reports each epoch and
    the end of training right after the fit's EarlyStopping (found, or given) has handled them,
    whatever the order of ``callbacks`` (see :func:`tui_trainer.keras_compat.run_after`).

    Args:
        sink: receives every event, on the training thread; must not block.
        n_fit: samples fitted per epoch (after the validation split), to undo Keras's running mean
            of the batch loss exactly. None: read from ``fit``'s data adapter when it can tell
            (arrays), else every batch is taken as equally large (a ``tf.data`` pipeline: only a
            smaller last batch is then off).
        batch_size: samples per step (None: as for ``n_fit``).
        early_stopping: the EarlyStopping of this fit; None: the first in its callbacks, if any.
        cancel: when set, training stops after the current batch.
        flush_interval_s: how often batch losses are sent during an epoch.
        grad_batch: ``(x, y)``, one fixed batch of training data. When given, the L2 norm of every
            kernel's gradient on it is measured before training (a GradientNorms event, epoch 0)
            and at the end of every epoch (``EpochEnded.grad_norms``). Nothing is done per batch.
        resume: an interrupted fit's state: elapsed time goes on from it (the rest of resuming is
            :class:`~tui_trainer.checkpoint_callback.CheckpointCallback`'s).
        batch_stride: read the batch loss every this many steps (1: every step). Reading it makes
            the training loop wait for the device, so where steps are shorter than the hook a
            larger stride costs less; the steps in between get their mean loss (the run log still
            holds a loss per step). 0: epochs only, nothing done per batch but the cancel check.
    """

    def __init__(
        self,
        sink: Sink,
        *,
        n_fit: Optional[int] = None,
        batch_size: Optional[int] = None,
        early_stopping: Optional[keras.callbacks.EarlyStopping] = None,
        cancel: Optional[threading.Event] = None,
        flush_interval_s: float = 0.1,
        grad_batch: Optional[tuple] = None,
        resume: Optional["TrainingState"] = None,
        batch_stride: int = 1,
    ):
        super().__init__()
        self.sink = sink
        self.n_fit = n_fit
        self.batch_size = batch_size
        self.steps_per_epoch: Optional[int] = max(1, math.ceil(n_fit / batch_size)) if n_fit and batch_size else None
        self.early_stopping = early_stopping
        self._given_es = early_stopping
        self.notes: list[str] = []  # what the callback could not find or do, for the run log
        self._hooked: list[tuple[object, str]] = []
        self.batch_stride = _stride(batch_stride)
        self._stride = 1  # steps per recorded batch loss: steps_per_execution × batch_stride
        self.last_partial = False  # the last epoch reported stopped mid-way (cancel, NaN)
        self.cancel = cancel
        self.flush_interval_s = flush_interval_s
        self.cancelled = False
        self.failure: Optional[str] = None
        self.epochs_run = 0
        self.grad_batch = grad_batch
        self.resume = resume
        self._grad_fn: Optional[Callable[[], tuple]] = None
        self._lock = threading.Lock()

    # -- state ---------------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self.cancelled = False
        self.failure = None
        self.epochs_run = 0
        self.notes = []
        self._said_no_loss = False
        self._t_train = time.perf_counter()
        self._grad_fn = None
        self.last_partial = False
        self._stride = max(1, int(getattr(self.model, "steps_per_execution", 1) or 1)) * max(1, self.batch_stride)
        callbacks = keras_compat.fit_callbacks()
        if self.n_fit is None or self.batch_size is None:
            self._learn_batches()
        if self._given_es is None:
            self.early_stopping = keras_compat.find_early_stopping(callbacks, self.notes)
        elif callbacks is not None and not any(c is self._given_es for c in callbacks):
            self.notes.append("the EarlyStopping given to the monitor is not among this fit's callbacks; ignored")
            self.early_stopping = None
        if self.early_stopping is not None:  # report each epoch right after EarlyStopping has handled it
            self._hooked = keras_compat.run_after(self.early_stopping, {"on_epoch_end": self._epoch_end,
                                                                        "on_train_end": self._train_end})
        if self.resume is not None:
            self._t_train -= self.resume.elapsed_s
        if self.grad_batch is not None:
            self._grad_fn, names = _gradient_norms_fn(self.model, *self.grad_batch)
            if self.resume is None:  # "before training" was measured by the first fit of the run
                self.sink(GradientNorms(epoch=0, norms=self._grad_fn(), layers=names,
                                        samples=len(self.grad_batch[0])))

    def ending(self) -> tuple[str, str]:
        """How the fit ended, once it has: ``(status, reason)``, status one of events.STATUSES."""
        es = self.early_stopping
        if self.failure:
            return "failed", self.failure
        if self.cancelled:
            return "cancelled", "cancelled by the user"
        if es is not None and es.stopped_epoch > 0:
            return "early_stopped", ""
        planned = (self.params or {}).get("epochs")
        if planned and self.epochs_run < planned and getattr(self.model, "stop_training", False):
            # Not EarlyStopping: the script's own callback (or TerminateOnNaN) set model.stop_training.
            return "completed", "ended by another callback (it set model.stop_training), not by early stopping"
        return "completed", ""

    def _learn_batches(self) -> None:
        """Samples and batch size of this fit, from Keras's data adapter when it knows them (arrays)."""
        layout = keras_compat.batch_layout()  # None: a tf.data pipeline or a generator, sizes unknown until seen
        if layout is not None:
            batches, size, partial = layout
            self.batch_size = int(size)
            self.n_fit = int((batches - 1) * size + partial) if partial else int(batches * size)
        steps = (self.params or {}).get("steps")
        if self.steps_per_epoch is None and steps:
            self.steps_per_epoch = int(steps)

    def _unhook(self) -> None:
        keras_compat.unhook(self._hooked)
        self._hooked = []

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1
        self._t_epoch = time.perf_counter()
        self._last_flush = self._t_epoch
        self._means: dict[int, float] = {}  # step -> Keras's running mean, until flushed in order
        self._next_step = 1  # the first step not yet turned into a batch loss
        self._last_step = 0  # with a batch stride: the last step seen, read or not
        self._prev_total = 0.0
        self._prev_seen = 0

    # -- hooks ---------------------------------------------------------------------------------

    # Keras dispatches on_train_batch_end to a thread pool when every callback is async-safe, so the
    # loop never waits for the loss to leave the device. This one is: hooks may run late, concurrently
    # and out of order, so they store the running mean by step, under a lock; _flush makes the losses.
    async_safe = True

    def on_train_batch_begin(self, batch, logs=None):
        # Checked on the training thread as well as after each batch: when Keras runs the end
        # hooks late in its thread pool, a cancel still stops after the batch that starts now.
        self._check_cancel()

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set() and not self.cancelled:
            self.cancelled = True
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):  # kept cheap: a float, a dict store, a clock read
        logs = logs or {}
        self._check_cancel()
        loss = logs.get("loss")
        if loss is None:  # a custom train_step that names its losses otherwise (a GAN's d_loss, g_loss)
            if not self._said_no_loss:  # checked without the lock: the note is sent once, under it
                self._no_batch_loss()
            return
        # Keras numbers a short last execution (steps_per_execution) as a whole one: clamped
        step = min(batch + 1, self.steps_per_epoch or batch + 1)
        if self.batch_stride != 1:
            if step > self._last_step:  # counted, for the epoch's end: its last step and whether it was whole
                self._last_step = step
            if self.batch_stride == 0 or step % self._stride:
                return  # not read: no wait for the device
        mean = float(loss)
        with self._lock:
            self._means[step] = mean
            if not math.isfinite(mean) and self.failure is None:
                what = "NaN" if math.isnan(mean) else "infinite"
                self.failure = f"loss became {what} at batch {step} of epoch {self._epoch}"
                self.model.stop_training = True
            now = time.perf_counter()
            if now - self._last_flush >= self.flush_interval_s:
                self._last_flush = now
                self._flush()

    def _no_batch_loss(self) -> None:
        with self._lock:
            if self._said_no_loss:
                return
            self._said_no_loss = True
        self.sink(Note("this fit's logs have no 'loss' (a custom train_step): no per-batch losses are "
                       "recorded; every value it logs is kept per epoch", epoch=self._epoch))

    def on_epoch_end(self, epoch, logs=None):
        if self.early_stopping is None:  # else it ran right after EarlyStopping's own on_epoch_end
            self._epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        if self.early_stopping is None:
            self._train_end(logs)

    def _epoch_end(self, epoch, logs=None):
        logs = logs or {}
        with self._lock:  # Keras has waited for every batch hook of the epoch by now
            self._fill_last_step(logs)
            self._flush(end=True)
        steps_done = max(self._next_step - 1, self._last_step)
        if self.steps_per_epoch is None and not self.model.stop_training:
            self.steps_per_epoch = steps_done  # learnt from the first whole epoch (unknown cardinality)
        # Measured before the clock is read, so duration_s and elapsed_s include its cost.
        grad_norms = self._grad_fn() if self._grad_fn is not None else None
        now = time.perf_counter()
        self.epochs_run = epoch + 1
        best_epoch = best_value = wait = None
        es = self.early_stopping
        if es is not None and es.best is not None and epoch >= es.start_from_epoch:
            best_epoch, best_value, wait = es.best_epoch + 1, _finite_or_none(es.best), int(es.wait)
        stopped_early = self.cancelled or self.failure is not None
        partial = steps_done < self.steps_per_epoch if self.steps_per_epoch else stopped_early
        self.last_partial = partial
        metrics, per_class = log_values(logs)
        self.sink(
            EpochEnded(
                epoch=epoch + 1,
                metrics=metrics,
                per_class=per_class,
                duration_s=now - self._t_epoch,
                elapsed_s=now - self._t_train,
                partial=partial,  # stopped mid-epoch (cancel, NaN): Keras still validated it
                best_epoch=best_epoch,
                best_value=best_value,
                wait=wait,
                grad_norms=grad_norms,
            )
        )

    def _train_end(self, logs=None):
        self._unhook()
        es = self.early_stopping
        if es is None:
            return
        seen = es.best is not None  # Keras 3 sets `best` at the first watched epoch
        restored = bool(es.restore_best_weights and es.best_weights is not None)
        self.sink(
            EarlyStoppingResult(
                monitor=es.monitor,
                mode=keras_compat.early_stopping_mode(es),
                patience=int(es.patience),
                min_delta=abs(float(es.min_delta)),
                baseline=_finite_or_none(es.baseline),
                start_from_epoch=int(es.start_from_epoch),
                restore_best_weights=bool(es.restore_best_weights),
                triggered=es.stopped_epoch > 0,
                stopped_epoch=es.stopped_epoch + 1 if es.stopped_epoch > 0 else None,
                best_epoch=es.best_epoch + 1 if (seen or restored) else None,
                best_value=_finite_or_none(es.best) if seen else None,
                restored=restored,
                restored_epoch=es.best_epoch + 1 if restored else None,
            )
        )

    # -- helpers -------------------------------------------------------------------------------

    def _fill_last_step(self, logs: dict) -> None:
        """With a batch stride, the epoch's last steps may not have been read: the epoch's logged loss is
        the running mean at its last step, which is all they need (call with the lock held)."""
        if self.batch_stride == 1 or self.failure is not None:
            return
        last, loss = self._last_step, _number(logs.get("loss"))
        if loss is not None and not math.isfinite(loss):  # steps not read: the epoch's loss tells
            self.failure = f"loss became {'NaN' if math.isnan(loss) else 'infinite'} in epoch {self._epoch}"
            self.model.stop_training = True
        elif loss is not None and self.batch_stride and last >= self._next_step and last not in self._means:
            self._means[last] = loss

    def _flush(self, end: bool = False) -> None:
        """Send the batch losses of the consecutive steps received so far (call with the lock held).

        Keras logs the running mean since the epoch began, weighted by batch size; a
        batch's own loss is the difference of the running totals. With
        ``steps_per_execution`` > 1 Keras reports every n-th step: each of the n
        batches gets their mean. At the epoch's end (``end``) every stored step is
        final, whatever the gaps.
        """
        losses: list[float] = []
        first = self._next_step
        while True:
            step = self._next_step + self._stride - 1
            if step not in self._means:
                if not (end and self._means):
                    break
                step = min(self._means)  # the epoch's last, shorter execution
            mean = self._means.pop(step)
            if not math.isfinite(mean):
                self._next_step = step + 1
                break  # the failure is recorded; nothing after a NaN is a loss
            seen = min(step * self.batch_size, self.n_fit) if self.batch_size and self.n_fit else step
            total = mean * seen
            loss = float(f"{(total - self._prev_total) / max(seen - self._prev_seen, 1):.6g}")
            losses.extend([loss] * (step - self._next_step + 1))
            self._prev_total, self._prev_seen = total, seen
            self._next_step = step + 1
        if losses:
            self.sink(BatchLosses(epoch=self._epoch, first_step=first, losses=tuple(losses),
                                  steps_per_epoch=self.steps_per_epoch or 0))


def log_values(logs: dict) -> tuple[dict[str, float], dict[str, tuple[Optional[float], ...]]]:
    """Keras's epoch logs as ``(metrics, per_class)``: every scalar as a float, and every vector
    (``F1Score(average=None)``, one value per class) both whole, in ``per_class``, and as the mean
    of its finite values, in ``metrics``. Values that are not numbers at all are left out."""
    metrics: dict[str, float] = {}
    per_class: dict[str, tuple[Optional[float], ...]] = {}
    for name, value in logs.items():
        number = _number(value)
        if number is not None:
            metrics[name] = number
            continue
        try:
            flat = np.asarray(value, dtype=np.float64).ravel()  # a vector of NumPy, TensorFlow, JAX, torch values
        except (TypeError, ValueError):
            continue  # not numbers at all
        if flat.size > 1:
            finite = np.isfinite(flat)
            per_class[name] = tuple(float(v) if ok else None for v, ok in zip(flat.tolist(), finite.tolist()))
            metrics[name] = float(flat[finite].mean()) if finite.any() else math.nan
    return metrics, per_class


def _gradient_norms_fn(model: keras.Model, x, y) -> tuple[Callable[[], tuple], tuple[str, ...]]:
    """A function measuring each Dense or Conv2D kernel's gradient norm on ``(x, y)``, and the layers' names.

    The gradient step is traced once (one ``tf.function``, or one ``jax.jit`` under
    the JAX backend, per run, the batch captured as a constant input), so each
    later call costs one forward and backward pass on one batch. The model runs with ``training=False``: dropout
    would otherwise draw a new mask every call, and the curve would show that
    noise rather than how the weights changed. The loss is the compiled one
    (``model.compute_loss``, regularisation included), as ``fit`` computes it.
    No loss scaling is applied: under a ``mixed_float16`` policy the backward
    pass runs in float16, so norms around 1e-5 lose a few percent (measured on
    CPU: deep-sigmoid's first layer reads 1.06e-5 against 1.02e-5 in float32;
    bfloat16 and the other layers agree to 3 digits). The ratio it teaches holds.
    """
    from .gradnorms import jax_kernel_grad_norms, tf_kernel_grad_norms
    from .model import kernel_layers

    layers = kernel_layers(model)
    names = tuple(layer.name for layer in layers)
    step = jax_kernel_grad_norms(model, layers, x, y) if keras.backend.backend() == "jax" else \
        tf_kernel_grad_norms(model, layers, x, y)

    def norms() -> tuple:
        return tuple(_finite_or_none(v) for v in np.asarray(step()).tolist())

    return norms, names
