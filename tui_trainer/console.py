"""The headless printer: one line per epoch, then the verdict. Used by ``tui-trainer train``.

What each event prints is one method, found through ``_SHOW`` by the event's type.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Optional, TextIO

from .events import EpochEnded, Event, GradientNorms, Note, RunFinished, RunResumed, RunStarted, grad_ratio
from .runstate import RunState
from .verdict import VANISHING_RATIO, num, sci


def format_metrics(metrics: dict[str, float], order: Optional[list[str]] = None) -> str:
    """``loss 0.2345  val_loss 0.2101  accuracy 0.9312`` with loss first, val_ next to its twin."""
    keys = list(metrics)
    base = [k for k in keys if not k.startswith("val_")]
    ordered = []
    for k in sorted(base, key=lambda k: (k != "loss", k)):
        ordered.append(k)
        if "val_" + k in metrics:
            ordered.append("val_" + k)
    ordered += [k for k in keys if k not in ordered]
    return "  ".join(f"{k} {_num(metrics[k])}" for k in ordered)


def _num(v: Optional[float]) -> str:
    return num(v, fixed=True, none="nan")


def _started_line(event: RunStarted) -> str:
    shape = "x".join(str(d) for d in event.input_shape) or "?"
    if event.origin == "script":  # a Monitor in the user's own fit: what is known of it
        sizes = f"{event.n_train} train / {event.n_val} val, " if event.n_train else ""
        return (f"Training {event.preset_name} on {event.device}: {event.data_source} ({sizes}input {shape}), "
                f"{event.params_total:,} parameters")
    return (f"Training {event.preset_name} on {event.device}: {event.dataset} "
            f"({event.n_train} train / {event.n_val} val / {event.n_test} test, input {shape}, "
            f"{event.num_classes} classes), {event.params_total:,} parameters, seed {event.seed}")


class ConsolePrinter:
    """A sink that prints a run's progress for a terminal or a log file."""

    def __init__(self, out: TextIO = sys.stdout):
        self.out = out
        self.state = RunState(live=False)  # the one fold of the events; this class only prints

    def catch_up(self, events) -> None:
        """Fold a run's earlier events without printing them (a resumed run goes on from there)."""
        for event in events:
            self.state.apply(event)

    @property
    def started(self) -> Optional[RunStarted]:
        return self.state.started

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def __call__(self, event: Event) -> None:
        self.state.apply(event)
        show = _SHOW.get(type(event))  # events without a line (batches, telemetry) only fold
        if show is not None:
            show(self, event)

    def _run_started(self, event: RunStarted) -> None:
        self._print(_started_line(event))
        for note in event.notes:
            self._print(f"Warning: {note}")
        if event.replay_of:
            self._print(f"Re-running the preset of {event.replay_of}")
        self._print(f"Recording to {event.run_dir}")

    def _epoch_ended(self, event: EpochEnded) -> None:
        total = self.started.epochs if self.started else "?"
        width = len(str(total))
        mark = ""
        if event.best_epoch == event.epoch and event.best_value is not None:  # a NaN is never best
            mark = "  *best"
        elif event.wait:
            patience = self.started.patience if self.started else None
            mark = f"  (no improvement {event.wait}/{patience})" if patience is not None else ""
        partial = " (partial)" if event.partial else ""
        ratio = grad_ratio(event.grad_norms)
        grad = f"  grad first/last {sci(ratio)}" if ratio is not None else ""
        self._print(
            f"Epoch {event.epoch:>{width}}/{total}{partial}  {format_metrics(event.metrics)}  "
            f"{event.duration_s:.1f}s{grad}{mark}"
        )

    def _gradient_norms(self, event: GradientNorms) -> None:
        ratio = grad_ratio(event.norms)
        if ratio is not None and event.layers:
            hint = "  (vanishing toward the input)" if ratio < VANISHING_RATIO else ""
            self._print(
                f"Kernel-gradient norms before training, on a fixed batch of {event.samples}: "
                f"{event.layers[0]} (input side) {sci(event.norms[0])}, {event.layers[-1]} (output) "
                f"{sci(event.norms[-1])}; first/last {sci(ratio)}{hint}"
            )

    def _run_resumed(self, event: RunResumed) -> None:
        s = self.started
        self._print(f"Resuming {s.preset_name if s else 'the run'} after epoch {event.from_epoch} on "
                    f"{event.device or '?'}" + (f", recording to {s.run_dir}" if s else ""))

    def _run_finished(self, event: RunFinished) -> None:
        self._print(self.state.verdict() or "")
        if event.test_metrics:
            n = f" ({self.started.n_test} samples)" if self.started and self.started.n_test else ""
            self._print(f"Test{n}: {format_metrics(event.test_metrics)}")
        where = f" Run saved in {self.started.run_dir}" if self.started else ""
        self._print(f"Finished: {event.status} in {event.wall_time_s:.1f}s.{where}")


# What each event prints: a new event type with something to say gets a line here (and a method above).
_SHOW: dict[type, Callable[[ConsolePrinter, Any], None]] = {
    RunStarted: ConsolePrinter._run_started,
    EpochEnded: ConsolePrinter._epoch_ended,
    GradientNorms: ConsolePrinter._gradient_norms,
    RunResumed: ConsolePrinter._run_resumed,
    Note: lambda printer, event: printer._print(f"Note: {event.message}"),
    RunFinished: ConsolePrinter._run_finished,
}
