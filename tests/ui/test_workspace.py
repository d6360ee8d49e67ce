"""The workspace (the runs screen kept live), driven with Pilot over run folders made from the recordings.

A background thread writes a run with the real run-log writer, as `tui-trainer train` in another SSH
session would; the screen must follow it without a key press.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import DataTable

from tui_trainer import presets
from tui_trainer.events import EpochEnded, RunStarted, to_dict
from tui_trainer.runlog import RunLogWriter, iter_events, now_iso
from tui_trainer.ui.app import TrainerApp
from tui_trainer.ui.screens import runs as runs_screen
from tui_trainer.ui.screens.compare import CompareChart
from tui_trainer.ui.screens.runs import RunsScreen

from ..unit.test_compare import make_run_dir
from .conftest import RECORDINGS

RELU, SIGMOID, DONE = "20260101-000000-relu", "20260101-000100-sigmoid", "20260101-000200-completed"
LIVE = "20260101-000500-live"
WAIT_S = 30  # how long a test waits for the screen to catch up before it fails (a shared, slow machine)


@pytest.fixture(autouse=True)
def _fast_poll(monkeypatch):
    monkeypatch.setattr(runs_screen, "POLL_S", 0.1)


@pytest.fixture
def runs_dir(tmp_path) -> Path:
    root = tmp_path / "runs"
    make_run_dir(root, RELU, "early_stopped")
    make_run_dir(root, SIGMOID, "sigmoid_x8")
    make_run_dir(root, DONE, "completed")
    return root


class Host(App):
    """The workspace pushed over another screen, as the trainer app shows it."""

    def __init__(self, runs_dir: Path) -> None:
        super().__init__()
        self.runs_dir = runs_dir
        self.opened: list[Path] = []

    def on_mount(self) -> None:
        self.push_screen(RunsScreen(self.runs_dir))

    def on_runs_screen_open_run(self, message: RunsScreen.OpenRun) -> None:
        self.opened.append(message.path)


def run_app(app: App, check, size=(120, 40)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            await check(app, pilot)

    asyncio.run(main())


async def until(pilot, what, why: str) -> None:
    """Wait (without pressing anything) until ``what()`` holds; fail naming ``why`` after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not what():
        assert time.monotonic() < deadline, f"the workspace never showed {why}"
        await pilot.pause(0.05)


def cells(table: DataTable, path: Path) -> dict[str, str]:
    row = table.get_row(str(path))
    return {str(col.key.value): str(v) for col, v in zip(table.ordered_columns, row)}


# -- a run written while the workspace is open --------------------------------------------------------


def live_events(recording: str = "early_stopped") -> list:
    """A recording's events as this machine's live run would write them (its host, a live pid, now)."""
    events = list(iter_events(RECORDINGS / f"{recording}.jsonl"))
    started = dataclasses.replace(events[0], host=socket.gethostname(), pid=os.getpid(), started_at=now_iso(),
                                  run_id=LIVE)
    assert isinstance(started, RunStarted)
    return [started] + events[1:]


def epoch_cut(events: list, epoch: int) -> int:
    """The index just past epoch ``epoch``'s EpochEnded."""
    return next(i for i, e in enumerate(events) if isinstance(e, EpochEnded) and e.epoch == epoch) + 1


def test_a_live_run_updates_its_row_and_its_overlay_without_a_key(runs_dir):
    events = live_events()
    d = runs_dir / LIVE
    d.mkdir()
    writer = RunLogWriter(d)
    for event in events[:epoch_cut(events, 2)]:  # two epochs in before the workspace opens
        writer(event)
    go, done, finish = threading.Event(), threading.Event(), threading.Event()

    def write_on() -> None:  # another process's `train`, an epoch every 50 ms
        go.wait(WAIT_S)
        for event in events[epoch_cut(events, 2):epoch_cut(events, 12)]:
            writer(event)
            if isinstance(event, EpochEnded):
                time.sleep(0.05)
        done.set()
        finish.wait(WAIT_S)  # then it finishes: the summary follows
        for event in events[epoch_cut(events, 12):]:
            writer(event)
        writer.close()

    thread = threading.Thread(target=write_on, daemon=True)
    thread.start()

    async def check(app, pilot):
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        assert screen.infos[0].id == LIVE  # newest first
        row = cells(table, d)
        assert (row["status"], row["epochs"]) == ("running", "2")
        await pilot.press("space")  # select it: its curve on the chart
        chart = screen.query_one("#ws-chart", CompareChart)
        await until(pilot, lambda: chart.plotted, "the live run's curve")
        (label,) = chart.plotted
        before = chart.plotted[label]
        go.set()  # the writer goes on; nothing is pressed from here
        await until(pilot, lambda: cells(table, d)["epochs"] == "12", "epoch 12 in the live run's row")
        row = cells(table, d)
        best = next(e for e in reversed(events[:epoch_cut(events, 12)]) if isinstance(e, EpochEnded)).best_epoch
        assert row["status"] == "running" and row["best"] == str(best)
        await until(pilot, lambda: chart.plotted.get(label, 0) > before, "the overlay growing")
        assert chart.x_range[1] >= 12  # the overlay reaches the newest epoch (its first steep drop may be clipped)
        assert done.wait(WAIT_S)
        finish.set()  # the run finishes: its row says how
        await until(pilot, lambda: cells(table, d)["status"] == "early_stopped", "the run's end")
        row = cells(table, d)
        assert (row["epochs"], row["stop"], row["best"]) == ("33", "33", "28")
        assert chart.run_marks[label] == {"best": 28, "stop": 33}  # its own stop and restored marks

    try:
        run_app(Host(runs_dir), check)
    finally:
        go.set()
        finish.set()
        thread.join(WAIT_S)


def test_a_run_folder_made_after_the_workspace_opened_appears(runs_dir):
    async def check(app, pilot):
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        assert table.row_count == 3
        # a `train` makes the folder first and its log a moment later
        new = runs_dir / "20260102-000000-new"
        new.mkdir()
        await pilot.pause(0.3)
        assert table.row_count == 3  # not a run yet
        shutil.copy(RECORDINGS / "no_restore.jsonl", new / "events.jsonl")
        await until(pilot, lambda: table.row_count == 4, "the new run")
        assert screen.infos[0].id == new.name  # on top: newest first
        assert cells(table, new)["epochs"] == "33"  # read from its events (no summary.json)

    run_app(Host(runs_dir), check)


# -- selection, colours, labels ------------------------------------------------------------------------


def tanh_twin(runs_dir: Path, run_id: str) -> Path:
    """The relu recording with its hidden layer's activation changed to tanh: the runs differ by it alone."""
    d = runs_dir / run_id
    d.mkdir()
    events = list(iter_events(RECORDINGS / "early_stopped.jsonl"))
    s = events[0]
    preset = dict(s.preset, layers=[dict(s.preset["layers"][0], activation="tanh")] + s.preset["layers"][1:])
    layers = (dict(s.layers[0], activation="tanh"),) + tuple(s.layers[1:])
    events[0] = dataclasses.replace(s, preset=preset, layers=layers)
    import json

    with open(d / "events.jsonl", "w") as fh:
        for e in events:
            fh.write(json.dumps(to_dict(e)) + "\n")
    return d


def test_colours_follow_the_run_and_labels_say_what_differs(runs_dir):
    tanh = tanh_twin(runs_dir, "20260101-000300-tanh")

    async def check(app, pilot):
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        assert not screen.query("#ws-chart")  # no chart (nor plotext) before a run is selected
        # rows: tanh, completed, sigmoid, relu. Select tanh, then relu (a relu/tanh pair).
        await pilot.press("space")
        table.move_cursor(row=3)
        await pilot.press("space")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.marked == [tanh, runs_dir / RELU]
        chart = screen.query_one("#ws-chart", CompareChart)
        assert sorted(chart.plotted) == ["relu", "tanh"]  # by what differs, not by id
        first = {p: table.get_cell(str(p), "mark").style for p in screen.marked}
        assert len(set(first.values())) == 2
        # a third run: the first two keep their colours
        table.move_cursor(row=2)
        await pilot.press("space")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert {p: table.get_cell(str(p), "mark").style for p in first} == first
        third = table.get_cell(str(runs_dir / SIGMOID), "mark").style
        assert third not in first.values()
        assert len(chart.plotted) == 3
        # unselect the first: the others keep theirs too
        table.move_cursor(row=0)
        await pilot.press("space")
        await pilot.pause()
        assert str(table.get_cell(str(tanh), "mark")) == ""
        assert table.get_cell(str(runs_dir / RELU), "mark").style == first[runs_dir / RELU]
        assert table.get_cell(str(runs_dir / SIGMOID), "mark").style == third

    run_app(Host(runs_dir), check)


def test_the_pane_shows_the_highlighted_runs_summary_and_setup(runs_dir):
    async def check(app, pilot):
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        table.move_cursor(row=2)  # the relu run
        await pilot.pause()
        out = screen.query_one("#ws-pane").text
        assert RELU in out
        for expected in ("early_stopped", "33 of 50", "epoch 28: val_loss 0.03035", "stopped", "epoch 33",
                         "restored", "98.33%", "relu", "learning rate", "0.005"):
            assert expected in out, expected

    run_app(Host(runs_dir), check)


# -- the monitor and back ------------------------------------------------------------------------------


def test_enter_opens_the_monitor_and_escape_returns_with_the_selection_kept(runs_dir):
    async def main():
        digits, path = presets.load("digits")
        app = TrainerApp(digits, path, runs_dir)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("r")
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, RunsScreen)
            await pilot.press("down", "space", "space")  # sigmoid and relu selected; the cursor on relu
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert screen.marked == [runs_dir / SIGMOID, runs_dir / RELU]
            assert screen.selected_path() == runs_dir / RELU
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is app.monitor
            assert app.monitor.state.stopped_epoch == 33  # the relu run, replayed
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen
            assert screen.marked == [runs_dir / SIGMOID, runs_dir / RELU]
            assert screen.selected_path() == runs_dir / RELU
            assert len(screen.query_one("#ws-chart", CompareChart).plotted) == 2

    asyncio.run(main())


def test_a_live_run_opened_from_the_workspace_is_followed_in_the_monitor(runs_dir):
    events = live_events()
    d = runs_dir / LIVE
    d.mkdir()
    writer = RunLogWriter(d)
    for event in events[:epoch_cut(events, 2)]:
        writer(event)

    async def main():
        digits, path = presets.load("digits")
        app = TrainerApp(digits, path, runs_dir)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("r")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.screen.selected_path() == d  # the newest: the live run
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is app.monitor and len(app.monitor.state.epochs) == 2
            for event in events[epoch_cut(events, 2):epoch_cut(events, 6)]:  # the writer goes on
                writer(event)
            await until(pilot, lambda: len(app.monitor.state.epochs) == 6, "the monitor following the run")
            for event in events[epoch_cut(events, 6):]:
                writer(event)
            writer.close()
            await until(pilot, lambda: app.monitor.state.finished is not None, "the run's end in the monitor")
            assert app.monitor.state.stopped_epoch == 33

    asyncio.run(main())
