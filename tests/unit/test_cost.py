"""What recording costs, said and kept low: the batch stride, one forward pass over the test split.

``batch_stride`` changes only how often the batch loss is read: the epochs are the same numbers, every
step still has a loss in the run log (the mean of its stride's steps), and 0 records epochs only,
which the run log, the replay state and the summary all take.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from tui_trainer import Monitor
from tui_trainer.callback import StreamingCallback
from tui_trainer.engine import train
from tui_trainer.evaluation import metrics_of
from tui_trainer.events import BatchLosses, EpochEnded
from tui_trainer.runlog import load_run
from tui_trainer.runstate import RunState
from tui_trainer.spec import SpecError, loads_preset

from ..conftest import blobs, tiny_preset_toml

N, BATCH = 200, 8  # 150 fitted samples: 19 steps an epoch, the last one short (6 samples)


def fit(stride: int, epochs: int = 2):
    keras.utils.set_random_seed(3)
    x, y = blobs(n=N)
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    events = []
    model.fit(x, y, epochs=epochs, batch_size=BATCH, validation_split=0.25, verbose=0,
              callbacks=[StreamingCallback(events.append, batch_stride=stride)])
    return events


def batch_losses(events, epoch):
    return [v for e in events if isinstance(e, BatchLosses) and e.epoch == epoch for v in e.losses]


def epochs(events):
    return [e for e in events if isinstance(e, EpochEnded)]


def test_a_stride_gives_every_step_the_mean_of_its_stride_and_the_same_epochs():
    every, strided = fit(1), fit(5)
    assert [e.metrics for e in epochs(strided)] == [e.metrics for e in epochs(every)]  # training unchanged
    assert not any(e.partial for e in epochs(strided))
    for epoch in (1, 2):
        full, sparse = batch_losses(every, epoch), batch_losses(strided, epoch)
        assert len(full) == len(sparse) == 19  # the last 4 steps are filled from the epoch's own loss
        # each block of 5 steps (the last one 4) carries the size-weighted mean of its own steps
        sizes = [BATCH] * 18 + [6]
        for start in range(0, 19, 5):
            block = slice(start, start + 5)
            mean = np.average(full[block], weights=sizes[block])
            assert sparse[block] == pytest.approx([mean] * len(sparse[block]), rel=1e-4)


def test_stride_0_records_epochs_only():
    events = fit(0)
    assert not any(isinstance(e, BatchLosses) for e in events)
    assert [e.epoch for e in epochs(events)] == [1, 2] and not any(e.partial for e in epochs(events))
    assert epochs(events)[0].metrics["loss"] == pytest.approx(epochs(fit(1))[0].metrics["loss"])


@pytest.mark.parametrize("stride", [10, 0])
def test_a_strided_run_log_reads_like_any_other(blobs_csv, tmp_path, stride):
    preset = loads_preset(tiny_preset_toml(blobs_csv, extra=f"[logging]\nbatch_stride = {stride}\n"))
    result = train(preset, runs_dir=tmp_path)
    run = load_run(result.run_dir)
    state = RunState(live=False)
    for event in run.events:
        state.apply(event)
    assert state.status == result.status == "completed" and state.epochs_run == 3
    assert len(state.series("val_loss")[1]) == 3  # the epoch charts' series
    steps = run.started.steps_per_epoch
    assert len(state.batch_losses) == (3 * steps if stride else 0)  # the batch chart: dense, or none at all
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["epochs_run"] == 3 and (result.run_dir / "best.keras").is_file()


def test_a_negative_stride_is_refused_naming_the_field(blobs_csv):
    with pytest.raises(SpecError) as info:
        loads_preset(tiny_preset_toml(blobs_csv, extra="[logging]\nbatch_stride = -1\n"))
    assert "logging.batch_stride" in str(info.value)
    with pytest.raises(ValueError, match="batch_stride must be a whole number >= 0"):
        Monitor(batch_stride=-1)


def test_test_metrics_from_one_forward_pass_are_what_evaluate_says():
    keras.utils.set_random_seed(5)
    x, y = blobs(n=120)
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(4, activation="relu",
                              kernel_regularizer="l2"), keras.layers.Dense(3)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    expected = model.evaluate(x, y, batch_size=256, verbose=0, return_dict=True)
    got = metrics_of(model, y, np.asarray(model(x, training=False)))
    assert got.keys() == expected.keys()
    assert got == {k: pytest.approx(v, rel=1e-5) for k, v in expected.items()}


def test_a_nan_loss_fails_the_run_whatever_the_stride():
    x, y = blobs(n=N)
    x[-10:] = np.nan  # the last batches of the fit split
    for stride in (0, 7):
        model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        stream = StreamingCallback(lambda e: None, batch_stride=stride)
        model.fit(x, y, epochs=3, batch_size=BATCH, verbose=0, callbacks=[stream])
        assert stream.ending()[0] == "failed" and "loss became NaN" in stream.failure
        assert stream.epochs_run == 1  # stopped at the end of the first epoch, not after all three


@pytest.mark.parametrize("stride", [1, 3])
def test_steps_per_execution_gives_one_loss_per_step(stride):
    """A keras-io habit (``compile(steps_per_execution=...)``): 19 steps run as 4 + 4 + 4 + 4 + 3."""
    x, y = blobs(n=N)
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", steps_per_execution=4)
    events = []
    model.fit(x, y, epochs=2, batch_size=BATCH, validation_split=0.25, verbose=0,
              callbacks=[StreamingCallback(events.append, batch_stride=stride)])
    assert [len(batch_losses(events, k)) for k in (1, 2)] == [19, 19]
    assert not any(e.partial for e in epochs(events))
