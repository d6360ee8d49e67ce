"""A 100,000-step TensorBoard log: export to CSV and replay to its verdict, beside TensorBoard's own load.

Targets (issue 22): the log exports to CSV in <= 2 s and replays to its verdict in <= 1 s. The log
is what a PyTorch loop writes: ``train/loss`` every step, ``val/loss`` every 1,000 steps (100 epochs).
Each figure is a fresh process, imports included, as a user meets it; TensorBoard's figure is its
``EventAccumulator`` (keeping every point, ``size_guidance={"scalars": 0}``) on the same file.

    python bench/bench_tensorboard.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_trainer.tbwrite import EventWriter  # noqa: E402

STEPS = 100_000
REPLAY = ("import sys; from pathlib import Path; from tui_trainer.sources import load; from tui_trainer.runs import fold; "
          "s = fold(load(Path(sys.argv[1]), compact=True)); assert s.verdict(), 'no verdict'")
TENSORBOARD = ("import sys; from tensorboard.backend.event_processing.event_accumulator import EventAccumulator; "
               "a = EventAccumulator(sys.argv[1], size_guidance={'scalars': 0}); a.Reload(); "
               "assert len(a.Scalars('train/loss')) == %d" % STEPS)


def write_log(folder: Path, steps: int = STEPS) -> Path:
    with EventWriter(folder, flush_every=10_000) as w:
        for i in range(steps):
            w.scalar("train/loss", 1 / (1 + i / 1000), i)
            if (i + 1) % 1000 == 0:
                w.scalar("val/loss", 0.2 + ((i + 1) // 1000 - 30) ** 2 / 100, i)
    return folder


def timed(cmd: list[str], repeats: int = 3) -> float:
    """The median wall time of ``cmd`` (a fresh process each time)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def figures(record, tmp: Path) -> None:
    """Record the three figures with ``record(name, value, target, met, unit, note)`` (bench/run.py's)."""
    log = write_log(tmp / "tb-100k")
    note = f"{STEPS:,}-step log, 100 epochs; fresh process, imports included"
    csv_s = timed([sys.executable, "-m", "tui_trainer", "export", str(log), "--csv", str(tmp / "tb.csv")])
    record("TensorBoard log (100k steps) to CSV", csv_s, "<= 2 s", csv_s <= 2.0, "s", note)
    replay_s = timed([sys.executable, "-c", REPLAY, str(log)])
    record("TensorBoard log (100k steps) to its verdict", replay_s, "<= 1 s", replay_s <= 1.0, "s", note)
    try:
        tb_s = timed([sys.executable, "-c", TENSORBOARD, str(log)], repeats=1)
    except subprocess.CalledProcessError:
        return  # tensorboard not installed: nothing to set beside ours
    record("  TensorBoard's own EventAccumulator load", tb_s, "report", None, "s", "same file, every point kept")


def main() -> None:
    def record(name, value, target, met, unit="", note=""):
        verdict = {True: "met", False: "MISSED", None: "report"}[met]
        print(f"{name:<44} {value:>8.3f} {unit:<3} target {target:<8} {verdict}  {note}")

    with tempfile.TemporaryDirectory() as tmp:
        figures(record, Path(tmp))


if __name__ == "__main__":
    main()
