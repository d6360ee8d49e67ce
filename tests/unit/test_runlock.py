"""One writer per run folder: the lock train, --resume and the Monitor hold; a second writer exits 2 at once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from typer.testing import CliRunner

from tui_trainer.cli import app
from tui_trainer.engine import train
from tui_trainer.events import EpochEnded, RunResumed
from tui_trainer.runlock import LOCK, RunLock, RunLocked, held
from tui_trainer.runlog import load_run
from tui_trainer.runstate import RunState
from tui_trainer.spec import loads_preset

from ..conftest import tiny_preset_toml

runner = CliRunner()


def cancelled_run(tmp_path, blobs_csv, *, at: int = 2, epochs: int = 6, batch_size: int = 16):
    """A run cancelled after epoch ``at`` of ``epochs``: resumable, with its checkpoint."""
    text = tiny_preset_toml(blobs_csv, epochs=epochs, patience=50).replace(
        "batch_size = 16", f"batch_size = {batch_size}")
    cancel = threading.Event()

    def sink(event):
        if isinstance(event, EpochEnded) and event.epoch >= at:
            cancel.set()

    result = train(loads_preset(text), sink, cancel, runs_dir=tmp_path / "runs")
    assert result.status == "cancelled"
    return result.run_dir


def test_a_second_lock_on_a_run_is_refused_naming_the_holder(tmp_path):
    first = RunLock(tmp_path).acquire()
    assert held(tmp_path)
    with pytest.raises(RunLocked) as caught:
        RunLock(tmp_path).acquire()
    assert str(caught.value) == f"{tmp_path}: another process (pid {os.getpid()}) is writing this run"
    first.release()
    assert not held(tmp_path)
    with RunLock(tmp_path):  # free again once released
        assert held(tmp_path)


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    code = ("import sys, time; from tui_trainer.runlock import RunLock; RunLock(sys.argv[1]).acquire(); "
            "print('locked', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        assert held(tmp_path)
        with pytest.raises(RunLocked, match=f"pid {proc.pid}"):
            RunLock(tmp_path).acquire()
    finally:
        proc.kill()
        proc.wait()
    assert not held(tmp_path)  # the kernel dropped it with the process
    RunLock(tmp_path).acquire().release()


def test_train_holds_the_lock_for_the_whole_run_and_lets_it_go(tmp_path, blobs_csv, monkeypatch):
    seen = []

    def sink(event):
        if isinstance(event, EpochEnded):
            seen.append(held(event_dir[0]))

    event_dir = []
    real_lock = RunLock.acquire

    def spy(self):
        event_dir.append(self.run_dir)
        return real_lock(self)

    monkeypatch.setattr(RunLock, "acquire", spy)
    result = train(loads_preset(tiny_preset_toml(blobs_csv, epochs=2)), sink, runs_dir=tmp_path / "runs")
    assert event_dir == [result.run_dir] and seen == [True, True]
    assert not held(result.run_dir)


def test_two_concurrent_resumes_one_proceeds_the_other_exits_2_at_once(tmp_path, blobs_csv):
    run_dir = cancelled_run(tmp_path, blobs_csv, at=2, epochs=5, batch_size=4)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    first = subprocess.Popen([sys.executable, "-m", "tui_trainer", "train", "--resume", str(run_dir)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # the first takes the lock before it imports TensorFlow, long before its run_resumed line
        deadline = time.monotonic() + 180
        while (run_dir / LOCK).read_text().strip() != str(first.pid):
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.02)
        second = runner.invoke(app, ["train", "--resume", str(run_dir)])
        out, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
    assert second.exit_code == 2
    assert second.output == f"error: {run_dir}: another process (pid {first.pid}) is writing this run\n"
    assert first.returncode == 0, err
    events = load_run(run_dir).events
    assert sum(isinstance(e, RunResumed) for e in events) == 1
    state = RunState(live=False)
    for event in events:
        state.apply(event)
    assert [e.epoch for e in state.epochs] == [1, 2, 3, 4, 5]  # the log is not doubled
    logged = [e.epoch for e in events if isinstance(e, EpochEnded) and not e.partial]
    assert logged == [1, 2, 3, 4, 5]
