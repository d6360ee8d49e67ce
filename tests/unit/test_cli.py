"""The CLI as a user meets it: what it prints and the exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui_trainer import __version__
from tui_trainer.cli import app

from ..conftest import tiny_preset_toml

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_version():
    r = run("--version")
    assert r.exit_code == 0 and r.output.strip() == f"tui-trainer {__version__}"


def test_presets_list_and_show():
    r = run("presets", "list")
    assert r.exit_code == 0
    for name in ("digits", "seed-mnist", "fashion-mnist"):
        assert name in r.output
    r = run("presets", "show", "seed-mnist")
    assert r.exit_code == 0 and 'name = "seed-mnist"' in r.output and "patience = 5" in r.output


def test_presets_show_unknown_is_one_line_exit_2():
    r = run("presets", "show", "nope")
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        "error: nope: no preset of that name; choose one of deep-elu, deep-leaky-relu, deep-relu, deep-sigmoid, "
        "deep-tanh, digits, fashion-cnn, fashion-mnist, mnist-cnn, seed-mnist, or give a path to a .toml file"]


def test_validate(tmp_path, tiny_preset_file):
    assert run("presets", "validate", str(tiny_preset_file)).exit_code == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(tiny_preset_file.read_text().replace('activation = "relu"', 'activation = "sigmoidd"'))
    r = run("presets", "validate", str(bad))
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    assert f"error: {bad}: layers[1].activation: Input should be 'relu'" in r.output


def test_train_prints_epochs_and_the_verdict(tmp_path, tiny_preset_file):
    runs = tmp_path / "myruns"
    r = run("train", str(tiny_preset_file), "--epochs", "2", "--seed", "3", "--runs-dir", str(runs))
    assert r.exit_code == 0, r.output
    out = r.output
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "Epoch 3/" not in out
    assert "All 2 epochs ran without early stopping" in out
    assert "Test (" in out and "accuracy" in out
    (run_dir,) = runs.iterdir()
    assert f"Run saved in {run_dir}" in out
    assert "seed = 3" in (run_dir / "preset.toml").read_text()
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"


def test_train_bad_input_exits_2_with_one_line(tmp_path, tiny_preset_file):
    r = run("train", "no-such-preset")
    assert r.exit_code == 2 and "no preset of that name" in r.output
    r = run("train", str(tiny_preset_file), "--data-path", str(tmp_path / "missing.csv"))
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Data set 'csv'") and "missing.csv" in lines[0]
    r = run("train", str(tiny_preset_file), "--epochs", "0")
    assert r.exit_code == 2


def test_train_batch_stride_0_records_epochs_only_and_says_so_in_the_preset(tmp_path, tiny_preset_file):
    runs = tmp_path / "runs"
    r = run("train", str(tiny_preset_file), "--epochs", "2", "--batch-stride", "0", "--runs-dir", str(runs))
    assert r.exit_code == 0, r.output
    (run_dir,) = runs.iterdir()
    assert "batch_stride = 0" in (run_dir / "preset.toml").read_text()  # a --replay records the same way
    kinds = {json.loads(line)["event"] for line in (run_dir / "events.jsonl").read_text().splitlines()}
    assert "epoch" in kinds and not any("batch" in k for k in kinds), kinds
    r = run("train", str(tiny_preset_file), "--batch-stride", "-1")
    assert r.exit_code == 2 and "Invalid value for '--batch-stride'" in r.output
    r = run("train", "--resume", str(run_dir), "--batch-stride", "5")
    assert r.exit_code == 2 and "--batch-stride" in r.output


def test_train_failed_run_exits_1(tmp_path):
    data = tmp_path / "huge.csv"
    data.write_text("a,b,label\n" + "".join(f"{1e30 * (i % 7)},{-1e30 * (i % 5)},{i % 2}\n" for i in range(64)))
    preset = tmp_path / "p.toml"
    preset.write_text(tiny_preset_toml(data, units=2).replace("[data]", "[data]\nscale = false"))
    r = run("train", str(preset), "--runs-dir", str(tmp_path / "runs"))
    assert r.exit_code == 1, r.output
    assert "Training failed: loss became" in r.output and "of epoch 1" in r.output


def _start(args, tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "tui_trainer", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)


def _wait_for_epoch(proc):
    for line in proc.stdout:
        if line.startswith("Epoch"):
            return line
    raise AssertionError("no epoch line: " + proc.stderr.read())


@pytest.mark.parametrize("sig,code,status", [(signal.SIGINT, 130, "cancelled"), (signal.SIGHUP, 0, None)])
def test_signals_ctrl_c_cancels_hangup_keeps_going(tmp_path, tiny_preset_file, sig, code, status):
    epochs = "400" if sig == signal.SIGINT else "8"
    proc = _start(["train", str(tiny_preset_file), "--epochs", epochs, "--runs-dir", "runs"], tmp_path)
    _wait_for_epoch(proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    (run_dir,) = (tmp_path / "runs").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == (status or summary["status"])
    if sig == signal.SIGINT:
        assert "Cancelled by the user at epoch" in out
        assert "Cancelling after the current batch" in err  # said on the terminal, not in stderr.log
        assert "Cancelling" not in (run_dir / "stderr.log").read_text()
    else:
        assert summary["status"] in ("completed", "early_stopped")
