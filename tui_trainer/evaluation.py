"""The test split after a fit: its metrics and the predictions `tui-trainer results` reads, from one pass.

``model.evaluate`` and then predicting would run the model over the test split twice; the model's
outputs give both. Imported by the engine once training has ended.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .events import Event, Note
from .text import one_line

if TYPE_CHECKING:
    from .datasets import Dataset
    from .spec import Preset

Sink = Callable[[Event], None]


def test_split(model, preset: "Preset", data: "Dataset", run_dir: Path, emit: Sink, one_pass: bool) -> dict[str, float]:
    """The test metrics, and the test predictions saved for `tui-trainer results` (never failing a run).

    One forward pass over the test split gives both (``model.evaluate`` and then predicting would run
    the model twice); under a tf.distribute strategy, whose metric variables live on its replicas,
    ``evaluate`` does the metrics.
    """
    from .results import predict_in_chunks

    bs = max(preset.training.batch_size, 256)
    outputs = None
    if one_pass and len(data.x_test):
        outputs = predict_in_chunks(model, data.x_test, bs)
        test_metrics = metrics_of(model, data.y_test, outputs)
    else:
        results = model.evaluate(data.x_test, data.y_test, batch_size=bs, verbose=0, return_dict=True)
        test_metrics = {k: float(v) for k, v in results.items()}
    _save_results(model, data, preset, run_dir, emit, outputs)
    return test_metrics


def metrics_of(model, y, outputs) -> dict[str, float]:
    """What ``model.evaluate`` returns (the compiled loss, regularisation included, and metrics), computed
    from the model's ``outputs`` for the inputs whose targets are ``y``, without running the model again."""
    import keras

    y_true, y_pred = keras.ops.convert_to_tensor(y), keras.ops.convert_to_tensor(outputs)
    model.reset_metrics()
    loss = model.compute_loss(y=y_true, y_pred=y_pred, training=False)
    values = {k: float(v) for k, v in model.compute_metrics(None, y_true, y_pred, sample_weight=None).items()}
    values["loss"] = float(loss)
    model.reset_metrics()
    return values


def _save_results(model, data: "Dataset", preset: "Preset", run_dir: Path, emit: Sink, outputs=None) -> None:
    """The test predictions `tui-trainer results` and `predict` read (results.py); never fails a run."""
    from .results import save_predictions

    try:
        save_predictions(model, data, preset, run_dir, outputs=outputs)
    except Exception as exc:
        emit(Note(message=f"test predictions not saved ({one_line(exc)}); "
                          "`tui-trainer results` recomputes them from the model"))
