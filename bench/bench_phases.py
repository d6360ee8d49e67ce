"""Where `train` spends its time beyond a plain Keras fit: the fit, evaluate, the results, the model save.

Runs the bench preset (MNIST-shaped synthetic data, 2 epochs) as a plain fit and through the engine, in
turn, and prints the seconds of each phase of each run. Keras's own evaluate calls inside fit (the
validation split) count under "evaluate" too.

    python bench/bench_phases.py [--samples 60000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402  (sets TensorFlow's quiet environment first)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import keras

    from tui_trainer import evaluation
    from tui_trainer.datasets import load_dataset

    spent: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    evaluation._save_results = timed("results", evaluation._save_results)
    keras.Model.fit = timed("fit", keras.Model.fit)
    keras.Model.evaluate = timed("evaluate", keras.Model.evaluate)
    keras.Model.save = timed("save", keras.Model.save)

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        preset = bench.bench_preset(bench.write_npz(tmp_path, args.samples))
        data = load_dataset(preset.data)
        bench.plain_fit(preset, data)  # warm-up: graph tracing, thread pools
        for _ in range(args.rounds):
            for label, go in (("plain ", lambda: bench.plain_fit(preset, data)),
                              ("engine", lambda: bench.engine_fit(preset, data, tmp_path / "runs"))):
                spent.clear()
                total = go()
                phases = "  ".join(f"{k} {v:.3f}" for k, v in sorted(spent.items()))
                print(f"{label} {total:6.2f} s   {phases}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
