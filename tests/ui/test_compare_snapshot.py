"""SVG snapshot of the compare screen: a relu run next to a deep sigmoid run, both recorded.

Update after an intended change with:
python -m pytest tests/ui/test_compare_snapshot.py --snapshot-update
"""

from __future__ import annotations

import pytest

from tui_trainer.compare import load_runs
from tui_trainer.ui.compare_app import CompareApp

from ..unit.test_compare import make_run_dir


@pytest.mark.parametrize("size", [(110, 34), (80, 24)], ids=["110x34", "80x24"])
def test_compare_relu_and_sigmoid(snap_compare, tmp_path, size):
    # Fixed run ids, and nothing on screen that depends on the clock or on tmp_path.
    root = tmp_path / "runs"
    relu = make_run_dir(root, "20260101-000000-relu", "early_stopped")
    sigmoid = make_run_dir(root, "20260101-000100-sigmoid", "sigmoid_x8")
    app = CompareApp(load_runs([relu, sigmoid]))
    assert snap_compare(app, terminal_size=size)
