"""The app on a user's own script (``tui-trainer run``): live charts of the newest fit, its output, cancel."""

from __future__ import annotations

import asyncio
import json
import textwrap

from textual.widgets import Log

from tui_trainer.scriptrun import ScriptRun
from tui_trainer.ui.script_app import ConfirmQuit, ScriptApp

SLOW_FIT = textwrap.dedent("""
    print("hello from the script")
    import numpy as np, keras
    x = np.random.rand(2000, 8).astype("float32"); y = np.random.randint(0, 2, 2000)
    m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(x, y, epochs=60, batch_size=8, validation_split=0.1, verbose=2)
    print("never reached")
""")


async def wait_for(pilot, condition, timeout_s: float = 90.0) -> None:
    waited = 0.0
    while not condition():
        assert waited < timeout_s, "timed out"
        await pilot.pause(0.25)
        waited += 0.25


def test_cancel_from_the_app_ends_the_script_and_closes_its_run(tmp_path):
    asyncio.run(_cancel_from_the_app(tmp_path))


async def _cancel_from_the_app(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(SLOW_FIT)
    app = ScriptApp(ScriptRun(script, [], tmp_path / "runs"), poll_s=0.1)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(pilot, lambda: len(app.monitor.state.epochs) >= 1)  # a live epoch on the chart
        state = app.monitor.state
        assert state.started.origin == "script" and state.started.preset_name == "slow"
        output = app.monitor.query_one("#script-output", Log)
        assert any("hello from the script" in line for line in output.lines)

        await pilot.press("q")  # still running: asks first
        assert isinstance(app.screen, ConfirmQuit)
        await pilot.press("n")
        assert app.script_run.running

        await pilot.press("c")
        await wait_for(pilot, lambda: app.exit_code is not None)
        assert app.exit_code == 130
        assert state.status == "cancelled"
        assert "Cancelled by the user at epoch" in state.verdict()
        assert "script exited with code 130" in app.monitor.note
        (run_dir,) = app.script_run.run_dirs
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["status"] == "cancelled"
        assert "never reached" not in (run_dir / "output.log").read_text()
        await pilot.press("q")
    assert app.return_code == 130


def test_a_script_that_fails_before_fit_shows_its_traceback(tmp_path):
    asyncio.run(_fails_before_fit(tmp_path))


async def _fails_before_fit(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("print('starting')\nraise RuntimeError('my own bug')\n")
    app = ScriptApp(ScriptRun(script, [], tmp_path / "runs"), poll_s=0.1)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.exit_code is not None, timeout_s=30)
        output = app.monitor.query_one("#script-output", Log)
        text = "\n".join(output.lines)
        assert "RuntimeError: my own bug" in text and "starting" in text
        assert output.has_class("-large")
        assert "exited with code 1 before any fit" in app.monitor.note
        await pilot.press("q")
    assert app.return_code == 1
