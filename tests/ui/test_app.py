"""The app as a learner uses it: press t, watch, cancel, quit; recorded runs drawn truthfully."""

from __future__ import annotations

import asyncio
import json

import pytest

from tui_trainer import presets
from tui_trainer.spec import load_preset_file
from tui_trainer.ui.app import TrainerApp
from tui_trainer.ui.messages import TrainingEvent
from tui_trainer.ui.widgets.charts import EpochChart
from tui_trainer.ui.widgets.status import EarlyStopBanner, ErrorPanel, ProgressLine

from ..conftest import tiny_preset_toml
from .conftest import recorded


def text_of(widget) -> str:
    return str(widget.render())


def feed(app, events):
    for e in events:
        app.post_message(TrainingEvent(e, app._run_token))


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize("name,start", [
    ("early_stopped", "Early stopping at epoch 33: val_loss did not improve for 5 epochs; weights restored from epoch 28"),
    ("completed", "All 6 epochs ran without early stopping; weights restored from epoch 6"),
    ("no_restore", "Early stopping at epoch 33: val_loss did not improve for 5 epochs; weights not restored"),
    ("cancelled", "Cancelled by the user at epoch 9; Keras still restored the weights of epoch 8"),
    ("failed", "Training failed: loss became NaN at batch 1 of epoch 1"),
])
def test_recorded_runs_show_the_same_verdict_as_the_cli(name, start):
    async def main():
        digits, path = presets.load("digits")
        app = TrainerApp(digits, path)
        async with app.run_test(size=(100, 30)) as pilot:
            app.action_show_monitor()  # m is hidden until there is a run to show
            await pilot.pause()
            feed(app, recorded(name))
            banner = app.screen.query_one(EarlyStopBanner)
            for _ in range(100):  # the next redraw tick draws it; under a loaded full run that can take a while
                if text_of(banner).startswith(start):
                    break
                await pilot.pause(0.1)
            assert text_of(banner).startswith(start)
            if name == "failed":
                assert app.screen.query_one(ErrorPanel).display
                assert "loss became NaN" in text_of(app.screen.query_one(ErrorPanel))
    run(main())


def test_press_t_trains_live_and_records_the_run(tmp_path, blobs_csv):
    async def main():
        app = _app(tmp_path, tiny_preset_toml(blobs_csv, epochs=4))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("t")
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            assert app.screen.id == "monitor"
            assert text_of(app.screen.query_one(EarlyStopBanner)).startswith("All 4 epochs ran without early stopping")
            assert "Epoch 4/4" in text_of(app.screen.query_one(ProgressLine))
            (run_dir,) = (tmp_path / "runs").iterdir()
            assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"
            assert app.last_result.run_dir == run_dir
            chart = app.screen.query_one(EpochChart)
            assert chart.plotted == {"loss": 4, "val_loss": 4}  # one point per finished epoch
    run(main())


def test_live_early_stopping_marks_agree_with_the_run_log(tmp_path, blobs_csv):
    async def main():
        app = _app(tmp_path, tiny_preset_toml(blobs_csv, epochs=60, patience=2).replace("learning_rate = 0.05",
                                                                                       "learning_rate = 0.2"))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("t")
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            (run_dir,) = (tmp_path / "runs").iterdir()
            summary = json.loads((run_dir / "summary.json").read_text())
            banner = text_of(app.screen.query_one(EarlyStopBanner))
            chart = app.screen.query_one(EpochChart)
            assert chart.plotted["val_loss"] == summary["epochs_run"]
            assert f"weights restored from epoch {summary['restored_epoch']}" in banner
            assert chart.marks.get("restored") == summary["restored_epoch"]
            if summary["triggered"]:
                assert banner.startswith(f"Early stopping at epoch {summary['stopped_epoch']}:")
                assert chart.marks["stop"] == summary["stopped_epoch"]
            else:
                assert "stop" not in chart.marks
    run(main())


def test_c_cancels_and_the_app_stays_open(tmp_path, blobs_csv):
    async def main():
        app = _app(tmp_path, tiny_preset_toml(blobs_csv, epochs=2000, patience=2000))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("t")
            await _until(pilot, lambda: len(app.monitor.state.epochs) >= 2)
            await pilot.press("c")
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            assert app.is_running
            assert text_of(app.screen.query_one(EarlyStopBanner)).startswith("Cancelled by the user at epoch")
            (run_dir,) = (tmp_path / "runs").iterdir()
            assert json.loads((run_dir / "summary.json").read_text())["status"] == "cancelled"
    run(main())


def test_q_mid_training_cancels_then_quits(tmp_path, blobs_csv):
    async def main():
        app = _app(tmp_path, tiny_preset_toml(blobs_csv, epochs=2000, patience=2000))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("t")
            await _until(pilot, lambda: len(app.monitor.state.epochs) >= 1)
            await pilot.press("q")
            await pilot.pause(0.5)
        (run_dir,) = (tmp_path / "runs").iterdir()
        assert json.loads((run_dir / "summary.json").read_text())["status"] == "cancelled"
    run(main())


def test_missing_data_shows_the_error_and_the_app_survives(tmp_path, blobs_csv):
    async def main():
        app = _app(tmp_path, tiny_preset_toml(tmp_path / "gone.csv"))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("t")
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            panel = app.monitor.query_one(ErrorPanel)  # the app is back on the builder; the monitor keeps it
            assert panel.display and "Data set 'csv'" in text_of(panel) and "gone.csv" in text_of(panel)
            assert app.is_running
        assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())
    run(main())


def _app(tmp_path, preset_text):
    """The app on a preset written from ``preset_text``, recording into ``tmp_path/runs``."""
    p = tmp_path / "p.toml"
    p.write_text(preset_text)
    return TrainerApp(load_preset_file(p), None, tmp_path / "runs")


async def _until(pilot, predicate, timeout=60.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("timed out waiting")
        await pilot.pause(0.05)


def test_runs_screen_opens_a_recorded_run_in_the_monitor(tmp_path):
    import shutil

    from .conftest import RECORDINGS

    runs = tmp_path / "runs"
    for name in ("early_stopped", "completed"):
        (runs / f"20260101-00000{len(name) % 10}-{name}").mkdir(parents=True)
    for d, name in zip(sorted(runs.iterdir()), ("completed", "early_stopped")):
        shutil.copy(RECORDINGS / f"{name}.jsonl", d / "events.jsonl")

    async def main():
        digits, path = presets.load("digits")
        app = TrainerApp(digits, path, runs)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("r")
            await app.workers.wait_for_complete()  # the list is read in a thread
            await pilot.pause(0.2)
            assert type(app.screen).__name__ == "RunsScreen"
            await pilot.press("enter")  # newest first: the early_stopped run
            await pilot.pause(0.3)
            assert app.screen.id == "monitor"
            assert text_of(app.screen.query_one(EarlyStopBanner)).startswith("Early stopping at epoch 33")
            assert "recorded run" in str(app.screen.query_one("#run-title").render())
    run(main())


def test_quit_right_after_a_run_finishes(tmp_path, blobs_csv):
    # The redraw timer may tick while the screens are torn down; quitting must stay clean.
    async def main():
        app = _app(tmp_path, tiny_preset_toml(blobs_csv, epochs=2))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("t")
            await app.workers.wait_for_complete()
            await pilot.press("q")
        assert app.return_code in (0, None)
    run(main())


def test_the_palette_offers_cancel_training_only_while_training():
    """Nothing training: no "Cancel training" in the palette; a lesson's runs training: there it is."""
    import threading

    async def main():
        digits, _ = presets.load("digits")
        app = TrainerApp(digits, None)
        async with app.run_test(size=(100, 30)) as pilot:
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert "Train" in titles and "Cancel training" not in titles
            release = threading.Event()
            # Training as the app tracks it (a thread worker of the lesson group), without TensorFlow.
            worker = app.run_worker(release.wait, thread=True, group="lesson")
            await pilot.pause(0.1)
            assert "Cancel training" in [c.title for c in app.get_system_commands(app.screen)]
            release.set()
            await worker.wait()
            await pilot.pause()
            assert "Cancel training" not in [c.title for c in app.get_system_commands(app.screen)]
    run(main())
