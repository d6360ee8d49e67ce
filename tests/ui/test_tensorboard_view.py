"""A TensorBoard log in the monitor screen: replayed with the what-if early-stopping marks, and
followed live while a writer still appends to it."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path


from tui_trainer.sources import TBSource, load
from tui_trainer.tbwrite import EventWriter
from tui_trainer.ui.viewer import ReplayApp, WatchApp
from tui_trainer.ui.widgets.charts import EpochChart
from tui_trainer.ui.widgets.status import EarlyStopBanner

from .conftest import charts_shown


def val_loss(epoch: int) -> float:
    return 0.2 + (epoch - 9) ** 2 / 100  # its minimum at epoch 9


def write_epochs(folder: Path, epochs, steps: int = 5, pause_s: float = 0.0) -> None:
    """A PyTorch-style log: per-step train/loss, one val/loss at each epoch's last step."""
    with EventWriter(folder, flush_every=1) as w:
        for e in epochs:
            for b in range(steps):
                w.scalar("train/loss", 1 / e, (e - 1) * steps + b)
            w.scalar("val/loss", val_loss(e), e * steps - 1)
            time.sleep(pause_s)


async def until(pilot, predicate, timeout=30.0):
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        await pilot.pause(0.05)


def banner(app) -> str:
    return str(app.screen.query_one(EarlyStopBanner).render())


def test_replay_draws_the_what_if_marks_and_says_it_is_a_what_if(tmp_path):
    write_epochs(tmp_path / "run", range(1, 21))
    loaded = load(tmp_path / "run", patience=5)

    async def main():
        app = ReplayApp(loaded.dir, loaded.events, speed=0)
        async with app.run_test(size=(110, 32)) as pilot:
            await pilot.pause(0.3)
            assert banner(app).startswith("What-if: EarlyStopping (val_loss, patience 5, min_delta 0) would have "
                                          "stopped at epoch 14 and restored epoch 9")
            await charts_shown(app, pilot)
            await until(pilot, lambda: app.screen.query_one(EpochChart).marks.get("stop") == 14)
            assert app.screen.query_one(EpochChart).plotted["val_loss"] == 20  # the whole curve, past the stop
    asyncio.run(main())


def test_watch_follows_a_writer_still_appending(tmp_path):
    folder = tmp_path / "live"
    write_epochs(folder, range(1, 3))  # the writer's first file: two epochs in
    writer = threading.Thread(target=write_epochs, args=(folder, range(3, 13)), kwargs={"pause_s": 0.15})

    async def main():
        app = WatchApp(folder, poll_s=0.05, source=TBSource(folder, patience=5))
        async with app.run_test(size=(110, 32)) as pilot:
            await until(pilot, lambda: len(app.monitor.state.epochs) >= 2)
            writer.start()  # a second event file appears and grows (a restarted writer does that)
            await until(pilot, lambda: len(app.monitor.state.epochs) >= 12)
            state = app.monitor.state
            assert [e.epoch for e in state.epochs] == list(range(1, 13))
            assert state.epochs[-1].best_epoch == 9 and state.epochs[-1].wait == 3
            assert len(state.batch_losses) == 60
            assert "Best so far: epoch 9" in banner(app)
            assert "watching: running" in str(app.screen.query_one("#run-title").render())
    try:
        asyncio.run(main())
    finally:
        writer.join(timeout=10)


def test_the_workspace_lists_and_opens_a_tensorboard_run(tmp_path):
    from tui_trainer import presets
    from tui_trainer.ui.app import TrainerApp

    write_epochs(tmp_path / "runs" / "pytorch" / "run1", range(1, 21))

    async def main():
        digits, path = presets.load("digits")
        app = TrainerApp(digits, path, tmp_path / "runs")
        async with app.run_test(size=(110, 32)) as pilot:
            await pilot.press("r")
            await app.workers.wait_for_complete()  # the list is read in a thread
            await pilot.pause(0.2)
            assert type(app.screen).__name__ == "RunsScreen"
            await pilot.press("enter")
            await until(pilot, lambda: app.screen.id == "monitor")
            await pilot.pause(0.2)
            assert banner(app).startswith("What-if: EarlyStopping (val_loss, patience 5, min_delta 0) would have "
                                          "stopped at epoch 14")
    asyncio.run(main())


def test_plus_and_minus_change_the_what_if_patience_and_move_the_marks(tmp_path):
    write_epochs(tmp_path / "run", range(1, 21))
    loaded = load(tmp_path / "run")

    async def main():
        app = ReplayApp(loaded.dir, loaded.events, what_if=lambda p: TBSource(tmp_path / "run", p).load().events)
        async with app.run_test(size=(110, 32)) as pilot:
            await until(pilot, lambda: "stopped at epoch 14" in banner(app))
            await pilot.press("minus", "minus")
            await until(pilot, lambda: "(val_loss, patience 3, min_delta 0) would have stopped at epoch 12" in banner(app))
            await pilot.press("plus")
            await until(pilot, lambda: "patience 4, min_delta 0) would have stopped at epoch 13" in banner(app))
    asyncio.run(main())
