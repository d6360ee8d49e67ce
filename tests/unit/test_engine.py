"""The engine end to end on tiny data: what a run folder holds and how runs end."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from tui_trainer.datasets import DataError, Dataset, load_dataset
from tui_trainer.engine import train
from tui_trainer.events import BatchLosses, EpochEnded, RunFinished, RunStarted
from tui_trainer.runlog import load_run
from tui_trainer.spec import SpecError, load_preset_file, loads_preset

from ..conftest import blobs, tiny_preset_toml


@pytest.fixture
def tiny(tiny_preset_file):
    return load_preset_file(tiny_preset_file)


def epoch_losses(run_dir):
    return [(e.metrics["loss"], e.metrics["val_loss"]) for e in load_run(run_dir).events if isinstance(e, EpochEnded)]


def test_a_run_leaves_a_complete_readable_folder(tiny, tmp_path):
    import keras

    seen = []
    result = train(tiny, seen.append, runs_dir=tmp_path / "runs")
    d = result.run_dir
    assert d.parent == tmp_path / "runs" and d.name.endswith("-tiny")
    for name in ("preset.toml", "events.jsonl", "summary.json", "model.keras", "stderr.log"):
        assert (d / name).exists(), name
    assert load_preset_file(d / "preset.toml") == tiny  # exactly what ran, seed included
    run = load_run(d)
    assert run.events == seen  # the sink and the log see the same stream
    assert isinstance(run.events[0], RunStarted) and isinstance(run.events[-1], RunFinished)
    summary = json.loads((d / "summary.json").read_text())
    assert summary["status"] == result.status == "completed"
    assert summary["epochs_run"] == 3 and summary["test_metrics"]["accuracy"] > 0.5
    # model.keras holds the weights the run ended with (restored): it scores what the run reported
    data = load_dataset(tiny.data)
    model = keras.models.load_model(d / "model.keras")
    scores = model.evaluate(data.x_test, data.y_test, verbose=0, return_dict=True)
    assert scores["loss"] == pytest.approx(summary["test_metrics"]["loss"], rel=1e-5)
    started = run.started
    assert started.n_train + started.n_val == len(data.x_train) and started.n_test == len(data.x_test)
    assert started.params_total == 6 * 8 + 8 + 8 * 3 + 3 and started.device.startswith(("CPU", "GPU"))
    assert started.class_names == ("0", "1", "2")  # the label mapping is kept with the run


def test_reported_epochs_follow_the_val_loss_curve(blobs_csv, tmp_path):
    preset = loads_preset(tiny_preset_toml(blobs_csv, epochs=60, patience=2).replace("learning_rate = 0.05",
                                                                                      "learning_rate = 0.2"))
    result = train(preset, runs_dir=tmp_path)
    s = result.summary
    val = [v for _, v in epoch_losses(result.run_dir)]
    assert s.best_epoch == 1 + int(np.argmin(val))  # 1-based, as Keras prints it
    assert s.best_value == pytest.approx(min(val))
    assert s.restored_epoch == s.best_epoch
    if s.triggered:
        assert result.status == "early_stopped"
        assert s.stopped_epoch == len(val) and s.stopped_epoch - s.best_epoch == 2
    else:
        assert result.status == "completed" and len(val) == 60


def test_same_seed_same_curves_other_seed_other_curves(tiny, tmp_path):
    a = train(tiny, runs_dir=tmp_path)
    b = train(tiny, runs_dir=tmp_path)
    c = train(tiny.with_overrides(seed=8), runs_dir=tmp_path)
    assert epoch_losses(a.run_dir) == epoch_losses(b.run_dir)
    assert epoch_losses(a.run_dir) != epoch_losses(c.run_dir)
    batches = lambda d: [b.losses for b in load_run(d).events if isinstance(b, BatchLosses)]
    assert sum(batches(a.run_dir), ()) == sum(batches(b.run_dir), ())


def test_cancel_stops_at_the_next_batch_and_closes_the_log(tiny, tmp_path):
    cancel = threading.Event()

    def sink(event):
        if isinstance(event, EpochEnded) and event.epoch == 1:
            cancel.set()

    preset = tiny.with_overrides(epochs=50)
    result = train(preset, sink, cancel, runs_dir=tmp_path)
    assert result.status == "cancelled"
    run = load_run(result.run_dir)
    epochs = [e for e in run.events if isinstance(e, EpochEnded)]
    assert [e.epoch for e in epochs] == [1, 2] and epochs[-1].partial
    steps = [b for b in run.events if isinstance(b, BatchLosses) and b.epoch == 2]
    assert sum(len(b.losses) for b in steps) == 1  # stopped after the first batch of epoch 2
    assert run.summary["status"] == "cancelled" and run.summary["restored_epoch"] in (1, 2)


def test_training_from_another_thread(tiny, tmp_path):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", train(tiny, runs_dir=tmp_path)))
    t.start()
    t.join(120)
    assert out["r"].status == "completed"


def test_nan_loss_fails_the_run_with_the_reason(tiny, tmp_path):
    x, y = blobs(n=100)
    x[5:, :] = np.nan
    data = Dataset(name="csv", source="test", x_train=x[:80], y_train=y[:80], x_test=x[80:], y_test=y[80:],
                   num_classes=3, input_shape=(6,), scale_range=None)
    result = train(tiny, runs_dir=tmp_path, data=data)
    assert result.status == "failed"
    run = load_run(result.run_dir)
    assert run.summary["status"] == "failed" and "loss became NaN at batch " in run.summary["reason"]
    json.loads((result.run_dir / "events.jsonl").read_text().splitlines()[-1])  # still valid JSON


def test_bad_data_and_bad_shapes_record_nothing(tiny, tmp_path):
    missing = tiny.with_overrides(data_path=str(tmp_path / "nope.csv"))
    with pytest.raises(DataError, match="nope.csv"):
        train(missing, runs_dir=tmp_path / "runs")
    raw = tiny.model_dump(mode="json")
    raw["layers"][-1]["units"] = 2
    with pytest.raises(SpecError, match=r"layers\[2\].units: the output layer has 2 units but csv has 3 classes"):
        train(tiny.model_validate(raw), runs_dir=tmp_path / "runs")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_native_stderr_goes_to_the_run_folder(tiny, tmp_path, capfd):
    result = train(tiny, runs_dir=tmp_path)
    err = capfd.readouterr().err
    assert "node_def_util" not in err and "use_unbounded_threadpool" not in err
    assert (result.run_dir / "stderr.log").exists()
