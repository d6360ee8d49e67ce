"""Replay and watch: the monitor fed from a run log, through the live path."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tui_trainer.runlog import load_run
from tui_trainer.ui.viewer import ReplayApp, WatchApp
from tui_trainer.ui.widgets.charts import EpochChart
from tui_trainer.ui.widgets.status import EarlyStopBanner

from .conftest import RECORDINGS, charts_shown, recorded

VERDICTS = {
    "early_stopped": "Early stopping at epoch 33: val_loss did not improve for 5 epochs; weights restored from epoch 28",
    "completed": "All 6 epochs ran without early stopping; weights restored from epoch 6",
    "no_restore": "Early stopping at epoch 33: val_loss did not improve for 5 epochs; weights not restored",
    "cancelled": "Cancelled by the user at epoch 9; Keras still restored the weights of epoch 8",
}


def banner(app) -> str:
    return str(app.screen.query_one(EarlyStopBanner).render())


def title(app) -> str:
    return str(app.screen.query_one("#run-title").render())


async def until(pilot, predicate, timeout=30.0):
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        await pilot.pause(0.05)


@pytest.mark.parametrize("name", list(VERDICTS))
def test_replay_shows_the_live_verdict(name):
    async def main():
        app = ReplayApp(Path("run"), recorded(name), speed=0)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.3)
            assert banner(app).startswith(VERDICTS[name])
            await charts_shown(app, pilot)  # they come after the verdict
            assert app.screen.query_one(EpochChart).plotted["val_loss"] == len(app.monitor.state.epochs)
    asyncio.run(main())


def test_replay_animates_pauses_steps_and_restarts():
    async def main():
        app = ReplayApp(Path("run"), recorded("early_stopped"), speed=20)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: len(app.monitor.state.epochs) >= 3)
            await pilot.press("space")
            await pilot.pause(0.2)
            paused_at = len(app.monitor.state.epochs)
            await pilot.pause(0.4)
            assert len(app.monitor.state.epochs) == paused_at and "paused" in title(app)
            await pilot.press("n")
            await until(pilot, lambda: len(app.monitor.state.epochs) == paused_at + 1)
            await pilot.pause(0.3)
            assert len(app.monitor.state.epochs) == paused_at + 1  # one epoch, then paused again
            await pilot.press("r")
            await pilot.press("space")
            await until(pilot, lambda: app.monitor.state.finished is not None)
            await pilot.pause(0.2)
            assert len(app.monitor.state.epochs) == 33 and banner(app).startswith(VERDICTS["early_stopped"])
            assert "replay finished" in title(app)
    asyncio.run(main())


def test_watch_follows_a_file_being_written_then_finishes(tmp_path):
    run_dir = tmp_path / "r1"
    run_dir.mkdir()
    data = (RECORDINGS / "early_stopped.jsonl").read_bytes()
    stop = threading.Event()

    def writer():
        # append in uneven pieces, cutting lines mid-way, as a writer being flushed would
        with open(run_dir / "events.jsonl", "ab") as fh:
            for i in range(0, len(data), 997):
                if stop.is_set():
                    return
                fh.write(data[i:i + 997])
                fh.flush()
                time.sleep(0.01)

    async def main():
        app = WatchApp(run_dir, poll_s=0.05)
        async with app.run_test(size=(100, 30)) as pilot:
            t = threading.Thread(target=writer)
            t.start()
            try:
                await until(pilot, lambda: 0 < len(app.monitor.state.epochs) < 33)  # seen mid-run
                await until(pilot, lambda: app.monitor.state.finished is not None)
            finally:
                stop.set()
                t.join()
            await pilot.pause(0.3)
            assert len(app.monitor.state.epochs) == 33
            assert banner(app).startswith(VERDICTS["early_stopped"])
            assert "finished: early_stopped" in title(app)
            assert app.problems == []  # cut lines were waited for, not reported
    asyncio.run(main())


def _run_of_a_dead_writer(tmp_path, lines):
    """``tmp_path/r1`` holding the early-stopped recording's first 40 lines, written by a process now gone."""
    run_dir = tmp_path / "r1"
    run_dir.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    started = json.loads(lines[0])
    started.update(host=socket.gethostname(), pid=int(dead.stdout))
    (run_dir / "events.jsonl").write_text(json.dumps(started) + "\n" + "".join(lines[1:40]))
    return run_dir


def test_watch_says_when_the_writer_died(tmp_path):
    lines = (RECORDINGS / "early_stopped.jsonl").read_text().splitlines(keepends=True)
    run_dir = _run_of_a_dead_writer(tmp_path, lines)

    async def main():
        app = WatchApp(run_dir, poll_s=0.05)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.liveness == "gone")
            await pilot.pause(0.2)
            assert "process gone without finishing" in title(app)
    asyncio.run(main())
    assert load_run(run_dir).summary is None  # watching never writes to the run


def test_replay_path_imports_no_tensorflow():
    code = ("import sys, tui_trainer.ui.viewer, tui_trainer.runs, tui_trainer.export, tui_trainer.compare;"
            "print(' '.join(sorted(sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert "tensorflow" not in loaded and "keras" not in loaded


def test_z_zooms_the_epoch_charts_past_the_first_drop():
    async def main():
        app = ReplayApp(Path("run"), recorded("early_stopped"), speed=0)
        async with app.run_test(size=(110, 34)) as pilot:
            await charts_shown(app, pilot)
            chart = app.screen.query_one("#epoch-chart", EpochChart)
            assert chart.plotted["val_loss"] == 33 and not chart.zoom
            await pilot.press("z")
            await pilot.pause(0.2)
            # the first 8 epochs (33 // 4) leave the scale; the best and stop epochs stay marked
            assert chart.zoom and chart.plotted["val_loss"] == 25
            assert chart.marks == {"stop": 33, "restored": 28}
            await pilot.press("z")
            await pilot.pause(0.2)
            assert chart.plotted["val_loss"] == 33
    asyncio.run(main())


def test_watch_follows_a_run_through_its_resume(tmp_path):
    """A run whose writer died, then resumed by another process: watch goes on with it, to the verdict."""
    import os

    from tui_trainer.runlock import RunLock
    from tui_trainer.runlog import now_iso

    lines = (RECORDINGS / "early_stopped.jsonl").read_text().splitlines(keepends=True)
    run_dir = _run_of_a_dead_writer(tmp_path, lines)
    head = lines[1:40]
    last_epoch = max(json.loads(line)["epoch"] for line in head if json.loads(line)["event"] == "epoch")
    rest = [line for line in lines[40:] if json.loads(line).get("epoch", last_epoch + 1) > last_epoch
            or json.loads(line)["event"] not in ("epoch", "batches")]

    async def main():
        app = WatchApp(run_dir, poll_s=0.05)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.liveness == "gone")
            with RunLock(run_dir):  # `train --resume` takes the lock long before its first line
                await until(pilot, lambda: app.liveness == "resuming")
                resumed = {"event": "run_resumed", "from_epoch": last_epoch, "resumed_at": now_iso(),
                           "host": socket.gethostname(), "pid": os.getpid(), "epochs": 0}
                with open(run_dir / "events.jsonl", "a") as fh:
                    fh.write(json.dumps(resumed) + "\n")
                await until(pilot, lambda: app.liveness == "running")
                with open(run_dir / "events.jsonl", "a") as fh:
                    fh.write("".join(rest))
            await until(pilot, lambda: app.liveness == "finished")
            await pilot.pause(0.2)
            assert len(app.monitor.state.epochs) == 33
            assert "finished: early_stopped" in title(app)
            assert app.problems == []


def _canvas(text: str) -> tuple[list[str], int]:
    """The chart's canvas rows (between its top and bottom axes) and the column where they start."""
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    return lines[top + 1:bottom], lines[top].index("┌") + 1


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_marks_are_legible_without_zoom(size):
    async def main():
        app = ReplayApp(Path("run"), recorded("early_stopped"), speed=0)
        async with app.run_test(size=size) as pilot:
            await charts_shown(app, pilot)
            chart = app.screen.query_one("#epoch-chart", EpochChart)
            assert not chart.zoom and chart.marks == {"stop": 33, "restored": 28}
            text = chart.render().plain
            assert "stop 33" in text and "restored 28" in text
            rows, left = _canvas(text)
            # The first epochs' drop (2.3 -> 0.1) no longer sets the scale: the y ticks stay under 0.1.
            ticks = [float(line.split("┤")[0]) for line in text.splitlines() if "┤" in line]
            assert chart.clipped and max(ticks) <= 0.1
            # Inside the patience window the val_loss rise is drawn over several rows, not squashed flat.
            crosses = [k for k, row in enumerate(rows) if "×" in row[left:]]
            assert crosses, "no × of the epochs that did not improve"
            if size == (120, 40):  # the big chart has a legend naming every symbol on it
                assert chart.legend == ["── loss", "── val_loss", "██ patience 5", "─× not improved", "◆│ restored",
                                        "│ stop"]
                assert all(entry.split(" ", 1)[1] in text for entry in chart.legend)
                assert max(crosses) - min(crosses) >= 1
            # The window's tint is a background: the × and the braille dots of the curve stay in the cells.
            rendered = chart.render()
            tint = tuple(chart.chart_colors["tint"])
            tinted = set()
            for span in rendered.spans:
                bg = getattr(span.style, "bgcolor", None)
                if bg is not None and bg.triplet is not None and tuple(bg.triplet) == tint:
                    tinted.update(range(span.start, span.end))
            plain = rendered.plain
            marks_at = [i for i, ch in enumerate(plain) if ch == "×" and plain[i - 1] != "─"]  # not the legend's
            assert marks_at and all(i in tinted for i in marks_at)

    asyncio.run(main())


def test_accuracy_axis_stays_within_one_with_round_ticks():
    async def main():
        app = ReplayApp(Path("run"), recorded("early_stopped"), speed=0)
        async with app.run_test(size=(120, 40)) as pilot:
            await charts_shown(app, pilot)
            text = app.screen.query_one("#metric-chart", EpochChart).render().plain
            ticks = [line.split("┤")[0].strip() for line in text.splitlines() if "┤" in line]
            values = [float(t) for t in ticks]
            assert max(values) <= 1.0 and len(values) >= 2
            step = round(values[0] - values[1], 6)
            assert all(round(a - b, 6) == step for a, b in zip(values, values[1:]))  # evenly spaced
            assert step * 10 ** 3 == round(step * 10 ** 3) and str(step).rstrip("0")[-1] in "125"  # 0.2, 0.005...

    asyncio.run(main())


def test_the_verdict_toast_hides_no_mark():
    from textual.widgets._toast import Toast

    async def main():
        app = ReplayApp(Path("run"), recorded("early_stopped"), speed=0)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await charts_shown(app, pilot)
            app.notify(app.monitor.state.verdict(), title="Run stopped early", timeout=30)
            await pilot.pause(0.3)
            chart = app.screen.query_one("#epoch-chart", EpochChart)
            (toast,) = app.screen.query(Toast)
            assert toast.region.area > 0
            assert not toast.region.overlaps(chart.region), (toast.region, chart.region)

    asyncio.run(main())
