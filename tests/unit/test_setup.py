"""Every run records its setup read from the objects that trained it, and compare names what differs.

Script fits through ``Monitor()`` (built and unbuilt models), the engine's presets, KerasTuner trials
and logs written before the setup was recorded.
"""

from __future__ import annotations

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from tui_trainer import Monitor
from tui_trainer.compare import format_differences, load_runs, what_differs
from tui_trainer.engine import train
from tui_trainer.runlog import iter_events, load_run
from tui_trainer.setup import differences, labels_by_difference, setup_of
from tui_trainer.spec import loads_preset

from ..conftest import tiny_preset_toml
from .test_compare import RECORDINGS


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((60, 4)).astype("float32")
    return x, (x.sum(1) > 2).astype("int32")


def _fit(runs_dir, name, lr, hidden, *, input_layer=True, es=None):
    x, y = _data()
    layers = [keras.layers.Dense(u, activation="relu") for u in hidden] + [keras.layers.Dense(2, activation="softmax")]
    model = keras.Sequential(([keras.Input((4,))] if input_layer else []) + layers)
    model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy")
    es = es or keras.callbacks.EarlyStopping(patience=3, min_delta=0.001, restore_best_weights=True)
    monitor = Monitor(name=name, runs_dir=runs_dir)
    model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0, callbacks=[es, monitor])
    return monitor.run_dir


def test_a_script_fit_records_its_setup_from_the_objects(tmp_path):
    es = keras.callbacks.EarlyStopping(monitor="val_loss", patience=4, min_delta=0.01, start_from_epoch=1,
                                       baseline=0.9, restore_best_weights=True)
    run = load_run(_fit(tmp_path, "a", 0.003, [8, 4], input_layer=False, es=es))  # built by its first step
    assert run.started.setup == {
        "hidden layers": "Dense 8 relu, Dense 4 relu", "output layer": "Dense 2 softmax",
        "optimizer": "Adam", "learning rate": 0.003, "loss": "sparse_categorical_crossentropy",
        "batch size": 16, "epochs": 2, "validation split": 0.25,
        "early stopping": "val_loss", "patience": 4, "min_delta": 0.01, "restore_best_weights": True,
        "start_from_epoch": 1, "baseline": 0.9,
    }


def test_two_script_fits_differ_in_exactly_learning_rate_and_layers(tmp_path):
    a = _fit(tmp_path, "a", 0.001, [64])
    b = _fit(tmp_path, "b", 0.01, [64, 32])
    runs = load_runs([a, b])
    assert what_differs(runs) == [("hidden layers", ["Dense 64 relu", "Dense 64 relu, Dense 32 relu"]),
                                  ("learning rate", ["0.001", "0.01"])]
    assert [r.label for r in runs] == ["lr 0.001, hidden 64 relu", "lr 0.01, hidden 64 relu, 32 relu"]

    # The CLI says it the same way, before the facts table whose columns carry the labels.
    out = subprocess.run([sys.executable, "-m", "tui_trainer", "compare", str(a), str(b), "--no-ui"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:3] == ["What differs:", "  hidden layers: Dense 64 relu | Dense 64 relu, Dense 32 relu",
                         "  learning rate: 0.001 | 0.01"]
    assert "lr 0.001, hidden 64 relu" in lines[4] and "lr 0.01, hidden 64 relu, 32 relu" in lines[4]
    assert lines[5].split()[1:] == [a.name, b.name]  # the "run" row: which folder is which


def test_the_same_setup_twice_says_nothing_differs_and_keeps_the_ids(tmp_path):
    a = _fit(tmp_path, "a", 0.001, [4])
    b = _fit(tmp_path, "b", 0.001, [4])
    runs = load_runs([a, b])
    assert what_differs(runs) == []
    assert [r.label for r in runs] == [a.name, b.name]
    assert format_differences(runs) == "What differs: nothing recorded differs between these runs."


class Subclassed(keras.Model):
    """Its layers are made in build(): nothing about them is known when fit begins."""

    def build(self, input_shape):
        self.hidden = keras.layers.Dense(6, activation="tanh")
        self.out = keras.layers.Dense(2, activation="softmax")
        super().build(input_shape)

    def call(self, x):
        return self.out(self.hidden(x))


def test_a_model_built_by_fit_gets_its_layers_from_the_built_model(tmp_path):
    x, y = _data()
    model = Subclassed()
    model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
    monitor = Monitor(name="sub", runs_dir=tmp_path)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[monitor])
    run = load_run(monitor.run_dir)
    assert "hidden layers" not in run.started.setup  # not known at on_train_begin: not guessed
    setup = setup_of(load_runs([monitor.run_dir, monitor.run_dir])[0].state.started)
    assert setup["hidden layers"] == "Dense 6 tanh" and setup["output layer"] == "Dense 2 softmax"
    assert setup["optimizer"] == "SGD" and setup["learning rate"] == 0.05
    assert setup["early stopping"] == "off" and "validation split" not in setup


def test_a_preset_and_its_modified_copy(tmp_path, blobs_csv):
    base = loads_preset(tiny_preset_toml(blobs_csv, epochs=2))
    modified = loads_preset(tiny_preset_toml(blobs_csv, epochs=2, patience=2).replace("units = 8", "units = 12"))
    a = train(base, None, runs_dir=tmp_path / "runs").run_dir
    b = train(modified, None, runs_dir=tmp_path / "runs").run_dir
    setup = load_run(a).started.setup
    assert setup["optimizer"] == "Adam" and setup["learning rate"] == 0.05 and setup["batch size"] == 16
    assert setup["validation split"] == 0.2 and setup["early stopping"] == "val_loss"
    runs = load_runs([a, b])
    assert what_differs(runs) == [("hidden layers", ["Dense 8 relu", "Dense 12 relu"]), ("patience", ["5", "2"])]
    assert [r.label for r in runs] == ["patience 5, hidden 8", "patience 2, hidden 12"]  # relu is shared


def test_runs_recorded_before_the_setup_existed_compare_by_what_their_logs_tell():
    started = next(iter_events(RECORDINGS / "sigmoid_x8.jsonl"))
    assert started.setup == {}  # the recordings predate RunStarted.setup
    setup = setup_of(started)
    assert setup["hidden layers"] == "Dense 64 sigmoid x8" and setup["output layer"] == "Dense 10 softmax"
    assert setup["optimizer"] == "Adam" and setup["early stopping"] == "val_loss"


def test_a_field_one_run_lacks_is_not_recorded_there_never_guessed():
    diffs = differences([{"learning rate": 0.01, "epochs": 5}, {"epochs": 5}])
    assert diffs == [("learning rate", [0.01, None])]
    assert labels_by_difference([{"hp.units": 3, "learning rate": 0.1}, {"hp.units": 5, "learning rate": 0.1}],
                                ["a", "b"]) == ["units=3", "units=5"]
    # Labels that would not tell the runs apart fall back to the run ids.
    assert labels_by_difference([{"x": "same"}, {"x": "same"}], ["a", "b"]) == ["a", "b"]
    assert labels_by_difference([{"learning rate": 0.1}, {"learning rate": 0.1}, {"learning rate": 0.2}],
                                ["a", "b", "c"]) == ["a", "b", "c"]


def test_labels_of_layers_say_only_the_words_that_differ():
    by_activation = [{"hidden layers": f"Dense 128 {a}", "epochs": 5} for a in ("relu", "sigmoid", "tanh")]
    assert labels_by_difference(by_activation, ["a", "b", "c"]) == ["relu", "sigmoid", "tanh"]
    # Width and depth differ too: each run keeps its own width, activation and count.
    assert labels_by_difference([{"hidden layers": "Dense 64 sigmoid x8"}, {"hidden layers": "Dense 128 relu"}],
                                ["a", "b"]) == ["64 sigmoid x8", "128 relu"]
    # A run that would keep nothing of its layer keeps the layer whole.
    assert labels_by_difference([{"hidden layers": "Dense 64 relu x8"}, {"hidden layers": "Dense 64 relu"}],
                                ["a", "b"]) == ["64 relu x8", "64 relu"]
    # A layer's type stays: "0.5" alone would not say it is a dropout rate.
    assert labels_by_difference([{"hidden layers": "Conv2D 32 3x3 relu, Dropout 0.5"},
                                 {"hidden layers": "Conv2D 32 3x3 relu, Dropout 0.25"}],
                                ["a", "b"]) == ["…Dropout 0.5", "…Dropout 0.25"]
    # Different numbers of layers: nothing to line up, the layers are named whole.
    assert labels_by_difference([{"hidden layers": "Dense 64 relu"}, {"hidden layers": "Dense 64 relu, Dense 32 relu"}],
                                ["a", "b"]) == ["64 relu", "64 relu, 32 relu"]
    # With another field in the label, the layers say which field they are.
    assert labels_by_difference([{"hidden layers": "Dense 128 relu", "learning rate": 0.1},
                                 {"hidden layers": "Dense 128 tanh", "learning rate": 0.01}],
                                ["a", "b"]) == ["lr 0.1, hidden relu", "lr 0.01, hidden tanh"]


def test_labels_of_convnets_shaped_like_public_mnist_scripts():
    """keras-io's simple MNIST convnet (two Conv2D/MaxPooling2D blocks, Flatten, Dropout) and the variants
    people publish of it: another dropout rate, a Dense block added, other filter counts."""

    def convnet(first: int, second: int, *tail: str) -> dict:
        layers = [f"Conv2D {first} 3x3 relu", "MaxPooling2D", f"Conv2D {second} 3x3 relu", "MaxPooling2D", "Flatten"]
        return {"hidden layers": ", ".join(layers + list(tail)), "output layer": "Dense 10 softmax"}

    base = convnet(32, 64, "Dropout 0.5")
    assert labels_by_difference([base, convnet(32, 64, "Dropout 0.3")], "ab") == ["…Dropout 0.5", "…Dropout 0.3"]
    assert labels_by_difference([base, convnet(32, 64, "Dropout 0.3", "Dense 64 relu", "Dropout 0.5")], "ab") == [
        "…Dropout 0.5", "…Dropout 0.3, 64 relu, Dropout 0.5"]
    # The filters differ: the kernel size and activation every run shares go, the layer types stay.
    assert labels_by_difference([base, convnet(16, 32, "Dropout 0.5")], "ab") == [
        "Conv2D 32, MaxPooling2D, Conv2D 64…", "Conv2D 16, MaxPooling2D, Conv2D 32…"]


def test_keras_tuner_trials_differ_in_their_hyperparameters(tmp_path):
    keras_tuner = pytest.importorskip("keras_tuner", reason="KerasTuner is optional: pip install keras-tuner")
    if keras.backend.backend() == "tensorflow":
        pytest.importorskip("tensorboard", reason="KerasTuner imports tensorboard under the TensorFlow backend")
    x, y = _data()

    def build(hp):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Choice("units", [3, 5]), activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
        return model

    tuner = keras_tuner.GridSearch(build, objective="val_loss", max_trials=2, directory=str(tmp_path / "kt"),
                                   project_name="p", overwrite=True)
    tuner.search(x, y, validation_split=0.25, epochs=1, verbose=0, callbacks=[Monitor(runs_dir=tmp_path / "runs")])
    dirs = sorted((tmp_path / "runs").iterdir())
    units = {d: json.loads((d / "source.json").read_text())["tuner_trial"]["hyperparameters"]["units"] for d in dirs}
    assert sorted(units.values()) == [3, 5]
    for d in dirs:
        assert load_run(d).started.setup["hp.units"] == units[d]
    runs = load_runs(dirs)
    diffs = dict(what_differs(runs))
    assert diffs["hp.units"] == [str(units[d]) for d in dirs]
    assert diffs["hidden layers"] == [f"Dense {units[d]} relu" for d in dirs]  # a Dense layer, never "none"
    assert [r.label for r in runs] == [f"units={units[d]}" for d in dirs]
    text = format_differences(runs)
    assert "none" not in text


def test_shapes_of_real_scripts_convnet_schedule_and_two_outputs(tmp_path):
    """A keras-io-style convnet (string optimizer, validation_split) against one with a learning-rate
    schedule and validation_data; a functional model with two outputs and a loss per output."""
    rng = np.random.default_rng(0)
    x = rng.random((32, 8, 8, 1)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 32), 3)

    def convnet(rate, optimizer, **fit):
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, (3, 3), activation="relu"),
                                  keras.layers.MaxPooling2D((2, 2)), keras.layers.Flatten(),
                                  keras.layers.Dropout(rate), keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=optimizer, loss="categorical_crossentropy")
        monitor = Monitor(name="conv", runs_dir=tmp_path)
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[monitor], **fit)
        return monitor.run_dir

    a = convnet(0.5, "adam", validation_split=0.25)
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=10, decay_rate=0.9)
    b = convnet(0.25, keras.optimizers.Adam(schedule), validation_data=(x[:8], y[:8]))
    runs = load_runs([a, b])
    assert dict(what_differs(runs)) == {
        "hidden layers": ["Conv2D 4 3x3 relu, MaxPooling2D, Flatten, Dropout 0.5",
                          "Conv2D 4 3x3 relu, MaxPooling2D, Flatten, Dropout 0.25"],
        "learning rate": ["0.001", "ExponentialDecay"],
        "validation split": ["0.25", "not recorded"],
        "validation data": ["not recorded", "8 samples"],
    }
    assert [r.label for r in runs] == ["lr 0.001, hidden …Dropout 0.5", "lr ExponentialDecay, hidden …Dropout 0.25"]

    title, tags = keras.Input((5,), name="title"), keras.Input((3,), name="tags")
    h = keras.layers.concatenate([keras.layers.Dense(4, activation="relu")(title), tags])
    model = keras.Model([title, tags], [keras.layers.Dense(1, name="priority")(h),
                                        keras.layers.Dense(2, activation="softmax", name="department")(h)])
    model.compile(optimizer="rmsprop", loss={"priority": keras.losses.BinaryCrossentropy(from_logits=True),
                                             "department": "categorical_crossentropy"})
    monitor = Monitor(name="two", runs_dir=tmp_path)
    model.fit({"title": rng.random((16, 5)), "tags": rng.random((16, 3))},
              {"priority": rng.random((16, 1)), "department": keras.utils.to_categorical(rng.integers(0, 2, 16), 2)},
              epochs=1, batch_size=8, verbose=0, callbacks=[monitor])
    setup = load_run(monitor.run_dir).started.setup
    assert setup["hidden layers"] == "Dense 4 relu, Concatenate"
    assert setup["output layer"] == "Dense 1 linear, Dense 2 softmax"  # both outputs, wherever they sit
    assert setup["loss"] == "priority: binary_crossentropy, department: categorical_crossentropy"
