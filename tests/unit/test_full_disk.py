"""Full and unwritable disks, and signals before training: one line, the right exit code, no half-written file.

Each write site gets a monkeypatched write raising ENOSPC (tests run as root, where a chmod does
not stop writes; a file where the runs folder should be stands in for a read-only one).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui_trainer import atomic, runlog
from tui_trainer.atomic import write_text_atomic
from tui_trainer.cli import app
from tui_trainer.runlog import iter_events

from ..conftest import disk_full_at

runner = CliRunner()
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _only_run(runs: Path) -> Path:
    (run,) = [p for p in runs.iterdir() if p.is_dir()]
    return run


def _no_temporary_files(folder: Path) -> None:
    assert [p.name for p in folder.rglob("*") if ".tmp" in p.name] == []


def _one_line_error(r, needle: str) -> None:
    assert "Traceback" not in r.output
    assert needle in r.output, r.output


def test_write_text_atomic_keeps_the_old_file_when_the_disk_fills(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    target.write_text("good")

    class Full:
        def __init__(self, path, *args, **kwargs):
            self.fh = open(path, *args, **kwargs)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, text):
            self.fh.write(text[:3])
            raise ENOSPC

    monkeypatch.setattr(atomic, "open", Full, raising=False)
    with pytest.raises(OSError):
        write_text_atomic(target, "new and longer")
    assert target.read_text() == "good"
    _no_temporary_files(tmp_path)


def test_events_log_full_ends_the_run_failed_with_one_line(tmp_path, tiny_preset_file, monkeypatch):
    monkeypatch.setattr(runlog, "open", disk_full_at('"event":"epoch","epoch":2'), raising=False)
    runs = tmp_path / "runs"
    r = runner.invoke(app, ["train", str(tiny_preset_file), "--epochs", "3", "--runs-dir", str(runs)])
    assert r.exit_code == 1
    run = _only_run(runs)
    _one_line_error(r, f"Training failed: no space left on device writing {run / 'events.jsonl'}; "
                       f"the run log is complete up to epoch 1")
    events = list(iter_events(run / "events.jsonl"))  # the cut line is not read as an event
    assert [e.epoch for e in events if e.kind == "epoch"] == [1]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and "no space left on device" in summary["reason"]
    r = runner.invoke(app, ["runs", "list", "--runs-dir", str(runs)])
    assert "failed" in r.output.splitlines()[1]


def test_summary_write_failing_leaves_no_summary_and_exits_1(tmp_path, tiny_preset_file, monkeypatch):
    real = runlog.write_text_atomic

    def full_for_summary(path, text, *a, **k):
        if Path(path).name == "summary.json":
            raise ENOSPC
        return real(path, text, *a, **k)

    monkeypatch.setattr(runlog, "write_text_atomic", full_for_summary)
    runs = tmp_path / "runs"
    r = runner.invoke(app, ["train", str(tiny_preset_file), "--epochs", "2", "--runs-dir", str(runs)])
    run = _only_run(runs)
    assert r.exit_code == 1, r.output
    _one_line_error(r, f"\nerror: no space left on device writing {run / 'summary.json'}; the run log is complete "
                       f"up to epoch 2\n")
    assert r.output.count("error") == 1
    assert not (run / "summary.json").exists()
    _no_temporary_files(run)
    assert (run / "model.keras").is_file()


def test_model_save_failing_leaves_no_model_and_exits_1(tmp_path, tiny_preset_file, monkeypatch):
    keras = pytest.importorskip("keras")

    def half_then_full(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"PK\x03\x04 half a zip")
        raise ENOSPC

    monkeypatch.setattr(keras.Model, "save", half_then_full)
    runs = tmp_path / "runs"
    r = runner.invoke(app, ["train", str(tiny_preset_file), "--epochs", "2", "--runs-dir", str(runs)])
    run = _only_run(runs)
    assert r.exit_code == 1
    _one_line_error(r, f"Training failed: no space left on device writing {run / 'model.keras'}; the run log is "
                       f"complete up to epoch 2")
    assert not (run / "model.keras").exists()
    _no_temporary_files(run)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["epochs_run"] == 2


def test_preset_write_failing_leaves_no_run_folder(tmp_path, tiny_preset_file, monkeypatch):
    def full(path, text, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(runlog, "write_text_atomic", full)
    runs = tmp_path / "runs"
    r = runner.invoke(app, ["train", str(tiny_preset_file), "--runs-dir", str(runs)])
    assert r.exit_code == 2
    assert r.output.startswith("error: no space left on device writing ") and r.output.endswith(
        "preset.toml; nothing was trained\n") and len(r.output.splitlines()) == 1
    assert list(runs.iterdir()) == []


def test_unwritable_runs_dir_fails_before_training(tmp_path, tiny_preset_file, monkeypatch):
    in_the_way = tmp_path / "runs-file"
    in_the_way.write_text("not a folder")
    r = runner.invoke(app, ["train", str(tiny_preset_file), "--runs-dir", str(in_the_way)])
    assert r.exit_code == 2
    assert r.output == (f"error: {in_the_way}: not a folder (a file is in the way); choose another with --runs-dir "
                        f"or $TUI_TRAINER_RUNS\n")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(runlog.tempfile, "mkstemp", read_only)
    runs = tmp_path / "runs"
    runs.mkdir()
    r = runner.invoke(app, ["train", str(tiny_preset_file), "--runs-dir", str(runs)])
    assert r.exit_code == 2
    assert r.output == (f"error: {runs}: can't write run folders there (read-only file system); choose another "
                        f"with --runs-dir or $TUI_TRAINER_RUNS\n")
    assert list(runs.iterdir()) == []

    class ReadOnlyMount:  # a runs folder still to be made, on a file system mounted read-only
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(runlog.os, "statvfs", lambda path: ReadOnlyMount())
    missing = tmp_path / "new" / "runs"
    r = runner.invoke(app, ["train", str(tiny_preset_file), "--runs-dir", str(missing)])
    assert r.exit_code == 2 and "can't write run folders there (read-only file system)" in r.output
    assert not (tmp_path / "new").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_read_only_runs_dir_by_permissions(tmp_path, tiny_preset_file):
    runs = tmp_path / "runs"
    runs.mkdir()
    runs.chmod(0o555)
    try:
        r = runner.invoke(app, ["train", str(tiny_preset_file), "--runs-dir", str(runs)])
        assert r.exit_code == 2 and "can't write run folders there (permission denied)" in r.output
        assert runner.invoke(app, ["runs", "list", "--runs-dir", str(runs)]).exit_code == 0
    finally:
        runs.chmod(0o755)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_before_the_first_batch_cancels_at_once(tmp_path, tiny_preset_file, monkeypatch, sig):
    from tui_trainer import engine

    def slow_load(spec):
        os.kill(os.getpid(), sig)  # arrives while the data "loads"
        time.sleep(30)
        raise AssertionError("the signal did not interrupt loading")

    monkeypatch.setattr(engine, "load_dataset", slow_load)
    runs = tmp_path / "runs"
    t0 = time.monotonic()
    r = runner.invoke(app, ["train", str(tiny_preset_file), "--runs-dir", str(runs)])
    assert time.monotonic() - t0 < 10
    assert r.exit_code == 130
    assert r.output == "Cancelled before training began.\n"
    assert not runs.exists()
    assert signal.getsignal(signal.SIGTERM) is not None


def test_predictions_on_a_full_disk_leave_no_temporary_file(tmp_path, tiny_preset_file, monkeypatch):
    real_open = open

    class FillsUp:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            self.fh.write(data[:10])
            raise ENOSPC

        def __getattr__(self, name):
            return getattr(self.fh, name)

    def fake_open(path, *args, **kwargs):
        fh = real_open(path, *args, **kwargs)
        return FillsUp(fh) if Path(str(path)).name.startswith(".tmp-predictions") else fh

    monkeypatch.setattr(atomic, "open", fake_open, raising=False)
    runs = tmp_path / "runs"
    r = runner.invoke(app, ["train", str(tiny_preset_file), "--epochs", "2", "--runs-dir", str(runs)])
    assert r.exit_code == 0, r.output
    run = _only_run(runs)
    assert "Note: test predictions not saved (OSError: [Errno 28] No space left on device)" in r.output
    assert not (run / "predictions.npz").exists()
    _no_temporary_files(run)
