"""The results view and the lessons screen: half-block images, the recorded run's results, SVG snapshots.

Update the snapshots after an intended change with:
python -m pytest tests/ui/test_results_view.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import numpy as np
import pytest
from rich.color import Color
from textual.app import App

from tui_trainer import presets
from tui_trainer.compare import load_runs
from tui_trainer.lessons import LESSONS
from tui_trainer.ui.app import TrainerApp
from tui_trainer.ui.compare_app import CompareApp
from tui_trainer.ui.screens.results import ResultsScreen, heatmap
from tui_trainer.ui.widgets.image import UPPER, diverging_rgb, gray_rgb, half_blocks

from ..unit.test_compare import make_run_dir

RECORDED = Path(__file__).parent.parent / "recordings" / "digits_results"


def run(coro):
    return asyncio.run(coro)


# --- the half-block renderer ---------------------------------------------------------------------


def _cells(text):
    """(character, foreground, background) of every cell, line by line."""
    lines, line = [], []
    for ch, style in ((seg.text, seg.style) for seg in text.render(__import__("rich").get_console())):
        for c in ch:
            if c == "\n":
                lines.append(line)
                line = []
            else:
                line.append((c, style.color.triplet if style and style.color else None,
                             style.bgcolor.triplet if style and style.bgcolor else None))
    if line:
        lines.append(line)
    return lines


def test_half_blocks_draw_two_pixel_rows_per_line():
    img = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.0]])  # 3 rows: the last line has a top pixel only
    text = half_blocks(gray_rgb(img))
    assert text.plain == f"{UPPER}{UPPER}\n{UPPER}{UPPER}"
    black, white, grey = (0, 0, 0), (255, 255, 255), (128, 128, 128)
    assert [[(fg, bg) for _, fg, bg in line] for line in _cells(text)] == [
        [(black, white), (white, black)],
        [(grey, None), (black, None)],
    ]


def test_half_blocks_scale_and_the_diverging_map():
    w = np.array([[-1.0, 0.0], [0.5, 1.0]])
    rgb = diverging_rgb(w)
    assert tuple(rgb[0, 1]) == (0, 0, 0)  # zero is black
    assert rgb[0, 0, 2] == 255 and rgb[0, 0, 0] < 100  # negative is blue
    assert rgb[1, 1, 0] == 255 and rgb[1, 1, 2] < 100  # positive is red
    text = half_blocks(rgb, scale=2)
    assert text.plain == "\n".join([UPPER * 4] * 2)  # 4x4 pixels: 2 lines of 4 cells
    assert Color.from_rgb(*rgb[0, 0]).triplet == _cells(text)[0][0][1]


def test_heatmap_marks_the_diagonal_and_the_mistakes(tmp_path):
    from tui_trainer.results import load_results

    res = load_results(_run_folder(tmp_path))
    text = heatmap(res)
    lines = text.plain.splitlines()
    assert lines[0] == "true ↓ / predicted →" and len(lines) == 12
    assert lines[2].split()[:2] == ["0", str(res.confusion()[0, 0])]


def test_heatmap_shades_cells_by_count(tmp_path):
    """More of the same mistake is a brighter red; a right answer is green, also shaded by its count."""
    from tui_trainer.results import load_results

    res = load_results(_run_folder(tmp_path))
    m = res.confusion()
    rows = _cells(heatmap(res))[2:]  # the title and the column names first

    def background(i, j):  # the first character of cell (i, j): a 1-character row label, a space, 4 a cell
        return rows[i][2 + 4 * j][2]

    assert m[9, 1] == 2 and m[2, 1] == 1  # the recording's mistakes: 9 read as 1 twice, 2 as 1 once
    assert background(9, 1)[0] > background(2, 1)[0] + 60  # twice the mistakes, clearly brighter red
    assert background(2, 1)[0] > 60  # a single mistake still stands out
    low, high = sorted(((int(m[k, k]), background(k, k)[1]) for k in range(10)))[::9]
    assert low[0] < high[0] and low[1] < high[1]  # fewer right answers, darker green


def test_features_are_scaled_to_be_seen():
    """A layer's weights, mostly small with one large outlier, are drawn bright enough to read."""
    from tui_trainer.ui.widgets.image import FEATURE_GAMMA, robust_vmax

    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.05, size=(64, 128))  # digits' first layer: 64 inputs, 128 units
    w[0, :3] = 1.5  # a few outliers would scale everything else to near black
    typical = np.abs(w) >= np.median(np.abs(w))
    plain = diverging_rgb(w).max(axis=2)[typical]
    drawn = diverging_rgb(w, robust_vmax([w]), FEATURE_GAMMA).max(axis=2)[typical]
    assert np.median(plain) < 30  # what the view showed: the half of the weights above the median, near black
    assert np.median(drawn) > 100


# --- the results view ----------------------------------------------------------------------------


def _run_folder(tmp_path) -> Path:
    d = tmp_path / "runs" / "20260101-000000-digits"
    if not d.exists():
        shutil.copytree(RECORDED, d)
    return d


class ResultsApp(App):
    """The results screen alone, as the monitor's v opens it."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = run_dir

    def on_mount(self) -> None:
        self.push_screen(ResultsScreen(self.run_dir))


async def _loaded(pilot):
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.2)


def test_results_view_snapshot(snap_compare, tmp_path):
    assert snap_compare(ResultsApp(_run_folder(tmp_path)), terminal_size=(110, 34), run_before=_loaded)


def test_results_view_features_snapshot(snap_compare, tmp_path):
    async def features(pilot):
        await _loaded(pilot)
        await pilot.press("f")
        await pilot.pause(0.1)
    assert snap_compare(ResultsApp(_run_folder(tmp_path)), terminal_size=(110, 34), run_before=features)


def test_results_view_pages_and_says_why_when_there_are_none(tmp_path):
    async def main():
        app = ResultsApp(_run_folder(tmp_path))
        async with app.run_test(size=(110, 34)) as pilot:
            await _loaded(pilot)
            screen = app.screen
            title = str(screen.query_one("#results-pane-title").render())
            assert title.startswith("Misclassified: 9 of 359, 1–")
            await pilot.press("f")
            await pilot.press("n")
            assert screen.page["features"] == 1
            assert "First layer dense_1 (Dense): 128 features" in str(screen.query_one("#results-pane-title").render())
            await pilot.press("p", "p")
            assert screen.page["features"] == 0
        bad = ResultsApp(tmp_path / "nowhere")
        async with bad.run_test(size=(110, 34)) as pilot:
            await _loaded(pilot)
            assert str(bad.screen.query_one("#results-title").render()).startswith("No results: ")
    run(main())


def test_runs_screen_v_opens_the_results_of_the_run_under_the_cursor(tmp_path):
    async def main():
        d = _run_folder(tmp_path)
        digits, _ = presets.load("digits")
        app = TrainerApp(digits, None, runs_dir=d.parent)
        async with app.run_test(size=(110, 34)) as pilot:
            await pilot.press("r")
            await pilot.pause()
            await pilot.press("v")
            await _loaded(pilot)
            assert isinstance(app.screen, ResultsScreen) and app.screen.results is not None
            assert app.screen.results.n_test == 359
            await pilot.press("escape")
            await pilot.press("enter")  # open it in the monitor: v is there once the run has ended
            await pilot.pause(0.5)
            assert app.screen is app.monitor and app.monitor.run_dir == d
            await pilot.press("v")
            await _loaded(pilot)
            assert isinstance(app.screen, ResultsScreen) and app.screen.run_dir == d
    run(main())


def test_the_palette_offers_results_and_lessons():
    async def main():
        digits, _ = presets.load("digits")
        app = TrainerApp(digits, None)
        async with app.run_test(size=(110, 34)):
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert "Results" in titles and "Lessons" in titles
            app.action_show_lessons()
            await asyncio.sleep(0.2)
            from tui_trainer.ui.screens.lessons import LessonsScreen
            from textual.widgets import OptionList

            assert isinstance(app.screen, LessonsScreen)
            options = app.screen.query_one(OptionList)
            assert [options.get_option_at_index(i).id for i in range(options.option_count)] == list(LESSONS)
    run(main())


# --- a lesson's compare view, from recorded runs ---------------------------------------------------


@pytest.mark.parametrize("size", [(110, 34)], ids=["110x34"])
def test_lesson_compare_view_snapshot(snap_compare, tmp_path, size):
    """The early-stopping lesson's view of two recorded runs: restore off vs on (patience 5)."""
    root = tmp_path / "runs"
    off = make_run_dir(root, "20260101-000000-no-restore", "no_restore")
    on = make_run_dir(root, "20260101-000100-restore", "early_stopped")
    runs = load_runs([off, on])
    runs[0].label, runs[1].label = "restore off, patience 5", "patience 5"
    lesson = LESSONS["early-stopping"]
    text = lesson.reading(runs, None)
    assert "Without restoring, the model kept epoch 33's weights" in text
    assert snap_compare(CompareApp(runs, lesson.metric, reading=text, facts=lesson.facts), terminal_size=size)


def test_lessons_screen_runs_a_lesson_then_compares_it(tmp_path):
    """enter on `scaling` with 1 epoch: both variants train in a worker, then the compare screen opens."""
    from textual.widgets import Input, OptionList

    from tui_trainer.ui.screens.compare import CompareScreen
    from tui_trainer.ui.screens.lessons import LessonsScreen

    async def main():
        digits, _ = presets.load("digits")
        app = TrainerApp(digits, None, runs_dir=tmp_path / "runs")
        async with app.run_test(size=(110, 34)) as pilot:
            app.action_show_lessons()
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, LessonsScreen)
            screen.query_one(Input).value = "1"
            screen.query_one(OptionList).highlighted = list(LESSONS).index("scaling")
            await pilot.press("enter")
            for _ in range(100):  # the worker's thread starts when the loaded machine gets to it
                if app.training:
                    break
                await pilot.pause(0.05)
            assert app.training  # the builder's t is refused while a lesson trains
            await app.workers.wait_for_complete()
            await pilot.pause(0.5)
            assert isinstance(app.screen, CompareScreen)
            assert [r.label for r in app.screen.runs] == ["raw 0..255", "min-max 0..1"]
            assert "raw 0..255: epoch-1 loss" in app.screen.reading
            assert len(list((tmp_path / "runs").iterdir())) == 2
    run(main())


def test_compare_view_v_goes_through_the_runs_results(tmp_path):
    """A lesson's compare view: v shows the first run's results, ] the next one's (hidden-layers' features)."""
    root = tmp_path / "runs"
    a, b = root / "20260101-000000-a", root / "20260101-000100-b"
    shutil.copytree(RECORDED, a)
    shutil.copytree(RECORDED, b)

    async def main():
        app = CompareApp(load_runs([a, b]))
        async with app.run_test(size=(110, 34)) as pilot:
            await pilot.press("v")
            await _loaded(pilot)
            screen = app.screen
            assert isinstance(screen, ResultsScreen) and screen.results.run_dir == a
            assert str(screen.query_one("#results-title").render()).startswith("[1/2] 20260101-000000-a")
            await pilot.press("right_square_bracket")
            await _loaded(pilot)
            assert screen.results.run_dir == b
            await pilot.press("escape")
            from tui_trainer.ui.screens.compare import CompareScreen

            assert isinstance(app.screen, CompareScreen)
    run(main())


def test_replay_v_opens_the_results_of_the_folder_replayed(tmp_path):
    """The recorded RunStarted names a folder that no longer exists: v uses the folder replayed."""
    from tui_trainer.runlog import load_run
    from tui_trainer.ui.viewer import ReplayApp

    d = _run_folder(tmp_path)

    async def main():
        app = ReplayApp(d, load_run(d).events)
        async with app.run_test(size=(110, 34)) as pilot:
            await pilot.pause(0.5)
            await pilot.press("v")
            await _loaded(pilot)
            assert isinstance(app.screen, ResultsScreen) and app.screen.results.run_dir == d
    run(main())
