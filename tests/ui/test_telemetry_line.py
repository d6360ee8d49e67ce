"""The monitor's telemetry line: shown from the run log's telemetry events, hidden for runs without them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tui_trainer.events import Telemetry
from tui_trainer.ui.viewer import ReplayApp
from tui_trainer.ui.widgets.status import TelemetryLine

from .conftest import recorded

GPU = {"index": 0, "name": "NVIDIA H200", "util": 87, "mem_used_mb": 12288.0, "mem_total_mb": 143360.0}


def _line(events) -> tuple[bool, str]:
    out = {}

    async def main():
        app = ReplayApp(Path("run"), events, speed=0)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.3)
            line = app.screen.query_one(TelemetryLine)
            out["shown"], out["text"] = line.display, str(line.render())

    asyncio.run(main())
    return out["shown"], out["text"]


def test_replay_shows_the_gpu_line_and_tf_peak():
    events = recorded("completed")
    events = events[:3] + [Telemetry(elapsed_s=1.0, cpu_percent=95.0, rss_mb=800.0, gpus=(GPU,))] + events[3:-1] + [
        Telemetry(elapsed_s=9.0, cpu_percent=90.0, rss_mb=810.0, gpus=(GPU,), tf_peak_mb=(3072.0,)), events[-1]]
    shown, text = _line(events)
    assert shown and text == "GPU0 87% 12.0/140.0 GiB · TF peak 3.0 GiB"


def test_cpu_only_run_shows_process_cpu_and_ram():
    events = recorded("completed")
    shown, text = _line(events[:-1] + [Telemetry(elapsed_s=2.0, cpu_percent=183.0, rss_mb=1239.0), events[-1]])
    assert shown and text == "CPU 183% · RAM 1.2 GiB"


def test_a_run_recorded_without_telemetry_shows_no_line():
    shown, _ = _line(recorded("completed"))
    assert not shown
