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

    _shown_count = 0

    def _rows(self) -> Optional[int]:
        """The lines the panel may take (its max-height in its container, less the border), None before layout."""
        parent = self.parent
        height = getattr(getattr(parent, "size", None), "height", 0)
        if not height or self.styles.max_height is None:
            return None
        return int(self.styles.max_height.resolve(parent.size, self.app.size)) - 1

    def _lines(self, text: str, width: int) -> int:
        return len(Text(text).wrap(self.app.console, max(1, width)))

    def _rows_shown(self, layers: int, other_lines: int) -> list[Optional[int]]:
        """The layers to draw: all that fit; on a short terminal the first and the last ones with a
        "⋮" line (None) between, so the input's bar, the output's and the reading stay in view."""
        rows = self._rows()
        room = layers if rows is None else rows - 1 - other_lines  # 1: the title
        if layers <= room:
            self._shown_count = layers
            return list(range(layers))
        keep = max(2, room - 1)
        top = -(-keep // 2)
        self._shown_count = keep
        return [*range(top), None, *range(layers - (keep - top), layers)]

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
        content_w = self.size.width or 58  # the width inside the padding
        ends = ("← input", "← output")
        if content_w - name_w - 18 < 6:  # narrow (80 columns): short words leave the bars room
            ends = ("← in", "← out")
        bar_w = max(3, content_w - name_w - 10 - len(ends[1]))  # name, bar, " 1.2e-05 ", the label
        xs, ratios = state.grad_ratio_series()
        verdict = reading(ratios[-1]) if ratios else ""
        out = Text()
        when = "before training" if epoch == 0 else f"epoch {epoch}"
        title = f"gradient norms (log scale), {when}"
        out.append((title if len(title) <= content_w else f"gradients (log), {when}") + "\n", style="bold")
        for i in self._rows_shown(len(names), (1 + self._lines(verdict, content_w)) if ratios else 0):
            if i is None:
                out.append(f"{'⋮':^{name_w}} {len(names) - self._shown_count} layers between\n", style="dim")
                continue
            name, norm = names[i], norms[i]
            frac = 0.0 if not norm else (math.log10(norm) - lo) / (hi - lo)
            n = max(1, int(round(frac * bar_w))) if norm else 0
            style = "red" if frac < 0.34 else ("yellow" if frac < 0.67 else "green")
            label = ends[0] if i == 0 else (ends[1] if i == len(names) - 1 else "")
            out.append(f"{name:<{name_w}} ")
            out.append("█" * n, style=style)
            out.append(" " * (bar_w - n) + f" {_sci(norm)} {label}\n")
        if ratios:
            strip = _sparkline([math.log10(r) for r in ratios if r > 0], max(4, content_w - 20))
            out.append(f"first/last {_sci(ratios[-1])} ", style="bold")
            out.append(f"{strip}\n")
            out.append(verdict, style="italic")
        self.update(out)
