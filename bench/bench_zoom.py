"""Benchmark: how long the monitor's ``z`` (zoom) takes, key press to the next painted frame.

Not a test (it measures this machine). Replays the recorded early-stopped run (no training) in a
headless app at 120x40 and 80x24, presses ``z`` a few times and reports the median wall time from
the key press until the screen has refreshed, and the UI-thread CPU of each epoch chart's
``replot()`` and ``render()`` (plotext build + ANSI decoding).

    PYTHONPATH=$PWD python bench/bench_zoom.py          # a replayed run
    PYTHONPATH=$PWD python bench/bench_zoom.py --live   # and while the digits preset trains
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


async def measure_live(size: tuple[int, int]) -> None:
    """The same while the digits preset trains in the app (the training thread holds the GIL between ops)."""
    import tempfile

    from tui_trainer import presets
    from tui_trainer.ui.app import TrainerApp

    digits, path = presets.load("digits")
    with tempfile.TemporaryDirectory() as tmp:
        app = TrainerApp(digits.with_overrides(epochs=400), path, Path(tmp))
        async with app.run_test(size=size) as pilot:
            await pilot.press("t")
            for _ in range(600):  # until the epoch charts have a few epochs
                await pilot.pause(0.1)
                charts = list(app.screen.query(EpochChart))
                if charts and len(app.monitor.state.epochs) >= 8:
                    break
            walls, cpus, base, inside = [], [], [], []
            screen = app.monitor
            zoom = screen.action_zoom

            def timed_zoom() -> None:  # the action itself: both epoch charts' replot
                t = time.perf_counter()
                zoom()
                inside.append((time.perf_counter() - t) * 1e3)

            screen.action_zoom = timed_zoom
            for key, out in (("ctrl+underscore", base), ("z", walls)) * PRESSES:
                t0, c0 = time.perf_counter(), time.thread_time()
                await pilot.press(key)
                await pilot.pause()
                out.append((time.perf_counter() - t0) * 1e3)
                if key == "z":
                    cpus.append((time.thread_time() - c0) * 1e3)
            app.action_cancel_training() if hasattr(app, "action_cancel_training") else None
        print(f"{size[0]}x{size[1]} while training: z -> painted {statistics.median(walls):7.1f} ms wall, "
              f"UI thread {statistics.median(cpus):6.1f} ms CPU (median of {PRESSES}; max wall {max(walls):.0f} ms); "
              f"the action alone {statistics.median(inside):.1f} ms wall; an unbound key {statistics.median(base):.1f} ms")


def main() -> None:
    import sys

    for size in ((120, 40), (80, 24)):
        asyncio.run(measure(size))
    if "--live" in sys.argv:
        asyncio.run(measure_live((120, 40)))


if __name__ == "__main__":
    main()
