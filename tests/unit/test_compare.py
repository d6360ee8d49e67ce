"""Comparing runs headless: loading run folders and the facts table, checked against the recordings."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tui_trainer.compare import (
    available_metrics,
    facts_table,
    format_cell,
    format_table,
    hidden_activations,
    load_runs,
)
from tui_trainer.runlog import RunLogError, iter_events, write_summary
from tui_trainer.runstate import RunState

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


def make_run_dir(runs_dir: Path, run_id: str, recording: str, summary: bool = True) -> Path:
    """A run folder ``runs_dir/run_id`` holding a recorded run's events (and its summary.json)."""
    d = runs_dir / run_id
    d.mkdir(parents=True)
    shutil.copy(RECORDINGS / f"{recording}.jsonl", d / "events.jsonl")
    if summary:
        state = RunState()
        for e in iter_events(d / "events.jsonl"):
            state.apply(e)
        write_summary(d, state.summary())
    return d


def facts_by_name(rows):
    return {row["fact"]: row for row in rows}


@pytest.fixture
def runs_dir(tmp_path):
    root = tmp_path / "runs"
    make_run_dir(root, "20260101-000000-relu", "early_stopped")
    make_run_dir(root, "20260101-000100-sigmoid", "sigmoid_x8")
    make_run_dir(root, "20260101-000200-completed", "completed", summary=False)
    make_run_dir(root, "20260101-000300-no_restore", "no_restore")
    return root


def test_early_stopping_facts_side_by_side(runs_dir):
    runs = load_runs([runs_dir / "20260101-000000-relu", runs_dir / "20260101-000100-sigmoid",
                      runs_dir / "20260101-000200-completed", runs_dir / "20260101-000300-no_restore"])
    # Labelled by what tells them apart: the layers, the epochs planned, restore_best_weights.
    assert [r.label for r in runs] == ["epochs 50, restore True, hidden 128 relu",
                                       "epochs 50, restore True, hidden 64 sigmoid x8",
                                       "epochs 6, restore True, hidden 128 relu",
                                       "epochs 50, restore False, hidden 128 relu"]
    rows = facts_table(runs)
    assert [row["fact"] for row in rows] == ["run", "preset", "hidden layers", "status", "epochs run", "monitor",
                                            "best epoch", "best value", "stopped epoch", "restored epoch",
                                            "test accuracy", "grad first/last, start", "grad first/last, end"]
    f = facts_by_name(rows)
    relu, sigmoid, completed, no_restore = (r.label for r in runs)
    assert [f["run"][label] for label in (relu, sigmoid, completed, no_restore)] == [r.id for r in runs]
    assert [r.id for r in runs] == ["20260101-000000-relu", "20260101-000100-sigmoid",
                                    "20260101-000200-completed", "20260101-000300-no_restore"]

    # The relu run: EarlyStopping fired at 33 and restored the best epoch, 28.
    assert f["status"][relu] == "early_stopped"
    assert f["epochs run"][relu] == 33
    assert f["stopped epoch"][relu] == 33
    assert f["best epoch"][relu] == 28
    assert f["restored epoch"][relu] == 28
    assert f["monitor"][relu] == "val_loss"
    assert f["best value"][relu] == pytest.approx(0.030350, abs=1e-6)
    assert f["test accuracy"][relu] == pytest.approx(0.98329, abs=1e-5)
    assert f["hidden layers"][relu] == "relu"

    # Eight sigmoid layers: still improving at epoch 50, so early stopping never fired.
    assert f["hidden layers"][sigmoid] == "sigmoid x8"
    assert f["status"][sigmoid] == "completed"
    assert f["epochs run"][sigmoid] == 50
    assert f["stopped epoch"][sigmoid] is None
    assert f["best epoch"][sigmoid] == 49
    assert f["test accuracy"][sigmoid] < 0.8 < f["test accuracy"][relu]

    # All epochs ran (no summary.json: read from the events); Keras 3 still restored the best.
    assert f["stopped epoch"][completed] is None
    assert f["restored epoch"][completed] == 6
    assert f["status"][completed] == "completed"

    # Fired, but restore_best_weights was off.
    assert f["stopped epoch"][no_restore] == 33
    assert f["best epoch"][no_restore] == 28
    assert f["restored epoch"][no_restore] is None


def test_format_table_prints_what_a_user_reads(runs_dir):
    runs = load_runs([runs_dir / "20260101-000000-relu", runs_dir / "20260101-000100-sigmoid",
                      runs_dir / "20260101-000300-no_restore"])
    text = format_table(facts_table(runs))
    lines = {line.split("  ")[0]: line for line in text.splitlines()}
    header = text.splitlines()[0]
    assert "restore True, hidden 128 relu" in header and "restore True, hidden 64 sigmoid x8" in header
    assert lines["run"].split()[1:] == ["20260101-000000-relu", "20260101-000100-sigmoid",
                                        "20260101-000300-no_restore"]
    assert lines["stopped epoch"].split()[2:] == ["33", "did", "not", "stop", "33"]
    assert lines["restored epoch"].split()[2:] == ["28", "49", "not", "restored"]
    assert lines["hidden layers"].split()[2:] == ["relu", "sigmoid", "x8", "relu"]
    assert "98.33%" in lines["test accuracy"]
    assert "0.03035" in lines["best value"]
    assert not any(line != line.rstrip() for line in text.splitlines())


def test_format_cell():
    assert format_cell("stopped epoch", None) == "did not stop"
    assert format_cell("restored epoch", None) == "not restored"
    assert format_cell("monitor", None) == "off"
    assert format_cell("test accuracy", 0.98329) == "98.33%"
    assert format_cell("best value", 0.0303500499) == "0.03035"
    assert format_cell("best value", 1.5e-5) == "1.500e-05"
    assert format_cell("best epoch", 28) == "28"


def test_a_failed_run_compares_too(tmp_path):
    root = tmp_path / "runs"
    runs = load_runs([make_run_dir(root, "a", "failed"), make_run_dir(root, "b", "cancelled")],
                     label_by_setup=False)
    f = facts_by_name(facts_table(runs))
    assert f["status"]["a"] == "failed" and f["status"]["b"] == "cancelled"
    assert f["test accuracy"]["a"] is None
    assert f["best value"]["a"] is None  # NaN loss: nothing finite to report
    assert format_cell("test accuracy", f["test accuracy"]["a"]) == "—"


def test_a_path_that_is_not_a_run_is_named_in_one_line(runs_dir, tmp_path):
    good = runs_dir / "20260101-000000-relu"
    missing = tmp_path / "no-such-run"
    with pytest.raises(RunLogError) as err:
        load_runs([good, missing])
    assert str(missing) in str(err.value) and "\n" not in str(err.value)

    not_a_run = tmp_path / "just-a-folder"
    not_a_run.mkdir()
    with pytest.raises(RunLogError, match="not a run folder") as err:
        load_runs([not_a_run, good])
    assert str(not_a_run) in str(err.value)

    empty = tmp_path / "empty-run"
    empty.mkdir()
    (empty / "events.jsonl").write_text("")
    with pytest.raises(RunLogError, match="no run_started") as err:
        load_runs([good, empty])
    assert str(empty) in str(err.value)


def test_at_least_two_runs(runs_dir):
    with pytest.raises(ValueError, match="at least two runs"):
        load_runs([runs_dir / "20260101-000000-relu"])
    with pytest.raises(ValueError, match="at least two runs"):
        load_runs([])


def test_paths_may_be_events_files_or_bare_ids(runs_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # bare ids are looked up in runs_dir, not the working folder
    runs = load_runs([runs_dir / "20260101-000000-relu" / "events.jsonl", "20260101-000100-sigmoid"],
                     runs_dir=runs_dir)
    assert [r.path for r in runs] == [runs_dir / "20260101-000000-relu", runs_dir / "20260101-000100-sigmoid"]


def test_the_same_run_twice_gets_two_labels(runs_dir):
    d = runs_dir / "20260101-000000-relu"
    runs = load_runs([d, d])
    assert [r.label for r in runs] == ["20260101-000000-relu", "20260101-000000-relu (2)"]
    assert set(facts_table(runs)[0]) == {"fact", "20260101-000000-relu", "20260101-000000-relu (2)"}


def test_hidden_activations():
    dense = lambda act: {"type": "dense", "units": 8, "activation": act}  # noqa: E731
    assert hidden_activations({"layers": [dense("relu"), dense("softmax")]}) == "relu"
    assert hidden_activations({"layers": [dense("sigmoid")] * 8 + [dense("softmax")]}) == "sigmoid x8"
    assert hidden_activations({"layers": [dense("relu"), {"type": "dropout", "rate": 0.2}, dense("relu"),
                                          dense("tanh"), dense("softmax")]}) == "relu x2, tanh"
    assert hidden_activations({"layers": [dense("softmax")]}) == "none"
    # Layers not recorded, or hidden layers that aren't Dense: not "none", which would claim a fact.
    assert hidden_activations({}) is None
    assert hidden_activations({"layers": [{"type": "Conv2D", "units": 8, "activation": "relu"},
                                          {"type": "Dense", "units": 10, "activation": "softmax"}]}) is None
    # A Monitor's rows name the Keras class (a KerasTuner trial's model): its Dense layers count.
    assert hidden_activations({"layers": [{"type": "Dense", "units": 32, "activation": "relu"},
                                          {"type": "Dense", "units": 10, "activation": "softmax"}]}) == "relu"


def test_available_metrics(runs_dir):
    runs = load_runs([runs_dir / "20260101-000000-relu", runs_dir / "20260101-000100-sigmoid"])
    assert available_metrics(runs) == ["loss", "val_loss", "accuracy", "val_accuracy"]


def test_compare_is_headless():
    code = "import sys, tui_trainer.compare; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())
    for heavy in ("textual", "plotext", "textual_plotext", "tensorflow", "keras"):
        assert heavy not in loaded, heavy


def test_a_modified_built_in_preset_says_edited(tmp_path):
    from tui_trainer.compare import preset_said

    runs = load_runs([make_run_dir(tmp_path, "a", "early_stopped"), make_run_dir(tmp_path, "b", "act_tanh")])
    rows = facts_by_name(facts_table(runs))
    assert [rows["preset"][r.label] for r in runs] == ["digits", "digits (edited)"]
    assert [r.label for r in runs] == ["relu", "tanh"]
    # Not a built-in name, nothing recorded, or a log the preset model can't read: the name as recorded.
    preset = runs[1].state.started.preset
    assert preset_said("my-own", preset) == "my-own"
    assert preset_said("digits", {}) == "digits"
    assert preset_said("digits", {"layers": "not a list"}) == "digits"
