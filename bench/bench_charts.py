"""Benchmark: how long a batch-loss chart takes to redraw as a run grows.

Not a test (it measures this machine). For 1e3 .. 1e6 batch losses it times
the min-max decimation to the plot's width and the full plotext build of a
figure like ``BatchChart``'s at 100x25, against the target "a redraw takes
<= 20 ms even at 1e6 points"; and, for comparison, plotext handed the raw
series (1e5 points), which is what a chart without decimation would cost.

    python bench/bench_charts.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import plotext as plt

from tui_trainer.decimate import minmax_decimate

WIDTH, HEIGHT = 100, 25
TARGET_MS = 20.0
SIZES = (1_000, 10_000, 100_000, 1_000_000)
STEPS_PER_EPOCH = 1_000


def series(n: int) -> tuple[np.ndarray, np.ndarray]:
    """A loss-like curve with noise and one spike, on a fractional-epoch axis."""
    rng = np.random.default_rng(0)
    i = np.arange(n)
    y = 2.0 * np.exp(-i / max(n / 8, 1)) + 0.05 + np.abs(rng.normal(0, 0.05, n))
    y[n // 3] = 5.0
    x = i // STEPS_PER_EPOCH + (i % STEPS_PER_EPOCH + 1) / STEPS_PER_EPOCH
    return x, y


def build(x, y) -> str:
    plt.clf()
    plt.plotsize(WIDTH, HEIGHT)
    plt.title("loss per batch")
    plt.plot(list(x), list(y), marker="braille")
    return plt.build()


def best_ms(fn, repeat: int) -> float:
    """The median of ``repeat`` runs, in ms (after one warm-up run)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main() -> None:
    print(f"batch chart redraw at {WIDTH}x{HEIGHT}: decimate to {WIDTH} columns, then plotext build")
    print(f"target: decimate + build <= {TARGET_MS:.0f} ms at every size up to 1e6 points\n")
    header = f"{'points':>9} {'kept':>5} {'decimate ms':>12} {'build ms':>9} {'total ms':>9}  result"
    print(header)
    print("-" * len(header))
    failed = False
    for n in SIZES:
        x, y = series(n)
        dx, dy = minmax_decimate(y, WIDTH, x=x)
        assert dy.max() == y.max(), "the spike must survive"
        dec = best_ms(lambda: minmax_decimate(y, WIDTH, x=x), repeat=20)
        bld = best_ms(lambda: build(dx, dy), repeat=20)
        total = dec + bld
        ok = total <= TARGET_MS
        failed |= not ok
        print(f"{n:>9,} {len(dy):>5} {dec:>12.2f} {bld:>9.2f} {total:>9.2f}  {'PASS' if ok else 'FAIL'}")

    # The real widget's path, outside an app (size 0x0, so it uses its 100-column fallback):
    # replot() reads the RunState arrays, decimates, places x on fractional epochs, then build.
    from tui_trainer.events import BatchLosses
    from tui_trainer.runstate import RunState
    from tui_trainer.ui.widgets.charts import BatchChart

    state = RunState()
    _, y = series(1_000_000)
    for e in range(len(y) // STEPS_PER_EPOCH):
        chunk = y[e * STEPS_PER_EPOCH : (e + 1) * STEPS_PER_EPOCH]
        state.apply(
            BatchLosses(epoch=e + 1, first_step=1, losses=tuple(chunk.tolist()), steps_per_epoch=STEPS_PER_EPOCH)
        )
    chart = BatchChart()
    chart.update_from(state)

    def widget_redraw() -> None:
        chart.replot()
        chart.plt.plotsize(WIDTH, HEIGHT)
        chart.plt.build()

    real = best_ms(widget_redraw, repeat=20)
    ok = real <= TARGET_MS and chart.last_point_count <= 2 * WIDTH
    failed |= not ok
    print(
        f"\nBatchChart.replot() + build, 1,000,000 points in a RunState: {real:.2f} ms, "
        f"{chart.last_point_count} points to plotext  {'PASS' if ok else 'FAIL'}"
    )

    n = 100_000
    x, y = series(n)
    raw = best_ms(lambda: build(x, y), repeat=1)
    print(f"\nfor comparison, plotext given all {n:,} points (no decimation): {raw:,.0f} ms")
    print("\nOVERALL:", "FAIL" if failed else "PASS")


if __name__ == "__main__":
    main()
