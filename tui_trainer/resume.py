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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from .atomic import error_text
from .checkpoint import BEST, CHECKPOINT, TrainingState, preset_hash
from .events import Event, RunResumed, RunStarted
from .runlog import PRESET, SOURCE, WRITTEN, RunLogError, load_run, now_iso
from .runstate import RunState
from .spec import Preset, SpecError, load_preset_file

if TYPE_CHECKING:
    from .runlock import RunLock


class ResumeError(ValueError):
    """A run that can't be resumed; ``str()`` is one line saying why and what to do instead."""


@dataclass
class ResumePlan:
    """Everything ``engine.train`` needs to continue a run."""

    run_dir: Path
    preset: Preset
    state: TrainingState
    previous_events: list[Event]
    lock: Optional["RunLock"] = None  # the run's write lock, held from the check until release()

    def release(self) -> None:
        """Let the run's write lock go (the end of the resumed run)."""
        if self.lock is not None:
            self.lock.release()

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
    """Check that ``run_dir`` can be resumed, then take its write lock (no TensorFlow).

    Everything is checked before anything is touched: a refused resume leaves the run folder
    byte-identical. The checks run again once the lock is held, since another resume may have
    gone on with the run in between; the plan holds the lock until ``release()``.

    Args:
        run_dir: the run folder.
        epochs: a new total number of epochs (default: the run's own).

    Raises:
        ResumeError: it can't be resumed (finished, still running or being resumed, no checkpoint or
            one that is cut, of another run or of an edited preset, a link in place of a run file).
        SpecError: its preset.toml is no longer valid.
    """
    from .runlock import RunLock, RunLocked
    from .sources import is_foreign, not_our_run

    run_dir = Path(run_dir).expanduser()
    if is_foreign(run_dir):
        raise ResumeError(not_our_run(run_dir, "train --resume"))
    _check(run_dir, epochs)
    lock = RunLock(run_dir)
    try:
        lock.acquire()
    except RunLocked as exc:
        raise ResumeError(str(exc)) from None
    except OSError as exc:
        raise ResumeError(f"{run_dir}: can't take the run's lock ({error_text(exc)})") from None
    try:
        plan = _check(run_dir, epochs)
    except BaseException:
        lock.release()
        raise
    plan.lock = lock
    return plan


def _check(run_dir: Path, epochs: Optional[int]) -> ResumePlan:
    """Read and check what resuming ``run_dir`` needs; writes nothing."""
    from .runs import liveness

    for name in sorted(WRITTEN):  # before anything is read: a link's target is not this run's file
        if (run_dir / name).is_symlink():
            raise ResumeError(f"{run_dir / name} is a symbolic link; tui-trainer never writes through one "
                              "(remove it, or put the run's own file there)")
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
        raise ResumeError(f"{exc}; the run can't be resumed from it") from None
    _check_identity(run_dir, checkpoint, state)
    preset = load_preset_file(run_dir / PRESET)
    if epochs is not None:
        preset = preset.with_overrides(epochs=epochs)
    if checkpoint.epoch >= preset.training.epochs:
        raise ResumeError(f"{run_dir}: all {preset.training.epochs} epochs have run; give more with --epochs")
    # a copied or moved run folder goes on where it is now: what the resume prints and records names it
    events = [replace(e, run_dir=str(run_dir)) if isinstance(e, RunStarted) else e for e in loaded.events]
    return ResumePlan(run_dir, preset, checkpoint, events)


def _check_identity(run_dir: Path, checkpoint: TrainingState, state: RunState) -> None:
    """Refuse a checkpoint that another run wrote, or one of a preset edited since."""
    where = run_dir / CHECKPOINT
    if checkpoint.run_id is not None and checkpoint.run_id != state.started.run_id:
        raise ResumeError(f"{where}: the checkpoint of another run ({checkpoint.run_id}), not of "
                          f"{state.started.run_id}; put this run's own checkpoint back, or train the preset again")
    if checkpoint.preset_hash is not None and checkpoint.preset_hash != preset_hash(run_dir / PRESET):
        raise ResumeError(f"{run_dir / PRESET}: edited since the checkpoint was written; a resume goes on with "
                          "the preset the run trained (only --epochs may change): undo the edit, or train the "
                          "edited preset as a new run")
    if checkpoint.epoch > state.epochs_run + 1:  # +1: the epoch whose line a kill cut may be in the checkpoint
        raise ResumeError(f"{where}: ends at epoch {checkpoint.epoch} but the run's log has {state.epochs_run}; "
                          "not this run's checkpoint")


__all__ = ["ResumeError", "ResumePlan", "plan_resume", "SpecError"]
