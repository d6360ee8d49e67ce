"""The early-stopping marks of a run, and a y-range that keeps them readable: pure functions.

A chart draws what :func:`es_marks` returns (the best epoch, the restored one, where early
stopping fired, the patience window between them) and scales its y axis with
:func:`readable_range`; neither decides here what "restored" means. No plotting library is
imported: the run log's readers and the tests use these without a terminal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

from .runstate import RunState

__all__ = ["Marks", "es_marks", "readable_range", "is_unit_metric", "nice_ticks", "zoom_first", "run_marks",
           "zoom_span"]

# Metrics that live in [0, 1]: their axis is kept inside it, whatever headroom the legend wants.
_UNIT_WORDS = ("accuracy", "auc", "precision", "recall")
# Whole words of a metric's name that mean accuracy too: Keras 2's metrics=["acc"] logs acc/val_acc
# (so do "Deep Learning with Python"'s examples and many scripts copied from them).
_UNIT_TOKENS = frozenset({"acc"})


@dataclass(frozen=True)
class Marks:
    """What a chart of ``metric`` (and its ``val_`` twin) marks for early stopping.

    Attributes:
        monitor: The series early stopping watched, when it is one of the chart's two; else None
            (and no marks).
        best: The epoch to mark best: the restored one when Keras restored weights, else the best.
        word: How the best epoch is labelled: ``"restored"``, ``"best"`` (finished, nothing
            restored) or ``"best so far"`` (still running).
        restored: The epoch whose weights Keras restored, if it did.
        stop: The epoch where early stopping fired, if it did.
        window: ``(best, end)``: the epochs after the best one that did not improve, up to the stop
            or the last epoch; None when the best epoch is the last one.
        best_value: The monitored value at ``best``, when that epoch was logged with a finite value.
    """

    monitor: Optional[str] = None
    best: Optional[int] = None
    word: Optional[str] = None
    restored: Optional[int] = None
    stop: Optional[int] = None
    window: Optional[tuple[int, int]] = None
    best_value: Optional[float] = None

    @property
    def patience(self) -> int:
        """Epochs in the window (0 without one)."""
        return self.window[1] - self.window[0] if self.window else 0

    @property
    def last_marked(self) -> int:
        """The right-most marked epoch (0 without marks): the x axis must reach it."""
        return max(self.stop or 0, self.best or 0, self.window[1] if self.window else 0)


def es_marks(state: RunState, metric: Optional[str]) -> Marks:
    """The early-stopping marks for a chart of ``metric`` and ``val_<metric>``.

    Args:
        state: The run so far (live, replayed or finished).
        metric: The chart's training-side metric name (``"loss"``); None: no marks.

    Returns:
        The marks; empty (all None) when early stopping watched another series, or nothing yet.
    """
    if metric is None or not state.epochs or state.monitor not in (metric, f"val_{metric}"):
        return Marks()
    monitor = state.monitor
    restored, stop = state.restored_epoch, state.stopped_epoch
    best = restored or state.best_epoch
    if best is None:
        return Marks(monitor=monitor, stop=stop)
    if restored is not None:
        word = "restored"
    elif state.early_stopping is not None:
        word = "best"
    else:
        word = "best so far"  # still running: EpochEnded's running best
    end = stop if stop is not None else int(state.epochs[-1].epoch)
    xs, ys = state.series(monitor)
    value = next((float(y) for x, y in zip(xs, ys) if x == best and y is not None and math.isfinite(y)), None)
    return Marks(monitor=monitor, best=best, word=word, restored=restored, stop=stop,
                 window=(best, end) if end > best else None, best_value=value)


def zoom_first(last: int, best: Optional[int]) -> int:
    """The last epoch a zoomed chart leaves out: the run's first quarter (its steep drop), but never the
    epoch before the best one, so the best epoch keeps a neighbour on its left."""
    return max(1, min(last // 4, (best or last) - 1))


def run_marks(state: RunState) -> dict[str, int]:
    """One run's marks on a chart of several runs, whatever quantity it shows: ``{"best": 28, "stop": 33}``.

    ``best`` is the restored epoch when Keras restored weights, else the best one so far; ``stop`` the
    epoch where early stopping fired. Either is left out when the run has none.
    """
    marks = {"best": state.restored_epoch or state.best_epoch, "stop": state.stopped_epoch}
    return {k: int(v) for k, v in marks.items() if v is not None}


def zoom_span(marked: Sequence[int], last: int, *, least: int = 6) -> tuple[int, int]:
    """The epochs a zoomed chart of several runs shows: around their best and stop epochs.

    Args:
        marked: Every run's best and stop epochs (empty: no run has a mark).
        last: The last epoch any run logged.
        least: The fewest epochs shown, so a single mark still has neighbours on both sides.

    Returns:
        ``(first, end)``: the first and the last epoch in view, ``1 <= first <= end <= last``.
    """
    if last <= least:
        return 1, max(last, 1)
    if not marked:
        return zoom_first(last, None) + 1, last
    lo, hi = min(marked), min(max(marked), last)
    margin = max(2, math.ceil((hi - lo) / 4))
    first, end = max(1, lo - margin), min(last, hi + margin)
    while end - first + 1 < least:  # widen around the marks, towards the side that has room
        first, end = (first - 1, end) if first > 1 else (first, end + 1)
    return first, end


def is_unit_metric(name: Optional[str], values: Sequence[float]) -> bool:
    """Whether ``name`` is a [0, 1] metric (accuracy, AUC, precision, recall) and its values stay there."""
    if not name:
        return False
    bare = name[4:] if name.startswith("val_") else name
    named = any(w in bare for w in _UNIT_WORDS) or not _UNIT_TOKENS.isdisjoint(bare.split("_"))
    return named and all(0.0 <= v <= 1.0 for v in values)


def readable_range(xs: Sequence[float], ys: Sequence[float], marks: Marks, *, unit: bool = False,
                   dominate: float = 3.0) -> tuple[float, float, bool]:
    """A y-range that shows the best epoch and the patience window, not only the first epochs' drop.

    The first epochs of a loss often fall from 2.3 to 0.3 and would squash everything after them
    (the val_loss turning up again inside the window) onto the bottom rows. When the span of all
    values is more than ``dominate`` times the span from the focus epochs on, the range is the
    focus epochs' own, and the early points leave the plot through its top edge.

    Args:
        xs, ys: Every finite point of the chart's curves, together (epochs and values).
        marks: The chart's marks (the focus starts before the best epoch).
        unit: The values are a [0, 1] metric: the range stays inside [0, 1].
        dominate: How much wider the full span must be than the focus span before it is clipped.

    Returns:
        ``(lo, hi, clipped)``: the data range to show (the chart adds headroom), and whether the
        first epochs' values were cut off.
    """
    if not len(ys):
        return 0.0, 1.0, False
    lo, hi = min(ys), max(ys)
    last = max(xs)
    # The focus: the last three quarters of the run, and always the best epoch's neighbours.
    first = zoom_first(int(last), marks.best)
    focus = [y for x, y in zip(xs, ys) if x > first]
    clipped = False
    if last >= 6 and focus:
        f_lo, f_hi = min(focus), max(focus)
        if hi - lo > dominate * max(f_hi - f_lo, 1e-12):
            lo, hi, clipped = f_lo, f_hi, True
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.04
    lo = 0.0 if 0 <= lo < pad else lo - pad  # a little air below, but an axis of losses stops at 0
    if unit:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return lo, hi, clipped


def nice_ticks(lo: float, hi: float, max_ticks: int) -> tuple[list[float], int]:
    """Round y ticks inside ``[lo, hi]``: multiples of 1, 2, 2.5 or 5 times a power of ten.

    Returns:
        The ticks (at least two: ``lo`` and ``hi`` when nothing round fits) and the decimals their
        labels need.
    """
    span = hi - lo
    max_ticks = max(max_ticks, 2)
    if not span > 0:
        return [lo, hi], 2
    raw = span / (max_ticks - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        step = m * power
        first = math.ceil(lo / step - 1e-9)
        ticks = [round(k * step, 12) for k in range(first, int(math.floor(hi / step + 1e-9)) + 1)]
        if len(ticks) <= max_ticks:
            break
    decimals = max(0, -math.floor(math.log10(step) + 1e-9) + (1 if m == 2.5 else 0))
    if len(ticks) < 2:
        return [lo, hi], decimals + 1
    return ticks, decimals
