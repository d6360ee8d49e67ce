"""Our corpus of script shapes (tests/corpus/, written here from the shapes real code has) through
``tui-trainer run --no-ui`` and through ``Monitor()``: every fit is recorded, and its stop/best/restored
facts are the EarlyStopping instance's own, which each script writes to ``$CORPUS_FACTS`` after its fit.

One process per import style (the import order is what is tested), one process for all the other
shapes under ``run``, and one for everything under ``Monitor()``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tui_trainer.events import EarlyStoppingResult, EpochEnded, ModelBuilt, Note, RunFailed
from tui_trainer.runlog import load_run
from tui_trainer.runstate import RunState

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
IMPORT_STYLES = ["tf_first_from", "tf_first_tf_keras", "keras_in_function", "keras_after_tf"]
SHAPES = ["seq_no_input", "subclassed", "custom_train_step", "gan_never_built", "two_in_two_out", "f1_per_class",
          "tf_data", "own_callback_stops", "targets_as_input"]

pytest.importorskip("tensorflow", reason="the corpus's tf-first and tf.data scripts need TensorFlow")


def _run(args: list[str], cwd: Path, **env) -> subprocess.CompletedProcess:
    full = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="3", CORPUS_FACTS=str(cwd / "facts.jsonl"),
                **env)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=full, timeout=600)


def _facts(cwd: Path) -> list[dict]:
    return [json.loads(line) for line in (cwd / "facts.jsonl").read_text().splitlines()]


def _recorded(stdout: str) -> list[Path]:
    return [Path(p) for p in re.findall(r"^Recording to (.+)$", stdout, re.M)]


def assert_agrees(run_dir: Path, facts: dict) -> None:
    """The run's early-stopping facts are the EarlyStopping instance's (1-based), and its ending says so."""
    run = load_run(run_dir)
    assert not any(isinstance(e, RunFailed) for e in run.events), run_dir
    result = next(e for e in run.events if isinstance(e, EarlyStoppingResult))
    stopped = facts["stopped"] + 1 if facts["stopped"] > 0 else None
    assert (result.stopped_epoch, result.best_epoch, result.restored) == (stopped, facts["best"] + 1, facts["restored"])
    assert result.best_value == pytest.approx(facts["best_value"])
    assert run.finished.status == ("early_stopped" if stopped else "completed")
    assert run.started.params_total > 0  # a model built late (or never, a GAN's) is still described


def assert_shape_specifics(name: str, run_dir: Path) -> None:
    run = load_run(run_dir)
    state = RunState(live=False)
    for event in run.events:
        state.apply(event)
    first_epoch = next(e for e in run.events if isinstance(e, EpochEnded)).metrics
    if name == "gan_never_built":
        assert any(isinstance(e, ModelBuilt) for e in run.events)
        note = " ".join(e.message for e in run.events if isinstance(e, Note))
        assert "never built" in note and "discriminator" in note and "generator" in note
        assert {"d_loss", "g_loss"} <= set(first_epoch)
    if name == "own_callback_stops":
        assert state.verdict().startswith("Stopped at epoch 2 of 6: ended by another callback")
        assert "early stopping at" not in state.verdict().lower()
    if name == "two_in_two_out":
        assert {"size_loss", "kind_loss", "val_kind_accuracy"} <= set(first_epoch)


@pytest.fixture(scope="module")
def shapes_under_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("run")
    done = _run(["-m", "tui_trainer", "run", "--no-ui", "--runs-dir", "runs", str(CORPUS / "all_shapes.py"), *SHAPES],
                cwd)
    return done, _facts(cwd), _recorded(done.stdout)


@pytest.fixture(scope="module")
def all_under_monitor(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("monitor")
    done = _run([str(CORPUS / "all_shapes.py"), *IMPORT_STYLES, *SHAPES], cwd, CORPUS_MONITOR="1",
                TUI_TRAINER_RUNS=str(cwd / "runs"))
    return done, {Path(f["script"]).stem: f for f in _facts(cwd)}


@pytest.mark.parametrize("name", IMPORT_STYLES)
def test_each_import_style_is_recorded_by_run(name, tmp_path):
    done = _run(["-m", "tui_trainer", "run", "--no-ui", "--runs-dir", "runs", str(CORPUS / f"{name}.py")], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    (facts,) = _facts(tmp_path)
    (run_dir,) = _recorded(done.stdout)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [run_dir.name]
    assert_agrees(run_dir, facts)
    if name == "tf_first_from":  # the script's own output is kept, as before the fix it was lost
        assert "Test accuracy True" in (run_dir / "output.log").read_text()


@pytest.mark.parametrize("name", SHAPES)
def test_each_shape_is_recorded_by_run(name, shapes_under_run):
    done, facts, recorded = shapes_under_run
    assert done.returncode == 0, done.stderr[-3000:]
    assert [Path(f["script"]).stem for f in facts] == SHAPES and len(recorded) == len(SHAPES)
    i = SHAPES.index(name)
    assert_agrees(recorded[i], facts[i])
    assert_shape_specifics(name, recorded[i])


@pytest.mark.parametrize("name", IMPORT_STYLES + SHAPES)
def test_each_script_is_recorded_by_its_own_monitor(name, all_under_monitor):
    done, facts = all_under_monitor
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = Path(facts[name]["run_dir"])
    assert_agrees(run_dir, facts[name])
    assert_shape_specifics(name, run_dir)
