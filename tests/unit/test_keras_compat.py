"""Every reader of Keras's private layout finds what it reads, in a real fit of the installed Keras.

A Keras release that moves fit's locals, the data adapter's sizes or
EarlyStopping's ``monitor_op`` fails here, by name, rather than leaving runs
without their batch size or their early-stopping facts.
"""

from __future__ import annotations

import keras
import numpy as np

from tui_trainer import keras_compat


class Probe(keras.callbacks.Callback):
    """Reads everything keras_compat reads, from inside the fit, as the Monitor does."""

    def on_train_begin(self, logs=None):
        self.callbacks = keras_compat.fit_callbacks()
        self.x, self.val_x = keras_compat.fit_data()
        self.layout = keras_compat.batch_layout()

    def on_epoch_end(self, epoch, logs=None):
        self.mode = keras_compat.early_stopping_mode(self.es)


def test_the_readers_find_what_they_read_in_this_keras():
    x = np.random.default_rng(0).random((100, 4)).astype("float32")
    y = (x.sum(1) > 2).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    es = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=3)
    probe = Probe()
    probe.es = es
    model.fit(x, y, validation_split=0.2, batch_size=32, epochs=1, verbose=0, callbacks=[es, probe])
    version = f"Keras {keras.__version__}"
    assert probe.callbacks is not None and es in probe.callbacks and probe in probe.callbacks, version
    assert probe.x is not None and probe.x.shape == (80, 4), version  # after the validation split
    assert probe.val_x is not None and probe.val_x.shape == (20, 4), version
    assert probe.layout == (3, 32, 16), version  # 80 samples: two batches of 32 and one of 16
    assert probe.mode == "max", version  # "auto" on an accuracy resolves to max


def test_outside_a_fit_every_reader_says_none():
    assert keras_compat.fit_callbacks() is None
    assert keras_compat.fit_data() == (None, None)
    assert keras_compat.batch_layout() is None
    assert keras_compat.early_stopping_mode(keras.callbacks.EarlyStopping(mode="min")) == "min"


def test_keras_model_lives_in_the_module_run_watches():
    """`tui-trainer run` patches fit when this module is loaded (tests/unit/test_script_corpus.py runs it)."""
    assert keras.Model.__module__ == keras_compat.MODEL_MODULE
    assert keras.Model is __import__(keras_compat.MODEL_MODULE, fromlist=["Model"]).Model
