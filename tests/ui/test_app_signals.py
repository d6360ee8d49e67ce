"""The app in a real terminal (a pty) survives what ends SSH sessions: SIGTERM and SIGHUP mid-training."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import tiny_preset_toml


def slow_preset(tmp_path: Path, blobs_csv: Path, epochs: int) -> Path:
    text = tiny_preset_toml(blobs_csv, epochs=epochs, patience=100)
    text = text.replace("batch_size = 16", "batch_size = 2").replace("learning_rate = 0.05", "learning_rate = 0.002")
    path = tmp_path / "slow.toml"
    path.write_text(text)
    return path


class Pty:
    """The app running in a pseudo-terminal, as a user's terminal runs it."""

    def __init__(self, args: list[str], cwd: Path):
        self.master, slave = os.openpty()
        env = dict(os.environ, TERM="xterm-256color", COLUMNS="100", LINES="30")
        self.proc = subprocess.Popen([sys.executable, "-m", "tui_trainer", *args], stdin=slave, stdout=slave,
                                     stderr=slave, cwd=cwd, env=env, start_new_session=True)
        os.close(slave)
        self.screen = b""

    def read(self, seconds: float) -> bytes:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                self.screen += chunk
        return self.screen

    def wait_for(self, predicate, timeout: float = 90.0) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < end, "timed out; screen tail: %r" % self.screen[-400:]
            assert self.proc.poll() is None, "the app ended early: %r" % self.screen[-400:]
            self.read(0.3)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def first_epoch_logged(runs: Path) -> bool:
    logs = list(runs.glob("*/events.jsonl"))
    return bool(logs) and b'"event":"epoch"' in logs[0].read_bytes()


@pytest.fixture
def app_on(tmp_path, blobs_csv):
    apps = []

    def start(epochs: int) -> Pty:
        preset = slow_preset(tmp_path, blobs_csv, epochs)
        app = Pty(["ui", str(preset), "--runs-dir", "runs"], tmp_path)
        apps.append(app)
        app.wait_for(lambda: b"Train" in app.screen)  # the builder is up
        os.write(app.master, b"t")
        app.wait_for(lambda: first_epoch_logged(tmp_path / "runs"))
        return app

    yield start
    for app in apps:
        app.close()


def test_sigterm_closes_the_run_as_cancelled_and_restores_the_terminal(app_on, tmp_path):
    app = app_on(epochs=400)
    app.proc.send_signal(signal.SIGTERM)
    app.read(0.5)
    code = app.proc.wait(timeout=120)
    app.read(1.0)
    assert code == 143
    (run_dir,) = (tmp_path / "runs").glob("*-tiny")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "cancelled" and (run_dir / "model.keras").is_file()
    tail = app.screen[-3000:]
    assert b"\x1b[?1049l" in tail  # left the alternate screen
    assert b"\x1b[?25h" in tail  # the cursor is shown again
    assert b"Traceback" not in app.screen


def test_sighup_lets_the_run_train_to_its_end_without_a_screen(app_on, tmp_path):
    app = app_on(epochs=6)
    app.proc.send_signal(signal.SIGHUP)
    os.close(app.master)  # the terminal is gone, as when the SSH connection drops
    app.master = os.open(os.devnull, os.O_RDONLY)  # (for close())
    code = app.proc.wait(timeout=180)
    assert code == 0
    (run_dir,) = (tmp_path / "runs").glob("*-tiny")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs_run"] == 6
    assert (run_dir / "model.keras").is_file()
