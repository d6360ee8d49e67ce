"""Never write through a link: a link planted in a run folder, for every name tui-trainer writes there,
is refused with one line and never followed; nothing is written outside the runs folder.

The names come from the code (``runlog.WRITTEN``, which each writer adds its files to), so a file
added later is covered without touching this test.
"""

from __future__ import annotations

import os
import threading

import keras
import numpy as np
import pytest
from typer.testing import CliRunner

from tui_trainer import Monitor, engine, monitor
from tui_trainer.atomic import LinkError, open_append, write_bytes_atomic
from tui_trainer.cli import app
from tui_trainer.engine import train
from tui_trainer.events import EpochEnded
from tui_trainer.runlog import EVENTS, LOCK, PRESET, WRITTEN, RunDirError, RunLogWriter
from tui_trainer.spec import loads_preset

from ..conftest import blobs, tiny_preset_toml

runner = CliRunner()
# what a run can't even begin with: the lock, the preset and the log are refused before training
FIRST = {LOCK, PRESET, EVENTS}


def test_the_written_names_come_from_the_code():
    import tui_trainer.results  # noqa: F401  (its files are registered with the rest)
    import tui_trainer.runlock  # noqa: F401

    assert {"events.jsonl", "checkpoint.npz", "best.keras", "predictions.npz", ".lock", "stderr.log"} <= WRITTEN


def plant(folder, outside, names):
    """A link in ``folder`` for each name, to a file of its own in ``outside``; the targets' bytes."""
    outside.mkdir(exist_ok=True)
    targets = {}
    for name in names:
        target = outside / f"target-{name.lstrip('.')}"
        target.write_bytes(b"not yours\n")
        if (folder / name).exists() or (folder / name).is_symlink():
            (folder / name).unlink()
        (folder / name).symlink_to(target)
        targets[target] = target.read_bytes()
    return targets


def untouched(outside, targets):
    assert {p: p.read_bytes() for p in targets} == targets
    assert sorted(outside.iterdir()) == sorted(targets)  # nothing new out there either


def cancelled_run(tmp_path, blobs_csv):
    cancel = threading.Event()

    def sink(event):
        if isinstance(event, EpochEnded) and event.epoch >= 2:
            cancel.set()

    result = train(loads_preset(tiny_preset_toml(blobs_csv, epochs=6, patience=50)), sink, cancel,
                   runs_dir=tmp_path / "runs")
    assert result.status == "cancelled"
    return result.run_dir


def test_resume_refuses_a_link_in_place_of_any_run_file(tmp_path, blobs_csv):
    run_dir = cancelled_run(tmp_path, blobs_csv)
    saved = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    for i, name in enumerate(sorted(WRITTEN)):
        outside = tmp_path / f"outside-{i}"
        targets = plant(run_dir, outside, [name])
        r = runner.invoke(app, ["train", "--resume", str(run_dir), "--epochs", "8"])
        assert r.exit_code == 2, (name, r.output)
        assert r.output == (f"error: {run_dir / name} is a symbolic link; tui-trainer never writes through one "
                            "(remove it, or put the run's own file there)\n"), name
        untouched(outside, targets)
        (run_dir / name).unlink()
        if name in saved:
            (run_dir / name).write_bytes(saved[name])
    r = runner.invoke(app, ["train", "--resume", str(run_dir), "--epochs", "3"])  # the run itself was kept whole
    assert r.exit_code == 0, r.output


def run_into(folder, monkeypatch, module):
    """Make ``module``'s next run folder ``folder`` (made beforehand, with links planted in it)."""
    monkeypatch.setattr(module, "new_run_dir", lambda *a, **k: folder)


def test_train_writes_nothing_through_links_in_its_run_folder(tmp_path, blobs_csv, monkeypatch):
    folder, outside = tmp_path / "runs" / "planted", tmp_path / "outside"
    folder.mkdir(parents=True)
    targets = plant(folder, outside, sorted(WRITTEN - FIRST))
    run_into(folder, monkeypatch, engine)
    result = train(loads_preset(tiny_preset_toml(blobs_csv, epochs=2)), runs_dir=tmp_path / "runs")
    untouched(outside, targets)
    assert result.status == "failed"  # model.keras could not be written
    assert f"{folder / 'model.keras'} is a symbolic link" in result.summary.reason
    assert all((folder / name).is_symlink() for name in WRITTEN - FIRST)  # refused, not replaced


@pytest.mark.parametrize("name", sorted(FIRST))
def test_a_link_where_the_run_begins_stops_train_with_one_line(tmp_path, tiny_preset_file, monkeypatch, name):
    folder, outside = tmp_path / "runs" / "planted", tmp_path / "outside"
    folder.mkdir(parents=True)
    targets = plant(folder, outside, [name])
    run_into(folder, monkeypatch, engine)
    r = runner.invoke(app, ["train", str(tiny_preset_file), "--runs-dir", str(tmp_path / "runs")])
    assert r.exit_code == 2, r.output
    assert r.output.startswith(f"error: a link is in the place of a run file (refused, not followed) writing "
                               f"{folder / name}") and len(r.output.splitlines()) == 1, r.output
    untouched(outside, targets)


def test_the_monitor_writes_nothing_through_links(tmp_path, monkeypatch, capfd):
    folder, outside = tmp_path / "runs" / "planted", tmp_path / "outside"
    folder.mkdir(parents=True)
    targets = plant(folder, outside, sorted(WRITTEN - FIRST))
    run_into(folder, monkeypatch, monitor)
    x, y = blobs()
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=32, validation_split=0.25, verbose=0,
              callbacks=[Monitor(name="links", runs_dir=tmp_path / "runs")])
    untouched(outside, targets)
    assert "is a symbolic link" in capfd.readouterr().err


@pytest.mark.parametrize("name", sorted(FIRST - {PRESET}))
def test_a_link_where_a_monitor_run_begins_is_one_line_and_fit_goes_on(tmp_path, monkeypatch, capfd, name):
    folder, outside = tmp_path / "runs" / "planted", tmp_path / "outside"
    folder.mkdir(parents=True)
    targets = plant(folder, outside, [name])
    run_into(folder, monkeypatch, monitor)
    x, y = blobs()
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[Monitor(runs_dir=tmp_path / "runs")])
    assert len(history.history["loss"]) == 2
    untouched(outside, targets)
    err = [line for line in capfd.readouterr().err.splitlines() if "tui-trainer" in line]
    assert len(err) == 1 and f"{folder / name} is a symbolic link" in err[0], err


def test_the_writers_refuse_a_link(tmp_path):
    outside = tmp_path / "outside"
    targets = plant(tmp_path, outside, ["a.npz", "b.log", "events.jsonl"])
    with pytest.raises(LinkError, match="is a symbolic link"):
        write_bytes_atomic(tmp_path / "a.npz", b"x", run_file=True)
    with pytest.raises(LinkError, match="is a symbolic link"):
        open_append(tmp_path / "b.log")
    with pytest.raises(LinkError, match="is a symbolic link"):
        RunLogWriter(tmp_path)
    untouched(outside, targets)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


def test_run_files_take_the_umask_mode(tmp_path, blobs_csv):
    old = os.umask(0o022)
    try:
        result = train(loads_preset(tiny_preset_toml(blobs_csv, epochs=2)), runs_dir=tmp_path / "runs")
    finally:
        os.umask(old)
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in result.run_dir.iterdir()}
    assert set(modes.values()) == {"0o644"}, modes
    assert "model.keras" in modes and "checkpoint.npz" in modes and "best.keras" in modes
