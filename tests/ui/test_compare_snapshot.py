"""SVG snapshots of the compare screen: three recorded runs of the digits model that differ only in the
hidden layer's activation (relu, sigmoid, tanh), plain and zoomed (``z``).

Update after an intended change with (then look at the SVGs, e.g. as PNGs through chromium --headless):
python -m pytest tests/ui/test_compare_snapshot.py --snapshot-update
"""

from __future__ import annotations

import pytest

from tui_trainer.compare import load_runs
from tui_trainer.ui.compare_app import CompareApp

from ..unit.test_compare import make_run_dir

ACTIVATIONS = {"relu": "early_stopped", "sigmoid": "act_sigmoid", "tanh": "act_tanh"}


@pytest.mark.parametrize("keys", [(), ("z",)], ids=["plain", "zoomed"])
@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_compare_three_activations(snap_compare, tmp_path, size, keys):
    # Fixed run ids, and nothing on screen that depends on the clock or on tmp_path.
    root = tmp_path / "runs"
    dirs = [make_run_dir(root, f"20260101-00000{i}-{name}", recording)
            for i, (name, recording) in enumerate(ACTIVATIONS.items())]
    app = CompareApp(load_runs(dirs))
    assert snap_compare(app, terminal_size=size, press=keys)
