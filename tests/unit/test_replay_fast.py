"""The plain `tui-trainer replay RUN` path: no typer, compact batch losses, the same messages."""

from __future__ import annotations

import os
import subprocess
import sys
from array import array
from pathlib import Path

from tui_trainer.events import BatchLosses
from tui_trainer.launch import _plain_replay_args
from tui_trainer.runlog import load_run

RECORDINGS = Path(__file__).parent.parent / "recordings"
ROOT = Path(__file__).resolve().parents[2]


def test_plain_replay_arguments():
    assert _plain_replay_args(["runs/x"]) == (Path("runs/x"), 0.0)
    assert _plain_replay_args(["runs/x", "--speed", "2"]) == (Path("runs/x"), 2.0)
    assert _plain_replay_args(["--speed=0.5", "runs/x"]) == (Path("runs/x"), 0.5)
    for other in ([], ["-h"], ["runs/x", "--help"], ["runs/x", "--speed", "-1"], ["runs/x", "--speed", "fast"],
                  ["a", "b"], ["runs/x", "--speed"]):
        assert _plain_replay_args(other) is None, other  # typer answers these (help, or one error line)


def test_compact_events_hold_the_same_losses(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    (d / "events.jsonl").write_bytes((RECORDINGS / "early_stopped.jsonl").read_bytes() + b'{"event":"batch')
    plain, compact = load_run(d), load_run(d, compact=True)
    assert len(plain.events) == len(compact.events)  # the cut last line is skipped by both
    pairs = [(a, b) for a, b in zip(plain.events, compact.events) if isinstance(a, BatchLosses)]
    assert pairs and all(isinstance(b.losses, array) and tuple(b.losses) == a.losses and a.epoch == b.epoch
                         and a.first_step == b.first_step for a, b in pairs)
    assert all(type(a.losses) is tuple for a, _ in pairs)


def test_replay_errors_are_one_line_without_typer(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    r = subprocess.run([sys.executable, "-m", "tui_trainer", "replay", str(tmp_path / "nope")], capture_output=True,
                       text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and r.stderr.strip() == f"error: {tmp_path / 'nope'}: no such run folder"
    run = tmp_path / "run"
    run.mkdir()
    (run / "events.jsonl").write_bytes((RECORDINGS / "completed.jsonl").read_bytes())
    r = subprocess.run([sys.executable, "-m", "tui_trainer", "replay", str(run)], capture_output=True, text=True,
                       env=env, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and r.stderr.strip() == (
        "error: this command draws in a terminal; for text use `tui-trainer export` or `runs list`")
