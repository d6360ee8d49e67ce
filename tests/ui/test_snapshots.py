"""SVG snapshots of the screens, fed recorded events (never live training).

Update after an intended change with: python -m pytest tests/ui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest

from tui_trainer import presets
from tui_trainer.ui.app import TrainerApp
from tui_trainer.ui.messages import TrainingEvent

from .conftest import recorded


def make_app():
    digits, _ = presets.load("digits")
    return TrainerApp(digits, None)  # source None: the absolute path would differ between machines


def replay(name):
    async def run_before(pilot):
        app = pilot.app
        app.action_show_monitor()  # m is hidden until there is a run to show
        await pilot.pause()
        for e in recorded(name):
            app.post_message(TrainingEvent(e, app._run_token))
        await pilot.pause(0.3)
    return run_before


@pytest.mark.parametrize("name", ["early_stopped", "completed", "no_restore", "cancelled", "failed"])
def test_monitor_after_a_recorded_run(snap_compare, name):
    assert snap_compare(make_app(), terminal_size=(110, 34), run_before=replay(name))


def test_monitor_at_80x24(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=replay("early_stopped"))


def test_builder_at_80x24(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24))


def test_monitor_with_gradient_norms(snap_compare):
    # deep sigmoid: the bars shrink by orders of magnitude toward the input
    assert snap_compare(make_app(), terminal_size=(110, 34), run_before=replay("deep_sigmoid_gradients"))
