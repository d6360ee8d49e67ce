"""Runs as files: list, export, re-run a preset exactly, and bad input; nothing modifies a run."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui_trainer.cli import app
from tui_trainer.events import EpochEnded
from tui_trainer.runlog import iter_events, load_run, write_summary
from tui_trainer.runstate import RunState

RECORDINGS = Path(__file__).parent.parent / "recordings"
runner = CliRunner()


def make_run(runs: Path, name: str, run_id: str, *, summary: bool = True) -> Path:
    """A run folder from a recording, as the engine would have left it."""
    d = runs / run_id
    d.mkdir(parents=True)
    shutil.copy(RECORDINGS / f"{name}.jsonl", d / "events.jsonl")
    if summary:
        state = RunState()
        for e in iter_events(d / "events.jsonl"):
            state.apply(e)
        write_summary(d, state.summary(run_id))
    return d


def fingerprint(folder: Path) -> dict:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir()}


def test_runs_list_shows_the_early_stopping_facts(tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "early_stopped", "20260101-000000-digits")
    make_run(runs, "completed", "20260101-000100-digits")
    r = runner.invoke(app, ["runs", "list", "--runs-dir", str(runs)])
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert lines[0].split() == ["run", "status", "epochs", "stop", "best", "best", "value", "test", "acc", "preset"]
    es = lines[1].split()
    assert es[:5] == ["20260101-000000-digits", "early_stopped", "33", "33", "28"] and es[-1] == "digits"
    done = lines[2].split()
    assert done[:5] == ["20260101-000100-digits", "completed", "6", "—", "6"]
    assert es[6].endswith("%") and float(es[6][:-1]) > 90  # test accuracy, as the app shows it


def test_runs_list_empty_folder(tmp_path):
    r = runner.invoke(app, ["runs", "list", "--runs-dir", str(tmp_path / "none")])
    assert r.exit_code == 0 and "No runs in" in r.output


def test_export_csv_has_one_row_per_epoch(tmp_path):
    d = make_run(tmp_path / "runs", "early_stopped", "r1")
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["export", str(d), "--csv", str(out)])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    epochs = [e for e in iter_events(d / "events.jsonl") if isinstance(e, EpochEnded)]
    assert [int(row["epoch"]) for row in rows] == list(range(1, 34))
    assert list(rows[0])[:5] == ["epoch", "loss", "val_loss", "accuracy", "val_accuracy"]
    assert float(rows[27]["val_loss"]) == epochs[27].metrics["val_loss"]  # full precision
    assert rows[32]["wait"] == "5" and rows[27]["best_epoch"] == "28"


def test_export_json_summary_to_stdout(tmp_path):
    d = make_run(tmp_path / "runs", "early_stopped", "r1")
    r = runner.invoke(app, ["export", str(d), "--json"])
    data = json.loads(r.output)
    assert (data["status"], data["stopped_epoch"], data["best_epoch"], data["restored_epoch"]) == (
        "early_stopped", 33, 28, 28)


def test_killed_run_without_summary_is_still_readable(tmp_path):
    d = make_run(tmp_path / "runs", "early_stopped", "r1", summary=False)
    lines = (d / "events.jsonl").read_text().splitlines(keepends=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    started = json.loads(lines[0])
    started.update(host=socket.gethostname(), pid=int(dead.stdout))  # the writer, since killed
    lines[0] = json.dumps(started) + "\n"
    (d / "events.jsonl").write_text("".join(lines[:40]) + lines[40][:30])  # killed mid-write
    r = runner.invoke(app, ["export", str(d), "--json"])
    data = json.loads(r.output)
    assert data["status"] == "unfinished" and 0 < data["epochs_run"] < 33
    r = runner.invoke(app, ["runs", "list", "--runs-dir", str(tmp_path / "runs")])
    cells = r.output.splitlines()[1].split()
    assert cells[:2] == ["r1", "gone"] and cells[-1] == "digits"


def test_a_silent_run_from_another_host_is_stalled(tmp_path):
    d = make_run(tmp_path / "runs", "early_stopped", "r1", summary=False)
    lines = (d / "events.jsonl").read_text().splitlines(keepends=True)
    (d / "events.jsonl").write_text("".join(lines[:40]))
    os.utime(d / "events.jsonl", (1, 1))
    r = runner.invoke(app, ["runs", "list", "--runs-dir", str(tmp_path / "runs")])
    assert r.output.splitlines()[1].split()[1] == "stalled"


def test_corrupt_middle_line_is_named_and_the_rest_shown(tmp_path):
    d = make_run(tmp_path / "runs", "completed", "r1")
    lines = (d / "events.jsonl").read_text().splitlines(keepends=True)
    lines[3] = '{"event": "epoch", "epo\n'
    (d / "events.jsonl").write_text("".join(lines))
    r = runner.invoke(app, ["export", str(d)])
    assert r.exit_code == 0
    assert "warning:" in r.output and "line 4 skipped" in r.output
    assert r.output.count("\n") >= 6


@pytest.mark.parametrize("args,message", [
    (["export", "{tmp}/nope"], "no such run folder"),
    (["export", "{tmp}"], "not a run folder (no events.jsonl)"),
    (["replay", "{tmp}/nope"], "no such run folder"),
    (["replay", "{tmp}/empty"], "empty: the run never started"),
    (["watch", "{tmp}/nope"], "no such run folder"),
    (["train", "--replay", "{tmp}/nope"], "not a run folder (no preset.toml)"),
    (["compare", "{tmp}/empty"], ""),
])
def test_bad_run_paths_get_one_line_and_exit_2(tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "events.jsonl").write_text("")
    r = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    lines = [l for l in r.output.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_reading_never_modifies_a_run(tmp_path):
    runs = tmp_path / "runs"
    d = make_run(runs, "early_stopped", "r1")
    before = fingerprint(d)
    for args in (["runs", "list", "--runs-dir", str(runs)], ["export", str(d)], ["export", str(d), "--json"]):
        assert runner.invoke(app, args).exit_code == 0
    load_run(d)
    assert fingerprint(d) == before


def test_train_replay_reproduces_the_recorded_losses(tmp_path, tiny_preset_file):
    runs = tmp_path / "runs"
    assert runner.invoke(app, ["train", str(tiny_preset_file), "--runs-dir", str(runs)]).exit_code == 0
    (first,) = runs.iterdir()
    r = runner.invoke(app, ["train", "--replay", str(first), "--runs-dir", str(runs)])
    assert r.exit_code == 0, r.output
    assert f"Re-running the preset of {first.name}" in r.output
    second = next(p for p in runs.iterdir() if p != first)
    losses = lambda d: [(e.metrics["loss"], e.metrics["val_loss"]) for e in load_run(d).events
                        if isinstance(e, EpochEnded)]
    assert losses(second) == losses(first)
    assert json.loads((second / "summary.json").read_text())["replay_of"] == first.name
