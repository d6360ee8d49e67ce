"""The data-source registry, and what the data sources added in issue 11 load: tiny files in tmp_path."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tui_trainer import doctor
from tui_trainer.datasets import SOURCES, DataSource, clear_cache, known_input_shape, load_dataset, source_names
from tui_trainer.datasets.arrays import stratified_split
from tui_trainer.spec import DATASETS, DataSpec


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


# --- the registry --------------------------------------------------------------------------------


def test_every_allowed_dataset_has_its_own_module_in_the_registry():
    assert source_names() == DATASETS  # spec's Literal and the registry agree, in order
    for name in DATASETS:
        module = importlib.import_module(f"tui_trainer.datasets.{name}")
        assert module.SOURCE is SOURCES[name] and isinstance(module.SOURCE, DataSource)
        assert module.SOURCE.name == name and module.SOURCE.help
        assert "validation_split" not in module.SOURCE.options  # the trainer applies it, not the loader
        assert set(module.SOURCE.options) <= set(DataSpec.model_fields)


def test_sources_that_need_a_path_are_refused_without_one():
    for name, source in SOURCES.items():
        if source.needs_path:
            with pytest.raises(ValueError, match=f"data.path is required when data.dataset is '{name}'"):
                DataSpec(dataset=name)
        else:
            DataSpec(dataset=name)


def test_known_input_shapes_without_loading():
    assert known_input_shape({"dataset": "digits"}) == (64,)
    assert known_input_shape({"dataset": "mnist", "flatten": False}) == (28, 28, 1)
    assert known_input_shape({"dataset": "fashion_mnist", "flatten": True}) == (784,)
    assert known_input_shape({"dataset": "csv", "path": "x.csv"}) is None
    assert known_input_shape({"dataset": "nonsense"}) is None


def test_class_names_known_without_loading():
    assert SOURCES["digits"].class_names == tuple("0123456789")
    assert SOURCES["fashion_mnist"].class_names[0] == "T-shirt/top"
    assert SOURCES["fashion_mnist"].class_names[9] == "Ankle boot"


def test_doctor_names_every_data_source(tmp_path):
    rows = {r.check: r for r in doctor.run_checks(tmp_path / "runs", tensorflow=False)}
    for name in DATASETS:
        assert name in rows, name
        assert rows[name].status in ("ok", "warn") and rows[name].value


def test_doctor_command_exits_0_and_names_the_sources(tmp_path):
    code = "import sys; from tui_trainer.cli import app; sys.argv = ['tui-trainer', 'doctor']; app()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240,
                          cwd=Path(__file__).parents[2], env=_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    names = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    assert set(DATASETS) <= names, done.stdout


def test_the_registry_imports_no_numpy():
    code = "import sys, tui_trainer.datasets, tui_trainer.spec; print('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parents[2])
    assert done.stdout.strip() == "False"


def _env(tmp_path):
    env = dict(os.environ)
    env["KERAS_HOME"] = str(tmp_path / "keras")
    env["TUI_TRAINER_RUNS"] = str(tmp_path / "runs")
    return env


# --- images keep their shape; the stratified test split ------------------------------------------


def test_digits_unflattened_are_8x8x1_images_and_flattened_are_vectors():
    whole = load_dataset(DataSpec(dataset="digits", flatten=False))
    assert whole.input_shape == (8, 8, 1) and whole.x_train.shape[1:] == (8, 8, 1)
    flat = load_dataset(DataSpec(dataset="digits"))
    assert flat.input_shape == (64,)
    # the same pixels, only reshaped
    np.testing.assert_array_equal(whole.x_train.reshape(len(whole.x_train), -1), flat.x_train)
    assert known_input_shape({"dataset": "digits", "flatten": False}) == whole.input_shape


def test_npz_shapes_flatten_false(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "gray.npz", x=rng.integers(0, 255, (20, 6, 5)), y=np.arange(20) % 2)
    np.savez(tmp_path / "rgb.npz", x=rng.integers(0, 255, (20, 6, 5, 3)), y=np.arange(20) % 2)
    np.savez(tmp_path / "vec.npz", x=rng.normal(size=(20, 7)), y=np.arange(20) % 2)
    shapes = {
        f: load_dataset(DataSpec(dataset="npz", path=str(tmp_path / f"{f}.npz"), flatten=False)).input_shape
        for f in ("gray", "rgb", "vec")
    }
    assert shapes == {"gray": (6, 5, 1), "rgb": (6, 5, 3), "vec": (7,)}
    assert load_dataset(DataSpec(dataset="npz", path=str(tmp_path / "rgb.npz"))).input_shape == (90,)


def test_digits_test_split_keeps_every_class_in_proportion():
    ds = load_dataset(DataSpec(dataset="digits", test_split=0.2))
    y = np.concatenate([ds.y_train, ds.y_test])
    assert len(ds.y_test) == round(len(y) * 0.2)
    expected = np.bincount(y) * 0.2
    assert np.all(np.abs(np.bincount(ds.y_test, minlength=10) - expected) < 1)


def test_split_of_imbalanced_classes_is_stratified_deterministic_and_mixed():
    y = np.array([0] * 90 + [1] * 10 + [2] * 5)
    x = np.arange(len(y), dtype=float)[:, None]
    x_train, y_train, x_test, y_test = stratified_split("npz", "f.npz", x, y, 0.2)
    assert np.bincount(y_test).tolist() == [18, 2, 1]  # 21 in all: 18 + 2 + 1
    assert np.bincount(y_train).tolist() == [72, 8, 4]
    assert sorted(np.concatenate([x_train, x_test])[:, 0].tolist()) == list(range(len(y)))  # each sample once
    again = stratified_split("npz", "f.npz", x, y, 0.2)
    np.testing.assert_array_equal(again[0], x_train)
    np.testing.assert_array_equal(again[2], x_test)
    other = stratified_split("npz", "f.npz", x, y, 0.2, seed=1)
    assert not np.array_equal(other[2], x_test)
    # Keras's validation_split takes the tail of the training split: it must not be one class
    assert len(set(y_train[-20:].tolist())) > 1


def test_csv_test_split_is_stratified(tmp_path):
    labels = [0] * 40 + [1] * 10
    rows = ["f,label"] + [f"{i},{c}" for i, c in enumerate(labels)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset(DataSpec(dataset="csv", path=str(tmp_path / "d.csv"), test_split=0.2))
    assert np.bincount(ds.y_test).tolist() == [8, 2]
