"""The lessons, end to end on one epoch a variant: every run recorded, every variant's figure in the reading."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from tui_trainer.cli import app
from tui_trainer.compare import load_runs
from tui_trainer.lesson import LESSONS, reading
from tui_trainer.lessons import gap_series, measured_accuracy
from tui_trainer.verdict import num, percent

runner = CliRunner()


def run(tmp_path, name):
    runs = tmp_path / "runs"
    r = runner.invoke(app, ["lesson", name, "--epochs", "1", "--no-ui", "--runs-dir", str(runs)])
    assert r.exit_code == 0, r.output
    folders = sorted(runs.iterdir())
    for f in folders:
        assert (f / "events.jsonl").is_file() and (f / "summary.json").is_file() and (f / "model.keras").is_file()
    return r.output, folders


def labelled(name, folders, skipped=()):
    runs = load_runs(folders)
    labels = [v.label for v in LESSONS[name].variants if v.label not in skipped]
    for r, label in zip(runs, labels):
        r.label = label
    return {r.label: r for r in runs}


def test_lesson_without_a_name_lists_them_one_line_each():
    r = runner.invoke(app, ["lesson"])
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert [line.split()[0] for line in lines[:5]] == ["hidden-layers", "scaling", "overfitting", "early-stopping",
                                                       "vanishing-gradients"]


def test_hidden_layers(tmp_path):
    out, folders = run(tmp_path, "hidden-layers")
    assert [f.name.split("-", 2)[2] for f in folders] == [f"hidden-layers-{k}" for k in ("0-hidden", "1-hidden",
                                                                                          "2-hidden")]
    runs = labelled("hidden-layers", folders)
    for label, r in runs.items():
        assert f"{label} {percent(measured_accuracy(r))}" in out  # each variant's measured test accuracy
    assert "first layer" in out and "10 units on 64" in out and "128 units on 64" in out


def test_scaling(tmp_path):
    out, folders = run(tmp_path, "scaling")
    assert len(folders) == 2
    runs = labelled("scaling", folders)
    for label, r in runs.items():
        first_loss = r.state.series("loss")[1][0]
        assert f"{label}: epoch-1 loss {num(first_loss)}" in out
    assert "pixels stretched from 0..16 to 0..255" in runs["raw 0..255"].state.started.data_source
    assert runs["raw 0..255"].state.started.preset["data"]["scale"] is False


def test_overfitting(tmp_path):
    out, folders = run(tmp_path, "overfitting")
    skipped = re.search(r"== L2 0.001 == skipped: (.*)", out)
    if skipped:  # this build's dense layers have no l2 field: said in one line, the rest still ran
        assert "l2" in skipped.group(1) and "The variant 'L2 0.001' was skipped" in out
    assert len(folders) == (3 if skipped else 4)
    runs = labelled("overfitting", folders, skipped=("L2 0.001",) if skipped else ())
    for label, r in runs.items():
        _, gaps = gap_series(r)
        assert num(gaps[-1]) in out, label  # each variant's measured train/val gap
        assert r.state.started.n_train + r.state.started.n_val == 500
    assert "dropout" in [layer["type"] for layer in runs["dropout 0.5"].state.started.preset["layers"]]


def test_early_stopping(tmp_path):
    out, folders = run(tmp_path, "early-stopping")
    runs = labelled("early-stopping", folders)
    assert len(runs) == 4
    assert f"scored {percent(measured_accuracy(runs['restore off, patience 5']))} on the test split" in out
    assert f"restoring the best weights scored {percent(measured_accuracy(runs['patience 5']))}" in out
    for p in (2, 5, 10):
        assert f"patience {p} ran 1 epoch," in out.lower()
    assert runs["restore off, patience 5"].state.started.preset["early_stopping"]["restore_best_weights"] is False


def test_vanishing_gradients(tmp_path):
    out, folders = run(tmp_path, "vanishing-gradients")
    assert [f.name.split("-", 2)[2] for f in folders] == [v.key for v in LESSONS["vanishing-gradients"].variants]
    assert "grad first/last, start" in out and "sigmoid x8" in out and "relu x8" in out
    ratio = re.search(r"the first of 8 sigmoid layers got (\S+) of the output layer's gradient", out)
    assert ratio and float(ratio.group(1)) < 1e-3
    assert "vanishing gradient" in out and "recommends ReLU" in out
    assert reading(load_runs(folders)) in out


@pytest.mark.parametrize("args", [["nope"], ["nope", "--no-ui"]])
def test_unknown_lesson_is_one_line_exit_2(args):
    r = runner.invoke(app, ["lesson", *args])
    assert r.exit_code == 2
    assert r.output.strip() == ("error: nope: no such lesson; choose one of hidden-layers, scaling, overfitting, "
                                "early-stopping, vanishing-gradients")
