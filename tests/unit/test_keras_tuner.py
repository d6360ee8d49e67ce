"""A KerasTuner search with ``Monitor()`` in its callbacks: one run per trial, named by the trial and
carrying its hyperparameters. (KerasTuner deep-copies the search's callbacks for every trial.)"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

keras_tuner = pytest.importorskip("keras_tuner", reason="KerasTuner is optional: pip install keras-tuner")
if keras.backend.backend() == "tensorflow":
    pytest.importorskip("tensorboard", reason="KerasTuner imports tensorboard under the TensorFlow backend")

from tui_trainer import Monitor  # noqa: E402
from tui_trainer.runlog import load_run  # noqa: E402


def test_every_trial_is_a_run_named_by_its_trial_with_its_hyperparameters(tmp_path):
    x = np.random.default_rng(0).random((64, 4)).astype("float32")
    y = (x.sum(1) > 2).astype("int32")

    def build(hp):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Choice("units", [3, 5]), activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(keras.optimizers.Adam(hp.Choice("lr", [0.01, 0.001])), "sparse_categorical_crossentropy")
        return model

    tuner = keras_tuner.GridSearch(build, objective="val_loss", max_trials=2, directory=str(tmp_path / "kt"),
                                   project_name="p", overwrite=True)
    es = keras.callbacks.EarlyStopping(patience=1, min_delta=10.0, restore_best_weights=True)
    tuner.search(x, y, validation_split=0.25, epochs=4, verbose=0,
                 callbacks=[es, Monitor(runs_dir=tmp_path / "runs", early_stopping=es)])
    runs = sorted((tmp_path / "runs").iterdir())
    trials = {t.trial_id: t.hyperparameters.values for t in tuner.oracle.trials.values()}
    assert sorted(r.name.rsplit("-trial-", 1)[1] for r in runs) == sorted(trials) and len(trials) == 2
    for run_dir in runs:
        run = load_run(run_dir)
        trial = json.loads((run_dir / "source.json").read_text())["tuner_trial"]
        assert trial["hyperparameters"] == trials[trial["trial_id"]]
        assert any(f"units={trials[trial['trial_id']]['units']}" in n for n in run.started.notes)
        # each trial's own copy of the EarlyStopping was found and reported: stop at epoch 2, best epoch 1
        result = next(e for e in run.events if e.kind == "early_stopping")
        assert (result.stopped_epoch, result.best_epoch, result.restored) == (2, 1, True)
        assert [layer["units"] for layer in run.started.layers] == [trials[trial["trial_id"]]["units"], 2]
