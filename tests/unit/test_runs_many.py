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
