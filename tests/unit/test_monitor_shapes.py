"""``Monitor()`` on the shapes real Keras code has, not only ours.

Each shape is one a user's script or notebook takes (written here from scratch:
a ``Sequential`` with no ``keras.Input``, a subclassed model, a GAN-style custom
``train_step`` whose logs have no ``loss``, two inputs and two outputs with a loss
per output, a per-class ``F1Score``, a ``tf.data`` pipeline). Every fit must
leave a readable run whose early-stopping facts equal the EarlyStopping
instance's own attributes after the fit, and whose model description is the
built model's.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from tui_trainer import Monitor
from tui_trainer.events import EarlyStoppingResult, EpochEnded, ModelBuilt, Note, RunFailed
from tui_trainer.runlog import load_run
from tui_trainer.runstate import RunState

from .test_callback import Script

RNG = np.random.default_rng(0)
X = RNG.random((96, 8)).astype("float32")
Y = (X[:, :4].sum(1) > X[:, 4:].sum(1)).astype("int32")
# val_loss scripted so that EarlyStopping (patience 2) fires at epoch 4 and restores epoch 2
CURVE = [1.0, 0.5, 0.7, 0.8, 0.9, 1.0]


def sequential_without_input():
    model = keras.Sequential([keras.layers.Dense(6, activation="relu"), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, (X, Y), {}


class TwoLayers(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(6, activation="tanh")
        self.out = keras.layers.Dense(2)

    def call(self, x):
        return self.out(self.hidden(x))


def subclassed():
    model = TwoLayers()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model, (X, Y), {}


def per_class_f1():
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=[keras.metrics.F1Score(average=None)])
    return model, (X, keras.utils.to_categorical(Y % 3, 3)), {}


def two_inputs_two_outputs():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    h = keras.layers.Dense(6, activation="relu")(keras.layers.Concatenate()([a, b]))
    size = keras.layers.Dense(1, name="size")(h)
    kind = keras.layers.Dense(3, activation="softmax", name="kind")(h)
    model = keras.Model([a, b], [size, kind])
    model.compile("adam", loss={"size": "mse", "kind": "sparse_categorical_crossentropy"},
                  metrics={"kind": ["accuracy"]})
    return model, ([X[:, :4], X[:, 4:]], {"size": X.sum(1), "kind": Y}), {}


def tf_data_pipeline():
    tf = pytest.importorskip("tensorflow")
    model = keras.Sequential([keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    train = tf.data.Dataset.from_tensor_slices((X[:72], Y[:72])).batch(16)
    val = tf.data.Dataset.from_tensor_slices((X[72:], Y[72:])).batch(16)
    return model, (train,), {"validation_data": val}


SHAPES = {f.__name__: f for f in (sequential_without_input, subclassed, per_class_f1, two_inputs_two_outputs,
                                  tf_data_pipeline)}


def fit_recorded(build, tmp_path, **es_kwargs):
    keras.utils.set_random_seed(0)
    model, data, extra = build()
    es = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True, **es_kwargs)
    monitor = Monitor(runs_dir=tmp_path / "runs")
    if "validation_data" not in extra:
        extra["validation_split"] = 0.25
    model.fit(*data, epochs=8, batch_size=16, verbose=0, callbacks=[Script(CURVE), es, monitor], **extra)
    return model, es, load_run(monitor.run_dir)


def folded(run) -> RunState:
    state = RunState(live=False)
    for event in run.events:
        state.apply(event)
    return state


def assert_same_as_keras(run, es):
    """The run's early-stopping facts are the instance's own (1-based), and its ending says so."""
    result = next((e for e in run.events if isinstance(e, EarlyStoppingResult)), None)
    assert result is not None
    assert result.stopped_epoch == (es.stopped_epoch + 1 if es.stopped_epoch > 0 else None)
    assert result.best_epoch == es.best_epoch + 1
    assert result.best_value == pytest.approx(es.best)
    assert result.restored == (es.best_weights is not None)
    assert run.finished.status == ("early_stopped" if es.stopped_epoch > 0 else "completed")


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_is_recorded_with_the_facts_keras_has(shape, tmp_path):
    model, es, run = fit_recorded(SHAPES[shape], tmp_path)
    assert (es.stopped_epoch, es.best_epoch) == (3, 1)  # the scripted curve: stop at epoch 4, best epoch 2
    assert_same_as_keras(run, es)
    assert [e.epoch for e in run.events if isinstance(e, EpochEnded)] == [1, 2, 3, 4]
    started = run.started  # with the built model's description folded in
    assert started.params_total == model.count_params() > 0
    assert started.input_shape[-1] in (4, 8)
    assert not any(isinstance(e, RunFailed) for e in run.events)


@pytest.mark.parametrize("shape", ["sequential_without_input", "subclassed"])
def test_an_unbuilt_model_is_described_once_its_first_step_built_it(shape, tmp_path):
    model, _, run = fit_recorded(SHAPES[shape], tmp_path)
    kinds = [e.kind for e in run.events]
    assert kinds.index("run_started") < kinds.index("model_built") < kinds.index("epoch")
    built = next(e for e in run.events if isinstance(e, ModelBuilt))
    assert [row["type"] for row in built.layers] == ["Dense", "Dense"]
    assert [row["params"] for row in built.layers] == [layer.count_params() for layer in model.layers]
    assert built.num_classes == 2
    summary = json.loads((run.dir / "summary.json").read_text())
    assert summary["status"] == "early_stopped" and summary["epochs_run"] == 4


def test_a_per_class_metric_is_kept_per_class_and_charted_as_its_mean(tmp_path):
    _, _, run = fit_recorded(per_class_f1, tmp_path)
    epochs = [e for e in run.events if isinstance(e, EpochEnded)]
    for epoch in epochs:
        values = epoch.per_class["f1_score"]
        assert isinstance(values, tuple)  # as written, after the JSON round trip
        assert len(values) == 3
        finite = [v for v in values if v is not None]
        assert epoch.metrics["f1_score"] == pytest.approx(sum(finite) / len(finite))
        assert len(epoch.per_class["val_f1_score"]) == 3
    assert "f1_score" in folded(run).metric_names()


def test_two_outputs_keep_each_outputs_loss_and_the_classifying_outputs_classes(tmp_path):
    _, _, run = fit_recorded(two_inputs_two_outputs, tmp_path)
    first = next(e for e in run.events if isinstance(e, EpochEnded))
    assert {"size_loss", "kind_loss", "kind_accuracy", "val_kind_accuracy"} <= set(first.metrics)
    assert run.started.num_classes == 3  # the softmax output's, not the regression output's 1
    assert run.started.data_source == "2 inputs"


class LossNamedOtherwise(keras.Model):
    """A GAN-style model: its own train_step, its logs named d_loss and g_loss, no 'loss'."""

    def __init__(self):
        super().__init__()
        self.net = keras.layers.Dense(1)
        self.d_tracker = keras.metrics.Mean(name="d_loss")
        self.g_tracker = keras.metrics.Mean(name="g_loss")

    def call(self, x):
        return self.net(x)

    @property
    def metrics(self):
        return [self.d_tracker, self.g_tracker]

    def train_step(self, data):
        import tensorflow as tf

        x, y = data
        with tf.GradientTape() as tape:
            loss = keras.ops.mean((self(x, training=True)[:, 0] - keras.ops.cast(y, "float32")) ** 2)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.d_tracker.update_state(loss)
        self.g_tracker.update_state(2 * loss)
        return {"d_loss": self.d_tracker.result(), "g_loss": self.g_tracker.result()}


def test_a_custom_train_step_without_loss_is_recorded_whole(tmp_path):
    pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the model's train_step is written for TensorFlow")
    keras.utils.set_random_seed(0)
    model = LossNamedOtherwise()
    model.compile(optimizer="adam")
    es = keras.callbacks.EarlyStopping(monitor="g_loss", mode="min", patience=1, min_delta=10.0,
                                       restore_best_weights=True)
    monitor = Monitor(runs_dir=tmp_path / "runs")
    model.fit(X, Y, epochs=6, batch_size=16, verbose=0, callbacks=[es, monitor])
    run = load_run(monitor.run_dir)
    assert es.stopped_epoch == 1  # nothing improves by 10 after the first epoch: stops at the second
    assert_same_as_keras(run, es)
    epochs = [e for e in run.events if isinstance(e, EpochEnded)]
    assert [e.epoch for e in epochs] == [1, 2]
    assert {"d_loss", "g_loss"} <= set(epochs[0].metrics)
    assert not any(isinstance(e, RunFailed) for e in run.events)
    assert any("no 'loss'" in e.message for e in run.events if isinstance(e, Note))


def test_values_keras_hands_over_as_arrays_are_read_as_numbers():
    # Keras's own EarlyStopping tests leave `best` as a one-element array; metrics may be vectors.
    from tui_trainer.callback import _finite_or_none, log_values

    assert _finite_or_none(np.array([0.25])) == 0.25
    assert _finite_or_none(np.array([[0.5]], dtype="float32")) == 0.5
    assert _finite_or_none(np.array([0.1, 0.2])) is None and _finite_or_none(np.float32("nan")) is None
    metrics, per_class = log_values({"loss": np.float32(0.5), "f1": np.array([0.2, np.nan, 0.4]), "name": "x"})
    assert metrics == {"loss": 0.5, "f1": pytest.approx(0.3)}
    assert per_class == {"f1": (pytest.approx(0.2), None, pytest.approx(0.4))}
