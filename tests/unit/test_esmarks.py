"""es_marks and the readable y-range, on recorded runs, checked against the run's verdict in words."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from tui_trainer.esmarks import (
    Marks,
    es_marks,
    is_unit_metric,
    nice_ticks,
    readable_range,
    run_marks,
    runs_range,
    zoom_first,
    zoom_span,
)
from tui_trainer.events import EpochEnded
from tui_trainer.runlog import iter_events
from tui_trainer.runstate import RunState

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
NAMES = sorted(p.stem for p in RECORDINGS.glob("*.jsonl"))


def folded(name: str, limit=None) -> RunState:
    state = RunState()
    for event in itertools.islice(iter_events(RECORDINGS / f"{name}.jsonl"), limit):
        state.apply(event)
    return state


def test_every_recording_is_checked():
    assert {"early_stopped", "no_restore", "completed", "cancelled", "failed"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_marks_say_what_the_verdict_says(name):
    state = folded(name)
    verdict = state.verdict()
    metric = state.monitor.removeprefix("val_")  # the chart the marks go on: loss, or accuracy
    marks = es_marks(state, metric)
    assert marks.monitor == state.monitor
    stop = re.search(r"Early stopping at epoch (\d+)", verdict)
    assert marks.stop == (int(stop.group(1)) if stop else None)
    restored = re.search(r"restored(?: from| the weights of)? epoch (\d+)|restored, from epoch (\d+)", verdict)
    if "not restored" in verdict:
        assert marks.restored is None and marks.word == "best"
        assert marks.best == int(re.search(r"the best was epoch (\d+)", verdict).group(1))
    else:
        assert restored, verdict
        assert marks.restored == marks.best == int(restored.group(1) or restored.group(2))
        assert marks.word == "restored"
    patience = re.search(r"did not improve for (\d+) epochs", verdict)
    if patience:  # the window is what EarlyStopping counted against its patience
        assert marks.window == (marks.best, marks.stop) and marks.patience == int(patience.group(1))
    value = re.search(rf"\({state.monitor} (\d\.\d+)\)", verdict)
    if value:
        assert f"{marks.best_value:.4g}" == value.group(1)
    if "NaN" in verdict:
        assert marks.best_value is None  # a NaN epoch is marked, with no value to put a ◆ on


def test_early_stopping_on_val_accuracy_marks_the_accuracy_chart_not_the_loss_one():
    # keras-io's usual shape: EarlyStopping(monitor="val_accuracy", patience=3, restore_best_weights=True)
    state = folded("es_val_accuracy")
    assert es_marks(state, "loss") == Marks()
    marks = es_marks(state, "accuracy")
    assert (marks.stop, marks.restored, marks.window) == (9, 6, (6, 9))
    xs, ys = state.series("val_accuracy")
    assert marks.best_value == max(ys)  # mode max: the best is the highest


def test_a_chart_of_another_metric_gets_no_marks():
    state = folded("early_stopped")
    assert es_marks(state, "accuracy") == Marks()
    assert es_marks(state, None) == Marks()
    assert es_marks(RunState(), "loss") == Marks()


def test_a_running_run_marks_the_best_so_far_and_its_window():
    events = list(iter_events(RECORDINGS / "early_stopped.jsonl"))
    n = next(i for i, e in enumerate(events) if isinstance(e, EpochEnded) and e.epoch == 31) + 1
    marks = es_marks(folded("early_stopped", n), "loss")
    assert (marks.word, marks.best, marks.stop, marks.window) == ("best so far", 28, None, (28, 31))
    assert marks.last_marked == 31


def test_the_range_clips_the_first_drop_so_the_window_is_readable():
    state = folded("early_stopped")
    marks = es_marks(state, "loss")
    xs, ys = [], []
    for name in ("loss", "val_loss"):
        x, y = state.series(name)
        xs += x
        ys += y
    lo, hi, clipped = readable_range(xs, ys, marks)
    assert clipped and hi < max(ys) / 3  # the first epochs' 2.x no longer sets the scale
    # Everything from the best epoch on is inside the range, with room to see it rise.
    after = [y for x, y in zip(xs, ys) if x >= marks.best]
    assert lo <= min(after) and max(after) <= hi
    window_vals = [y for x, y in zip(*state.series("val_loss")) if marks.best <= x <= marks.stop]
    assert (max(window_vals) - min(window_vals)) / (hi - lo) > 0.03  # a visible rise, not a flat line


def test_a_run_without_a_steep_drop_is_not_clipped():
    xs = list(range(1, 11))
    ys = [1.0 - 0.05 * x for x in xs]
    lo, hi, clipped = readable_range(xs, ys, Marks())
    assert not clipped and lo <= min(ys) and hi >= max(ys)


def test_accuracy_stays_inside_zero_and_one_with_round_ticks():
    state = folded("early_stopped")
    xs, ys = state.series("val_accuracy")
    assert is_unit_metric("val_accuracy", ys) and not is_unit_metric("loss", ys)
    assert is_unit_metric("val_acc", ys) and is_unit_metric("acc", ys) and is_unit_metric("top_k_acc", ys)
    assert not is_unit_metric("accumulated_loss", ys) and not is_unit_metric("val_acc", [0.5, 1.5])
    lo, hi, _ = readable_range(xs, ys, Marks(), unit=True)
    assert 0.0 <= lo < hi <= 1.0
    ticks, decimals = nice_ticks(0.0, 1.0, 6)
    assert ticks == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] and decimals == 1
    ticks, decimals = nice_ticks(0.31, 1.0, 5)
    assert ticks == [0.4, 0.6, 0.8, 1.0] and decimals == 1
    ticks, decimals = nice_ticks(0.0, 2.3, 5)
    assert ticks == [0.0, 0.5, 1.0, 1.5, 2.0] and decimals == 1


def test_run_marks_are_the_verdicts_epochs():
    assert run_marks(folded("early_stopped")) == {"best": 28, "stop": 33}  # restored 28
    assert run_marks(folded("act_sigmoid")) == {"best": 50}  # ran all 50, restored the last
    assert run_marks(folded("no_restore"))["stop"] == 33 and "best" in run_marks(folded("no_restore"))
    assert "stop" not in run_marks(folded("failed"))  # failed at epoch 2: no early stop
    assert run_marks(RunState()) == {}


def test_zoom_span_is_the_region_around_the_marks():
    # relu best 28 stop 33, tanh best 26 stop 31, sigmoid best 50 of 50: 26 .. 50 and a margin.
    first, end = zoom_span([28, 33, 26, 31, 50], 50)
    assert 15 <= first < 26 and end == 50
    # One run, one mark mid-run: the mark and neighbours on both sides.
    first, end = zoom_span([20], 50)
    assert first < 20 < end and end - first + 1 >= 6 and first > 1
    # No marks: like the monitor's zoom, past the first quarter.
    assert zoom_span([], 40) == (zoom_first(40, None) + 1, 40) == (11, 40)
    # A short run: everything.
    assert zoom_span([3], 5) == (1, 5)
    # A mark at the first epoch: the window widens to the right.
    first, end = zoom_span([1], 30)
    assert first == 1 and end >= 6


# Two short runs as the browser walk met them: a low learning rate's slow start (1.515 at epoch 1, best at
# its last epoch, 12) and a high one's early stop (best 3, stopped at 8, rising inside its window).
SLOW = (list(range(1, 13)), [1.515, 0.893, 0.568, 0.411, 0.326, 0.271, 0.235, 0.208, 0.188, 0.172, 0.159, 0.148], 12)
STOPPED = (list(range(1, 9)), [0.223, 0.214, 0.038, 0.087, 0.26, 0.358, 0.146, 0.367], 3)


def test_short_runs_each_clip_their_own_first_epochs():
    lo, hi, clipped = runs_range([SLOW, STOPPED])
    assert clipped and hi < 0.6  # the slow run's 1.515 (and 0.893) no longer set the scale
    # The stopped run's best epoch and patience window are all in view, spread over most of the range.
    window = STOPPED[1][2:]
    assert lo <= min(window) and max(window) <= hi
    assert (max(window) - min(window)) / (hi - lo) > 0.75
    # The slow run keeps its own best epoch and the epochs before it in view too.
    assert lo <= min(SLOW[1][3:]) and max(SLOW[1][3:]) <= hi
    # Pooled as one run, the earliest best epoch (3) kept the slow start's 0.568 in focus: not clipped.
    xs, ys = SLOW[0] + STOPPED[0], SLOW[1] + STOPPED[1]
    assert readable_range(xs, ys, Marks(best=3))[2] is False


def test_runs_range_of_one_run_is_the_monitors_range():
    state = folded("early_stopped")
    xs, ys = state.series("val_loss")
    marks = es_marks(state, "loss")
    assert runs_range([(xs, ys, marks.best)]) == readable_range(xs, ys, marks)
    flat = (list(range(1, 11)), [1.0 - 0.05 * x for x in range(1, 11)], 10)
    assert runs_range([flat, flat])[2] is False  # no steep start: nothing clipped
    assert runs_range([]) == (0.0, 1.0, False) and runs_range([([], [], None)]) == (0.0, 1.0, False)
    one_epoch = ([1], [2.0], 1)  # a run of one epoch keeps its point in view
    lo, hi, _ = runs_range([STOPPED, one_epoch])
    assert lo <= 2.0 <= hi


def test_every_pair_of_recordings_keeps_both_best_epochs_in_view():
    runs = {}
    for name in NAMES:
        state = folded(name)
        points = [(x, y) for x, y in zip(*state.series("val_loss")) if y is not None and y == y]
        if points:
            runs[name] = ([x for x, _ in points], [y for _, y in points], run_marks(state).get("best"))
    assert len(runs) >= 6
    for a, b in itertools.combinations(runs, 2):
        lo, hi, _ = runs_range([runs[a], runs[b]])
        for xs, ys, best in (runs[a], runs[b]):
            at_best = [y for x, y in zip(xs, ys) if x == best]
            assert not at_best or lo <= at_best[0] <= hi, (a, b)
