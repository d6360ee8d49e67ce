"""The loss charts, fed by recorded runs, checked by what a user would read on them.

Async Textual tests run through ``asyncio.run`` inside plain test functions
(no pytest-asyncio here).
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Awaitable, Callable, Optional

import numpy as np
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical

from tui_trainer.events import BatchLosses, EpochEnded, RunFinished
from tui_trainer.runlog import iter_events
from tui_trainer.runstate import RunState
from tui_trainer.ui.widgets.charts import BatchChart, EpochChart, MetricChart

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
SIZE = (100, 30)


def folded(name: str, limit: Optional[int] = None) -> RunState:
    """The state after the first ``limit`` events (all by default) of a recorded run."""
    state = RunState()
    for event in itertools.islice(iter_events(RECORDINGS / f"{name}.jsonl"), limit):
        state.apply(event)
    return state


class ChartsApp(App):
    def compose(self) -> ComposeResult:
        with Vertical():
            with Horizontal():
                yield EpochChart(id="loss")
                yield MetricChart(id="metric")
            yield BatchChart(id="batches")


def shown(chart) -> str:
    """The chart's text as the terminal shows it (colours dropped)."""
    return chart.render().plain


def run(check: Callable[[ChartsApp, object], Awaitable[None]], size=SIZE) -> None:
    async def main() -> None:
        app = ChartsApp()
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await check(app, pilot)

    asyncio.run(main())


async def feed(app: ChartsApp, pilot, state: RunState) -> tuple[EpochChart, MetricChart, BatchChart]:
    charts = app.query_one("#loss", EpochChart), app.query_one("#metric", MetricChart), app.query_one(
        "#batches", BatchChart
    )
    for chart in charts:
        chart.update_from(state)
    await pilot.pause()
    return charts


def test_early_stopped_run_marks_stop_restored_and_patience():
    async def check(app, pilot):
        loss, metric, batches = await feed(app, pilot, folded("early_stopped"))
        text = shown(loss)
        assert "loss per epoch" in text
        assert "stop 33" in text
        assert "restored 28" in text
        assert "best 28" not in text
        assert "patience 5" in text  # the window: 5 epochs without improvement, in the legend
        assert " loss" in text and "val_loss" in text
        assert loss.marks == {"stop": 33, "restored": 28}
        # Integer epoch ticks along the bottom.
        tick_row = text.splitlines()[-1]
        assert "10" in tick_row and "30" in tick_row and "." not in tick_row

        # The accuracy chart: the run's first metric and its val_ twin, no early-stopping marks
        # (early stopping watched val_loss).
        mtext = shown(metric)
        assert "accuracy per epoch" in mtext and "val_accuracy" in mtext
        assert "stop" not in mtext and "restored" not in mtext

        # The batch chart: never more than two points a column, lined up on epochs.
        width = batches.size.width
        assert 0 < batches.last_point_count <= 2 * width
        x, y = batches.last_series
        assert x[-1] == 33.0  # the last batch of epoch 33 ends at x = 33, where the epoch chart puts 33
        assert x[0] == 1 / folded("early_stopped").steps_per_epoch
        assert "loss per batch" in shown(batches)

    run(check)


def test_completed_run_shows_the_restore_without_a_stop():
    async def check(app, pilot):
        loss, _, _ = await feed(app, pilot, folded("completed"))
        text = shown(loss)
        assert "restored 6" in text  # Keras 3 restores at train end even when it did not fire
        assert "stop" not in text
        assert "patience" not in text  # the best epoch was the last one: no window
        assert loss.marks == {"restored": 6}

    run(check)


def test_run_without_restore_says_best_not_restored():
    async def check(app, pilot):
        loss, _, _ = await feed(app, pilot, folded("no_restore"))
        text = shown(loss)
        assert "best 28" in text
        assert "stop 33" in text
        assert "restored" not in text
        assert loss.marks == {"stop": 33, "best": 28}

    run(check)


def test_cancelled_run_shows_restore_and_the_window_to_the_last_epoch():
    async def check(app, pilot):
        loss, _, _ = await feed(app, pilot, folded("cancelled"))
        text = shown(loss)
        assert "restored 8" in text and "stop" not in text
        assert "patience 1" in text  # epoch 9 (partial) did not improve

    run(check)


def test_running_state_shows_the_best_so_far():
    # Cut the run short: the last epoch that has ended, and no early-stopping result yet.
    n = 0
    for i, event in enumerate(iter_events(RECORDINGS / "early_stopped.jsonl")):
        if isinstance(event, EpochEnded) and event.epoch == 31:
            n = i + 1
            break
    state = folded("early_stopped", n)
    assert state.running and state.early_stopping is None

    async def check(app, pilot):
        loss, _, _ = await feed(app, pilot, state)
        text = shown(loss)
        assert "best so far 28" in text
        assert "stop" not in text and "restored" not in text
        assert "patience 3" in text  # epochs 29..31 have not improved so far

    run(check)


def test_empty_state_says_it_is_waiting():
    async def check(app, pilot):
        loss = app.query_one("#loss", EpochChart)
        batches = app.query_one("#batches", BatchChart)
        # Before any update, and after an empty one.
        assert "waiting for the first epoch" in shown(loss)
        await feed(app, pilot, RunState())
        assert "loss per epoch" in shown(loss)
        assert "waiting for the first epoch" in shown(loss)
        assert "waiting for the first batch" in shown(batches)
        assert batches.last_point_count == 0

    run(check)


def test_failed_run_says_so_instead_of_drawing():
    async def check(app, pilot):
        loss, _, batches = await feed(app, pilot, folded("failed"))
        assert "NaN" in shown(loss)
        assert "the run failed" in shown(batches)

    run(check)


def test_redraws_only_when_the_state_moved():
    state = folded("early_stopped", 10)
    state.live = False  # recorded: drawn at once (a live run is paced, below)

    async def check(app, pilot):
        loss = app.query_one("#loss", EpochChart)
        calls = []
        original = loss.replot
        loss.replot = lambda: (calls.append(1), original())[1]
        loss.update_from(state)
        loss.update_from(state)
        assert len(calls) == 1
        state.apply(EpochEnded(epoch=99, metrics={"loss": 0.1, "val_loss": 0.2}, duration_s=1.0, elapsed_s=1.0))
        loss.update_from(state)
        assert len(calls) == 2

    run(check)


def test_a_live_run_draws_each_epoch_and_paces_only_the_batch_chart():
    state = folded("early_stopped", 10)  # live and running: as the app trains

    async def check(app, pilot):
        loss = app.query_one("#loss", EpochChart)
        batches = app.query_one("#batches", BatchChart)
        loss.update_from(state)
        batches.update_from(state)
        await pilot.pause()  # rendered once: the batch chart knows what a draw costs
        calls = {"loss": [], "batches": []}
        for name, chart in (("loss", loss), ("batches", batches)):
            chart.replot = (lambda c, o: lambda: (c.append(1), o())[1])(calls[name], chart.replot)
        batches._replot_s = 0.005  # a 5 ms draw: paced to 0.5 s at a 1 % budget
        state.apply(EpochEnded(epoch=11, metrics={"loss": 0.1, "val_loss": 0.2}, duration_s=1.0, elapsed_s=1.0))
        state.apply(BatchLosses(epoch=12, first_step=1, losses=(0.5,), steps_per_epoch=state.steps_per_epoch))
        loss.update_from(state)
        batches.update_from(state)
        assert calls == {"loss": [1], "batches": []}  # the epoch at once; the batches wait their turn
        batches._replot_s = 60.0  # however costly a draw, the batch chart waits at most MAX_INTERVAL_S
        assert batches.pace_s() == BatchChart.MAX_INTERVAL_S <= 2
        batches._last_draw -= 2
        batches.update_from(state)
        assert calls["batches"] == [1]
        state.apply(RunFinished(status="completed", epochs_run=12, test_metrics={}, wall_time_s=3.0))
        batches.update_from(state)
        assert calls["batches"] == [1, 1]  # finished: drawn at once

    run(check)


def test_batch_chart_leaves_the_state_free_to_grow():
    # The chart reads the run's arrays without copying them; it must not keep a view that
    # stops RunState.apply from extending them (BufferError).
    state = folded("completed")

    async def check(app, pilot):
        _, _, batches = await feed(app, pilot, state)
        state.apply(BatchLosses(epoch=7, first_step=1, losses=(0.5, 0.4), steps_per_epoch=state.steps_per_epoch))
        batches.update_from(state)
        assert batches.last_series[0].max() > 6.0

    run(check)


def test_a_long_run_is_decimated_to_the_width_and_keeps_its_spike():
    state = folded("completed", 1)  # RunStarted only: 41 steps an epoch
    spe = state.steps_per_epoch
    rng = np.random.default_rng(0)
    losses = np.abs(rng.normal(0.3, 0.05, size=spe * 2000))
    losses[777_77] = 50.0  # one diverging batch
    for epoch in range(1, 2001):
        chunk = losses[(epoch - 1) * spe : epoch * spe]
        state.apply(BatchLosses(epoch=epoch, first_step=1, losses=tuple(chunk.tolist()), steps_per_epoch=spe))

    async def check(app, pilot):
        batches = app.query_one("#batches", BatchChart)
        batches.update_from(state)
        await pilot.pause()
        assert 0 < batches.last_point_count <= 2 * batches.size.width
        x, y = batches.last_series
        assert y.max() == 50.0
        assert np.all(np.diff(x) > 0)
        # Resizing re-decimates to the new width.
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        assert batches.size.width == 60
        assert 0 < batches.last_point_count <= 2 * 60
        assert batches.last_series[1].max() == 50.0

    run(check)


def test_many_epochs_are_cut_to_the_width_too():
    state = folded("completed", 1)
    for epoch in range(1, 1001):
        state.apply(
            EpochEnded(
                epoch=epoch, metrics={"loss": 1 / epoch, "val_loss": 1.1 / epoch}, duration_s=1.0, elapsed_s=epoch
            )
        )

    async def check(app, pilot):
        loss = app.query_one("#loss", EpochChart)
        loss.update_from(state)
        await pilot.pause()
        # Two series, each at most two points a column.
        assert 0 < loss.last_point_count <= 2 * 2 * loss.size.width
        assert "1000" in shown(loss).splitlines()[-1]

    run(check)


def test_epoch_charts_keep_up_while_batches_keep_arriving():
    """The deferred-chart monitor (replay, watch, serve) draws each epoch at the next tick, however
    busy the batch stream is (it used to stay on the first epochs until the batches stopped)."""
    from tui_trainer.events import BatchLosses as Batches
    from tui_trainer.ui.base import MonitorApp

    from .conftest import charts_shown

    import tui_trainer.ui.base as base

    class LiveApp(MonitorApp):
        CSS_PATH = str(Path(base.__file__).with_name("app.tcss"))
        DEFER_CHARTS = True

        def on_mount(self) -> None:
            super().on_mount()
            self.push_screen(self.monitor)

    events = list(iter_events(RECORDINGS / "early_stopped.jsonl"))
    ends = [e for e in events if isinstance(e, EpochEnded)]

    async def main() -> None:
        app = LiveApp()
        async with app.run_test(size=(120, 40)) as pilot:
            await charts_shown(app, pilot)
            loss = app.monitor.query_one("#epoch-chart", EpochChart)
            metric = app.monitor.query_one("#metric-chart", MetricChart)
            seen = []
            for event in events:
                if isinstance(event, RunFinished):
                    break  # still running: the live path, where charts are paced
                app.handle_event(event)
                if isinstance(event, Batches):  # batches keep coming, every tick
                    for step in range(3):
                        app.handle_event(Batches(epoch=event.epoch, first_step=step + 1, losses=(0.5,),
                                                 steps_per_epoch=event.steps_per_epoch))
                        app._redraw()
                        await pilot.pause()
                app._redraw()  # one redraw tick
                await pilot.pause()
                if isinstance(event, EpochEnded):
                    assert app.monitor.state.running
                    seen.append((event.epoch, loss.drawn_to.get("loss"), metric.drawn_to.get("accuracy")))
            assert seen == [(e.epoch, e.epoch, e.epoch) for e in ends]

    asyncio.run(main())


def test_the_fast_ansi_reading_draws_what_richs_does():
    """The charts read plotext's output with chartgrid.ansi_text, not Text.from_ansi: same cells, same styles."""
    import plotext as plt
    from rich.console import Console
    from rich.segment import Segment
    from rich.text import Text

    from tui_trainer.ui.widgets.chartgrid import ansi_text

    plt.clf()
    plt.plotsize(72, 20)
    plt.theme("dark")
    x = list(range(1, 40))
    plt.plot(x, [1 / v for v in x], marker="braille", color=(64, 156, 255))
    plt.plot(x, [1.2 / v for v in x], marker="hd", color=(255, 184, 28))
    plt.scatter([5, 9], [0.2, 0.1], marker="◆", color=(70, 210, 100))
    plt.text("stop 33", 20, 0.5, color=(255, 70, 70), style="bold")
    out = plt.build()
    console = Console(width=80, color_system="truecolor", force_terminal=True)

    def cells(text: Text) -> list:
        return [(s.text, s.style) for s in Segment.simplify(text.render(console))]

    mine, richs = ansi_text(out), Text.from_ansi(out)
    assert mine.plain == richs.plain and "stop 33" in mine.plain
    assert cells(mine) == cells(richs)
    colors = {tuple(s.style.color.triplet) for s in mine.spans if s.style.color and s.style.color.triplet}
    assert colors >= {(64, 156, 255), (255, 184, 28), (70, 210, 100), (255, 70, 70)}
