"""Benchmark: how long the monitor's ``z`` (zoom) takes, key press to the next painted frame.

Not a test (it measures this machine). Replays the recorded early-stopped run (no training) in a
headless app at 120x40 and 80x24, presses ``z`` a few times and reports the median wall time from
the key press until the screen has refreshed, and the UI-thread CPU of each epoch chart's
``replot()`` and ``render()`` (plotext build + ANSI decoding).

    PYTHONPATH=$PWD python bench/bench_zoom.py
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

from tui_trainer.runlog import iter_events
from tui_trainer.ui.viewer import ReplayApp
from tui_trainer.ui.widgets.charts import EpochChart

RECORDING = Path(__file__).resolve().parents[1] / "tests" / "recordings" / "early_stopped.jsonl"
PRESSES = 6


async def measure(size: tuple[int, int]) -> None:
    app = ReplayApp(Path("run"), list(iter_events(RECORDING)), speed=0)
    async with app.run_test(size=size) as pilot:
        for _ in range(50):  # the charts come after the first frame
            await pilot.pause(0.05)
            if app.screen.query(EpochChart):
                break
        await pilot.pause(0.3)
        charts = list(app.screen.query(EpochChart))
        base = []
        for _ in range(PRESSES):  # a key bound to nothing: what Pilot's press itself costs
            t0 = time.perf_counter()
            await pilot.press("ctrl+underscore")
            await pilot.pause()
            base.append((time.perf_counter() - t0) * 1e3)
        walls, replots, renders = [], [], []
        for _ in range(PRESSES):
            t0 = time.perf_counter()
            await pilot.press("z")
            await pilot.pause()  # the refresh the replot asked for has been painted
            walls.append((time.perf_counter() - t0) * 1e3)
            replots.append(sum(c._replot_s for c in charts) * 1e3)
            renders.append(sum(c._render_s for c in charts) * 1e3)
        print(f"{size[0]}x{size[1]}: z -> painted {statistics.median(walls):7.1f} ms wall (median of {PRESSES}); "
              f"epoch charts replot {statistics.median(replots):6.1f} ms CPU, render {statistics.median(renders):6.1f} ms CPU "
              f"({len(charts)} charts); an unbound key: {statistics.median(base):.1f} ms; "
              f"first z {walls[0]:.1f} ms wall, replot {replots[0]:.1f} + render {renders[0]:.1f} ms CPU")


def main() -> None:
    for size in ((120, 40), (80, 24)):
        asyncio.run(measure(size))


if __name__ == "__main__":
    main()
