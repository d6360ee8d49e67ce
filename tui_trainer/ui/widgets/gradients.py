"""The gradients panel: one bar per Dense or Conv2D layer on a log scale, and the first/last ratio over epochs.

With deep sigmoid the first layers get orders of magnitude less gradient than
the last; on a log scale that is a staircase of bars no one can miss.
"""

from __future__ import annotations

import math
from typing import Optional

from rich.text import Text
from textual.widgets import Static

from ...runstate import RunState
from ...verdict import gradient_reading, sci

SPARK = "▁▂▃▄▅▆▇█"


def _sci(value: Optional[float]) -> str:
    return "  n/a  " if value is None else sci(value)  # n/a padded to the width of 1.2e-05


def _sparkline(values: list[float], width: int) -> str:
    """log10 values as block characters, the newest on the right, at most ``width`` of them."""
    values = values[-width:]
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = hi - lo or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int((v - lo) / span * (len(SPARK) - 1) + 0.5))] for v in values)


reading = gradient_reading  # the words and the thresholds live in verdict.py, shared with the CLI


class GradientsPanel(Static):
    """Per-layer kernel-gradient norms (input layer at the top) and the ratio strip."""

    DEFAULT_CSS = """
    GradientsPanel { height: auto; max-height: 60%; padding: 0 1; border-top: solid $primary-muted; }
    """

    _state: Optional[RunState] = None
    _drawn = -1
    _drawn_width = -1

    def on_resize(self) -> None:
        # The bars are sized to the width: draw again once layout gives the real one.
        if self._state is not None:
            self.update_from(self._state)

    def update_from(self, state: RunState) -> None:
        if state is self._state and state.epoch_version == self._drawn and self._drawn_width == self.size.width:
            return  # the gradients change once an epoch, not with every batch
        self._state, self._drawn, self._drawn_width = state, state.epoch_version, self.size.width
        history = state.grad_norms_history()
        if self.display != bool(history):
            self.display = bool(history)
        if not history:
            return
        names = state.grad_layer_names
        epoch, norms = history[-1]
        logs = [math.log10(n) for n in norms if n]
        lo, hi = (min(logs), max(logs)) if logs else (0.0, 1.0)
        lo = min(lo, hi - 1)  # at least one decade of range, so equal norms don't look empty
        name_w = max((len(n) for n in names), default=5)
        content_w = (self.size.width or 60) - 2  # padding
        bar_w = max(6, content_w - name_w - 18)  # name, bar, " 1.2e-05", " ← output"
        out = Text()
        when = "before training" if epoch == 0 else f"epoch {epoch}"
        out.append(f"gradient norms (log scale), {when}\n", style="bold")
        for i, (name, norm) in enumerate(zip(names, norms)):
            frac = 0.0 if not norm else (math.log10(norm) - lo) / (hi - lo)
            n = max(1, int(round(frac * bar_w))) if norm else 0
            style = "red" if frac < 0.34 else ("yellow" if frac < 0.67 else "green")
            label = "← input" if i == 0 else ("← output" if i == len(names) - 1 else "")
            out.append(f"{name:<{name_w}} ")
            out.append("█" * n, style=style)
            out.append(" " * (bar_w - n) + f" {_sci(norm)} {label}\n")
        xs, ratios = state.grad_ratio_series()
        if ratios:
            strip = _sparkline([math.log10(r) for r in ratios if r > 0], max(4, content_w - 20))
            out.append(f"first/last {_sci(ratios[-1])} ", style="bold")
            out.append(f"{strip}\n")
            out.append(reading(ratios[-1]), style="italic")
        self.update(out)
