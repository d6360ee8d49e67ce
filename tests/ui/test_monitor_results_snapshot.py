"""The monitor and the results view at 80x24 and 120x40: what a user must see still fits.

SVG snapshots from recordings (never live training), and the words that must be on the screen checked
in the screenshot's own text. Update the snapshots after an intended change with:
python -m pytest tests/ui/test_monitor_results_snapshot.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import html
import json
import re

import pytest
from textual.geometry import Region

from tui_trainer import presets
from tui_trainer.ui.app import TrainerApp
from tui_trainer.ui.widgets.charts import BatchChart

from .conftest import RECORDINGS, recorded
from .test_results_view import ResultsApp, _loaded as loaded, _run_folder as results_folder

SIZES = [(80, 24), (120, 40)]
IDS = ["80x24", "120x40"]


def screen_text(app) -> str:
    """The screen as the user reads it: the screenshot's text, line by line (Textual writes spaces as &#160;)."""
    svg = app.export_screenshot()
    rows = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    return html.unescape("".join(rows)).replace("\xa0", " ")


def pane_text(app, selector: str) -> str:
    """What one widget shows: its lines as drawn, within its size and the part of it on the screen
    (what a max-height, the layout or the screen's edge cuts is not there), joined by spaces."""
    widget = app.screen.query_one(selector)
    shown = widget.region.intersection(widget.screen.region)  # render_lines draws padding and border too
    lines = widget.render_lines(Region(0, 0, shown.width, shown.height))
    return " ".join(" ".join(line.text.split()) for line in lines).strip()


def trainer():
    digits, _ = presets.load("digits")
    return TrainerApp(digits, None)  # no source: the path would differ between machines


def replay(name: str, part: float = 1.0, frozen: bool = False):
    """A run_before that feeds a recorded run (the first ``part`` of its events) to the monitor.

    Args:
        frozen: a run cut short is drawn as a recording (not live): a live run's elapsed time goes on with
            the wall clock, which would make a snapshot differ with the machine's load.
    """
    async def run_before(pilot):
        app = pilot.app
        app.action_show_monitor()
        await pilot.pause()
        events = recorded(name)
        # The path a training event takes (MonitorApp.handle_event), then one draw, both now: waiting for
        # the redraw tick (and for a live batch chart's pace, up to 1.5 s) made the snapshot depend on load.
        for e in events[:int(len(events) * part)]:
            app.handle_event(e)
        if frozen:
            app.monitor.state.live = False
        app.monitor.refresh_view(force=True)
        for chart in app.monitor.query(BatchChart):
            chart.replot()
        await pilot.pause(0.1)
    return run_before




# --- snapshots ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_monitor_of_an_early_stopped_run(snap_compare, size):
    assert snap_compare(trainer(), terminal_size=size, run_before=replay("early_stopped"))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_monitor_mid_run(snap_compare, size):
    assert snap_compare(trainer(), terminal_size=size, run_before=replay("early_stopped", 0.6, frozen=True))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_results_view(snap_compare, tmp_path, size):
    assert snap_compare(ResultsApp(results_folder(tmp_path)), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_results_features(snap_compare, tmp_path, size):
    async def features(pilot):
        await loaded(pilot)
        await pilot.press("f")
        await pilot.pause(0.1)
    assert snap_compare(ResultsApp(results_folder(tmp_path)), terminal_size=size, run_before=features)


# --- what must be on the screen --------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_the_monitor_keeps_its_essentials(size):
    async def main():
        app = trainer()
        async with app.run_test(size=size) as pilot:
            await replay("early_stopped", 0.6)(pilot)
            mid = screen_text(app)
            assert "Epoch 21/50" in mid and "Best so far: epoch 20 (val_loss 0.04109)" in mid
            assert "loss per epoch" in mid and "loss per batch" in mid
        app = trainer()
        async with app.run_test(size=size) as pilot:
            await replay("early_stopped")(pilot)
            end = screen_text(app)
            assert "Early stopping at epoch 33" in end and "restored from epoch 28" in end
            assert "stop 33" in end and "restored 28" in end  # the marks on the chart, labelled
            for key in ("Zoom", "Results", "Runs", "Quit"):
                assert key in end
    asyncio.run(main())


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_the_results_view_keeps_its_keys(tmp_path, size):
    async def main():
        app = ResultsApp(results_folder(tmp_path))
        async with app.run_test(size=size) as pilot:
            await loaded(pilot)
            assert "accuracy 97.49%" in pane_text(app, "#results-title")
            title = pane_text(app, "#results-pane-title")
            assert title.startswith("Misclassified: 9 of 359, 1–") and title.endswith("n/p: page · f: features")
            await pilot.press("f")
            await pilot.pause(0.1)
            title = pane_text(app, "#results-pane-title")
            assert title.startswith("First layer dense_1 (Dense): 128 features, 1–")
            assert title.endswith("blue −, red + · n/p: page · f: errors")
    asyncio.run(main())


def test_results_of_a_script_run_say_what_is_missing_and_how_to_get_it(tmp_path):
    d = tmp_path / "runs" / "20260101-000000-script"
    d.mkdir(parents=True)
    lines = (RECORDINGS / "early_stopped.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["origin"] = "script"
    (d / "events.jsonl").write_text("\n".join([json.dumps(first)] + lines[1:]) + "\n")

    async def main():
        app = ResultsApp(d)
        async with app.run_test(size=(80, 24)) as pilot:
            await loaded(pilot)
            # The reason, whole (it was cut at the first line), then what results need and how to get them.
            why = pane_text(app, "#results-title").replace(" ", "")  # a long path breaks anywhere
            assert why.startswith("Noresults:") and why.endswith("resultsneedaruntrainedfromapreset")
            needs = pane_text(app, "#results-matrix")
            assert needs.startswith("What results need") and "predictions.npz" in needs
            assert needs.endswith("train the same model from a preset (`tui-trainer presets list` lists them).")
    asyncio.run(main())


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_monitor_with_gradient_norms(snap_compare, size):
    assert snap_compare(trainer(), terminal_size=size, run_before=replay("deep_sigmoid_gradients"))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_the_gradient_panel_keeps_the_input_the_output_and_the_reading(size):
    """Deep sigmoid's lesson: the input layer's bar, the output's, and the words, at 80x24 as at 120x40
    (at 80x24 they were cut after the 7th of 9 layers, the reading with them)."""
    async def main():
        app = trainer()
        async with app.run_test(size=size) as pilot:
            await replay("deep_sigmoid_gradients")(pilot)
            text = pane_text(app, "#gradients")
            assert "dense_1" in text and "dense_9" in text
            assert text.endswith("Vanishing: layer 1 gets 5e-05 of the output's gradient. Try relu, leaky_relu, elu.")
            if size == (80, 24):  # the layers between make room: said, not cut
                assert "← in " in text and "← out " in text and "6 layers between" in text
            else:
                assert all(f"dense_{k}" in text for k in range(1, 10)) and "between" not in text
                assert "← input" in text and "← output" in text
    asyncio.run(main())
