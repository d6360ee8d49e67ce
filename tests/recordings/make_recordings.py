"""Re-record the event logs the UI tests replay: `python tests/recordings/make_recordings.py`.

Each is a real run of the digits preset, one per way a run can end, so the UI
tests and snapshots are fed what the engine really emits, without training.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

from tui_trainer import presets
from tui_trainer.datasets import load_dataset
from tui_trainer.engine import train
from tui_trainer.events import EpochEnded

HERE = Path(__file__).parent


def record(name: str, preset, **kwargs) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = train(preset, runs_dir=Path(tmp), **kwargs)
        shutil.copy(result.run_dir / "events.jsonl", HERE / f"{name}.jsonl")
        print(f"{name}: {result.status}")


def record_results(name: str, preset) -> None:
    """A run folder without its model: events.jsonl and the results files (predictions.npz, preprocessing.json)."""
    with tempfile.TemporaryDirectory() as tmp:
        result = train(preset, runs_dir=Path(tmp))
        (HERE / name).mkdir(exist_ok=True)
        for f in ("events.jsonl", "predictions.npz", "preprocessing.json"):
            shutil.copy(result.run_dir / f, HERE / name / f)
        print(f"{name}: {result.status}, results saved")


def record_activations() -> None:
    """The digits preset with its hidden layer's activation changed: compare's three-run case (relu is
    ``early_stopped``). Only these: ``python tests/recordings/make_recordings.py activations``."""
    digits, _ = presets.load("digits")
    for activation in ("sigmoid", "tanh"):
        raw = digits.model_dump(mode="json")
        raw["layers"][0]["activation"] = activation
        record(f"act_{activation}", digits.model_validate(raw))


def main() -> None:
    digits, _ = presets.load("digits")
    record("early_stopped", digits)  # fired, weights restored
    record("completed", digits.with_overrides(epochs=6))  # all ran, Keras 3 still restored
    record_results("digits_results", digits.with_overrides(epochs=6))  # a run folder with its test predictions
    raw = digits.model_dump(mode="json")
    raw["early_stopping"]["restore_best_weights"] = False
    record("no_restore", digits.model_validate(raw))  # fired, not restored

    raw = digits.model_dump(mode="json")
    raw["early_stopping"].update(monitor="val_accuracy", patience=3)  # keras-io's usual shape: marks on accuracy
    record("es_val_accuracy", digits.model_validate(raw))

    raw = digits.model_dump(mode="json")
    raw["layers"] = [{"type": "dense", "units": 64, "activation": "sigmoid"}] * 8 + [
        {"type": "dense", "units": 10, "activation": "softmax"}]
    record("sigmoid_x8", digits.model_validate(raw))  # deep sigmoid, for compare: the lesson's bad case

    deep_sigmoid, _ = presets.load("deep-sigmoid")
    record("deep_sigmoid_gradients", deep_sigmoid.with_overrides(epochs=5))  # gradient norms per layer

    cancel = threading.Event()
    record("cancelled", digits, sink=lambda e: isinstance(e, EpochEnded) and e.epoch == 8 and cancel.set(),
           cancel=cancel)

    data = load_dataset(digits.data)
    broken = type(data)(**{**data.__dict__, "x_train": np.where(np.arange(len(data.x_train))[:, None] > 600,
                                                                np.float32(3e38), data.x_train)})
    record("failed", digits.with_overrides(epochs=5), data=broken)


if __name__ == "__main__":
    import sys

    record_activations() if sys.argv[1:] == ["activations"] else main()
