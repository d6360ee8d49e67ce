"""What the workspace follows besides new runs: a finished run taken up again by ``train --resume``, and a
folder that was empty when first seen and later gets a TensorBoard writer's logs. Nothing is pressed."""

from __future__ import annotations

import os
import socket
import threading

import pytest
from textual.widgets import DataTable

from tui_trainer.events import EpochEnded, RunResumed
from tui_trainer.runlock import RunLock
from tui_trainer.runlog import RunLogWriter, iter_events, now_iso
from tui_trainer.ui.screens.compare import CompareChart

from ..unit.test_compare import make_run_dir
from .conftest import RECORDINGS
from .test_workspace import WAIT_S, Host, _fast_poll, cells, epoch_cut, run_app, runs_dir, until  # noqa: F401

CANCELLED = "20260101-000400-cancelled"


def test_a_finished_run_taken_up_again_by_resume_is_followed_without_a_key(runs_dir):
    d = make_run_dir(runs_dir, CANCELLED, "cancelled")  # cancelled in epoch 9 (partial): resumable from 8
    before = list(iter_events(d / "events.jsonl"))
    later = list(iter_events(RECORDINGS / "early_stopped.jsonl"))  # epochs 9.. of a run that goes on to stop
    go, half, finish = threading.Event(), threading.Event(), threading.Event()

    def resume() -> None:  # `train --resume` in another session: the lock, then the same log, appended
        go.wait(WAIT_S)
        lock = RunLock(d).acquire()
        writer = RunLogWriter(d, previous=before)
        writer(RunResumed(from_epoch=8, resumed_at=now_iso(), host=socket.gethostname(), pid=os.getpid()))
        for event in later[epoch_cut(later, 8):epoch_cut(later, 12)]:
            writer(event)
        half.set()
        finish.wait(WAIT_S)
        for event in later[epoch_cut(later, 12):]:
            writer(event)
        writer.close()
        lock.release()

    thread = threading.Thread(target=resume, daemon=True)
    thread.start()

    async def check(app, pilot):
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        assert screen.infos[0].path == d and (cells(table, d)["status"], cells(table, d)["epochs"]) == ("cancelled", "9")
        await pilot.press("space")  # selected while finished: its logged curve
        chart = screen.query_one("#ws-chart", CompareChart)
        await until(pilot, lambda: chart.plotted, "the cancelled run's curve")
        (label,) = chart.plotted
        assert chart.x_range[1] < 12
        go.set()
        await until(pilot, lambda: cells(table, d)["epochs"] == "12", "the resumed run's epoch 12")
        assert cells(table, d)["status"] == "running"
        await until(pilot, lambda: chart.x_range[1] >= 12, "the overlay following the resumed run")
        assert half.wait(WAIT_S)
        finish.set()
        await until(pilot, lambda: cells(table, d)["status"] == "early_stopped", "the resumed run's end")
        assert (cells(table, d)["epochs"], cells(table, d)["stop"]) == ("33", "33")
        assert chart.run_marks[label] == {"best": 28, "stop": 33}

    try:
        run_app(Host(runs_dir), check)
    finally:
        go.set()
        finish.set()
        thread.join(WAIT_S)


def test_a_folder_seen_empty_that_gets_tensorboard_logs_appears(runs_dir):
    from ..unit.test_tensorboard import pytorch_log

    pytest.importorskip("tensorboardX", reason="tensorboardX (PyTorch's SummaryWriter format) not installed")
    (runs_dir / "torch").mkdir()  # a script made its log folder; its SummaryWriter comes later

    async def check(app, pilot):
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        assert table.row_count == 3
        await pilot.pause(0.5)
        assert table.row_count == 3  # an empty folder is no run
        pytorch_log(runs_dir / "torch" / "lr0.1", epochs=12)  # a subfolder: the top folder's mtime says nothing
        await until(pilot, lambda: table.row_count == 4, "the TensorBoard run")
        row = cells(table, runs_dir / "torch" / "lr0.1")
        assert (row["id"], row["status"], row["epochs"]) == ("torch/lr0.1", "tensorboard", "12")

    run_app(Host(runs_dir), check)
