"""The early-stopping verdict in words, shared by the CLI and the UI banner."""

from __future__ import annotations

from typing import Optional

from .events import EarlyStoppingResult


def _fmt(value: Optional[float]) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


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
