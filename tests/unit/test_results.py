"""Results of a run: saved predictions read back, the numbers a user reads, and older runs recomputed."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import classification_report
from typer.testing import CliRunner

from tui_trainer.cli import app
from tui_trainer.events import RunStarted, to_dict
from tui_trainer.results import PREDICTIONS, Results, first_layer_features, format_results, load_results
from tui_trainer.runlog import iter_events

RECORDED = Path(__file__).parent.parent / "recordings" / "digits_results"
runner = CliRunner()


@pytest.fixture
def digits_run(tmp_path) -> Path:
    """A recorded digits run (6 epochs) with its predictions.npz, under a fixed run id."""
    d = tmp_path / "runs" / "20260101-000000-digits"
    shutil.copytree(RECORDED, d)
    return d


def test_confusion_matrix_sums_to_the_test_size(digits_run):
    res = load_results(digits_run)
    started = next(e for e in iter_events(digits_run / "events.jsonl") if isinstance(e, RunStarted))
    m = res.confusion()
    assert m.sum() == res.n_test == started.n_test == 359
    assert list(m.sum(axis=1)) == list(np.bincount(res.y_true, minlength=10))
    assert np.trace(m) / m.sum() == pytest.approx(res.test_metrics["accuracy"], abs=1e-6)


def test_per_class_numbers_equal_scikit_learns(digits_run):
    res = load_results(digits_run)
    report = classification_report(res.y_true, res.y_pred, output_dict=True, zero_division=0)
    for name, precision, recall, f1, support in res.per_class():
        assert precision == pytest.approx(report[name]["precision"])
        assert recall == pytest.approx(report[name]["recall"])
        assert f1 == pytest.approx(report[name]["f1-score"])
        assert support == report[name]["support"]


def test_results_command_prints_what_a_user_reads(digits_run):
    r = runner.invoke(app, ["results", str(digits_run)])
    assert r.exit_code == 0, r.output
    out = r.output
    assert "Results of 20260101-000000-digits on 359 test samples" in out
    assert "Test: loss 0.115  accuracy 97.49%" in out
    assert "Confusion matrix (rows: true class, columns: predicted)" in out
    assert "precision  recall" in out
    res = load_results(digits_run)
    i, j, count, support = res.confused_pairs()[0]
    assert f"{i} is read as {j} in {count} of {support} test images" in out
    assert "First layer dense_1 (Dense): 128 units" in out and "8x8 images" in out


def test_first_layer_features_have_the_inputs_shape(digits_run):
    res = load_results(digits_run)
    feats = first_layer_features(res)
    assert len(feats) == 128 and {f.shape for f in feats} == {(8, 8)}
    # unit 3's image is its column of the kernel, reshaped
    assert np.allclose(feats[2].ravel(), res.first_kernel[:, 2].astype(np.float32))
    conv = dataclasses.replace(res, first_kernel=np.zeros((3, 3, 1, 16), np.float32))
    assert [f.shape for f in first_layer_features(conv)] == [(3, 3)] * 16
    tabular = dataclasses.replace(res, first_kernel=np.zeros((6, 8), np.float32), image_shape=None)
    assert first_layer_features(tabular) == []


def test_misclassified_images_are_kept_with_their_labels(digits_run):
    res = load_results(digits_run)
    wrong = np.flatnonzero(res.y_pred != res.y_true)
    assert list(res.wrong_index) == list(wrong)
    assert res.wrong_images.shape == (len(wrong), 8, 8, 1) and res.wrong_images.dtype == np.uint8


def _events_with(path: Path, **changes) -> None:
    lines = []
    for e in iter_events(RECORDED / "events.jsonl"):
        if isinstance(e, RunStarted):
            e = dataclasses.replace(e, **changes)
        lines.append(json.dumps(to_dict(e)))
    path.mkdir(parents=True)
    (path / "events.jsonl").write_text("\n".join(lines) + "\n")


def test_a_scripts_run_has_no_test_data_one_line(tmp_path):
    d = tmp_path / "script-run"
    _events_with(d, origin="script", preset={})
    r = runner.invoke(app, ["results", str(d)])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        f"error: {d}: recorded from a script, so tui-trainer has no test data for it; results need a run "
        "trained from a preset"]


def test_not_a_run_folder_is_one_line(tmp_path):
    r = runner.invoke(app, ["results", str(tmp_path / "nope")])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1 and "nope" in r.output


def test_an_older_run_without_a_model_says_why(tmp_path):
    d = tmp_path / "old"
    _events_with(d)
    r = runner.invoke(app, ["results", str(d)])
    assert r.exit_code == 2 and "no model.keras to recompute the results from" in r.output


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A real run of the tiny csv preset (3 classes, 6 features): model.keras and predictions.npz."""
    from tests.conftest import blobs, tiny_preset_toml
    from tui_trainer.engine import train
    from tui_trainer.spec import load_preset_file

    root = tmp_path_factory.mktemp("tiny")
    x, y = blobs()
    csv = root / "blobs.csv"
    csv.write_text("f0,f1,f2,f3,f4,f5,label\n" + "".join(
        ",".join(f"{v:.5f}" for v in xi) + f",{int(yi)}\n" for xi, yi in zip(x, y)))
    toml = root / "tiny.toml"
    toml.write_text(tiny_preset_toml(csv))
    result = train(load_preset_file(toml), runs_dir=root / "runs")
    return result.run_dir


def test_an_older_run_is_recomputed_from_its_model(tiny_run, tmp_path):
    saved = load_results(tiny_run)
    old = tmp_path / tiny_run.name
    shutil.copytree(tiny_run, old)
    (old / PREDICTIONS).unlink()
    again = load_results(old)
    assert again.recomputed and not saved.recomputed
    assert (again.confusion() == saved.confusion()).all()
    assert "(recomputed from model.keras)" in format_results(again)
    assert "6 input features (not images)" in format_results(again)


def test_results_of_tabular_data_speak_of_samples(tiny_run):
    res = load_results(tiny_run)
    assert res.image_shape is None and res.wrong_images is None
    if res.confused_pairs():
        assert "test samples" in res.pair_sentence(res.confused_pairs()[0])


def test_results_dataclass_names_unknown_classes():
    res = Results(run_dir=Path("r"), class_names=["a"], y_true=np.array([0, 1]),
                  probs=np.array([[0.9, 0.1], [0.2, 0.8]], np.float32))
    assert res.name(0) == "a" and res.name(1) == "1" and res.confusion().tolist() == [[1, 0], [0, 1]]


def test_a_conv2d_first_layer_gives_its_filters():
    import keras

    from tui_trainer.results import _first_kernel

    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="conv2d_1"),
                              keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    kernel, name = _first_kernel(model)
    assert kernel.shape == (3, 3, 1, 4) and name == "conv2d_1 (Conv2D)"
    res = Results(run_dir=Path("r"), class_names=["a", "b", "c"], y_true=np.array([0]),
                  probs=np.array([[1.0, 0, 0]], np.float32), first_kernel=kernel, image_shape=(8, 8, 1))
    feats = first_layer_features(res)
    assert [f.shape for f in feats] == [(3, 3)] * 4 and np.allclose(feats[1], kernel[:, :, 0, 1])


@pytest.mark.parametrize("logits", [False, True])
def test_predictions_in_chunks_equal_model_predict(logits, monkeypatch):
    """The engine's few eager calls give what model.predict gives, over several chunks and a ragged last one."""
    import keras

    from tui_trainer import results

    monkeypatch.setattr(results, "PREDICT_CHUNK_BYTES", 40 * 6 * 4)  # 40 samples of 6 float32 a call
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation=None if logits else "softmax")])
    x = np.random.default_rng(0).normal(size=(101, 6)).astype("float32")
    expected = model.predict(x, batch_size=16, verbose=0)
    got = results.predict_in_chunks(model, x, batch_size=16)
    assert got.shape == (101, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    probs = results.as_probabilities(got)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    assert (probs.argmax(axis=1) == expected.argmax(axis=1)).all()
    assert results.predict_in_chunks(model, x[:0]).shape[0] == 0
