"""The data-source registry, and what the data sources added in issue 11 load: tiny files in tmp_path."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from tui_trainer import doctor
from tui_trainer.datasets import SOURCES, DataSource, clear_cache, known_input_shape, source_names
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
    import os

    env = dict(os.environ)
    env["KERAS_HOME"] = str(tmp_path / "keras")
    env["TUI_TRAINER_RUNS"] = str(tmp_path / "runs")
    return env
