"""Checkpoints and ``train --resume``: a killed or cancelled run goes on, in its own folder, to a verdict
that agrees with early stopping on the whole curve."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest
from typer.testing import CliRunner

from tui_trainer.checkpoint import TrainingState, best_epoch_kept
from tui_trainer.cli import app
from tui_trainer.datasets import load_dataset
from tui_trainer.engine import train
from tui_trainer.events import BatchLosses, EpochEnded, RunFinished, RunResumed
from tui_trainer.runlog import load_run
from tui_trainer.runstate import RunState
from tui_trainer.spec import loads_preset

from ..conftest import tiny_preset_toml

runner = CliRunner()


def slow_preset(tmp_path, blobs_csv, epochs=60, patience=4):
    """The tiny preset made slow enough to be killed mid-run: batches of 2 samples, a small learning rate."""
    text = tiny_preset_toml(blobs_csv, epochs=epochs, patience=patience)
    text = text.replace("batch_size = 16", "batch_size = 2").replace("learning_rate = 0.05", "learning_rate = 0.002")
    path = tmp_path / "slow.toml"
    path.write_text(text)
    return path


def start_train(args, cwd):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "tui_trainer", "train", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd, env=env)


def wait_for_epoch(proc, n):
    for line in proc.stdout:
        if line.startswith("Epoch") and int(line.split()[1].split("/")[0]) >= n:
            return
    raise AssertionError("the run ended before epoch %d: %s" % (n, proc.stderr.read()))


def expected_stop(values, patience):
    """EarlyStopping's rule (min_delta 0, mode min) on a whole val_loss curve: (stop epoch or None, best epoch)."""
    best, best_epoch, wait = None, 0, 0
    for i, v in enumerate(values):
        wait += 1
        if best is None or v < best:
            best, best_epoch, wait = v, i + 1, 0
            continue
        if wait >= patience and i > 0:
            return i + 1, best_epoch
    return None, best_epoch


def folded(run_dir):
    state = RunState(live=False)
    for event in load_run(run_dir).events:
        state.apply(event)
    return state


def test_kill_9_then_resume_continues_the_log_to_the_verdict(tmp_path, blobs_csv):
    preset = slow_preset(tmp_path, blobs_csv)
    proc = start_train([str(preset), "--runs-dir", "runs"], tmp_path)
    wait_for_epoch(proc, 4)
    proc.kill()  # SIGKILL: no handler runs, nothing is closed
    proc.wait()
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert not (run_dir / "summary.json").exists()
    killed_at = TrainingState.load(run_dir / "checkpoint.npz").epoch
    assert killed_at >= 3
    kept = best_epoch_kept(run_dir)
    assert kept is not None and keras.saving.load_model(run_dir / "best.keras") is not None
    r = runner.invoke(app, ["runs", "list", "--runs-dir", str(tmp_path / "runs")])
    epochs_logged = sum(isinstance(e, EpochEnded) for e in load_run(run_dir).events)
    assert (f"{run_dir.name}: killed at epoch {epochs_logged} — best weights (epoch {kept}) kept — resume with "
            f"`tui-trainer train --resume {run_dir}`") in r.output

    r = runner.invoke(app, ["train", "--resume", str(run_dir)])
    assert r.exit_code == 0, r.output
    assert f"Resuming tiny after epoch {killed_at}" in r.output
    run = load_run(run_dir)
    assert sum(isinstance(e, RunResumed) for e in run.events) == 1
    state = folded(run_dir)
    epochs = [e.epoch for e in state.epochs]
    assert epochs == list(range(1, len(epochs) + 1))  # one continuous log, no epoch twice
    assert state.resumed_from == [killed_at]
    stop, best = expected_stop([e.metrics["val_loss"] for e in state.epochs], patience=4)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["stopped_epoch"], summary["best_epoch"]) == (stop, best)
    assert summary["status"] == ("early_stopped" if stop else "completed")
    assert summary["restored_epoch"] == best
    # the model the run ended with holds the best epoch's weights, as best.keras does
    data = load_dataset(loads_preset(preset.read_text()).data)
    final = keras.saving.load_model(run_dir / "model.keras").predict(data.x_test, verbose=0)
    kept_best = keras.saving.load_model(run_dir / "best.keras").predict(data.x_test, verbose=0)
    assert best_epoch_kept(run_dir) == best
    np.testing.assert_allclose(final, kept_best, rtol=1e-5, atol=1e-6)


def test_a_cancelled_run_resumes_and_its_partial_epoch_is_superseded(tmp_path, blobs_csv):
    preset = slow_preset(tmp_path, blobs_csv, epochs=8, patience=50)
    proc = start_train([str(preset), "--runs-dir", "runs"], tmp_path)
    wait_for_epoch(proc, 2)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    (run_dir,) = (tmp_path / "runs").iterdir()
    before = folded(run_dir)
    assert before.status == "cancelled"
    r = runner.invoke(app, ["train", "--resume", str(run_dir)])
    assert r.exit_code == 0, r.output
    state = folded(run_dir)
    assert [e.epoch for e in state.epochs] == list(range(1, 9))
    assert not any(e.partial for e in state.epochs)
    assert state.status == "completed" and "All 8 epochs ran" in state.verdict()
    # batch losses of a superseded epoch are dropped with it: every epoch has its steps once
    assert len(state.batch_losses) == 8 * state.steps_per_epoch


def test_what_cannot_be_resumed_says_why(tmp_path, blobs_csv, tiny_preset_file):
    result = train(loads_preset(tiny_preset_file.read_text()), runs_dir=tmp_path / "runs")
    r = runner.invoke(app, ["train", "--resume", str(result.run_dir)])
    assert r.exit_code == 2 and "the run finished (completed after 3 epochs); nothing to resume" in r.output
    r = runner.invoke(app, ["train", "digits", "--resume", str(result.run_dir)])
    assert r.exit_code == 2 and "give only --epochs" in r.output
    # a log without its ending, written by a process that is gone (killed before its first checkpoint)
    (result.run_dir / "checkpoint.npz").unlink()
    (result.run_dir / "summary.json").unlink()
    lines = (result.run_dir / "events.jsonl").read_text().splitlines()
    started = json.loads(lines[0])
    started["pid"] = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                                        capture_output=True, text=True).stdout)
    (result.run_dir / "events.jsonl").write_text("\n".join([json.dumps(started), *lines[1:-3]]) + "\n")
    r = runner.invoke(app, ["train", "--resume", str(result.run_dir)])
    assert r.exit_code == 2 and "no checkpoint to resume from" in r.output
    r = runner.invoke(app, ["train", "--resume", str(tmp_path / "nowhere")])
    assert r.exit_code == 2 and "no such run folder" in r.output


def test_best_keras_holds_the_best_epoch_of_a_normal_run(tmp_path, tiny_preset_file):
    result = train(loads_preset(tiny_preset_file.read_text()), runs_dir=tmp_path / "runs")
    d = result.run_dir
    assert best_epoch_kept(d) == result.summary.best_epoch
    state = TrainingState.load(d / "checkpoint.npz")
    assert state.epoch == 3 and state.optimizer_vars  # the last epoch, optimizer state included
    assert not [p.name for p in d.iterdir() if "tmp" in p.name]


def test_runstate_supersedes_what_came_after_the_resumed_epoch():
    from ..ui.conftest import recorded

    events = recorded("early_stopped")
    state = RunState(live=False)
    for e in events:
        state.apply(e)
    spe = state.steps_per_epoch
    state.apply(RunResumed(from_epoch=5, resumed_at="2026-01-01T00:00:00", host="h", pid=1, epochs=50))
    assert [e.epoch for e in state.epochs] == [1, 2, 3, 4, 5]
    assert len(state.batch_losses) == 5 * spe and max(state.batch_epochs) == 5
    assert state.finished is None and state.early_stopping is None and state.status == "running"
    assert state.started.pid == 1 and state.resumed_from == [5]
    state.apply(EpochEnded(epoch=6, metrics={"loss": 0.1, "val_loss": 0.2}, duration_s=1, elapsed_s=10))
    state.apply(BatchLosses(epoch=6, first_step=1, losses=(0.1,), steps_per_epoch=spe))
    state.apply(RunFinished(status="completed", epochs_run=6, test_metrics={}, wall_time_s=1.0))
    assert [e.epoch for e in state.epochs][-2:] == [5, 6] and state.summary().epochs_run == 6


# --- checks first, then acts ------------------------------------------------------------------------


def _cancelled(tmp_path, blobs_csv, at=2, epochs=6, runs="runs"):
    """A run cancelled after epoch ``at`` (a resumable run), made in-process."""
    import threading

    cancel = threading.Event()

    def sink(event):
        if isinstance(event, EpochEnded) and event.epoch >= at:
            cancel.set()

    preset = loads_preset(tiny_preset_toml(blobs_csv, epochs=epochs, patience=50))
    result = train(preset, sink, cancel, runs_dir=tmp_path / runs)
    assert result.status == "cancelled"
    return result.run_dir


def _folder_bytes(folder):
    """Every entry of a folder: name, kind and bytes (links as their target), to compare before and after."""
    out = {}
    for p in sorted(folder.iterdir()):
        out[p.name] = ("link", os.readlink(p)) if p.is_symlink() else ("file", p.read_bytes(), p.stat().st_mode)
    return out


def _edit_units(run_dir):
    text = (run_dir / "preset.toml").read_text()
    assert "units = 8" in text
    (run_dir / "preset.toml").write_text(text.replace("units = 8", "units = 9", 1))


@pytest.mark.parametrize("spoil, says", [
    (lambda d, other: (d / "checkpoint.npz").write_bytes((d / "checkpoint.npz").read_bytes()[:500]),
     "checkpoint.npz: not a readable checkpoint (BadZipFile"),
    (lambda d, other: (d / "checkpoint.npz").write_bytes(b""), "checkpoint.npz: not a readable checkpoint ("),
    (lambda d, other: (d / "checkpoint.npz").write_bytes((other / "checkpoint.npz").read_bytes()),
     "checkpoint.npz: the checkpoint of another run"),
    (lambda d, other: _edit_units(d), "preset.toml: edited since the checkpoint was written"),
], ids=["truncated", "empty", "another-run", "edited-preset"])
def test_a_bad_checkpoint_or_preset_is_refused_and_the_run_is_untouched(tmp_path, blobs_csv, spoil, says):
    run_dir = _cancelled(tmp_path, blobs_csv)
    other = _cancelled(tmp_path, blobs_csv, runs="other-runs")
    spoil(run_dir, other)
    before = _folder_bytes(run_dir)
    r = runner.invoke(app, ["train", "--resume", str(run_dir), "--epochs", "8"])
    assert r.exit_code == 2, r.output
    assert len(r.output.splitlines()) == 1 and says in r.output and "Traceback" not in r.output, r.output
    assert _folder_bytes(run_dir) == before  # byte-identical: not marked failed, no lock file made, nothing


def test_resume_with_more_epochs_is_read_whole_by_every_reader(tmp_path, blobs_csv):
    """--epochs 8 on a 6-epoch run, resumed from epoch 3 after epochs 1-5 were logged: every reader shows
    8 epochs, each once, with no line skipped; best.* agree with the verdict."""
    from tui_trainer.export import epochs_csv
    from tui_trainer.runlog import LogTail

    run_dir = _cancelled(tmp_path, blobs_csv, at=5)
    ckpt = TrainingState.load(run_dir / "checkpoint.npz")
    assert ckpt.epoch == 5
    ckpt.epoch = 3  # as if the kill came before the checkpoints of epochs 4 and 5 were written
    (run_dir / "checkpoint.npz").write_bytes(ckpt.to_bytes())
    r = runner.invoke(app, ["train", "--resume", str(run_dir), "--epochs", "8"])
    assert r.exit_code == 0, r.output
    assert "skipped" not in r.output
    run = load_run(run_dir)
    assert run.warnings == []
    logged = [e.epoch for e in run.events if isinstance(e, EpochEnded) and not e.partial]
    assert logged == [1, 2, 3, 4, 5, 4, 5, 6, 7, 8]  # 4 and 5 twice in the file: the first are superseded
    rows = epochs_csv(run).splitlines()[1:]
    assert [int(row.split(",")[0]) for row in rows] == [1, 2, 3, 4, 5, 6, 7, 8]
    tail = LogTail(run_dir / "events.jsonl")  # what `watch` reads
    tail.read()
    assert tail.problems == []
    lines = runner.invoke(app, ["runs", "list", "--runs-dir", str(tmp_path / "runs")]).output.splitlines()
    assert lines[1].split()[:3] == [run_dir.name, "completed", "8"], lines
    r = runner.invoke(app, ["export", str(run_dir), "--csv", str(tmp_path / "out.csv")])
    assert r.exit_code == 0 and "skipped" not in r.output, r.output
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 9
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["epochs_planned"] == 8 and summary["epochs_run"] == 8
    assert best_epoch_kept(run_dir) == summary["best_epoch"]
    r = runner.invoke(app, ["results", str(run_dir)])
    assert r.exit_code == 0 and "skipped" not in r.output, r.output


def test_a_copied_run_folder_resumes_where_it_is_now(tmp_path, blobs_csv):
    import shutil

    run_dir = _cancelled(tmp_path, blobs_csv)
    copy = tmp_path / "elsewhere" / "copied-run"
    shutil.copytree(run_dir, copy)
    original = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    r = runner.invoke(app, ["train", "--resume", str(copy), "--epochs", "4"])
    assert r.exit_code == 0, r.output
    assert f"recording to {copy}" in r.output and f"Run saved in {copy}" in r.output
    assert str(run_dir) not in r.output
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == original  # the original is left alone
