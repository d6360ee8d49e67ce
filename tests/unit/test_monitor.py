"""``Monitor`` in a user's own fit: the run folder it leaves, and the same verdict the engine's callback gives.

The early-stopping cases reuse test_callback's scripted val_loss curves: the
engine's StreamingCallback (after EarlyStopping, as the engine places it) and a
Monitor (before or after EarlyStopping) watch the same fit, and must tell the
same story.
"""

from __future__ import annotations

import json
import threading

import keras
import numpy as np
import pytest
import tensorflow as tf

from tui_trainer import Monitor
from tui_trainer.callback import StreamingCallback
from tui_trainer.compare import facts_table, load_runs
from tui_trainer.events import BatchLosses, EarlyStoppingResult, EpochEnded, Note, RunStarted
from tui_trainer.export import epochs_csv
from tui_trainer.runlog import load_run
from tui_trainer.runs import find_runs
from tui_trainer.runstate import RunState

from ..conftest import blobs, disk_full_at
from .test_callback import CancelAt, Script

CASES = {
    # name: (val_loss curve, epochs, restore_best_weights, cancel at (epoch, batch))
    "fired and restored": ([1.0, 0.8, 0.6, 0.7, 0.9, 1.0, 1.1], 10, True, None),
    "fired, restore off": ([1.0, 0.8, 0.6, 0.7, 0.9, 1.0, 1.1], 10, False, None),
    "all epochs ran, restored": ([1.0, 0.8, 0.9, 0.7], 4, True, None),
    "cancelled": ([1.0, 0.9, 0.8, 0.7, 0.6], 10, True, (2, 3)),
}


def small_model(features: int = 6, classes: int = 3) -> keras.Model:
    model = keras.Sequential([keras.Input((features,)), keras.layers.Dense(classes, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def scripted_fit(case: str, monitor_first: bool, runs_dir):
    curve, epochs, restore, cancel_at = CASES[case]
    keras.utils.set_random_seed(1)
    x, y = blobs(n=160)
    model = small_model()
    es = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=restore, verbose=0)
    engine_events: list = []
    cancel = threading.Event()
    engine_cb = StreamingCallback(engine_events.append, n_fit=120, batch_size=16, early_stopping=es)
    monitor = Monitor(name=case.replace(" ", "-").replace(",", ""), runs_dir=runs_dir, cancel=cancel)
    extra = [CancelAt(cancel, *cancel_at)] if cancel_at else []
    ordered = [monitor, es] if monitor_first else [es, monitor]
    model.fit(x, y, epochs=epochs, batch_size=16, validation_split=0.25, verbose=0,
              callbacks=[Script(curve), *extra, *ordered, engine_cb])
    return engine_events, monitor


@pytest.mark.parametrize("monitor_first", [True, False], ids=["monitor-first", "monitor-last"])
@pytest.mark.parametrize("case", list(CASES))
def test_early_stopping_cases_agree_with_the_engine(case, monitor_first, tmp_path):
    engine_events, monitor = scripted_fit(case, monitor_first, tmp_path / "runs")
    engine = RunState()
    for event in engine_events:
        engine.apply(event)
    run = load_run(monitor.run_dir)
    state = RunState()
    for event in run.events:
        state.apply(event)
    (result,) = [e for e in run.events if isinstance(e, EarlyStoppingResult)]
    assert result == engine.early_stopping  # same facts: stop, best, restored
    # each epoch's running best and patience count, as the engine's callback saw them
    assert [(e.epoch, e.best_epoch, e.wait) for e in state.epochs] == \
           [(e.epoch, e.best_epoch, e.wait) for e in engine.epochs]
    summary = json.loads((monitor.run_dir / "summary.json").read_text())
    expected_status = {"fired and restored": "early_stopped", "fired, restore off": "early_stopped",
                       "all epochs ran, restored": "completed", "cancelled": "cancelled"}[case]
    assert summary["status"] == expected_status
    assert (summary["stopped_epoch"], summary["best_epoch"], summary["restored_epoch"]) == (
        result.stopped_epoch, result.best_epoch, result.restored_epoch)
    # the verdict sentence is the engine's, word for word
    from tui_trainer.verdict import verdict

    assert state.verdict() == verdict(engine.early_stopping, status=expected_status, epochs_run=state.epochs_run,
                                      epochs_planned=CASES[case][1])
    if case == "cancelled":
        assert state.epochs[-1].partial and summary["reason"] == "cancelled by the user"


def test_a_functional_cnn_on_a_tf_data_pipeline_of_unknown_size(tmp_path):
    """One-hot labels, categorical_crossentropy, validation_data, a pipeline whose length Keras can't know."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 8, 8, 1)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, size=96), 3)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).filter(lambda a, b: True).batch(16)  # cardinality unknown
    assert ds.cardinality().numpy() == tf.data.UNKNOWN_CARDINALITY
    inputs = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    h = keras.layers.GlobalAveragePooling2D()(h)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    monitor = Monitor(name="cnn", runs_dir=tmp_path / "runs")
    model.fit(ds, validation_data=ds, epochs=3, callbacks=[monitor], verbose=0)

    d = monitor.run_dir
    for name in ("events.jsonl", "summary.json", "model.keras", "source.json"):
        assert (d / name).is_file(), name
    assert not (d / "preset.toml").exists()
    run = load_run(d)
    started = run.started
    assert started.origin == "script" and started.data_source == "a tf.data.Dataset"
    assert started.input_shape == (8, 8, 1) and started.num_classes == 3
    assert started.params_total == model.count_params()
    assert [row["type"] for row in started.layers] == ["Conv2D", "GlobalAveragePooling2D", "Dense"]
    epochs = [e for e in run.events if isinstance(e, EpochEnded)]
    assert [e.epoch for e in epochs] == [1, 2, 3] and not any(e.partial for e in epochs)
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(epochs[0].metrics)
    batches = [e for e in run.events if isinstance(e, BatchLosses)]
    assert sum(len(b.losses) for b in batches) == 3 * 6  # 96 samples in batches of 16, every epoch
    assert batches[-1].steps_per_epoch == 6  # learnt from the first whole epoch
    # the saved model is the trained one
    loaded = keras.saving.load_model(d / "model.keras")
    np.testing.assert_allclose(loaded.predict(x[:4], verbose=0), model.predict(x[:4], verbose=0), rtol=1e-5)
    # runs list, export, compare and the summary treat it like any run
    (info,) = find_runs(tmp_path / "runs")
    assert (info.preset, info.status, info.epochs) == ("cnn", "completed", 3)
    assert epochs_csv(run).splitlines()[0].startswith("epoch,loss,val_loss")
    rows = facts_table(load_runs([d, d]))
    assert rows and all(len(r) >= 3 for r in rows)


def test_batch_losses_are_each_batch_own_loss(tmp_path):
    """Keras logs a running mean; the Monitor learns the batch sizes from fit and undoes it exactly."""
    keras.utils.set_random_seed(0)
    x, y = blobs(n=150)
    model = small_model()
    monitor = Monitor(name="means", runs_dir=tmp_path)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[monitor])  # 150 = 4 x 32 + 22
    run = load_run(monitor.run_dir)
    assert (run.started.n_train, run.started.batch_size, run.started.steps_per_epoch) == (150, 32, 5)
    for epoch in (1, 2):
        losses = [l for b in run.events if isinstance(b, BatchLosses) and b.epoch == epoch for l in b.losses]
        weighted = (sum(losses[:4]) * 32 + losses[4] * 22) / 150
        (end,) = [e for e in run.events if isinstance(e, EpochEnded) and e.epoch == epoch]
        assert weighted == pytest.approx(end.metrics["loss"], rel=1e-4)


def test_the_monitor_never_fails_fit(tmp_path, capsys):
    """A runs folder that can't be made: the fit trains on, the Monitor records nothing and says so in one line."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    x, y = blobs(n=64)
    model = small_model()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[Monitor(runs_dir=blocker / "runs")])
    assert len(history.history["loss"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("tui-trainer: the Monitor stopped recording this fit: ")
    assert "not-a-folder" in line and line.endswith("training goes on")


def test_a_full_disk_stops_the_log_with_one_line_and_fit_goes_on(tmp_path, monkeypatch, capsys):
    """The run log can't be written from epoch 2 on: the fit trains on, the log holds epoch 1, stderr says so."""
    from tui_trainer import runlog

    monkeypatch.setattr(runlog, "open", disk_full_at('"event":"epoch","epoch":2'), raising=False)
    x, y = blobs(n=64)
    monitor = Monitor(name="full", runs_dir=tmp_path)
    history = small_model().fit(x, y, epochs=3, verbose=0, callbacks=[monitor])
    assert len(history.history["loss"]) == 3
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (f"tui-trainer: no space left on device writing {monitor.run_dir / 'events.jsonl'}; "
                    "the run log is complete up to epoch 1; training goes on")
    run = load_run(monitor.run_dir)
    assert [e.epoch for e in run.events if isinstance(e, EpochEnded)] == [1]


def test_an_error_inside_the_monitor_is_written_to_the_log_and_turns_it_off(tmp_path, monkeypatch):
    x, y = blobs(n=64)
    model = small_model()
    monitor = Monitor(name="broken", runs_dir=tmp_path)
    original = StreamingCallback._epoch_end
    calls = []

    def broken_at_epoch_2(self, epoch, logs=None):
        calls.append(epoch)
        if epoch == 1:
            raise RuntimeError("disk on fire")
        return original(self, epoch, logs)

    monkeypatch.setattr(StreamingCallback, "_epoch_end", broken_at_epoch_2)
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[monitor])
    assert len(history.history["loss"]) == 4  # training went on
    assert calls == [0, 1]  # and the Monitor stopped at its error
    summary = json.loads((monitor.run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and "disk on fire" in summary["reason"]
    assert "training went on" in summary["reason"] and summary["epochs_run"] == 1


def test_several_early_stoppings_the_first_is_reported_with_a_note(tmp_path):
    x, y = blobs(n=64)
    model = small_model()
    first = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)
    second = keras.callbacks.EarlyStopping(monitor="loss", patience=1)
    monitor = Monitor(name="two", runs_dir=tmp_path)
    model.fit(x, y, epochs=2, validation_split=0.25, verbose=0, callbacks=[monitor, first, second])
    run = load_run(monitor.run_dir)
    assert any("2 EarlyStopping callbacks" in n for n in run.started.notes)
    (result,) = [e for e in run.events if isinstance(e, EarlyStoppingResult)]
    assert result.monitor == "val_loss"


def test_a_model_that_cannot_be_saved_leaves_a_note_not_a_crash(tmp_path, monkeypatch):
    def full_disk(self, filepath, *args, **kwargs):
        open(filepath, "wb").write(b"half a zip")  # what a write cut short leaves
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", full_disk)
    x, y = blobs(n=64)
    model = small_model()
    monitor = Monitor(name="nosave", runs_dir=tmp_path)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[monitor])
    run = load_run(monitor.run_dir)
    notes = [e.message for e in run.events if isinstance(e, Note)]
    assert "model not saved: OSError: [Errno 28] No space left on device" in notes
    assert "checkpoint not written: OSError: [Errno 28] No space left on device" in notes  # best.keras too
    assert run.summary["status"] == "completed"
    names = {p.name for p in monitor.run_dir.iterdir()}
    assert {"events.jsonl", "source.json", "summary.json"} <= names and not names & {"model.keras", "best.keras"}
    assert not [n for n in names if "tmp" in n]  # no half-written model left behind


def test_each_fit_gets_its_own_run_folder(tmp_path):
    x, y = blobs(n=64)
    model = small_model()
    monitor = Monitor(name="twice", runs_dir=tmp_path)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[monitor])
    model.fit(x, y, epochs=2, verbose=0, callbacks=[monitor])
    assert len(monitor.run_dirs) == 2 and monitor.run_dirs[0] != monitor.run_dirs[1]
    assert [load_run(d).summary["epochs_run"] for d in monitor.run_dirs] == [1, 2]
    assert isinstance(load_run(monitor.run_dirs[1]).events[0], RunStarted)
