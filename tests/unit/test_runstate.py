"""RunState folds a recorded run into what the monitor shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_trainer.runlog import iter_events
from tui_trainer.runstate import RunState

RECORDINGS = Path(__file__).parent.parent / "recordings"


def fold(name: str) -> RunState:
    state = RunState()
    for event in iter_events(RECORDINGS / f"{name}.jsonl"):
        state.apply(event)
    return state


def test_early_stopped_recording():
    s = fold("early_stopped")
    assert (s.status, s.stopped_epoch, s.best_epoch, s.restored_epoch) == ("early_stopped", 33, 28, 28)
    assert len(s.epochs) == 33 and len(s.batch_losses) == 33 * s.steps_per_epoch
    xs, ys = s.series("val_loss")
    assert xs == list(range(1, 34)) and min(ys) == ys[27]
    assert s.metric_names() == ["accuracy", "val_accuracy"]
    assert s.verdict().startswith("Early stopping at epoch 33: val_loss did not improve for 5 epochs; "
                                  "weights restored from epoch 28")


@pytest.mark.parametrize("name,start", [
    ("completed", "All 6 epochs ran without early stopping; weights restored from epoch 6"),
    ("no_restore", "Early stopping at epoch 33: val_loss did not improve for 5 epochs; weights not restored"),
    ("cancelled", "Cancelled by the user at epoch 9; Keras still restored the weights of epoch 8"),
    ("failed", "Training failed: loss became NaN at batch 1 of epoch 1"),
])
def test_every_ending_has_its_verdict(name, start):
    assert fold(name).verdict().startswith(start)


def test_running_state_before_the_end():
    s = RunState()
    events = list(iter_events(RECORDINGS / "early_stopped.jsonl"))
    for e in events[:40]:
        s.apply(e)
    assert s.running and s.verdict() is None and s.eta_s() is not None
    assert s.best_epoch is not None and s.current_epoch >= 1
