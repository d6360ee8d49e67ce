"""The verdict sentence says what happened and which weights the model holds."""

from __future__ import annotations

from tui_trainer.events import EarlyStoppingResult
from tui_trainer.verdict import verdict


def es(**kw):
    base = dict(monitor="val_loss", mode="min", patience=5, min_delta=0.0, baseline=None, start_from_epoch=0,
                restore_best_weights=True, triggered=False, stopped_epoch=None, best_epoch=4, best_value=0.0812,
                restored=True, restored_epoch=4)
    base.update(kw)
    return EarlyStoppingResult(**base)


def test_fired_and_restored_reads_like_the_issue():
    text = verdict(es(triggered=True, stopped_epoch=9), status="early_stopped", epochs_run=9, epochs_planned=50)
    assert text == ("Early stopping at epoch 9: val_loss did not improve for 5 epochs; "
                    "weights restored from epoch 4 (val_loss 0.0812).")


def test_all_epochs_ran_but_best_weights_restored():
    text = verdict(es(best_epoch=40, restored_epoch=40), status="completed", epochs_run=50, epochs_planned=50)
    assert text.startswith("All 50 epochs ran without early stopping")
    assert "restored, from epoch 40 (val_loss 0.0812)" in text


def test_fired_without_restoring_names_the_kept_epoch():
    text = verdict(es(triggered=True, stopped_epoch=9, restore_best_weights=False, restored=False, restored_epoch=None),
                   status="early_stopped", epochs_run=9, epochs_planned=50)
    assert "Early stopping at epoch 9" in text
    assert "weights not restored" in text and "keeps epoch 9's weights" in text and "best was epoch 4" in text


def test_cancelled_says_what_keras_restored():
    text = verdict(es(best_epoch=3, restored_epoch=3), status="cancelled", epochs_run=6, epochs_planned=50)
    assert text == "Cancelled by the user at epoch 6; Keras still restored the weights of epoch 3 (val_loss 0.0812)."


def test_min_delta_and_baseline_are_explained():
    t = verdict(es(triggered=True, stopped_epoch=9, min_delta=0.01), status="early_stopped", epochs_run=9,
                epochs_planned=50)
    assert "did not improve for 5 epochs by more than 0.01" in t
    t = verdict(es(triggered=True, stopped_epoch=6, best_epoch=5, baseline=0.05), status="early_stopped",
                epochs_run=6, epochs_planned=50)
    assert "did not beat the baseline 0.05 for 5 epochs" in t


def test_failed_and_disabled():
    assert verdict(None, status="failed", epochs_run=2, epochs_planned=5, reason="loss became NaN") == (
        "Training failed at epoch 2: loss became NaN.")
    assert "early stopping off" in verdict(None, status="completed", epochs_run=5, epochs_planned=5)


def test_one_number_format_and_one_vanishing_threshold():
    from tui_trainer.console import ConsolePrinter
    from tui_trainer.events import GradientNorms
    from tui_trainer.ui.widgets.gradients import reading as panel_reading
    from tui_trainer.verdict import VANISHING_RATIO, gradient_reading, num, percent

    assert num(0.0303500499) == "0.03035" and num(1.5e-5) == "1.500e-05" and num(0) == "0"
    assert num(0.00431, fixed=True) == "0.0043" and num(1.0, fixed=True) == "1.0000" and num(None) == "n/a"
    assert percent(0.98329) == "98.33%" and percent(None) == "—"
    # a ratio of 5e-3 reads the same in the CLI and in the app: shrinking, not vanishing
    assert panel_reading is gradient_reading and VANISHING_RATIO == 1e-3
    assert gradient_reading(5e-3).startswith("Shrinking") and gradient_reading(5e-4).startswith("Vanishing")
    import io

    for ratio, vanishing in ((5e-3, False), (5e-4, True)):
        out = io.StringIO()
        ConsolePrinter(out)(GradientNorms(epoch=0, norms=(ratio, 1.0), layers=("dense_1", "dense_2"), samples=32))
        assert ("vanishing toward the input" in out.getvalue()) is vanishing
