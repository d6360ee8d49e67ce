"""The workspace's keys: ``m`` cycles the overlay's metric, and the footer keeps its own keys in sight at 80x24."""

from __future__ import annotations

import asyncio

from textual.widgets import Footer

from tui_trainer import presets
from tui_trainer.ui.app import TrainerApp
from tui_trainer.ui.screens.compare import CompareChart
from tui_trainer.ui.screens.runs import RunsScreen

from .test_workspace import RELU, SIGMOID, Host, run_app, runs_dir  # noqa: F401  (a fixture)


def visible_keys(screen) -> dict[str, str]:
    """Description -> key of the footer keys on the screen (not cut off at its right edge)."""
    footer = screen.query_one(Footer)
    return {k.description: str(k.key_display) for k in footer.query("FooterKey")
            if k.region.width and footer.region.contains_region(k.region)}


def test_m_cycles_the_overlays_metric_through_what_the_selected_runs_logged(runs_dir):
    async def check(app, pilot):
        screen = app.screen
        assert "Metric" not in visible_keys(screen)  # nothing selected: nothing to cycle
        await pilot.press("down", "space", "space")  # sigmoid, then relu
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.marked == [runs_dir / SIGMOID, runs_dir / RELU]
        assert visible_keys(screen).get("Metric") == "m"
        chart = screen.query_one("#ws-chart", CompareChart)
        title = screen.query_one("#runs-title")
        assert "val_loss per epoch" in chart.render().plain
        seen = []
        for _ in range(4):
            await pilot.press("m")
            await pilot.pause()
            seen.append(chart.metric)
            assert f"{chart.metric} per epoch" in chart.render().plain
            assert f"{chart.metric} below" in str(title.render())
            assert len(chart.plotted) == 2  # both runs drawn in every metric
            if "accuracy" in chart.metric:
                assert 0 <= chart.y_range[0] and chart.y_range[1] <= 1.0
        assert seen == ["accuracy", "val_accuracy", "loss", "val_loss"]  # and round again
        # the metric stays when the selection changes
        await pilot.press("m")
        await pilot.press("space")  # unselect relu
        await pilot.pause()
        assert chart.metric == "accuracy" and len(chart.plotted) == 1

    run_app(Host(runs_dir), check)


def test_the_workspaces_own_keys_stay_in_sight_at_80x24(runs_dir):
    async def main():
        digits, path = presets.load("digits")
        app = TrainerApp(digits, path, runs_dir)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("r")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, RunsScreen)
            for selected in (False, True):
                keys = visible_keys(app.screen)
                want = {"Open": "⏎", "Select": "space", "Compare": "c", "Back": "esc"}
                if selected:
                    want["Metric"] = "m"
                assert {d: keys.get(d) for d in want} == want, keys
                # first, so that what a narrower footer cuts is the app's keys (t, b, q: under ctrl+p)
                assert list(keys)[:len(want)] == list(want), keys
                await pilot.press("space")
                await app.workers.wait_for_complete()
                await pilot.pause()

    asyncio.run(main())
