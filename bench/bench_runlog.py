"""Run-log load time for replay: read events.jsonl and fold it into a RunState.

Target (issue 4): a run with 1,000,000 batch records loads in <= 1 s.
Logs are written the way the engine writes them: batch losses in chunks of
about a tenth of a second of training (here 200 batches a chunk), one epoch
event per epoch.

    python bench/bench_runlog.py
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_trainer.events import BatchLosses, EpochEnded, RunFinished, RunStarted  # noqa: E402
from tui_trainer.runlog import RunLogWriter, load_run  # noqa: E402
from tui_trainer.runstate import RunState  # noqa: E402
from tui_trainer.spec import loads_preset  # noqa: E402

TARGET_S = 1.0
CHUNK = 200
PRESET = loads_preset('name = "bench"\n[[layers]]\ntype = "dense"\nunits = 10\nactivation = "softmax"')


def write_log(folder: Path, batches: int) -> Path:
    epochs = 100 if batches >= 10_000 else 10
    steps = batches // epochs
    folder.mkdir(parents=True)
    log = RunLogWriter(folder, PRESET)
    log(RunStarted(run_id="bench", run_dir=str(folder), preset_name="bench", preset=PRESET.model_dump(mode="json"),
                   seed=0, device="CPU", dataset="synthetic", data_source="-", n_train=steps * 32, n_val=0, n_test=0,
                   input_shape=(784,), num_classes=10, layers=(), params_total=0, epochs=epochs, batch_size=32,
                   steps_per_epoch=steps, monitor="val_loss", patience=5, started_at="2026-01-01T00:00:00"))
    rng = random.Random(0)
    elapsed = 0.0
    for epoch in range(1, epochs + 1):
        for first in range(1, steps + 1, CHUNK):
            n = min(CHUNK, steps - first + 1)
            log(BatchLosses(epoch=epoch, first_step=first,
                            losses=tuple(float(f"{rng.random():.6g}") for _ in range(n)), steps_per_epoch=steps))
        elapsed += 1.0
        log(EpochEnded(epoch=epoch, metrics={"loss": 0.5, "val_loss": 0.6}, duration_s=1.0, elapsed_s=elapsed))
    log(RunFinished(status="completed", epochs_run=epochs, test_metrics={}, wall_time_s=elapsed))
    log.close()
    return folder


def main() -> int:
    ok = True
    print(f"{'batches':>10}  {'file MB':>8}  {'load+fold s':>11}  target")
    with tempfile.TemporaryDirectory() as tmp:
        for batches in (1_000, 10_000, 100_000, 1_000_000):
            folder = write_log(Path(tmp) / f"run{batches}", batches)
            size = (folder / "events.jsonl").stat().st_size / 1e6
            best = float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                run = load_run(folder)
                state = RunState(live=False)
                for e in run.events:
                    state.apply(e)
                best = min(best, time.perf_counter() - t0)
            assert len(state.batch_losses) == batches
            passed = best <= TARGET_S
            ok &= passed
            print(f"{batches:>10,}  {size:>8.1f}  {best:>11.3f}  <= {TARGET_S} s {'PASS' if passed else 'FAIL'}")
    print("redraw at 1e6 points: see bench/bench_charts.py")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
