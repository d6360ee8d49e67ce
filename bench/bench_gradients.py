"""Cost of diagnostics.gradient_norms on the lesson's model.

Target: gradient norms add <= 5 % to the epoch time (median ratio <= 1.05).

The seed-mnist model (784 -> 128 relu -> 10 softmax, adam, batch 32) fits
synthetic MNIST-shaped data (20,000 x 784 float32, random labels: the cost is
what matters, not the accuracy) for 2 epochs, with the StreamingCallback and
EarlyStopping exactly as the engine sets them up, gradient norms off and on,
in interleaved pairs so a noisy machine moves both sides alike. An epoch's time
runs from its first hook to its last (the end-of-epoch measurement included).
The whole fit's time is reported too: it also holds the once-per-run cost
(tracing the gradient step and the before-training measurement).

    python bench/bench_gradients.py [--pairs 3] [--samples 20000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

from tui_trainer.engine import native_stderr_to  # noqa: E402

TARGET = 1.05


def make_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Placed last: sees each epoch after every other callback's hooks ran."""

        def __init__(self):
            super().__init__()
            self.epoch_s: list[float] = []
            self.begun = 0.0

        def on_train_begin(self, logs=None):
            self.begun = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_s.append(time.perf_counter() - self._t)

    return EpochTimer()


def one_fit(preset, x, y, gradients: bool, epochs: int):
    """(mean epoch seconds, fit seconds, seconds to train begin, the streaming callback) of one seeded fit."""
    import keras
    import tensorflow as tf

    from tui_trainer.callback import StreamingCallback
    from tui_trainer.model import build_model, compile_model

    keras.backend.clear_session()
    keras.utils.set_random_seed(preset.seed)
    tf.config.experimental.enable_op_determinism()  # as the engine does
    model = build_model(preset, (x.shape[1],), 10)
    compile_model(model, preset)
    bs = preset.training.batch_size
    n_fit = int(len(x) * 0.9)
    early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=100, restore_best_weights=True, verbose=0)
    events = []
    stream = StreamingCallback(events.append, n_fit=n_fit, batch_size=bs, early_stopping=early,
                               grad_batch=(x[:bs], y[:bs]) if gradients else None)
    timer = make_timer()
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=bs, epochs=epochs, validation_split=0.1, verbose=0, shuffle=True,
              callbacks=[early, stream, timer])
    fit_s = time.perf_counter() - t0
    if gradients:
        assert sum(1 for e in events if getattr(e, "grad_norms", None)) == epochs
    return statistics.mean(timer.epoch_s), fit_s, timer.begun - t0, stream


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    from tui_trainer import presets

    preset, _ = presets.load("seed-mnist")
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, args.samples).astype(np.int64)
    print(f"seed-mnist model, {args.samples:,} x 784 synthetic samples, batch {preset.training.batch_size}, "
          f"{args.epochs} epochs, {args.pairs} interleaved pairs, {os.cpu_count()} cores")

    # TensorFlow's native log lines (op determinism prints one per fit) go nowhere, as the engine keeps them
    # off the terminal.
    with native_stderr_to(Path(os.devnull)):
        return run(preset, x, y, args)


def run(preset, x, y, args) -> int:
    one_fit(preset, x, y, gradients=False, epochs=1)  # warm-up: thread pools, first tracing
    epoch_ratios, fit_ratios, once_s, epoch_off, fit_off = [], [], [], [], []
    stream = None
    print(f"{'pair':>4}  {'epoch off s':>11}  {'epoch on s':>10}  {'ratio':>6}  {'fit off s':>9}  {'fit on s':>8}  ratio")
    for i in range(1, args.pairs + 1):
        # alternate which side goes first, so a drifting machine doesn't favour one
        order = (False, True) if i % 2 else (True, False)
        res = {g: one_fit(preset, x, y, gradients=g, epochs=args.epochs) for g in order}
        (e_off, f_off, b_off, _), (e_on, f_on, b_on, stream) = res[False], res[True]
        epoch_ratios.append(e_on / e_off)
        once_s.append(b_on - b_off)
        epoch_off.append(e_off)
        fit_off.append(f_off)
        fit_ratios.append(f_on / f_off)
        print(f"{i:>4}  {e_off:>11.3f}  {e_on:>10.3f}  {e_on / e_off:>6.3f}  {f_off:>9.3f}  {f_on:>8.3f}  "
              f"{f_on / f_off:.3f}", flush=True)

    # The measurement itself, once traced: what every epoch end pays.
    calls = 50
    t0 = time.perf_counter()
    for _ in range(calls):
        stream._grad_fn()
    per_call_ms = (time.perf_counter() - t0) / calls * 1e3

    epoch_ratio = statistics.median(epoch_ratios)
    fit_ratio = statistics.median(fit_ratios)
    print(f"one gradient-norm measurement (traced): {per_call_ms:.2f} ms, "
          f"{per_call_ms / 1e3 / statistics.median(epoch_off) * 100:.3f} % of a median epoch")
    print(f"once per run (trace + the epoch-0 measurement), median: {statistics.median(once_s) * 1e3:.0f} ms")
    # The same ratios built from those parts: immune to what else the machine is doing.
    est_epoch = 1 + per_call_ms / 1e3 / statistics.median(epoch_off)
    est_fit = 1 + (statistics.median(once_s) + args.epochs * per_call_ms / 1e3) / statistics.median(fit_off)
    print(f"from the parts: epoch-time ratio {est_epoch:.4f}, fit-time ratio {est_fit:.3f}")
    print(f"median fit-time ratio (with the once-per-run trace and the epoch-0 measurement): {fit_ratio:.3f}")
    verdict = "PASS" if epoch_ratio <= TARGET else "FAIL"
    print(f"median epoch-time ratio, gradient norms on/off: {epoch_ratio:.3f}  target <= {TARGET:.2f}  {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
