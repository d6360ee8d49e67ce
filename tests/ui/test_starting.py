"""What the app says between `t` and the run's first event, and after a start that fails."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from tui_trainer import engine
from tui_trainer.spec import load_preset_file
from tui_trainer.ui.app import TrainerApp
from tui_trainer.ui.screens.builder import BuilderScreen
from tui_trainer.ui.viewer import ReplayApp, WatchApp
from tui_trainer.ui.widgets.status import ErrorPanel, Line, ProgressLine

from ..conftest import tiny_preset_toml
from .conftest import recorded


def text_of(widget) -> str:
    return str(widget.render())


def monitor_text(monitor) -> str:
    """Every line the monitor shows in words (title, progress, banner, error), one per line."""
    return "\n".join(text_of(w) for w in monitor.query(Line) if w.display)


def toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


async def until(pilot, predicate, timeout=60.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        assert loop.time() < end, "timed out"
        await pilot.pause(0.05)


def test_a_start_says_what_it_does_then_a_failed_start_says_why_and_returns_to_the_builder(tmp_path, monkeypatch):
    p = tmp_path / "p.toml"
    p.write_text(tiny_preset_toml(tmp_path / "gone.csv"))  # a local data set that is not there
    app = TrainerApp(load_preset_file(p), None, tmp_path / "runs")
    # Hold the data loading at its start, so the starting state can be looked at; then the real
    # loader runs and fails on the missing file.
    gate = threading.Event()
    real_load = engine.load_dataset

    def held_load(spec):
        gate.wait(30)
        return real_load(spec)

    monkeypatch.setattr(engine, "load_dataset", held_load)

    async def main():
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("t")
            monitor = app.monitor
            await until(pilot, lambda: app.screen is monitor)
            await pilot.pause(0.3)
            title = text_of(monitor.query_one("#run-title"))
            assert title == "Starting… loading data"
            assert text_of(monitor.query_one(ProgressLine)) == ""  # said once, in the title
            assert "starting" not in monitor_text(monitor).replace("Starting… loading data", "", 1).lower()
            assert "Press t" not in text_of(monitor.query_one(ProgressLine))
            assert app.sub_title.startswith("tiny · starting")

            await pilot.press("t")  # again, while it starts
            assert any(t.startswith("Training is starting (loading data)") for t in toasts(app))
            assert not any("already running" in t for t in toasts(app))

            gate.set()
            await until(pilot, lambda: isinstance(app.screen, BuilderScreen))
            assert app.sub_title == "tiny"  # no longer "· starting"
            await until(pilot, lambda: any("gone.csv" in t for t in toasts(app)))  # the toast says why
            panel = monitor.query_one(ErrorPanel)
            assert "Training did not start" in text_of(panel) and "gone.csv" in text_of(panel)
            assert not text_of(monitor.query_one("#run-title")).startswith("Starting")

    asyncio.run(main())
    gate.set()


def test_the_engine_reports_its_phases_in_order(tmp_path, blobs_csv):
    p = tmp_path / "p.toml"
    p.write_text(tiny_preset_toml(blobs_csv, epochs=1))
    phases: list[str] = []
    engine.train(load_preset_file(p), None, runs_dir=tmp_path / "runs", on_phase=phases.append)
    assert phases == ["loading data", "starting TensorFlow", "building the model", "compiling", "training"]


@pytest.mark.parametrize("kind", ["replay", "watch"])
def test_viewers_never_say_press_t(tmp_path, kind):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "events.jsonl").write_text("")  # nothing yet: the viewer is waiting
    app = ReplayApp(run_dir, []) if kind == "replay" else WatchApp(run_dir)

    async def main():
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.3)
            line = text_of(app.monitor.query_one(ProgressLine))
            assert "Press t" not in line
            assert line == "Waiting for the run's first event."

    asyncio.run(main())


@pytest.mark.parametrize("stops_early", [False, True])
def test_the_end_of_run_toast_says_how_it_ended_in_words(tmp_path, blobs_csv, stops_early):
    text = tiny_preset_toml(blobs_csv, epochs=4, patience=1)
    if stops_early:  # nothing after epoch 1 counts as better: early stopping fires at epoch 2
        text = text.replace("patience = 1", "patience = 1\nmin_delta = 100.0")
    p = tmp_path / "p.toml"
    p.write_text(text)
    app = TrainerApp(load_preset_file(p), None, tmp_path / "runs")

    async def main():
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("t")
            await app.workers.wait_for_complete()
            await until(pilot, lambda: any(n.title.startswith("Run ") for n in app._notifications))
            titles = [n.title for n in app._notifications if n.title.startswith("Run ")]
            # In words, not the run log's status word ("Run early_stopped").
            assert titles == ["Run stopped early" if stops_early else "Run completed"]
            assert app.last_result.status == ("early_stopped" if stops_early else "completed")

    asyncio.run(main())
