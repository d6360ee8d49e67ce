"""The streaming callback's events agree with the EarlyStopping instance that ran.

A scripted callback placed before EarlyStopping overwrites ``val_loss`` in the
shared logs dict, so each early-stopping case happens at a known epoch. The
expected epochs are asserted twice: against the numbers worked out by hand
and against the attributes of the EarlyStopping instance itself.
"""

from __future__ import annotations

import threading

import keras
import numpy as np
import pytest

from tui_trainer.callback import StreamingCallback
from tui_trainer.events import BatchLosses, EarlyStoppingResult, EpochEnded

from ..conftest import blobs


class Script(keras.callbacks.Callback):
    """Replaces logs['val_loss'] with a scripted value each epoch."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[min(epoch, len(self.values) - 1)]


class CancelAt(keras.callbacks.Callback):
    def __init__(self, cancel, epoch, batch):
        super().__init__()
        self.cancel, self.at = cancel, (epoch, batch)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            self.cancel.set()


def fit(values, *, epochs, restore=True, patience=2, cancel_at=None, batch_size=16):
    keras.utils.set_random_seed(1)
    x, y = blobs(n=160)
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    es = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=restore, verbose=0)
    events = []
    cancel = threading.Event()
    n_fit = int(len(x) * 0.75)
    stream = StreamingCallback(events.append, n_fit=n_fit, batch_size=batch_size, early_stopping=es, cancel=cancel)
    extra = [CancelAt(cancel, *cancel_at)] if cancel_at else []
    model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=0.25, verbose=0,
              callbacks=[Script(values), *extra, es, stream])
    result = [e for e in events if isinstance(e, EarlyStoppingResult)]
    assert len(result) == 1
    return es, result[0], events, stream


def assert_matches_keras(es, r):
    assert r.triggered == (es.stopped_epoch > 0)
    assert r.stopped_epoch == (es.stopped_epoch + 1 if es.stopped_epoch > 0 else None)
    assert r.best_epoch == es.best_epoch + 1
    assert r.best_value == pytest.approx(es.best)
    assert r.restored == (es.restore_best_weights and es.best_weights is not None)


def test_fired_and_restored():
    es, r, events, _ = fit([1.0, 0.8, 0.6, 0.7, 0.9, 1.0, 1.1], epochs=10)
    assert_matches_keras(es, r)
    # best at epoch 3 (1-based), two epochs without improvement -> "Epoch 5: early stopping"
    assert (r.triggered, r.stopped_epoch, r.best_epoch, r.best_value) == (True, 5, 3, 0.6)
    assert (r.restored, r.restored_epoch) == (True, 3)
    epochs = [e.epoch for e in events if isinstance(e, EpochEnded)]
    assert epochs == [1, 2, 3, 4, 5]


def test_all_epochs_ran_and_keras3_still_restored():
    es, r, _, _ = fit([1.0, 0.5, 0.7, 0.6], epochs=4, patience=3)
    assert_matches_keras(es, r)
    assert (r.triggered, r.stopped_epoch) == (False, None)
    assert (r.restored, r.restored_epoch, r.best_epoch) == (True, 2, 2)


def test_fired_without_restoring():
    es, r, _, _ = fit([1.0, 0.8, 0.9, 0.95], epochs=10, restore=False)
    assert_matches_keras(es, r)
    assert (r.triggered, r.stopped_epoch, r.best_epoch) == (True, 4, 2)
    assert (r.restored, r.restored_epoch) == (False, None)


def test_cancelled_mid_epoch_keras_still_restores():
    es, r, events, stream = fit([1.0, 0.5, 0.9, 0.95], epochs=10, patience=5, cancel_at=(2, 1))
    assert_matches_keras(es, r)
    assert stream.cancelled
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert epochs[-1].partial and not epochs[0].partial  # stopped after batch 2 of 8: validated anyway
    assert (r.triggered, r.restored, r.restored_epoch) == (False, True, 2)
    last_batches = [b for b in events if isinstance(b, BatchLosses) and b.epoch == 3]
    assert sum(len(b.losses) for b in last_batches) == 2


def test_batch_losses_cover_every_step_and_undo_the_running_mean():
    _, _, events, stream = fit([1.0, 0.9, 0.8], epochs=3, patience=5, batch_size=32)
    for epoch in (1, 2, 3):
        chunks = [b for b in events if isinstance(b, BatchLosses) and b.epoch == epoch]
        steps = [s for b in chunks for s in range(b.first_step, b.last_step + 1)]
        assert steps == list(range(1, stream.steps_per_epoch + 1))  # 120 samples / 32 -> 4 steps, last one partial
        losses = np.array([l for b in chunks for l in b.losses])
        # The batch-size-weighted mean of the per-batch losses is Keras's epoch loss.
        sizes = np.array([32, 32, 32, 24])
        epoch_loss = next(e.metrics["loss"] for e in events if isinstance(e, EpochEnded) and e.epoch == epoch)
        assert float((losses * sizes).sum() / sizes.sum()) == pytest.approx(epoch_loss, rel=1e-4)
    # events arrive in order: every epoch's batches come before its EpochEnded
    kinds = [(e.kind, e.epoch) for e in events if isinstance(e, (BatchLosses, EpochEnded))]
    assert kinds.index(("epoch", 1)) > max(i for i, k in enumerate(kinds) if k == ("batches", 1))


def test_epoch_events_carry_early_stopping_progress():
    _, _, events, _ = fit([1.0, 0.8, 0.9, 0.95], epochs=10, patience=2)
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert [(e.best_epoch, e.wait) for e in epochs] == [(1, 0), (2, 0), (2, 1), (2, 2)]
