"""Replay draws a run recorded with a batch stride (a loss per step, each its stride's mean) and one
recorded epochs only (no batch losses at all): epoch charts, batch chart and verdict alike."""

from __future__ import annotations

import asyncio

import pytest

from tui_trainer.engine import train
from tui_trainer.runlog import load_run
from tui_trainer.spec import loads_preset
from tui_trainer.ui.viewer import ReplayApp
from tui_trainer.ui.widgets.charts import BatchChart, EpochChart

from ..conftest import tiny_preset_toml
from .conftest import charts_shown


@pytest.mark.parametrize("stride", [10, 0])
def test_replay_of_a_strided_run(blobs_csv, tmp_path, stride):
    preset = loads_preset(tiny_preset_toml(blobs_csv, extra=f"[logging]\nbatch_stride = {stride}\n"))
    run = load_run(train(preset, runs_dir=tmp_path).run_dir)

    async def main():
        app = ReplayApp(run.dir, run.events, 0)
        async with app.run_test(size=(120, 36)) as pilot:
            await charts_shown(app, pilot)
            await pilot.pause(0.3)
            assert app.monitor.state.epochs_run == 3 and app.monitor.state.status == "completed"
            x, losses = app.screen.query_one(BatchChart).last_series
            if stride:  # the batch chart spans the three epochs, ending where the epoch chart's last point is
                assert losses.size > 0 and x.max() == pytest.approx(3.0)
            else:  # and the chart says why it is empty
                assert losses.size == 0
                assert "epochs only (batch_stride = 0)" in app.screen.query_one(BatchChart).message
            assert app.screen.query_one(EpochChart).last_point_count > 0

    asyncio.run(main())
