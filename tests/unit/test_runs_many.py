"""500 run folders: `runs list` reads summary.json and never the events of a finished run."""

from __future__ import annotations

import builtins
import io
import json
import time
from pathlib import Path

from typer.testing import CliRunner

from tui_trainer.cli import app
from tui_trainer.runlog import now_iso
from tui_trainer.runs import find_runs

N = 500


def make_runs(root: Path, n: int = N) -> None:
    """n finished runs (a big events.jsonl each, which must not be read), and one without a summary."""
    big = '{"event":"batches","epoch":1,"first_step":1,"losses":[0.5],"steps_per_epoch":1}\n' * 2000
    for i in range(n):
        d = root / f"20260101-{i:06d}-digits"
        d.mkdir(parents=True)
        (d / "events.jsonl").write_text(big)
        (d / "summary.json").write_text(json.dumps({
            "run_id": d.name, "preset": "digits", "status": "early_stopped" if i % 2 else "completed",
            "epochs_run": 10 + i % 7, "stopped_epoch": 10 + i % 7 if i % 2 else None, "best_epoch": 5,
            "best_value": 0.25, "monitor": "val_loss", "test_metrics": {"accuracy": 0.9}, "started_at": now_iso()}))
    unfinished = root / "20270101-000000-digits"  # killed before its summary: read from its events
    unfinished.mkdir()
    (unfinished / "events.jsonl").write_text("")
    (root / "not-a-run").mkdir()


def test_500_runs_list_from_their_summaries(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    make_runs(root)
    opened: list[str] = []
    real_open = builtins.open
    real_io_open = io.open

    def spy(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    def spy_io(file, *args, **kwargs):
        opened.append(str(file))
        return real_io_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(io, "open", spy_io)
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: spy(self, *a, **k))
    t0 = time.perf_counter()
    infos = find_runs(root)
    took = time.perf_counter() - t0
    monkeypatch.undo()

    events_read = [f for f in opened if f.endswith("events.jsonl")]
    assert events_read == [str(root / "20270101-000000-digits" / "events.jsonl")]  # only the one without a summary
    assert len(infos) == N + 1
    first = infos[0]
    assert (first.id, first.status, first.epochs, first.stopped_epoch, first.best_epoch) == (
        "20260101-000000-digits", "completed", 10, None, 5)
    assert (infos[1].status, infos[1].stopped_epoch, infos[1].test_accuracy) == ("early_stopped", 11, 0.9)
    assert infos[-1].status == "empty"
    assert took < 5  # generous here (a shared machine); bench/run.py holds the 0.3 s figure


def test_runs_list_prints_500_runs(tmp_path):
    root = tmp_path / "runs"
    make_runs(root)
    r = CliRunner().invoke(app, ["runs", "list", "--runs-dir", str(root)])
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert len(lines) == 1 + N + 1
    cells = lines[2].split()  # the columns `runs list` shares with the app's runs screen (runs.RUN_COLUMNS)
    assert cells[:5] == ["20260101-000001-digits", "early_stopped", "11", "11", "5"] and cells[-1] == "digits"


def test_timestamps_carry_their_offset():
    stamp = now_iso()
    assert stamp[-6] in "+-" and stamp[-3] == ":"  # e.g. 2026-01-01T12:00:00+00:00


def test_polling_500_runs_reads_only_the_live_ones(tmp_path, monkeypatch):
    """The workspace's tick: a stat of the folder and of each unfinished run; a read only where a log grew."""
    import dataclasses
    import os
    import socket

    from tui_trainer.events import EpochEnded
    from tui_trainer.runlog import RunLogWriter, iter_events
    from tui_trainer.workspace import Workspace

    root = tmp_path / "runs"
    make_runs(root)
    recorded = list(iter_events(Path(__file__).parent.parent / "recordings" / "early_stopped.jsonl"))
    recorded[0] = dataclasses.replace(recorded[0], host=socket.gethostname(), pid=os.getpid(), started_at=now_iso())
    live = root / "20280101-000000-live"
    live.mkdir()
    writer = RunLogWriter(live)
    epochs = [i for i, e in enumerate(recorded) if isinstance(e, EpochEnded)]
    for event in recorded[:epochs[1] + 1]:
        writer(event)
    ws = Workspace(root)
    infos = ws.load()
    assert infos[0].id == live.name and (infos[0].status, infos[0].epochs) == ("running", 2)

    opened: list[str] = []
    real_open = builtins.open

    def spy(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    assert not ws.poll()  # nothing new: no file read at all
    assert not [f for f in opened if f.endswith(("events.jsonl", "summary.json"))]
    for event in recorded[epochs[1] + 1:epochs[4] + 1]:
        writer(event)
    changes = ws.poll()
    monkeypatch.undo()
    assert [i.id for i in changes.changed] == [live.name] and changes.changed[0].epochs == 5
    assert [f for f in opened if f.endswith(("events.jsonl", "summary.json"))] == [str(live / "events.jsonl")]

    # a run folder made after the first look: listed on the next poll
    new = root / "20290101-000000-new"
    new.mkdir()
    (new / "events.jsonl").write_text("")
    changes = ws.poll()
    assert [i.id for i in changes.added] == [new.name] and changes.added[0].status == "empty"
    writer.close()


def test_a_tensorboard_log_written_after_the_first_look_is_listed(tmp_path):
    from tui_trainer.workspace import Workspace

    from .test_tensorboard import pytorch_log

    root = tmp_path / "runs"
    make_runs(root, 3)
    ws = Workspace(root)
    assert len(ws.load()) == 4
    pytorch_log(root / "torch" / "lr0.1", epochs=12)
    changes = ws.poll()
    assert [(i.id, i.status, i.epochs) for i in changes.added] == [("torch/lr0.1", "tensorboard", 12)]
    assert not ws.poll()  # listed once
