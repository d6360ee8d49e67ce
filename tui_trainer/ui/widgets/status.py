"""Progress line, early-stopping banner and error panel of the monitor screen."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ...runstate import RunState


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


class ProgressLine(Static):
    """Epoch i of N, a batch progress bar, elapsed time, an estimate of the rest, the device."""

    DEFAULT_CSS = "ProgressLine { height: 1; }"

    def update_from(self, state: RunState) -> None:
        s = state.started
        if s is None:
            self.update(Text("Press t to train.", style="dim") if state.finished is None else "")
            return
        steps = state.steps_per_epoch or 1
        epoch = max(state.current_epoch, 1)
        step = state.current_step if state.current_epoch else 0
        bar_width = max(8, min(30, self.size.width - 70)) if self.size.width else 20
        line = Text()
        line.append(f"Epoch {epoch}/{s.epochs} ", style="bold")
        line.append(_bar(step / steps, bar_width), style="green" if state.running else "dim")
        line.append(f" batch {step}/{steps}  ")
        line.append(f"elapsed {_clock(state.elapsed_s())}")
        if state.running:
            line.append(f"  ~{_clock(state.eta_s())} left", style="dim")
        line.append(f"  {s.device}", style="cyan")
        self.update(line)


class EarlyStopBanner(Static):
    """Early stopping in words: live progress while training, the verdict once finished."""

    DEFAULT_CSS = "EarlyStopBanner { height: auto; min-height: 1; padding: 0 1; }"

    def update_from(self, state: RunState) -> None:
        self.remove_class("-stopped", "-done", "-failed", "-cancelled")
        text = state.verdict()
        if text is not None:
            status = state.status
            self.add_class({"early_stopped": "-stopped", "failed": "-failed", "cancelled": "-cancelled"}.get(status, "-done"))
            self.update(text)
            return
        if state.started is None:
            self.update("")
            return
        if state.started.monitor is None:
            self.update("Early stopping is off: every epoch will run.")
            return
        last = state.epochs[-1] if state.epochs else None
        if last is None or last.best_epoch is None:
            self.update(f"Early stopping watches {state.started.monitor} (patience {state.started.patience}).")
            return
        value = f"{last.best_value:.4g}" if last.best_value is not None else "n/a"
        self.update(
            f"Best so far: epoch {last.best_epoch} ({state.monitor} {value}); "
            f"no improvement for {last.wait} of {state.started.patience} epochs."
        )


class ErrorPanel(Static):
    """Shows why training failed; hidden otherwise."""

    DEFAULT_CSS = "ErrorPanel { height: auto; display: none; padding: 0 1; }"

    def show(self, message: str) -> None:
        self.update(Text(message))
        self.display = True

    def clear(self) -> None:
        self.update("")
        self.display = False
