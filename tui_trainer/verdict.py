"""Every sentence and number format the user reads, once: the early-stopping verdict, numbers,
percentages and what a gradient ratio means. Shared by the CLI, the console printer, the compare
table, the lessons and the UI.
"""

from __future__ import annotations

import math
from typing import Optional

from .events import EarlyStoppingResult

# The first layer's gradient over the output layer's: below VANISHING the layers near the input
# barely learn ("vanishing"); below HEALTHY they learn slowly ("shrinking"). One threshold for the
# console, the gradients panel and the lesson's reading.
VANISHING_RATIO = 1e-3
HEALTHY_RATIO = 1e-1


def num(value: Optional[float], *, fixed: bool = False, none: str = "n/a") -> str:
    """A number as the product writes it everywhere: 4 significant digits, tiny ones in e-notation.

    Args:
        value: the number (None, NaN and infinities are shown as such).
        fixed: four decimals instead of four significant digits (per-epoch metric columns, which
            line up better that way: ``loss 0.0043  accuracy 1.0000``).
        none: what None reads as.
    """
    if value is None:
        return none
    value = float(value)
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.3e}"
    return f"{value:.4f}" if fixed else f"{value:.4g}"


def sci(value: Optional[float], *, none: str = "n/a") -> str:
    """A ratio or a gradient norm, whose size is the point: ``1.2e-05``."""
    return none if value is None else f"{value:.1e}"


def percent(value: Optional[float], *, none: str = "—", digits: int = 2) -> str:
    """A fraction as a percentage: ``0.98333`` → ``98.33%``."""
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return none
    return f"{100 * value:.{digits}f}%"


def gradient_reading(ratio: Optional[float]) -> str:
    """What a first/last gradient-norm ratio says, in the lesson's words ("" when unknown)."""
    if ratio is None:
        return ""
    if ratio < VANISHING_RATIO:
        return f"Vanishing: layer 1 gets {ratio:.0e} of the output's gradient. Try relu, leaky_relu, elu."
    if ratio < HEALTHY_RATIO:
        return f"Shrinking: layer 1 gets {ratio:.1e} of the output's gradient."
    return f"Healthy: the first layer gets {ratio:.2g}× the output layer's gradient."


def _fmt(value: Optional[float]) -> str:
    return num(value)


def _nan_best(es: Optional[EarlyStoppingResult]) -> bool:
    """Whether the epoch Keras held as best had a NaN (or infinite) value, recorded as None.

    Keras 3 takes the first watched value as its reference whatever it is, and nothing compares
    better than NaN: such an epoch is never called best.
    """
    return es is not None and es.best_epoch is not None and es.best_value is None


def _nan_restore(es: EarlyStoppingResult) -> str:
    return (f"Keras restored the weights of epoch {es.restored_epoch}, whose {es.monitor} was NaN "
            f"(no epoch counts as best)")


def _restore_clause(es: EarlyStoppingResult, last_epoch: int) -> str:
    best = f"{es.monitor} {_fmt(es.best_value)}"
    if es.restored and _nan_best(es):
        return _nan_restore(es)
    if _nan_best(es):
        return f"weights not restored: the model keeps epoch {last_epoch}'s weights ({es.monitor} was NaN)"
    if es.restored:
        return f"weights restored from epoch {es.restored_epoch} ({best})"
    if es.best_epoch is None:
        return f"weights not restored: {es.monitor} was never checked, the model keeps epoch {last_epoch}'s weights"
    if not es.restore_best_weights:
        return (
            f"weights not restored (restore_best_weights is off): the model keeps epoch {last_epoch}'s weights; "
            f"the best was epoch {es.best_epoch} ({best})"
        )
    return f"weights not restored: the model keeps epoch {last_epoch}'s weights"


def verdict(
    es: Optional[EarlyStoppingResult],
    *,
    status: str,
    epochs_run: int,
    epochs_planned: int,
    reason: str = "",
) -> str:
    """One sentence saying how training ended and which weights the model holds.

    Args:
        es: early stopping's facts, or None when early stopping was off.
        status: the run's status (completed, early_stopped, cancelled, failed).
        epochs_run: epochs that ran, counting a partial last one.
        epochs_planned: the ``epochs`` the run was given.
        reason: for a failed run, what went wrong.
    """
    last = epochs_run
    if es is not None and es.whatif:  # a TensorBoard log: say what EarlyStopping would have done
        return whatif_verdict(es, epochs_run)
    if status == "failed":
        head = f"Training failed: {reason}" if "epoch" in reason else f"Training failed at epoch {last}: {reason or 'unknown error'}"
        if es is not None and es.restored and _nan_best(es):
            return f"{head}; {_nan_restore(es)}."
        if es is not None and es.restored:
            return f"{head}; Keras still restored the weights of epoch {es.restored_epoch}."
        return head + "."
    if status == "cancelled":
        head = f"Cancelled by the user at epoch {last}"
        if es is None:
            return f"{head}; the model keeps the weights it had then."
        if es.restored and not _nan_best(es):
            return f"{head}; Keras still restored the weights of epoch {es.restored_epoch} ({es.monitor} {_fmt(es.best_value)})."
        return f"{head}; {_restore_clause(es, last)}."
    if status == "completed" and reason:  # stopped early by a callback that isn't EarlyStopping
        head = f"Stopped at epoch {last} of {epochs_planned}: {reason}"
        if es is None:  # such a callback may restore weights itself (keras-io's EarlyStoppingAtMinLoss does)
            return f"{head}; the model keeps the weights that callback left it (restored or not: not seen here)."
        return f"{head}; {_restore_clause(es, last)}."
    if es is None:
        return f"All {epochs_run} epochs ran (early stopping off); the model keeps the last epoch's weights."
    if es.triggered and es.stopped_epoch is not None:
        if _nan_best(es):
            why = (f"{es.monitor} was NaN at epoch {es.best_epoch}, the first it watched, and Keras counts no later "
                   f"epoch as better than NaN")
        elif es.baseline is not None and es.best_epoch is not None and es.stopped_epoch - es.best_epoch < es.patience:
            why = f"{es.monitor} did not beat the baseline {_fmt(es.baseline)} for {es.patience} epochs"
        else:
            since = es.stopped_epoch - es.best_epoch if es.best_epoch is not None else es.patience
            why = f"{es.monitor} did not improve for {since} epoch{'s' if since != 1 else ''}"
            if es.min_delta:
                why += f" by more than {_fmt(es.min_delta)}"
        return f"Early stopping at epoch {es.stopped_epoch}: {why}; {_restore_clause(es, last)}."
    head = f"All {epochs_run} epochs ran without early stopping"
    if es.restored and not _nan_best(es):
        if es.restored_epoch == last:
            return f"{head}; weights restored from epoch {last}, the last and the best ({es.monitor} {_fmt(es.best_value)})."
        return f"{head}; the best weights were still restored, from epoch {es.restored_epoch} ({es.monitor} {_fmt(es.best_value)})."
    return f"{head}; {_restore_clause(es, last)}."


def whatif_verdict(es: EarlyStoppingResult, epochs_run: int) -> str:
    """The sentence for a log no EarlyStopping watched, saying plainly that it is a what-if."""
    rule = f"EarlyStopping ({es.monitor}, patience {es.patience}, min_delta {num(es.min_delta)})"
    if es.best_epoch is None:
        return f"What-if: this log has no {es.monitor} per epoch, so {rule} could not have watched it ({epochs_run} epochs)."
    best = f"{es.monitor} {num(es.best_value)}"
    if es.triggered and es.stopped_epoch is not None:
        saved = epochs_run - es.stopped_epoch
        tail = f"; the {saved} epoch{'s' if saved != 1 else ''} after it would not have run" if saved > 0 else ""
        restore = f"restored epoch {es.best_epoch} ({best})" if es.restored else f"kept epoch {es.stopped_epoch}'s weights"
        return f"What-if: {rule} would have stopped at epoch {es.stopped_epoch} and {restore}{tail}."
    return (f"What-if: {rule} would not have stopped in these {epochs_run} epochs; "
            f"the best was epoch {es.best_epoch} ({best}).")
