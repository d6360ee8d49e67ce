"""Two source trees side by side under the same load: first frame, replay and `runs list`, interleaved.

On a shared machine absolute times move with the neighbours; launching the old and the new tree in turn
puts the same load on both. Make the old tree with e.g. `git archive 058c733 | tar -x -C /tmp/base`.

    python bench/ab_trees.py /tmp/base [.] [--runs 3]
    python bench/ab_trees.py /tmp/base [.] --train 60000 [--runs 4]   # whole-process `train` only

With ``--train``: `tui-trainer train` of the bench preset (MNIST-shaped, 2 epochs) from each tree and a
plain Keras script doing the same work, launched in turn; each tree's time over the plain script's of the
same round, and the after tree's over the before tree's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_runlog import write_log  # noqa: E402
from bench_startup import first_frame_s  # noqa: E402
from run import CHART_MARK, write_runs  # noqa: E402


def command(tree: Path) -> list[str]:
    """`tui-trainer` run from ``tree``'s sources (its launch.main, as the console script does)."""
    code = (f"import sys; sys.path.insert(0, {str(tree)!r}); sys.argv[0] = 'tui-trainer'; "
            "from tui_trainer.launch import main; main()")
    return [sys.executable, "-c", code]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path, nargs="?", default=HERE.parent)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--train", type=int, metavar="SAMPLES", help="only whole-process `train`, on this many samples")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    if args.train:
        return train_case(trees, args.train, args.runs)
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        logs = {n: write_log(tmp_path / f"replay-{n}", n) for n in (100_000, 1_000_000)}
        write_runs(tmp_path / "runs-500", 500)
        # Replays: the time to the verdict; the memory once the charts are drawn as well (a tree that
        # draws the verdict first would otherwise be read before it loads numpy and plotext).
        cases = [("first frame", [], b"Total:", None)] + [
            (f"replay {n:.0e}", ["replay", str(d)], b"All 100 epochs ran", CHART_MARK) for n, d in logs.items()]
        for name, extra, mark, then in cases:
            for i in range(args.runs + 1):  # the first round warms the file cache
                for label, tree in trees.items():
                    os.environ["PYTHONPATH"] = str(tree)
                    peak: dict = {}
                    t = first_frame_s([*command(tree), *extra], tmp, mark=mark, peak=peak, then=then)
                    if i:
                        results.setdefault((name, label), []).append((t, peak["mb"]))
        for i in range(args.runs + 1):
            for label, tree in trees.items():
                t0 = time.perf_counter()
                subprocess.run([*command(tree), "runs", "list", "--runs-dir", str(tmp_path / "runs-500")],
                               env=dict(os.environ, PYTHONPATH=str(tree)), capture_output=True, check=True)
                if i:
                    results.setdefault(("runs list, 500 runs", label), []).append((time.perf_counter() - t0, 0.0))
    for (name, label), values in results.items():
        times = [t for t, _ in values]
        peaks = [m for _, m in values]
        memory = f"  peak {statistics.median(peaks):.0f} MB" if any(peaks) else ""
        print(f"{name:<20} {label:<7} median {statistics.median(times):.3f} s (min {min(times):.3f}){memory}")
    return 0


def train_case(trees: dict[str, Path], samples: int, runs: int) -> int:
    """Whole-process `tui-trainer train` from each tree, and the plain script, in turn (see the docstring)."""
    from run import bench_preset, plain_script, write_npz

    from tui_trainer.spec import save_preset_file

    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        npz = write_npz(tmp_path, samples)
        preset_file = save_preset_file(bench_preset(npz), tmp_path / "bench.toml")
        programs = {"plain": ([sys.executable, str(plain_script(npz, tmp_path))], os.environ.get("PYTHONPATH", ""))}
        for label, tree in trees.items():
            programs[label] = ([*command(tree), "train", str(preset_file), "--runs-dir", str(tmp_path / label)],
                               str(tree))
        for i in range(runs + 1):  # the first round warms the file cache
            for label, (cmd, path) in programs.items():
                t0 = time.perf_counter()
                subprocess.run(cmd, env=dict(os.environ, PYTHONPATH=path), capture_output=True, check=True)
                if i:
                    times.setdefault(label, []).append(time.perf_counter() - t0)
                    print(f"round {i} {label:<7} {times[label][-1]:.2f} s", flush=True)
    plain = times["plain"]
    for label in trees:
        ratios = [t / p for t, p in zip(times[label], plain)]
        print(f"train {label:<7} median {statistics.median(times[label]):.2f} s, over plain: median "
              f"{statistics.median(ratios):.3f}x ({', '.join(f'{r:.3f}' for r in ratios)})")
    ab = [a / b for a, b in zip(times["after"], times["before"])]
    print(f"after / before: median {statistics.median(ab):.3f}x ({', '.join(f'{r:.3f}' for r in ab)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
