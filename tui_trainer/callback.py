"""StreamingCallback: turns Keras's training loop into events.

Imported only by the engine, after TensorFlow's environment is set up.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable, Optional

import keras

from .events import BatchLosses, EarlyStoppingResult, EpochEnded, Event, GradientNorms

Sink = Callable[[Event], None]


def _finite_or_none(value) -> Optional[float]:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class StreamingCallback(keras.callbacks.Callback):
    """Sends batch losses, epoch metrics and the early-stopping facts to a sink.

    Epochs and steps are converted from Keras's 0-based counters to 1-based
    here, once. Put it *after* the EarlyStopping instance in ``callbacks`` so
    that its ``on_epoch_end`` and ``on_train_end`` see what EarlyStopping did.

    Args:
        sink: receives every event, on the training thread; must not block.
        n_fit: samples fitted per epoch (after the validation split), to undo
            Keras's running mean of the batch loss exactly.
        batch_size: samples per step.
        early_stopping: the EarlyStopping instance used in this fit, if any.
        cancel: when set, training stops after the current batch.
        flush_interval_s: how often batch losses are sent during an epoch.
        grad_batch: ``(x, y)``, one fixed batch of training data. When given,
            the L2 norm of every Dense kernel's gradient on it is measured once
            before training (a GradientNorms event, epoch 0) and at the end of
            every epoch (``EpochEnded.grad_norms``), input side first. Nothing
            is done per batch.
    """

    def __init__(
        self,
        sink: Sink,
        *,
        n_fit: int,
        batch_size: int,
        early_stopping: Optional[keras.callbacks.EarlyStopping] = None,
        cancel: Optional[threading.Event] = None,
        flush_interval_s: float = 0.1,
        grad_batch: Optional[tuple] = None,
    ):
        super().__init__()
        self.sink = sink
        self.n_fit = n_fit
        self.batch_size = batch_size
        self.steps_per_epoch = max(1, math.ceil(n_fit / batch_size))
        self.early_stopping = early_stopping
        self.cancel = cancel
        self.flush_interval_s = flush_interval_s
        self.cancelled = False
        self.failure: Optional[str] = None
        self.epochs_run = 0
        self.grad_batch = grad_batch
        self._grad_fn: Optional[Callable[[], tuple]] = None
        self._lock = threading.Lock()

    # -- state ---------------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self.cancelled = False
        self.failure = None
        self.epochs_run = 0
        self._t_train = time.perf_counter()
        self._grad_fn = None
        if self.grad_batch is not None:
            self._grad_fn, names = _gradient_norms_fn(self.model, *self.grad_batch)
            self.sink(GradientNorms(epoch=0, norms=self._grad_fn(), layers=names, samples=len(self.grad_batch[0])))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1
        self._t_epoch = time.perf_counter()
        self._last_flush = self._t_epoch
        self._means: dict[int, float] = {}  # step -> Keras's running mean, until flushed in order
        self._next_step = 1  # the first step not yet turned into a batch loss
        self._prev_total = 0.0
        self._prev_seen = 0

    # -- hooks ---------------------------------------------------------------------------------

    # Keras dispatches on_train_batch_end to a thread pool when every callback says it is
    # async-safe, so the training loop never waits for the loss to leave the device. This one
    # is: batch hooks may run late, concurrently and out of order, so they only store the
    # running mean by step, under a lock, and _flush turns consecutive steps into losses.
    async_safe = True

    def on_train_batch_begin(self, batch, logs=None):
        # Checked on the training thread as well as after each batch: when Keras runs the end
        # hooks late in its thread pool, a cancel still stops after the batch that starts now.
        self._check_cancel()

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set() and not self.cancelled:
            self.cancelled = True
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        # Kept cheap: a float conversion, a dict store, and a clock read per batch.
        logs = logs or {}
        mean = float(logs.get("loss", math.nan))
        step = batch + 1
        self._check_cancel()
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

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        with self._lock:  # Keras has waited for every batch hook of the epoch by now
            self._flush()
        steps_done = self._next_step - 1 + len(self._means)
        # Measured before the clock is read, so duration_s and elapsed_s include its cost.
        grad_norms = self._grad_fn() if self._grad_fn is not None else None
        now = time.perf_counter()
        self.epochs_run = epoch + 1
        best_epoch = best_value = wait = None
        es = self.early_stopping
        if es is not None and es.best is not None and epoch >= es.start_from_epoch:
            best_epoch, best_value, wait = es.best_epoch + 1, _finite_or_none(es.best), int(es.wait)
        self.sink(
            EpochEnded(
                epoch=epoch + 1,
                metrics={k: float(v) for k, v in logs.items() if isinstance(v, (int, float)) or hasattr(v, "__float__")},
                duration_s=now - self._t_epoch,
                elapsed_s=now - self._t_train,
                partial=steps_done < self.steps_per_epoch,  # stopped mid-epoch (cancel, NaN)
                best_epoch=best_epoch,
                best_value=best_value,
                wait=wait,
                grad_norms=grad_norms,
            )
        )

    def on_train_end(self, logs=None):
        es = self.early_stopping
        if es is None:
            return
        seen = es.best is not None  # Keras 3 sets `best` at the first watched epoch
        restored = bool(es.restore_best_weights and es.best_weights is not None)
        self.sink(
            EarlyStoppingResult(
                monitor=es.monitor,
                mode=_mode(es),
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

    def _flush(self) -> None:
        """Send the batch losses of the consecutive steps received so far (call with the lock held).

        Keras logs the running mean since the epoch began, weighted by batch size; a
        batch's own loss is the difference of the running totals.
        """
        losses = []
        first = self._next_step
        while self._next_step in self._means:
            step = self._next_step
            mean = self._means.pop(step)
            if not math.isfinite(mean):
                break  # the failure is recorded; nothing after a NaN is a loss
            seen = min(step * self.batch_size, self.n_fit)
            total = mean * seen
            losses.append(float(f"{(total - self._prev_total) / max(seen - self._prev_seen, 1):.6g}"))
            self._prev_total, self._prev_seen = total, seen
            self._next_step += 1
        if losses:
            self.sink(BatchLosses(epoch=self._epoch, first_step=first, losses=tuple(losses),
                                  steps_per_epoch=self.steps_per_epoch))


def _gradient_norms_fn(model: keras.Model, x, y) -> tuple[Callable[[], tuple], tuple[str, ...]]:
    """A function measuring each Dense kernel's gradient norm on ``(x, y)``, and the layers' names.

    The gradient step is traced once (one ``tf.function`` per run, the batch
    captured as a constant input), so each later call costs one forward and
    backward pass on one batch. The model runs with ``training=False``: dropout
    would otherwise draw a new mask every call, and the curve would show that
    noise rather than how the weights changed. The loss is the compiled one
    (``model.compute_loss``, regularisation included), as ``fit`` computes it.
    No loss scaling is applied: under a ``mixed_float16`` policy the backward
    pass runs in float16, so norms around 1e-5 lose a few percent (measured on
    CPU: deep-sigmoid's first layer reads 1.06e-5 against 1.02e-5 in float32;
    bfloat16 and the other layers agree to 3 digits). The ratio it teaches holds.
    """
    import tensorflow as tf

    from .model import dense_layers

    layers = dense_layers(model)
    kernels = [layer.kernel for layer in layers]
    x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            y_pred = model(x, training=False)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
        grads = tape.gradient(loss, kernels)
        return tf.stack([tf.norm(tf.cast(g, tf.float32)) for g in grads])

    def norms() -> tuple:
        return tuple(_finite_or_none(v) for v in step().numpy().tolist())

    return norms, tuple(layer.name for layer in layers)


def _mode(es: keras.callbacks.EarlyStopping) -> str:
    # EarlyStopping resolves "auto" lazily into monitor_op; report what it used.
    op = getattr(es, "monitor_op", None)
    if op is None:
        return getattr(es, "mode", "auto")
    name = getattr(op, "__name__", "")
    return "max" if "greater" in name else "min"
