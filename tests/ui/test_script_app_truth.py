"""The ``run`` app says what happened: its header follows the fits that ran, and nothing offers to train."""

from __future__ import annotations

import asyncio
import textwrap

from textual.widgets import Log

from tui_trainer.scriptrun import ScriptRun
from tui_trainer.ui.script_app import ScriptApp
from tui_trainer.ui.widgets.status import ProgressLine

from .test_script_app import wait_for

TWO_OUTPUTS = textwrap.dedent("""
    import tensorflow as tf
    from tensorflow import keras
    import numpy as np
    x = np.random.rand(64, 4).astype("float32")
    a = keras.Input((4,))
    h = keras.layers.Dense(4, activation="relu")(a)
    model = keras.Model(a, [keras.layers.Dense(1, name="size")(h), keras.layers.Dense(2, activation="softmax", name="kind")(h)])
    model.compile("adam", loss={"size": "mse", "kind": "sparse_categorical_crossentropy"})
    model.fit(x, {"size": x.sum(1), "kind": (x[:, 0] > 0.5).astype("int32")}, epochs=2, verbose=2)
""")


def progress_text(app) -> str:
    return str(app.monitor.query_one(ProgressLine).render())


def test_a_tf_first_two_output_script_is_followed_in_the_header(tmp_path):
    asyncio.run(_two_outputs(tmp_path))


async def _two_outputs(tmp_path):
    script = tmp_path / "two_out.py"
    script.write_text(TWO_OUTPUTS)
    app = ScriptApp(ScriptRun(script, [], tmp_path / "runs"), poll_s=0.1)
    async with app.run_test(size=(110, 36)) as pilot:
        assert "Press t to train" not in progress_text(app)
        await wait_for(pilot, lambda: app.exit_code is not None)
        await pilot.pause(0.3)
        assert app.exit_code == 0
        assert len(app.monitor.state.epochs) == 2 and len(app.script_run.run_dirs) == 1
        assert "before any fit" not in app.monitor.note and "exited with code 0" in app.monitor.note
        assert "Press t to train" not in progress_text(app)
        await pilot.press("q")


def test_a_script_without_fit_says_so_in_the_header(tmp_path):
    asyncio.run(_no_fit(tmp_path))


async def _no_fit(tmp_path):
    script = tmp_path / "prep.py"
    script.write_text("print('only preparing data')\n")
    app = ScriptApp(ScriptRun(script, [], tmp_path / "runs"), poll_s=0.1)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(pilot, lambda: app.exit_code is not None, timeout_s=30)
        await pilot.pause(0.3)
        assert "prep.py ran to the end (exit 0) without a recorded fit: nothing recorded" in app.monitor.note
        output = "\n".join(app.monitor.query_one("#script-output", Log).lines)
        assert "only preparing data" in output and "called no keras Model.fit" in output
        assert "Press t to train" not in progress_text(app)
        assert "recorded no fit" in progress_text(app)
        await pilot.press("q")
    assert app.return_code == 0
