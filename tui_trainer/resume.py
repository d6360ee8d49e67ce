"""``tui-trainer train --resume RUN``: go on with a killed, preempted or cancelled run in its own folder.

The run continues from its last checkpoint (``checkpoint.npz``: the model's and
the optimizer's variables and early stopping's counters at the end of the last
finished epoch), into the same events.jsonl, after a ``run_resumed`` event that
marks where it went on. Early stopping's best epoch and weights carry over, so
the verdict at the end speaks of the whole curve.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .checkpoint import BEST, CHECKPOINT, TrainingState
from .events import Event, RunResumed
from .runlog import PRESET, SOURCE, RunLogError, load_run, now_iso
from .runstate import RunState
from .spec import Preset, SpecError, load_preset_file


class ResumeError(ValueError):
    """A run that can't be resumed; ``str()`` is one line saying why and what to do instead."""


@dataclass
class ResumePlan:
    """Everything ``engine.train`` needs to continue a run."""

    run_dir: Path
    preset: Preset
    state: TrainingState
    previous_events: list[Event]

    def best_weights(self) -> Optional[list]:
        """The best epoch's weights, for early stopping to restore at the end: the checkpoint's copy
        (in step with its counters), else best.keras."""
        if self.state.best_weights is not None:
            return self.state.best_weights
        path = self.run_dir / BEST
        if not path.is_file():
            return None
        import keras

        try:
            return keras.saving.load_model(path, compile=False).get_weights()
        except Exception:  # unreadable: early stopping restores from the resumed epochs only
            return None

    def event(self, device: str = "") -> RunResumed:
        return RunResumed(from_epoch=self.state.epoch, resumed_at=now_iso(), host=socket.gethostname(),
                          pid=os.getpid(), device=device, epochs=self.preset.training.epochs)


def plan_resume(run_dir: Path, epochs: Optional[int] = None) -> ResumePlan:
    """Check that ``run_dir`` can be resumed and read what resuming needs (no TensorFlow).

    Args:
        run_dir: the run folder.
        epochs: a new total number of epochs (default: the run's own).

    Raises:
        ResumeError: it can't be resumed (finished, still running, no checkpoint, not a preset's run).
        SpecError: its preset.toml is no longer valid.
    """
    from .runs import liveness

    run_dir = Path(run_dir).expanduser()
    from .sources import is_foreign, not_our_run

    if is_foreign(run_dir):
        raise ResumeError(not_our_run(run_dir, "train --resume"))
    try:
        loaded = load_run(run_dir)
    except RunLogError as exc:
        raise ResumeError(str(exc)) from None
    if not (run_dir / PRESET).is_file():
        if (run_dir / SOURCE).is_file():
            raise ResumeError(f"{run_dir}: recorded from a script; run the script again (`tui-trainer run`)")
        raise ResumeError(f"{run_dir}: not a run folder (no {PRESET})")
    state = RunState(live=False)
    for event in loaded.events:
        state.apply(event)
    if state.started is None:
        raise ResumeError(f"{run_dir}: the run never started; train the preset again")
    if state.finished is not None and state.finished.status in ("completed", "early_stopped"):
        raise ResumeError(f"{run_dir}: the run finished ({state.finished.status.replace('_', ' ')} after "
                          f"{state.finished.epochs_run} epochs); nothing to resume")
    if state.finished is None and liveness(state, run_dir) == "running":
        raise ResumeError(f"{run_dir}: still running (pid {state.started.pid}); follow it with "
                          f"`tui-trainer watch {run_dir}`")
    if not (run_dir / CHECKPOINT).is_file():
        raise ResumeError(f"{run_dir}: no checkpoint to resume from (the run ended before its first epoch "
                          "finished); train the preset again")
    try:
        checkpoint = TrainingState.load(run_dir / CHECKPOINT)
    except ValueError as exc:
        raise ResumeError(str(exc)) from None
    preset = load_preset_file(run_dir / PRESET)
    if epochs is not None:
        preset = preset.with_overrides(epochs=epochs)
    if checkpoint.epoch >= preset.training.epochs:
        raise ResumeError(f"{run_dir}: all {preset.training.epochs} epochs have run; give more with --epochs")
    return ResumePlan(run_dir, preset, checkpoint, loaded.events)


__all__ = ["ResumeError", "ResumePlan", "plan_resume", "SpecError"]
