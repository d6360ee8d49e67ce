"""The compare and runs screens, driven with Pilot over run folders made from the recordings.

Async Textual tests run through ``asyncio.run`` inside plain test functions
(no pytest-asyncio here).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tui_trainer.compare import ComparedRun, load_runs
from tui_trainer.events import EarlyStoppingResult, EpochEnded, RunFinished
from tui_trainer.runlog import LoadedRun
from tui_trainer.runstate import RunState
from tui_trainer.ui.compare_app import CompareApp
from tui_trainer.ui.screens.compare import CompareChart, CompareScreen
from tui_trainer.ui.screens.runs import RunsScreen

from ..unit.test_compare import make_run_dir
from .conftest import recorded

SIZE = (110, 34)
RELU, SIGMOID = "20260101-000000-relu", "20260101-000100-sigmoid"
# What the two recordings' setups differ in, as the legend and the column headers name them.
RELU_L, SIGMOID_L = "128 relu", "64 sigmoid x8"


@pytest.fixture
def runs_dir(tmp_path) -> Path:
    root = tmp_path / "runs"
    make_run_dir(root, RELU, "early_stopped")
    make_run_dir(root, SIGMOID, "sigmoid_x8")
    make_run_dir(root, "20260101-000200-completed", "completed")
    return root


def shown(widget) -> str:
    return widget.render().plain


def canvas(chart) -> str:
    """The chart without its title line (the title explains the marks, so it holds a diamond too)."""
    return "\n".join(shown(chart).splitlines()[1:])


def cell_texts(table: DataTable, row_key: str) -> list[str]:
    return [str(v) for v in table.get_row(row_key)]


def run_app(app: App, check, size=SIZE) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()  # the runs screen reads its folder in a thread
            await pilot.pause()
            await check(app, pilot)

    asyncio.run(main())


# -- compare ------------------------------------------------------------------------------------------


def test_compare_draws_both_runs_with_their_marks(runs_dir):
    runs = load_runs([runs_dir / RELU, runs_dir / SIGMOID])

    async def check(app, pilot):
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        chart = screen.query_one(CompareChart)
        text = shown(chart)
        # The legend names both runs by what differs between them: their hidden layers.
        assert chart.legend == [RELU_L, SIGMOID_L]
        assert RELU_L in text and SIGMOID_L in text
        # relu: stopped at 33, best (and restored) 28; sigmoid: never stopped, best 49.
        assert chart.run_marks[RELU_L] == {"best": 28, "stop": 33}
        assert chart.run_marks[SIGMOID_L] == {"best": 49}
        assert chart.labels == ["stop 33"]
        assert "stop 33" in text
        assert canvas(chart).count("◆") == 2  # one best epoch per run
        assert "val_loss per epoch" in text

        table = screen.query_one("#compare-facts", DataTable)
        headers = [str(c.label) for c in table.columns.values()]
        assert headers[1:] == [f"─•─ {RELU_L}", f"━+━ {SIGMOID_L}"]  # the legend's symbols
        # What differs opens the table; the run ids say which folder is which.
        assert cell_texts(table, "setup:hidden layers") == ["hidden layers", "Dense 128 relu", "Dense 64 sigmoid x8"]
        assert [k.value for k in table.rows][:2] == ["setup:hidden layers", "run"]
        assert cell_texts(table, "run") == ["run", RELU, SIGMOID]
        assert cell_texts(table, "stopped epoch") == ["stopped epoch", "33", "did not stop"]
        assert cell_texts(table, "best epoch") == ["best epoch", "28", "49"]
        assert cell_texts(table, "restored epoch") == ["restored epoch", "28", "49"]
        assert "hidden layers" not in [k.value for k in table.rows]  # said above, with the layers' sizes
        assert "grad first/last, start" not in [k.value for k in table.rows]  # measured by neither run
        assert cell_texts(table, "test accuracy")[1] == "98.33%"

    run_app(CompareApp(runs), check)


def test_script_runs_are_labelled_by_the_setup_they_recorded(tmp_path):
    # Two script fits (RunStarted.setup as a Monitor writes it) that differ in learning rate only.
    import json

    dirs = []
    for run_id, lr in (("20260101-000000-fit", 0.001), ("20260101-000100-fit", 0.01)):
        d = make_run_dir(tmp_path / "runs", run_id, "early_stopped")
        lines = (d / "events.jsonl").read_text().splitlines()
        first = json.loads(lines[0])
        first["setup"] = {"hidden layers": "Dense 64 relu", "optimizer": "Adam", "learning rate": lr}
        (d / "events.jsonl").write_text("\n".join([json.dumps(first)] + lines[1:]) + "\n")
        dirs.append(d)

    async def check(app, pilot):
        chart = app.screen.query_one(CompareChart)
        assert chart.legend == ["lr 0.001", "lr 0.01"]
        assert "lr 0.001" in shown(chart) and "lr 0.01" in shown(chart)
        table = app.screen.query_one("#compare-facts", DataTable)
        assert [str(c.label) for c in table.columns.values()][1:] == ["─•─ lr 0.001", "━+━ lr 0.01"]
        assert cell_texts(table, "setup:learning rate") == ["learning rate", "0.001", "0.01"]
        assert not any(str(k.value).startswith("setup:hidden") for k in table.rows)  # the same in both

    run_app(CompareApp(load_runs(dirs)), check)


def test_m_cycles_the_metric(runs_dir):
    runs = load_runs([runs_dir / RELU, runs_dir / SIGMOID])

    async def check(app, pilot):
        chart = app.screen.query_one(CompareChart)
        seen = [chart.metric]
        for _ in range(4):
            await pilot.press("m")
            await pilot.pause()
            seen.append(chart.metric)
            assert f"{chart.metric} per epoch" in shown(chart)
        assert seen == ["val_loss", "accuracy", "val_accuracy", "loss", "val_loss"]
        assert app.screen.sub_title.endswith("val_loss")
        # The marks follow the runs, whatever the metric: the best epoch's diamond sits on each curve.
        await pilot.press("m")
        await pilot.pause()
        assert chart.metric == "accuracy"
        assert chart.run_marks[RELU_L] == {"best": 28, "stop": 33}
        assert canvas(chart).count("◆") == 2

    run_app(CompareApp(runs), check)


def test_compare_starts_on_the_metric_asked_for(runs_dir):
    runs = load_runs([runs_dir / RELU, runs_dir / SIGMOID])

    async def check(app, pilot):
        assert app.screen.query_one(CompareChart).metric == "accuracy"

    run_app(CompareApp(runs, "accuracy"), check)

    async def check_unknown(app, pilot):
        assert app.screen.query_one(CompareChart).metric == "loss"  # the first logged one

    run_app(CompareApp(runs, "no_such_metric"), check_unknown)


def test_compare_reads_at_80x24(runs_dir):
    runs = load_runs([runs_dir / RELU, runs_dir / SIGMOID, runs_dir / "20260101-000200-completed"])

    async def check(app, pilot):
        chart = app.screen.query_one(CompareChart)
        table = app.screen.query_one("#compare-facts", DataTable)
        # The chart keeps 8 rows of plot (title, x ticks and the axes take 4): the table gives way.
        assert chart.size.height - 4 >= 8
        assert chart.run_marks["epochs 50, hidden 128 relu"] == {"best": 28, "stop": 33}
        headers = [str(c.label) for c in table.columns.values()]
        assert headers[3] == "─▪─ epochs 6, hidden 128 relu"
        assert "stop 33" in shown(chart)
        # The facts table sits above the footer and scrolls to its last fact.
        assert table.region.bottom <= 23 and table.size.height >= 4
        assert table.size.height < 1 + table.row_count and table.max_scroll_y > 0
        table.scroll_end(animate=False)
        await pilot.pause()
        assert table.scroll_y == table.max_scroll_y

    run_app(CompareApp(runs), check, size=(80, 24))


def test_q_quits_the_compare_app(runs_dir):
    runs = load_runs([runs_dir / RELU, runs_dir / SIGMOID])

    async def check(app, pilot):
        await pilot.press("escape")  # nothing to go back to: stays
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        await pilot.press("q")
        await pilot.pause()
        assert app._exit  # App.exit() was called

    run_app(CompareApp(runs), check)


def synthetic_run(label: str, epochs: int) -> ComparedRun:
    """A long run (more epochs than the chart has columns), built from events."""
    events = [recorded("early_stopped")[0]]
    for i in range(1, epochs + 1):
        v = 1.0 / i + (0.3 if i % 97 == 0 else 0.0)  # a few spikes the decimation must keep
        events.append(EpochEnded(epoch=i, metrics={"loss": v, "val_loss": v * 1.1}, duration_s=0.1,
                                 elapsed_s=0.1 * i, best_epoch=i, best_value=v * 1.1, wait=0))
    events.append(EarlyStoppingResult(monitor="val_loss", mode="min", patience=5, min_delta=0.0, baseline=None,
                                      start_from_epoch=0, restore_best_weights=True, triggered=True,
                                      stopped_epoch=epochs, best_epoch=epochs - 5, best_value=0.0,
                                      restored=True, restored_epoch=epochs - 5))
    events.append(RunFinished(status="early_stopped", epochs_run=epochs, test_metrics={}, wall_time_s=1.0))
    state = RunState()
    for e in events:
        state.apply(e)
    return ComparedRun(id=label, label=label, path=Path(label), run=LoadedRun(Path(label), events, None, []),
                       state=state)


def short_run(label: str, values: list[float], best: int, stop=None) -> ComparedRun:
    """A short run from events: ``values`` its val_loss per epoch, early-stopped at ``stop`` if given."""
    events = [recorded("early_stopped")[0]]
    for i, v in enumerate(values, start=1):
        events.append(EpochEnded(epoch=i, metrics={"loss": v, "val_loss": v}, duration_s=0.1, elapsed_s=0.1 * i,
                                 best_epoch=min(i, best), best_value=values[min(i, best) - 1], wait=max(0, i - best)))
    n = len(values)
    events.append(EarlyStoppingResult(monitor="val_loss", mode="min", patience=5, min_delta=0.0, baseline=None,
                                      start_from_epoch=0, restore_best_weights=True, triggered=stop is not None,
                                      stopped_epoch=stop, best_epoch=best, best_value=values[best - 1],
                                      restored=True, restored_epoch=best))
    events.append(RunFinished(status="early_stopped" if stop else "completed", epochs_run=n, test_metrics={},
                              wall_time_s=1.0))
    state = RunState()
    for e in events:
        state.apply(e)
    return ComparedRun(id=label, label=label, path=Path(label), run=LoadedRun(Path(label), events, None, []),
                       state=state)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_one_short_runs_steep_start_does_not_flatten_the_others(size):
    # The browser walk's pair: lr 0.001's val_loss starts at 1.515 and is best at its last epoch (12);
    # lr 0.05's stops at 8 after its best at 3, rising inside its window. The 1.515 set the scale and the
    # stopped run lay flat near "0.0".
    slow = short_run("lr 0.001", [1.515, 0.893, 0.568, 0.411, 0.326, 0.271, 0.235, 0.208, 0.188, 0.172, 0.159,
                                  0.148], best=12)
    stopped = short_run("lr 0.05", [0.223, 0.214, 0.038, 0.087, 0.26, 0.358, 0.146, 0.367], best=3, stop=8)

    async def check(app, pilot):
        chart = app.screen.query_one(CompareChart)
        assert chart.run_marks == {"lr 0.001": {"best": 12}, "lr 0.05": {"best": 3, "stop": 8}}
        lo, top = chart.y_range
        assert top < 0.8, chart.y_range  # the slow run's first epochs leave through the top edge
        # The stopped run's window (0.038 .. 0.367) spans a good part of the plot's rows, not one.
        rows = chart.size.height - 4
        assert (0.367 - 0.038) / (top - lo) * rows >= 3
        assert canvas(chart).count("◆") == 2 and "stop 8" in shown(chart)
        ticks = y_tick_labels(chart)
        assert len(set(ticks)) == len(ticks) >= 2 and "1.5" not in ticks

    run_app(CompareApp([slow, stopped]), check, size=size)


def test_long_runs_are_decimated_to_the_plot_width():
    runs = [synthetic_run("long-a", 3000), synthetic_run("long-b", 2000)]

    async def check(app, pilot):
        chart = app.screen.query_one(CompareChart)
        width = chart.size.width
        assert 0 < chart.plotted["long-a"] <= 2 * width
        assert 0 < chart.plotted["long-b"] <= 2 * width
        assert chart.run_marks["long-a"] == {"best": 2995, "stop": 3000}

    run_app(CompareApp(runs), check)


# -- runs ---------------------------------------------------------------------------------------------


class RunsHost(App):
    """The runs screen as the trainer app would show it: pushed over another screen."""

    def __init__(self, runs_dir: Path) -> None:
        super().__init__()
        self.runs_dir = runs_dir
        self.opened: list[Path] = []
        self.notes: list[str] = []

    def on_mount(self) -> None:
        self.push_screen(RunsScreen(self.runs_dir))

    def on_runs_screen_open_run(self, message: RunsScreen.OpenRun) -> None:
        self.opened.append(message.path)

    def notify(self, message, **kwargs) -> None:  # type: ignore[override]
        self.notes.append(str(message))
        super().notify(message, **kwargs)


def test_runs_screen_lists_marks_and_compares(runs_dir):
    async def check(app, pilot):
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        table = screen.query_one("#runs-table", DataTable)
        # Newest first.
        assert [info.id for info in screen.infos] == ["20260101-000200-completed", SIGMOID, RELU]
        assert table.row_count == 3
        row = cell_texts(table, str(runs_dir / RELU))
        assert row[:8] == ["", RELU, "early_stopped", "33", "33", "28", "0.03035", "98.33%"]

        # c with nothing marked: says what to do.
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        assert "Mark two or more runs" in app.notes[-1]

        # Mark the sigmoid run (second row) and the relu run (third): space marks and moves down.
        await pilot.press("down", "space")
        assert screen.marked == [runs_dir / SIGMOID]
        assert str(table.get_cell(str(runs_dir / SIGMOID), "mark")) == "✓"
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)  # one marked is not enough
        assert "one run is marked" in app.notes[-1]
        await pilot.press("space")
        assert screen.marked == [runs_dir / SIGMOID, runs_dir / RELU]
        assert "2 marked" in shown(screen.query_one("#runs-title", Static))

        await pilot.press("c")
        await pilot.pause()
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        assert [r.label for r in compare.runs] == [SIGMOID_L, RELU_L]
        assert compare.query_one(CompareChart).run_marks[RELU_L] == {"best": 28, "stop": 33}

        # escape goes back to the list, marks kept.
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert screen.marked == [runs_dir / SIGMOID, runs_dir / RELU]

        # space again unmarks (the cursor stayed on the last row, the relu run).
        await pilot.press("space")
        assert screen.marked == [runs_dir / SIGMOID]
        assert str(table.get_cell(str(runs_dir / RELU), "mark")) == ""

    run_app(RunsHost(runs_dir), check)


def test_enter_opens_the_selected_run(runs_dir):
    async def check(app, pilot):
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.opened == [runs_dir / SIGMOID]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.opened == [runs_dir / SIGMOID, runs_dir / RELU]

    run_app(RunsHost(runs_dir), check)


def test_r_refreshes_and_escape_goes_back(runs_dir):
    async def check(app, pilot):
        screen = app.screen
        await pilot.press("down")  # on the sigmoid run
        make_run_dir(runs_dir, "20260102-000000-new", "no_restore", summary=False)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.infos[0].id == "20260102-000000-new"
        assert screen.query_one("#runs-table", DataTable).row_count == 4
        assert screen.selected_path() == runs_dir / SIGMOID  # the cursor stays on its run
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RunsScreen)

    run_app(RunsHost(runs_dir), check)


def test_an_empty_runs_folder_says_how_to_make_a_run(tmp_path):
    async def check(app, pilot):
        screen = app.screen
        message = shown(screen.query_one("#runs-empty", Static))
        assert "No runs in" in message
        assert "press t in the builder" in message and "tui-trainer train" in message
        assert not screen.query_one("#runs-table", DataTable).display
        await pilot.press("space", "c", "enter")  # nothing to mark, compare or open: nothing happens
        await pilot.pause()
        assert app.screen is screen and app.opened == []

    run_app(RunsHost(tmp_path / "no-runs-here"), check)


def test_the_compare_screen_pushed_over_another_pops_with_q(runs_dir):
    runs = load_runs([runs_dir / RELU, runs_dir / SIGMOID])

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(CompareScreen(runs))

    async def check(app, pilot):
        assert isinstance(app.screen, CompareScreen)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, Screen) and not isinstance(app.screen, CompareScreen)

    run_app(Host(), check)


def test_runs_screen_says_how_to_resume_a_cancelled_run(tmp_path):
    root = tmp_path / "runs"
    cancelled = make_run_dir(root, "20260101-000300-cancelled", "cancelled")
    (cancelled / "checkpoint.npz").write_bytes(b"state")  # what the engine leaves each epoch
    (cancelled / "best.keras").write_bytes(b"model")
    (cancelled / "best.json").write_text('{"epoch": 8}')
    make_run_dir(root, RELU, "early_stopped")

    async def check(app, pilot):
        screen = app.screen
        title = screen.query_one("#runs-title", Static)
        assert [info.id for info in screen.infos] == ["20260101-000300-cancelled", RELU]  # newest first
        # the cursor is on the cancelled run: the title says what is kept and how to go on
        assert shown(title) == (f"20260101-000300-cancelled: cancelled at epoch 9 — best weights (epoch 8) kept — "
                                f"resume with `tui-trainer train --resume {cancelled}`")
        await pilot.press("down")  # a finished run: nothing to resume
        await pilot.pause()
        assert shown(title).startswith("2 runs in ")

    run_app(RunsHost(root), check)


def test_runs_screen_long_list_arrives_whole_and_refresh_keeps_the_cursor(tmp_path):
    """More runs than the first screenful: every row arrives, and `r` keeps the cursor on its run."""
    from tui_trainer.ui.screens.runs import FIRST_ROWS

    root = tmp_path / "runs"
    first = make_run_dir(root, "20260101-000000-r000", "early_stopped")
    n = FIRST_ROWS + 15
    for i in range(1, n):
        shutil.copytree(first, root / f"20260101-000000-r{i:03d}")

    async def check(app, pilot):
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        assert table.row_count == n
        assert str(screen.query_one("#runs-title", Static).render()).startswith(f"{n} runs in ")
        table.move_cursor(row=n - 1)  # the oldest run, well past the first screenful
        await pilot.pause()
        oldest = root / "20260101-000000-r000"
        assert screen.selected_path() == oldest
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        assert table.row_count == n  # not doubled, nothing lost
        assert screen.selected_path() == oldest

    run_app(RunsHost(root), check)


# -- compare you can read: three runs that differ by activation ------------------------------------------

ACTIVATIONS = {"relu": "early_stopped", "sigmoid": "act_sigmoid", "tanh": "act_tanh"}


def activation_runs(tmp_path, recordings=ACTIVATIONS) -> list[ComparedRun]:
    root = tmp_path / "act"
    return load_runs([make_run_dir(root, f"20260101-00000{i}-{name}", rec)
                      for i, (name, rec) in enumerate(recordings.items())])


def symbol_colors(chart, symbol: str) -> set:
    """The colours the canvas draws ``symbol`` in, legend row and title left out."""
    text = chart.render()
    lines = text.plain.split("\n")
    colors, offset = set(), 0
    for k, line in enumerate(lines):
        for col, ch in enumerate(line):
            if ch == symbol and k >= 3 and "┤" not in line[col:col + 1]:  # below the title, the frame, the legend
                style = text.get_style_at_offset(chart.app.console, offset + col)
                if style.color is not None and style.color.triplet is not None:
                    colors.add(tuple(style.color.triplet))
        offset += len(line) + 1
    return colors


def y_tick_labels(chart) -> list[str]:
    return [line.split("┤")[0].strip() for line in shown(chart).splitlines() if "┤" in line]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_three_activations_are_told_apart(tmp_path, size):
    runs = activation_runs(tmp_path)

    async def check(app, pilot):
        chart = app.screen.query_one(CompareChart)
        table = app.screen.query_one("#compare-facts", DataTable)
        # Named by what differs: the activation, not "digits" nor a timestamp.
        for label, name in zip(chart.legend, ACTIVATIONS):
            assert name in label and "digits" not in label and "2026" not in label
        headers = [str(c.label) for c in table.columns.values()][1:]
        assert headers == ["─•─ " + runs[0].label, "━+━ " + runs[1].label, "─▪─ " + runs[2].label]
        # The modified models say so; the built-in one doesn't.
        assert cell_texts(table, "preset")[1:] == ["digits", "digits (edited)", "digits (edited)"]
        # Each run its own symbol along its curve, each in its own colour, and its own line style.
        colors = [symbol_colors(chart, s) for s in "•+▪"]
        assert all(len(c) == 1 for c in colors), colors
        assert len(set().union(*colors)) == 3
        # 8 rows of plot or more, and y ticks that are round, distinct and never all "0.00".
        assert chart.size.height - 4 >= 8
        ticks = y_tick_labels(chart)
        assert len(ticks) >= 3 and len(set(ticks)) == len(ticks) and set(ticks) != {"0.00"}
        assert chart.run_marks == {runs[0].label: {"best": 28, "stop": 33}, runs[1].label: {"best": 50},
                                   runs[2].label: {"best": 26, "stop": 31}}
        # z: the epochs around the marks (26 .. 50), the first epochs' drop left out; z again: all.
        assert chart.x_range == (0.5, 50.5) and "zoomed" not in shown(chart)
        await pilot.press("z")
        await pilot.pause()
        lo, hi = chart.x_range
        assert 10 < lo < 26 and hi == 50.5 and "(zoomed: z)" in shown(chart)
        assert "stop 33" in shown(chart) and "stop 31" in shown(chart)
        assert canvas(chart).count("◆") == 3
        x_ticks = [int(t) for t in shown(chart).splitlines()[-1].split()]
        assert x_ticks[0] >= lo and len(x_ticks) >= 3
        await pilot.press("z")
        await pilot.pause()
        assert chart.x_range == (0.5, 50.5)

    run_app(CompareApp(runs), check, size=size)


class ChartHost(App):
    """One compare chart filling the terminal: the size the runs workspace gives it at 80x24."""

    CSS = "CompareChart { width: 100%; height: 100%; }"

    def __init__(self, runs) -> None:
        super().__init__()
        self.runs = runs

    def compose(self):
        yield CompareChart(self.runs)


@pytest.mark.parametrize("host,size", [("compare", (80, 24)), ("chart", (56, 16)), ("chart", (60, 17)),
                                       ("chart", (70, 18))])
def test_a_stop_label_never_sits_on_a_legend_row(tmp_path, host, size):
    # At 80x24 relu's "stop 33" once sat on the legend's row right after "hidden 128 tanh" and read as
    # tanh's stop (tanh stopped at 31).
    runs = activation_runs(tmp_path)

    async def check(app, pilot):
        chart = app.screen.query_one(CompareChart)
        rows = canvas(chart).splitlines()
        legend = [k for k, row in enumerate(rows) if any(label in row for label in chart.legend)]
        stops = [k for k, row in enumerate(rows) if "stop 3" in row]
        assert len(chart.legend) == 3 and legend, "the legend is drawn"
        assert any("stop 33" in rows[k] for k in stops)
        assert not set(stops) & set(legend), "\n".join(rows[:6])

    run_app(CompareApp(runs) if host == "compare" else ChartHost(runs), check, size=size)


def test_curves_on_top_of_each_other_still_show_both_runs(tmp_path):
    # The same recording twice: the curves coincide cell for cell; each run's symbol still shows.
    runs = activation_runs(tmp_path, {"a": "early_stopped", "b": "early_stopped"})

    async def check(app, pilot):
        chart = app.screen.query_one(CompareChart)
        assert symbol_colors(chart, "•") and symbol_colors(chart, "+")
        assert symbol_colors(chart, "•") != symbol_colors(chart, "+")

    run_app(CompareApp(runs), check, size=(80, 24))


def test_a_run_keeps_the_colour_it_is_given(tmp_path):
    runs = activation_runs(tmp_path)
    mine = (10, 200, 30)

    class One(App):
        def compose(self):
            yield CompareChart(runs, "val_loss", colors={runs[1].label: mine})

    async def check(app, pilot):
        chart = app.query_one(CompareChart)
        assert symbol_colors(chart, "+") == {mine}
        chart.runs = [runs[1], runs[2]]  # the workspace drops a run: the others keep their colours
        chart.replot()
        await pilot.pause()
        assert symbol_colors(chart, "•") == {mine} and chart.legend == [runs[1].label, runs[2].label]

    run_app(One(), check, size=(100, 30))


def test_the_compare_apps_screenshot_goes_where_the_monitors_does(tmp_path, monkeypatch):
    """No ~/Downloads (an SSH box): the palette's screenshot lands in the runs folder, and the toast says so."""
    from .test_screenshot import _screenshot_from_palette

    runs = activation_runs(tmp_path)
    home, where = tmp_path / "home", tmp_path / "runs"
    home.mkdir()
    where.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("TUI_TRAINER_RUNS", str(where))
    monkeypatch.chdir(tmp_path)
    toasts = asyncio.run(_screenshot_from_palette(CompareApp(runs)))
    saved = sorted(where.glob("*.svg"))
    assert len(saved) == 1 and "<svg" in saved[0].read_text()
    assert "Saved screenshot to" in toasts and "Failed" not in toasts


def test_accuracy_axes_stay_inside_zero_and_one_with_the_legend_clear_of_the_curves(tmp_path):
    runs = activation_runs(tmp_path)

    async def check(app, pilot):
        chart = app.screen.query_one(CompareChart)
        for metric in ("accuracy", "val_accuracy"):
            while chart.metric != metric:
                await pilot.press("m")
                await pilot.pause()
            ticks = [float(t) for t in y_tick_labels(chart)]
            assert ticks and max(ticks) <= 1.0 and len(set(ticks)) == len(ticks)
            steps = {round(b - a, 6) for a, b in zip(ticks[1:], ticks)}
            assert len(steps) == 1 and all(round(t / min(steps)) * min(steps) == pytest.approx(t) for t in ticks)
            # Rising curves fill the top rows: the legend sits on the bottom row of the plot, whole.
            rows = canvas(chart).splitlines()
            legend_row = next(k for k, row in enumerate(rows) if runs[0].label in row)
            assert legend_row == len(rows) - 3  # above the x axis and its tick labels
            assert all(run.label in rows[legend_row] for run in runs)

    run_app(CompareApp(runs), check, size=(80, 24))


def test_keras2_style_acc_is_an_accuracy_too(tmp_path):
    """``metrics=['acc']`` (Keras 2 and "Deep Learning with Python"'s examples log acc/val_acc): the axis
    stays inside [0, 1] like accuracy's."""
    import json

    dirs = []
    for i, rec in enumerate(("early_stopped", "act_tanh")):
        d = make_run_dir(tmp_path / "runs", f"20260101-00000{i}-acc", rec)
        lines = []
        for line in (d / "events.jsonl").read_text().splitlines():
            event = json.loads(line)
            if event.get("event") == "epoch":
                event["metrics"] = {k.replace("accuracy", "acc"): v for k, v in event["metrics"].items()}
            lines.append(json.dumps(event))
        (d / "events.jsonl").write_text("\n".join(lines) + "\n")
        dirs.append(d)

    async def check(app, pilot):
        chart = app.screen.query_one(CompareChart)
        for metric in ("acc", "val_acc"):
            chart.set_metric(metric)
            await pilot.pause()
            ticks = [float(t) for t in y_tick_labels(chart)]
            assert ticks and max(ticks) <= 1.0 and chart.y_range[1] <= 1.0, (metric, chart.y_range)

    run_app(CompareApp(load_runs(dirs), "val_acc"), check, size=(80, 24))
