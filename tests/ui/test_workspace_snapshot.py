"""SVG snapshots of the workspace at 120x40 and 80x24: four recorded runs, two selected and overlaid.

Update after an intended change with:
python -m pytest tests/ui/test_workspace_snapshot.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App

from tui_trainer.ui.screens.runs import RunsScreen

from ..unit.test_compare import make_run_dir


class Host(App):
    def on_mount(self) -> None:
        self.push_screen(RunsScreen(Path("runs")))  # relative: nothing on screen depends on tmp_path


async def select_two(pilot) -> None:
    """Select the sigmoid and relu runs (rows 3 and 4), then put the cursor on the relu run."""
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("down", "down", "space", "space")
    await app.workers.wait_for_complete()
    await pilot.press("up")
    await pilot.pause()
    await pilot.pause()


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_workspace_two_runs_overlaid(snap_compare, tmp_path, monkeypatch, size):
    monkeypatch.chdir(tmp_path)
    make_run_dir(tmp_path / "runs", "20260101-000000-relu", "early_stopped")
    make_run_dir(tmp_path / "runs", "20260101-000100-sigmoid", "sigmoid_x8")
    make_run_dir(tmp_path / "runs", "20260101-000200-completed", "completed")
    make_run_dir(tmp_path / "runs", "20260101-000300-no_restore", "no_restore")
    assert snap_compare(Host(), terminal_size=size, run_before=select_two)
