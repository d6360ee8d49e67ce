"""Where `train` spends its time beyond a plain Keras fit, phase by phase.

Runs the bench preset (MNIST-shaped synthetic data, 2 epochs) as a plain fit and through the engine, in
turn, and prints the seconds of each phase of each run:

- ``fit``: the whole ``model.fit`` (validation included), ``test``: ``evaluate`` and predicting outside
  ``fit``, ``results``: the test predictions written, ``save``: ``Model.save`` on the training thread;
- thread CPU of what runs beside training: ``hooks`` (the streaming callback's per-batch hook, in
  Keras's callback threads), ``ckpt-copy`` (variables copied to NumPy on the training thread),
  ``ckpt-writer`` and ``telemetry`` (their own threads, CPU seconds taken from training).

    python bench/bench_phases.py [--samples 60000] [--rounds 3] [--tree /tmp/base]

``--tree``: measure another source tree's engine (e.g. ``git archive main | tar -x -C /tmp/base``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402  (sets TensorFlow's quiet environment first)

SPENT: dict[str, float] = {}
_LOCK = threading.Lock()
_DEPTH = threading.local()


def _add(name: str, seconds: float) -> None:
    with _LOCK:
        SPENT[name] = SPENT.get(name, 0.0) + seconds


def timed(name: str, fn, clock=time.perf_counter, outermost: bool = False):
    """``fn``, its time added under ``name`` (``outermost``: nested calls of timed functions not counted)."""
    def wrapper(*a, **k):
        depth = getattr(_DEPTH, "n", 0)
        _DEPTH.n = depth + 1
        t0 = clock()
        try:
            return fn(*a, **k)
        finally:
            _DEPTH.n = depth
            if not outermost or depth == 0:
                _add(name, clock() - t0)
    return wrapper


def instrument() -> None:
    """Wrap what each phase calls; works on this tree and on older ones (``ab_trees``' before tree)."""
    import keras

    from tui_trainer import callback, checkpoint, engine, results, telemetry

    keras.Model.fit = timed("fit", keras.Model.fit, outermost=True)
    # evaluate inside fit (the validation split) is fit's; outside it, the test split's
    keras.Model.evaluate = timed("test", keras.Model.evaluate, outermost=True)
    results.predict_in_chunks = timed("test", results.predict_in_chunks)  # nested in "results" before
    try:
        from tui_trainer import evaluation

        evaluation._save_results = timed("results", evaluation._save_results)
    except ImportError:
        engine._save_results = timed("results", engine._save_results)
    keras.Model.save = timed("save", keras.Model.save)
    callback.StreamingCallback.on_train_batch_end = timed("hooks", callback.StreamingCallback.on_train_batch_end,
                                                          clock=time.thread_time)
    checkpoint.snapshot = timed("ckpt-copy", checkpoint.snapshot)
    try:
        from tui_trainer import checkpoint_callback

        checkpoint_callback.snapshot = checkpoint.snapshot
    except ImportError:
        pass
    checkpoint.Checkpointer._write_loop = timed("ckpt-writer", checkpoint.Checkpointer._write_loop,
                                                clock=time.thread_time)
    telemetry.Sampler._run = timed("telemetry", telemetry.Sampler._run, clock=time.thread_time)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", type=Path, help="the source tree whose tui_trainer is measured")
    args = parser.parse_args()
    if args.tree:
        sys.path.insert(0, str(args.tree.resolve()))

    from tui_trainer.datasets import load_dataset

    instrument()
    import tui_trainer

    print(f"measuring {Path(tui_trainer.__file__).parent}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        preset = bench.bench_preset(bench.write_npz(tmp_path, args.samples))
        data = load_dataset(preset.data)
        bench.plain_fit(preset, data)  # warm-up: graph tracing, thread pools
        for _ in range(args.rounds):
            for label, go in (("plain ", lambda: bench.plain_fit(preset, data)),
                              ("engine", lambda: bench.engine_fit(preset, data, tmp_path / "runs"))):
                SPENT.clear()
                total = go()
                time.sleep(0.2)  # the writer thread's last file
                phases = "  ".join(f"{k} {v:.3f}" for k, v in sorted(SPENT.items()))
                print(f"{label} {total:6.2f} s   {phases}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
