"""What Keras's EarlyStopping *would* have done on a curve it never watched (a TensorBoard log from
any framework): a pure function over the values, following Keras 3's ``on_epoch_end`` step for
step. The sentence that says it is a what-if is :func:`tui_trainer.verdict.whatif_verdict`, with
every other sentence the user reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

from .events import EarlyStoppingResult

DEFAULT_MONITOR, DEFAULT_PATIENCE, DEFAULT_MIN_DELTA = "val_loss", 5, 0.0
_MAX_WORDS = ("acc", "auc", "precision", "recall", "f1", "iou", "top_k", "map")


def mode_for(metric: str) -> str:
    """``max`` for metrics that grow when the model improves (accuracy, AUC, F1...), else ``min``."""
    name = metric.lower()
    return "max" if any(w in name for w in _MAX_WORDS) and "loss" not in name else "min"


@dataclass(frozen=True)
class EpochState:
    """EarlyStopping's state after one epoch, as our callback records it (epochs from 1)."""

    best_epoch: Optional[int]
    best_value: Optional[float]
    wait: Optional[int]


def what_if(values: Sequence[Optional[float]], *, monitor: str = DEFAULT_MONITOR, patience: int = DEFAULT_PATIENCE,
            min_delta: float = DEFAULT_MIN_DELTA, mode: Optional[str] = None,
            restore_best_weights: bool = True) -> tuple[EarlyStoppingResult, list[EpochState]]:
    """Run Keras 3's EarlyStopping rule over ``values`` (epoch 1 first; None where the epoch has no value).

    Returns:
        The final result (``whatif=True``; ``stopped_epoch`` where it would have fired, counted from 1)
        and the state after each epoch up to the stop (the marks drawn while a curve streams in).
    """
    mode = mode or mode_for(monitor)
    d = abs(min_delta)  # as Keras 3: an improvement must beat the best by more than min_delta
    better = (lambda a, b: a + d < b) if mode == "min" else (lambda a, b: a - d > b)
    best = math.inf if mode == "min" else -math.inf  # as Keras's initial best: a NaN first value isn't best
    best_epoch, wait, stopped = None, 0, None
    states: list[EpochState] = []
    for i, value in enumerate(values):
        if value is None:  # Keras warns and skips an epoch whose logs lack the monitor
            states.append(EpochState(best_epoch, _finite(best), wait if best_epoch else None))
            continue
        wait += 1
        if better(value, best):  # NaN never compares better, as in Keras
            best, best_epoch, wait = value, i + 1, 0
        elif wait >= patience and i > 0:
            stopped = i + 1
        states.append(EpochState(best_epoch, _finite(best), wait))
        if stopped:
            break
    result = EarlyStoppingResult(
        monitor=monitor, mode=mode, patience=patience, min_delta=min_delta, baseline=None, start_from_epoch=0,
        restore_best_weights=restore_best_weights, triggered=stopped is not None, stopped_epoch=stopped,
        best_epoch=best_epoch, best_value=_finite(best) if best_epoch else None,
        restored=restore_best_weights and best_epoch is not None, restored_epoch=best_epoch if restore_best_weights else None,
        whatif=True)
    return result, states


def _finite(value: Optional[float]) -> Optional[float]:
    return value if value is not None and math.isfinite(value) else None
