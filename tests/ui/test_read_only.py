"""The app with ``--read-only`` (what ``serve --read-only`` starts per tab): the runs, and nothing that trains or writes."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path

from textual.widgets import DataTable

from tui_trainer import presets
from tui_trainer.ui.app import TrainerApp
from tui_trainer.ui.screens.compare import CompareScreen
from tui_trainer.ui.screens.results import ResultsScreen
from tui_trainer.ui.screens.runs import RunsScreen

from ..unit.test_compare import make_run_dir
from .conftest import RECORDINGS

RELU, SIGMOID, DIGITS = "20260101-000000-relu", "20260101-000100-sigmoid", "20260101-000200-digits"


def tree(root: Path) -> dict[str, tuple]:
    """Every file and folder under ``root``: its kind, size, modification time and a hash of its bytes."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
        out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return out


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


def footer_keys(app) -> set[str]:
    return {b.binding.action for b in app.active_bindings.values() if b.binding.show and b.enabled}


def test_read_only_opens_on_the_runs_and_refuses_to_train_edit_or_write(tmp_path):
    runs = tmp_path / "runs"
    make_run_dir(runs, RELU, "early_stopped")
    make_run_dir(runs, SIGMOID, "sigmoid_x8")
    shutil.copytree(RECORDINGS / "digits_results", runs / DIGITS)  # a run with saved results
    before = tree(tmp_path)

    async def main():
        digits, path = presets.load("digits")
        app = TrainerApp(digits, path, runs, read_only=True)
        async with app.run_test(size=(110, 34)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()  # the runs screen reads its folder in a thread
            await pilot.pause()
            home = app.screen
            assert isinstance(home, RunsScreen) and app.screen_stack == [home]  # the runs are home
            assert [i.id for i in home.infos] == [DIGITS, SIGMOID, RELU]
            assert app.builder is None and "read-only" in app.sub_title
            assert {"train", "show_builder"}.isdisjoint(footer_keys(app))  # not offered

            # t (train), b (builder), o (open a preset), ctrl+s (save): each refused, in words.
            for key in ("t", "b", "o", "ctrl+s"):
                await pilot.press(key)
                await pilot.pause()
                assert app.screen is home, key
                assert "read-only" in notes(app)[-1], (key, notes(app))
            assert len(notes(app)) == 4
            assert "Training is off" in notes(app)[0]
            assert not app.training and not [w for w in app.workers if w.group in ("training", "lesson")]
            # nor through the command palette, or by calling the actions
            titles = {c.title for c in app.get_system_commands(app.screen)}
            assert {"Runs", "Show monitor"} <= titles
            assert titles.isdisjoint({"Train", "Show builder", "Lessons", "Screenshot"})
            app.action_train()
            app.action_show_lessons()
            await pilot.pause()
            assert app.screen is home and not app.training

            # enter opens the run under the cursor in the monitor, over the runs; r goes back to them.
            await pilot.press("enter")
            await pilot.pause(0.3)
            assert app.screen is app.monitor and app.screen_stack == [home, app.monitor]
            assert app.monitor.run_dir == runs / DIGITS
            await pilot.press("r")
            await pilot.pause()
            assert app.screen is home and app.screen_stack == [home]
            await pilot.press("escape")  # nothing under the runs to go back to: it stays
            await pilot.pause()
            assert app.screen is home

            # v: the saved results; m: back to the monitor from there.
            await pilot.press("v")
            await pilot.pause()
            assert isinstance(app.screen, ResultsScreen)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.screen.results is not None and app.screen.results.n_test > 0
            await pilot.press("m")
            await pilot.pause()
            assert app.screen_stack == [home, app.monitor]
            await pilot.press("r")
            await pilot.pause()

            # mark two runs and compare them
            table = home.query_one("#runs-table", DataTable)
            table.move_cursor(row=1)
            await pilot.press("space", "space", "c")
            await pilot.pause()
            assert isinstance(app.screen, CompareScreen)
            assert [r.id for r in app.screen.runs] == [SIGMOID, RELU]
            assert [r.label for r in app.screen.runs] == ["64 sigmoid x8", "128 relu"]  # what differs
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is home

    asyncio.run(main())
    assert tree(tmp_path) == before  # nothing written, in the runs or beside them


def test_the_builder_app_is_unchanged_without_the_flag(tmp_path):
    """The hidden refusals stand in only when read-only: t, b and ctrl+s still do their work."""
    async def main():
        digits, path = presets.load("digits")
        app = TrainerApp(digits, path, tmp_path / "runs")
        async with app.run_test(size=(110, 34)) as pilot:
            await pilot.pause()
            assert app.screen is app.builder
            assert "train" in footer_keys(app)
            await pilot.press("r")
            await pilot.pause()
            assert isinstance(app.screen, RunsScreen)
            await pilot.press("b")
            await pilot.pause()
            assert app.screen is app.builder
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert type(app.screen).__name__ == "SavePresetScreen"  # the save dialog, not a refusal
            assert not any("read-only" in n for n in notes(app))

    asyncio.run(main())
