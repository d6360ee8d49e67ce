"""Events round-trip through JSON; the run log is written, read back, and survives a cut."""

from __future__ import annotations

import json

import pytest

from tui_trainer.events import (
    BatchLosses,
    EarlyStoppingResult,
    EpochEnded,
    RunFailed,
    RunFinished,
    RunStarted,
    from_dict,
    to_dict,
)
from tui_trainer.runlog import RunLogError, RunLogWriter, load_run, new_run_dir, slug
from tui_trainer.spec import loads_preset

PRESET = loads_preset('name = "t"\n[[layers]]\ntype = "dense"\nunits = 3\nactivation = "softmax"')


def sample_events():
    return [
        RunStarted(run_id="r", run_dir="/tmp/r", preset_name="t", preset=PRESET.model_dump(mode="json"), seed=1,
                   device="CPU (2 cores)", dataset="csv", data_source="/x.csv", n_train=90, n_val=10, n_test=20,
                   input_shape=(6,), num_classes=3, layers=({"position": 1, "type": "dense", "params": 21},),
                   params_total=21, epochs=5, batch_size=16, steps_per_epoch=6, monitor="val_loss", patience=5,
                   started_at="2026-01-01T00:00:00", versions={"keras": "3"}),
        BatchLosses(epoch=1, first_step=1, losses=(1.5, 1.25, 1.0), steps_per_epoch=6),
        EpochEnded(epoch=1, metrics={"loss": 1.1, "val_loss": 1.2}, duration_s=0.5, elapsed_s=0.5,
                   best_epoch=1, best_value=1.2, wait=0),
        EarlyStoppingResult(monitor="val_loss", mode="min", patience=5, min_delta=0.0, baseline=None,
                            start_from_epoch=0, restore_best_weights=True, triggered=False, stopped_epoch=None,
                            best_epoch=1, best_value=1.2, restored=True, restored_epoch=1),
        RunFailed(error="boom", epoch=1),
        RunFinished(status="failed", epochs_run=1, test_metrics={}, wall_time_s=1.0, reason="boom"),
    ]


@pytest.mark.parametrize("event", sample_events(), ids=lambda e: e.kind)
def test_event_json_round_trip(event):
    assert from_dict(json.loads(json.dumps(to_dict(event)))) == event


def test_nan_becomes_null_so_the_log_stays_json():
    e = EpochEnded(epoch=2, metrics={"loss": float("nan")}, duration_s=0.1, elapsed_s=0.2)
    text = json.dumps(to_dict(e), allow_nan=False)
    assert from_dict(json.loads(text)).metrics == {"loss": None}


def write_run(tmp_path):
    run_dir = new_run_dir(tmp_path / "runs", "t")
    log = RunLogWriter(run_dir, PRESET)
    for e in sample_events():
        log(e)
    log.close()
    return run_dir


def test_run_log_round_trip_and_summary(tmp_path):
    run_dir = write_run(tmp_path)
    run = load_run(run_dir)
    assert run.events == sample_events()
    assert run.warnings == []
    assert (run_dir / "preset.toml").read_text().startswith('name = "t"')
    s = run.summary
    assert s["status"] == "failed" and s["reason"] == "boom" and s["epochs_run"] == 1
    for key in ("monitor", "triggered", "stopped_epoch", "best_epoch", "best_value", "restored_epoch"):
        assert key in s
    assert (s["best_epoch"], s["restored_epoch"], s["triggered"]) == (1, 1, False)


def test_cut_last_line_is_tolerated(tmp_path):
    run_dir = write_run(tmp_path)
    events = run_dir / "events.jsonl"
    data = events.read_bytes()
    events.write_bytes(data[: len(data) - 25])  # a kill in the middle of the last write
    run = load_run(run_dir)
    assert run.events == sample_events()[:-1]
    assert run.warnings == []


def test_corrupt_middle_line_is_skipped_and_named(tmp_path):
    run_dir = write_run(tmp_path)
    events = run_dir / "events.jsonl"
    lines = events.read_text().splitlines(keepends=True)
    lines[2] = "{not json\n"
    events.write_text("".join(lines))
    run = load_run(run_dir)
    assert len(run.events) == len(sample_events()) - 1
    assert len(run.warnings) == 1 and "line 3" in run.warnings[0]


def test_not_a_run(tmp_path):
    with pytest.raises(RunLogError, match="no such run folder"):
        load_run(tmp_path / "missing")
    with pytest.raises(RunLogError, match="not a run folder"):
        load_run(tmp_path)


@pytest.mark.parametrize("name", ["../../etc", "/abs/path", "..", "a/b\\c", "", "x" * 300, "ünïcode name"])
def test_run_folders_never_escape(tmp_path, name):
    runs = tmp_path / "runs"
    d = new_run_dir(runs, name)
    assert d.parent == runs and d.is_dir()
    assert "/" not in slug(name) and not slug(name).startswith(".")


def test_run_folder_names_are_unique(tmp_path):
    a = new_run_dir(tmp_path, "same")
    b = new_run_dir(tmp_path, "same")
    assert a != b


def test_a_thousand_runs_of_one_preset_within_one_second_each_get_a_folder(tmp_path):
    from datetime import datetime

    now = datetime(2026, 1, 1, 12, 0, 0)
    made = [new_run_dir(tmp_path, "sweep", now=now) for _ in range(1005)]
    assert len(set(made)) == 1005 and all(d.parent == tmp_path and d.is_dir() for d in made)
    assert made[0].name == "20260101-120000-sweep" and made[998].name == "20260101-120000-sweep-999"
    assert made[1000].name.startswith("20260101-120000-sweep-")  # past the numbered names: a random suffix
    assert oct(made[1000].stat().st_mode & 0o777) == oct(made[0].stat().st_mode & 0o777)


def test_runs_list_says_starting_while_a_writer_holds_an_empty_run(tmp_path):
    from typer.testing import CliRunner

    from tui_trainer.cli import app
    from tui_trainer.runlock import RunLock

    run = tmp_path / "20260101-120000-tiny"
    run.mkdir()
    (run / "events.jsonl").write_text("")  # the writer is importing TensorFlow: no line yet

    def status():
        lines = CliRunner().invoke(app, ["runs", "list", "--runs-dir", str(tmp_path)]).output.splitlines()
        return lines[1].split()[1]

    with RunLock(run):
        assert status() == "starting"
    assert status() == "empty"  # nobody writes it: its process died before training began


def test_a_resumed_run_read_back_takes_the_new_epoch_total(tmp_path):
    """A resume with --epochs 8 on a 6-epoch run: epochs 7 and 8 are not 'past the run's epochs'."""
    from tui_trainer.events import RunResumed

    started = RunStarted(run_id="r", run_dir=str(tmp_path), preset_name="p", preset={}, seed=1, device="cpu",
                         dataset="d", data_source="s", n_train=1, n_val=1, n_test=1, input_shape=(2,), num_classes=2,
                         layers=(), params_total=1, epochs=6, batch_size=1, steps_per_epoch=1, monitor=None,
                         patience=None, started_at="2026-01-01T00:00:00")
    events = [started] + [EpochEnded(epoch=i, metrics={"loss": 1.0 / i}, duration_s=0.1, elapsed_s=0.1 * i)
                          for i in range(1, 6)]
    events.append(RunResumed(from_epoch=4, resumed_at="2026-01-01T00:00:00", epochs=8))
    events += [EpochEnded(epoch=i, metrics={"loss": 1.0 / i}, duration_s=0.1, elapsed_s=0.1 * i) for i in range(5, 9)]
    writer = RunLogWriter(tmp_path)
    for event in events:
        writer(event)
    writer.close()
    run = load_run(tmp_path)
    assert run.warnings == []
    assert [e.epoch for e in run.events if isinstance(e, EpochEnded)] == [1, 2, 3, 4, 5, 5, 6, 7, 8]
