"""Progress line, early-stopping banner and error panel of the monitor screen."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ...runstate import RunState
from ...telemetry import describe
from ...text import printable
from ...verdict import num


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _bar(fraction: float, width: int) -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    full = int(fraction * width)
    return "█" * full + "░" * (width - full)


class Line(Static):
    """A Static that redraws only when its text changes, and lays out again only if it may grow.

    ``Static.update`` asks for a new layout of the screen every time; at ten updates a
    second that work competes with the training thread for the GIL.
    """

    FIXED_HEIGHT = False  # True: one line, whatever the text; no new layout needed
    _shown: object = None
    _lines = -1  # wrapped lines of the text shown (height: auto widgets)

    def show(self, content) -> None:
        if isinstance(content, str):  # plain text: names and reasons come from files ("[/x]" is no markup)
            content = Text(printable(content, newlines=True))
        key = content.plain if isinstance(content, Text) else content
        if key != self._shown:
            self._shown = key
            self.update(content, layout=self._needs_layout(content))

    def _needs_layout(self, content) -> bool:
        """A new layout (a whole-screen reflow, ~15 ms) only when the text's height changes: the banner's
        words change every epoch, its line count seldom."""
        if self.FIXED_HEIGHT:
            return False
        width = self.content_size.width
        if width <= 0 or not self.is_mounted:
            self._lines = -1
            return True
        text = content if isinstance(content, Text) else Text(str(content))
        lines = len(text.wrap(self.app.console, width))
        changed, self._lines = lines != self._lines, lines
        return changed


class ProgressLine(Line):
    """Epoch i of N, a batch progress bar, elapsed time, an estimate of the rest, the device."""

    DEFAULT_CSS = "ProgressLine { height: 1; }"
    FIXED_HEIGHT = True

    def update_from(self, state: RunState, idle: str = "") -> None:
        """Draw ``state``; before it has started, ``idle`` (what the app is doing or waits for), dimmed."""
        s = state.started
        if s is None:
            self.show(Text(idle, style="dim") if state.finished is None else "")
            return
        steps = state.steps_per_epoch  # 0: not known yet (a tf.data pipeline's first epoch)
        epoch = max(state.current_epoch, 1)
        step = state.current_step if state.current_epoch else 0
        bar_width = max(8, min(30, self.size.width - 70)) if self.size.width else 20
        line = Text()
        line.append(f"Epoch {epoch}/{s.epochs} ", style="bold")
        line.append(_bar(step / steps if steps else 0.0, bar_width), style="green" if state.running else "dim")
        line.append(f" batch {step}/{steps or '?'}  ")
        line.append(f"elapsed {_clock(state.elapsed_s())}")
        if state.running:
            line.append(f"  ~{_clock(state.eta_s())} left", style="dim")
        line.append(f"  {s.device}", style="cyan")
        self.show(line)


class TelemetryLine(Line):
    """GPU utilization and memory per GPU (else this process's CPU and RAM), from the latest sample.

    Hidden until a run has telemetry, so runs recorded before it existed look as they did.
    """

    DEFAULT_CSS = "TelemetryLine { height: 1; display: none; padding: 0 1; color: $text-muted; }"  # under the progress line
    FIXED_HEIGHT = True

    def update_from(self, state: RunState) -> None:
        text = describe(state.telemetry)
        self.show(text)
        if self.display != bool(text):
            self.display = bool(text)


class EarlyStopBanner(Line):
    """Early stopping in words: live progress while training, the verdict once finished."""

    DEFAULT_CSS = "EarlyStopBanner { height: auto; min-height: 1; padding: 0 1; }"

    def update_from(self, state: RunState) -> None:
        text = state.verdict()
        # set_class changes nothing when the class is already right: no style recalculation per tick
        wanted = None if text is None else {"early_stopped": "-stopped", "failed": "-failed",
                                            "cancelled": "-cancelled"}.get(state.status, "-done")
        for name in ("-stopped", "-done", "-failed", "-cancelled"):
            self.set_class(name == wanted, name)
        if text is not None:
            self.show(text)
            return
        if state.started is None:
            self.show("")
            return
        if state.started.monitor is None:
            self.show("Early stopping is off: every epoch will run.")
            return
        last = state.epochs[-1] if state.epochs else None
        if last is None or last.best_epoch is None or last.best_value is None:  # (a NaN is never best)
            self.show(f"Early stopping watches {state.started.monitor} (patience {state.started.patience}).")
            return
        value = num(last.best_value)
        self.show(
            f"Best so far: epoch {last.best_epoch} ({state.monitor} {value}); "
            f"no improvement for {last.wait} of {state.started.patience} epochs."
        )


class ErrorPanel(Line):
    """Shows why training failed; hidden otherwise."""

    DEFAULT_CSS = "ErrorPanel { height: auto; display: none; padding: 0 1; }"

    def show_error(self, message: str) -> None:
        self.show(message)
        if not self.display:
            self.display = True

    def clear(self) -> None:
        self.show("")
        if self.display:
            self.display = False
