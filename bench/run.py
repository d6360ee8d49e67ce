"""Every benchmark figure in one run: `python bench/run.py [--quick]`.

Prints one line per figure (name, measured, target, met?) and writes the same to
bench/results.json. Training figures are ratios of runs interleaved in this one
process, so a noisy shared machine moves both sides alike; none of this is a
timed test in the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

RESULTS: list[dict] = []


def record(name: str, value: float, target: str, met: bool | None, unit: str = "", note: str = "") -> None:
    row = {"figure": name, "value": round(value, 4), "unit": unit, "target": target,
           "met": met, "note": note}
    RESULTS.append(row)
    verdict = {True: "met", False: "MISSED", None: "report"}[met]
    print(f"{name:<44} {value:>10.3f} {unit:<6} target {target:<10} {verdict}  {note}", flush=True)


# --- training overhead ------------------------------------------------------------------------------


def synthetic_mnist(n: int):
    """MNIST-shaped data: n x 28 x 28 uint8 images, labels 0..9 (random: the cost is what matters)."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.int64)


def write_npz(folder: Path, n: int) -> Path:
    x, y = synthetic_mnist(n)
    xt, yt = synthetic_mnist(max(n // 6, 100))
    path = folder / "mnist-synthetic.npz"
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    return path


def bench_preset(npz: Path, epochs: int = 2, gradients: bool = False):
    from tui_trainer import presets

    seed_mnist, _ = presets.load("seed-mnist")
    raw = seed_mnist.model_dump(mode="json")
    raw["data"]["path"] = str(npz)
    raw["training"]["epochs"] = epochs
    raw["early_stopping"]["patience"] = 100  # the same epochs on every run
    if gradients:
        raw.setdefault("diagnostics", {})["gradient_norms"] = True
    return seed_mnist.model_validate(raw)


def plain_fit(preset, data, monitor_runs: Path | None = None) -> float:
    """What the engine does, minus the monitor: same seeding, model, callbacks, evaluate and save.

    With ``monitor_runs``, the same plain script with ``tui_trainer.Monitor()`` added to its
    callbacks, recording into that folder: what the Monitor costs a user's own script.
    TensorFlow's native log lines go to a file, as the engine sends them to the run's stderr.log.
    """
    from tui_trainer.engine import native_stderr_to

    with tempfile.TemporaryDirectory() as tmp, native_stderr_to(Path(tmp) / "stderr.log"):
        return _plain_fit(preset, data, monitor_runs)


def _plain_fit(preset, data, monitor_runs: Path | None = None) -> float:
    import keras
    import tensorflow as tf

    from tui_trainer.model import build_model, compile_model

    t0 = time.perf_counter()
    keras.backend.clear_session()
    keras.utils.set_random_seed(preset.seed)
    tf.config.experimental.enable_op_determinism()
    model = build_model(preset, data.input_shape, data.num_classes)
    compile_model(model, preset)
    es = preset.early_stopping
    early = keras.callbacks.EarlyStopping(monitor=es.monitor, patience=es.patience, min_delta=es.min_delta,
                                          restore_best_weights=es.restore_best_weights, verbose=0)
    callbacks = [early]
    if monitor_runs is not None:
        from tui_trainer import Monitor

        callbacks.append(Monitor(name="bench-script", runs_dir=monitor_runs))
    model.fit(data.x_train, data.y_train, batch_size=preset.training.batch_size, epochs=preset.training.epochs,
              validation_split=preset.data.validation_split, callbacks=callbacks, verbose=0, shuffle=True)
    model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp) / "model.keras")
    return time.perf_counter() - t0


def engine_fit(preset, data, runs: Path) -> float:
    from tui_trainer.engine import train

    t0 = time.perf_counter()
    train(preset, runs_dir=runs, data=data)
    return time.perf_counter() - t0


def app_fit(preset, runs: Path) -> float:
    """The engine inside the app's training worker, charts redrawing, under App.run_test().

    Timed by the engine's own clock (train() entry to RunFinished), which runs in the worker
    while the UI draws: what the app costs the training. Building the monitor screen when `t`
    is pressed is start-up, not training, and is not counted.
    """
    from tui_trainer.ui.app import TrainerApp

    result = {}

    async def main():
        app = TrainerApp(preset, None, runs)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("t")
            ui_cpu = time.thread_time()  # this (the UI's) thread only: what it takes from training
            # Wait on the worker, not by polling with pilot.pause(): each pause forces a full
            # screen refresh, 20 a second, which would be the harness's cost, not the app's.
            await app.workers.wait_for_complete()
            UI_CPU.append(time.thread_time() - ui_cpu)
            await pilot.pause()
            assert app.last_result is not None, app.monitor.error
            result["s"] = app.last_result.summary.wall_time_s
            assert app.monitor.state.status in ("completed", "early_stopped"), app.monitor.error

    asyncio.run(main())
    return result["s"]


UI_CPU: list[float] = []  # UI-thread CPU seconds of each app_fit


def median_ratio(pairs: list[tuple[float, float]]) -> float:
    return statistics.median(b / a for a, b in pairs)


def spread(pairs: list[tuple[float, float]]) -> str:
    ratios = sorted(b / a for a, b in pairs)
    return f"ratios {', '.join(f'{r:.3f}' for r in ratios)}"


def training_figures(quick: bool, tmp: Path) -> None:
    from tui_trainer.datasets import load_dataset
    from tui_trainer.spec import Preset

    n = 20_000 if quick else 60_000
    repeats = 2 if quick else 3
    npz = write_npz(tmp, n)
    preset = bench_preset(npz)
    data = load_dataset(preset.data)  # cached: the app's worker gets the same arrays
    runs = tmp / "runs"
    plain_fit(preset, data)  # warm-up: graph tracing, thread pools
    pairs_engine, pairs_app, pairs_grad, pairs_script = [], [], [], []
    has_gradients = "diagnostics" in Preset.model_fields
    grad_preset = bench_preset(npz, gradients=True) if has_gradients else None
    for _ in range(repeats):
        base = plain_fit(preset, data)
        pairs_engine.append((base, engine_fit(preset, data, runs)))
        base = plain_fit(preset, data)
        pairs_app.append((base, app_fit(preset, runs)))
        base = plain_fit(preset, data)
        pairs_script.append((base, plain_fit(preset, data, monitor_runs=tmp / "script-runs")))
        if grad_preset is not None:
            base = engine_fit(preset, data, runs)
            pairs_grad.append((base, engine_fit(grad_preset, data, runs)))
    note = f"{n:,} samples, 2 epochs, batch 32, {repeats} interleaved pairs"
    r = median_ratio(pairs_engine)
    record("training overhead of the monitor", r, "<= 1.03", r <= 1.03, "x", note)
    r = median_ratio(pairs_app)
    # Wall clock on a small box: the UI and training threads hand the GIL back and forth, and which one the
    # scheduler wakes first is noise (pairs 0.84-1.65 were seen). The UI thread's own CPU is the app's cost.
    record("overhead with the app attached", r, "report", None, "x",
           f"{note}; {spread(pairs_app)}; wall clock, GIL and scheduler noise included: the UI-thread CPU "
           "figure below is the app's own cost")
    share = statistics.median(c / b for c, (_, b) in zip(UI_CPU, pairs_app)) * 100
    record("UI thread CPU while training", share, "<= 3 %", share <= 3, "%",
           "of the training time, median; the app's cost to training, without the machine's noise")
    r = median_ratio(pairs_script)
    record("Monitor() in your own script", r, "<= 1.03", r <= 1.03, "x",
           note + " (a plain Keras fit with and without the callback)")
    if pairs_grad:
        r = median_ratio(pairs_grad)
        record("gradient-norm diagnostics overhead", r, "<= 1.05", r <= 1.05, "x", note + " (engine vs engine)")
    run_dirs = sorted(p for p in runs.iterdir() if p.is_dir())
    size = (run_dirs[-1] / "events.jsonl").stat().st_size
    from tui_trainer.events import BatchLosses
    from tui_trainer.runlog import iter_events

    batches = sum(len(e.losses) for e in iter_events(run_dirs[-1] / "events.jsonl") if isinstance(e, BatchLosses))
    record("run log size", size / batches, "report", None, "B/batch", f"{batches:,} batch records, whole log")
    end_to_end(npz, preset, tmp, repeats)
    hook_figures(quick)


def end_to_end(npz: Path, preset, tmp: Path, repeats: int) -> None:
    """`tui-trainer train` against a plain Keras script doing the same work, both importing TensorFlow."""
    from tui_trainer.spec import save_preset_file

    preset_file = save_preset_file(preset, tmp / "bench.toml")
    script = plain_script(npz, tmp)
    from bench_startup import tui_trainer_command

    ours = tui_trainer_command()
    pairs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(script)], check=True, capture_output=True)
        plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([*ours, "train", str(preset_file), "--runs-dir", str(tmp / "e2e")], check=True,
                       capture_output=True)
        pairs.append((plain, time.perf_counter() - t0))
    r = median_ratio(pairs)
    record("end-to-end `tui-trainer train`", r, "<= 1.05", r <= 1.05, "x",
           f"vs a plain Keras script, {repeats} interleaved pairs, TF import included; {spread(pairs)}")


def plain_script(npz: Path, tmp: Path) -> Path:
    """A plain Keras script doing what `train` does with the bench preset (fit, evaluate, save)."""
    script = tmp / "plain.py"
    script.write_text(textwrap.dedent(f"""
        import os
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import numpy as np, keras, tensorflow as tf
        d = np.load({str(npz)!r})
        x = d["x_train"].reshape(len(d["x_train"]), -1).astype("float32") / 255.0
        xt = d["x_test"].reshape(len(d["x_test"]), -1).astype("float32") / 255.0
        keras.utils.set_random_seed(42)
        tf.config.experimental.enable_op_determinism()
        model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(0.001), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        es = keras.callbacks.EarlyStopping(monitor="val_loss", patience=100, restore_best_weights=True)
        model.fit(x, d["y_train"], batch_size=32, epochs=2, validation_split=0.1, callbacks=[es], verbose=0)
        print(model.evaluate(xt, d["y_test"], verbose=0))
        model.save({str(tmp / "plain.keras")!r})
    """))
    return script


def hook_figures(quick: bool) -> None:
    """The Monitor's per-batch hook, on a tiny model whose steps are as short as they get (thread CPU and
    wall time per call, each stride), and a fast-stepping fit with the Monitor over the same fit without."""
    import keras

    from tui_trainer.callback import StreamingCallback

    rng = np.random.default_rng(0)
    n = 10_000 if quick else 40_000
    x, y = rng.normal(size=(n, 16)).astype("float32"), rng.integers(0, 3, n)
    spent = {"cpu": 0, "wall": 0, "calls": 0}
    original = StreamingCallback.on_train_batch_end

    def timed(self, batch, logs=None):
        c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
        try:
            return original(self, batch, logs)
        finally:
            spent["cpu"] += time.thread_time_ns() - c0
            spent["wall"] += time.perf_counter_ns() - w0
            spent["calls"] += 1

    def one_fit(callbacks) -> float:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=callbacks)
        return time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        from tui_trainer import Monitor

        one_fit([])  # warm-up
        StreamingCallback.on_train_batch_end = timed
        try:
            for stride in (1, 10):
                spent.update(cpu=0, wall=0, calls=0)
                one_fit([Monitor(runs_dir=tmp, name="hook", save_model=False, batch_stride=stride)])
                record(f"Monitor per-batch hook, batch_stride {stride}", spent["cpu"] / 1e3 / spent["calls"],
                       "report", None, "us",
                       f"thread CPU per call ({spent['wall'] / 1e3 / spent['calls']:.1f} us wall), "
                       f"{spent['calls']:,} steps of a 16-3 Dense model, batch 8, on {os.cpu_count()} cores")
        finally:
            StreamingCallback.on_train_batch_end = original
        pairs = []
        for _ in range(2 if quick else 3):
            base = one_fit([])
            pairs.append((base, one_fit([Monitor(runs_dir=tmp, name="hook", save_model=False)])))
        r = median_ratio(pairs)
        record("Monitor on a fast-stepping fit", r, "report", None, "x",
               f"{n * 2 // 8:,} steps of ~{pairs[0][0] / (n * 2 / 8) * 1e6:.0f} us each; {spread(pairs)}; "
               "batch_stride 10 or 0 for steps this short")


# --- UI figures ----------------------------------------------------------------------------------


BARE_TEXTUAL_APP = """
from textual.app import App
from textual.widgets import Static


class Bare(App):
    def compose(self):
        yield Static("Total: 0 parameters")


Bare().run()
"""


CHART_MARK = b"per epoch"  # the epoch chart's title, "loss per epoch"


def compile_package() -> None:
    """Byte-compile tui_trainer, as installing a wheel does: a checkout run with PYTHONDONTWRITEBYTECODE
    (set on some CI machines) would otherwise compile every module at every launch."""
    import compileall

    compileall.compile_dir(str(HERE.parent / "tui_trainer"), quiet=1)


def ui_figures(quick: bool, tmp: Path) -> None:
    from bench_charts import best_ms, build, series
    from bench_runlog import write_log
    from bench_startup import first_frame_s, tui_trainer_command

    from tui_trainer.decimate import minmax_decimate

    cmd = tui_trainer_command()
    launches = 3 if quick else 5
    compile_package()
    # The floor, launched in turn with the app so the machine's noise falls on both alike: the
    # smallest Textual app that draws one line, on the same interpreter.
    bare = tmp / "bare_textual.py"
    bare.write_text(BARE_TEXTUAL_APP)
    bare_cmd = [sys.executable, str(bare)]
    first_frame_s(cmd, str(tmp))
    first_frame_s(bare_cmd, str(tmp))
    ours, floor = [], []
    for _ in range(launches):
        ours.append(first_frame_s(cmd, str(tmp)))
        floor.append(first_frame_s(bare_cmd, str(tmp)))
    t, f = statistics.median(ours), statistics.median(floor)
    record("first frame of the app", t, "<= 0.35 s", t <= 0.35, "s",
           f"median of {launches} launches in a pty (min {min(ours):.3f}); the builder with its parameter count")
    record("first frame of a bare Textual app", f, "report", None, "s",
           f"the floor on this machine: one Static, same pty, launched in turn (min {min(floor):.3f})")
    record("first frame over the bare Textual app", t - f, "report", None, "s",
           "what tui-trainer adds: pydantic and the preset, its modules, the builder's widgets")

    for n, target in ((100_000, 0.4), (1_000_000, 0.8)):
        big = write_log(tmp / f"replay-{n}", n)
        replay_cmd = [*cmd, "replay", str(big)]
        first_frame_s(replay_cmd, str(tmp), mark=b"All 100 epochs ran")
        times, peaks, charts = [], [], []
        for _ in range(launches):
            peak: dict = {}
            times.append(first_frame_s(replay_cmd, str(tmp), mark=b"All 100 epochs ran", peak=peak,
                                       then=CHART_MARK))
            peaks.append(peak["mb"])
            charts.append(peak["then_s"])
        t = statistics.median(times)
        record(f"replay --speed 0 to its verdict ({n:.0e} batches)", t, f"<= {target} s", t <= target, "s",
               f"process start to the verdict drawn, median of {launches} (min {min(times):.3f})")
        c = statistics.median(charts)
        record(f"replay --speed 0 to its charts ({n:.0e} batches)", c, "report", None, "s",
               "process start to the loss chart drawn (it follows the verdict: numpy and plotext load after it)")
        if n == 1_000_000:
            mb = statistics.median(peaks)
            record("replay peak memory (1e6 batches)", mb, "<= 90 MB", mb <= 90, "MB",
                   "VmHWM of the process once its charts are drawn")
    size = (big / "events.jsonl").stat().st_size
    record("run log size (synthetic 1e6 run)", size / 1e6, "report", None, "B/batch", "chunks of 200 losses")

    for n in (1_000, 10_000, 100_000, 1_000_000):
        x, y = series(n)
        ms = best_ms(lambda: build(*minmax_decimate(y, 100, x=x)), repeat=5)
        record(f"chart redraw, {n:,} points", ms, "<= 20 ms", ms <= 20, "ms",
               "decimate + plotext build at 100x25")
    if not quick:
        x, y = series(100_000)
        ms = best_ms(lambda: build(x, y), repeat=1)
        record("plain plotext figure, 100,000 points", ms, "report", None, "ms", "no decimation, for comparison")
    memory_figure()
    runs_figures(tmp, cmd, launches)


def write_runs(root: Path, n: int) -> None:
    """n finished run folders, each with a summary.json and a 1,000-batch events.jsonl (never read)."""
    batch = json.dumps({"event": "batches", "epoch": 1, "first_step": 1, "losses": [0.5] * 200,
                        "steps_per_epoch": 1000}) + "\n"
    for i in range(n):
        d = root / f"20260101-{i:06d}-digits"
        d.mkdir(parents=True)
        (d / "events.jsonl").write_text(batch * 5)
        (d / "summary.json").write_text(json.dumps({
            "run_id": d.name, "preset": "digits", "status": "early_stopped", "epochs_run": 33, "stopped_epoch": 33,
            "best_epoch": 28, "best_value": 0.0303, "monitor": "val_loss", "test_metrics": {"accuracy": 0.98},
            "started_at": "2026-01-01T00:00:00+00:00"}, indent=2))


def runs_figures(tmp: Path, cmd: list[str], launches: int) -> None:
    """`runs list` and the app's runs screen over 500 run folders."""
    root = tmp / "runs-500"
    write_runs(root, 500)
    times = []
    for _ in range(launches + 1):
        t0 = time.perf_counter()
        subprocess.run([*cmd, "runs", "list", "--runs-dir", str(root)], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    t = statistics.median(times[1:])
    record("`runs list`, 500 runs", t, "<= 0.3 s", t <= 0.3, "s",
           f"whole process, median of {launches}; typer and its pydantic import included")
    from tui_trainer.runs import find_runs

    find_runs(root)
    t0 = time.perf_counter()
    assert len(find_runs(root)) == 500
    record("reading 500 run summaries", time.perf_counter() - t0, "report", None, "s", "find_runs, in process")

    from tui_trainer.ui.screens.runs import RunsScreen
    from tui_trainer.ui.viewer import ReplayApp

    out = {}

    async def main():
        app = ReplayApp(Path("bench"), [], speed=0)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.2)
            t0 = time.perf_counter()
            screen = RunsScreen(root)
            app.push_screen(screen)
            table = None
            blocked = 0.0
            # Poll with asyncio.sleep, not pilot.pause(0): each pause forces a screen refresh, and a
            # loop of them starves the thread worker's call_from_thread (measured: no rows in 20 s).
            # A sleep that returns late is the time the UI was busy.
            while (table is None or table.row_count < 500) and time.perf_counter() - t0 < 30:
                t1 = time.perf_counter()
                await asyncio.sleep(0.002)
                blocked = max(blocked, time.perf_counter() - t1 - 0.002)
                if table is None and screen.is_mounted:
                    table = screen.query_one("#runs-table")
                if table is not None and table.row_count and "shown" not in out:
                    out["shown"] = time.perf_counter() - t0
            out["s"], out["blocked"] = time.perf_counter() - t0, blocked

    asyncio.run(main())
    workspace_poll_figure(root)
    record("runs screen shows 500 runs", out["shown"], "<= 0.3 s", out["shown"] <= 0.3, "s",
           f"push to the first screenful of rows (list read in a thread worker); all 500 rows in {out['s']:.3f} s; "
           f"longest UI stall {out['blocked'] * 1000:.0f} ms")


def workspace_poll_figure(root: Path, live: int = 3, ticks: int = 50) -> None:
    """The workspace's once-a-second look at 500 runs, ``live`` of them written meanwhile (an epoch a tick)."""
    import dataclasses
    import socket

    from tui_trainer.events import EpochEnded
    from tui_trainer.runlog import RunLogWriter, iter_events, now_iso
    from tui_trainer.workspace import Workspace

    events = list(iter_events(HERE.parent / "tests" / "recordings" / "early_stopped.jsonl"))
    events[0] = dataclasses.replace(events[0], host=socket.gethostname(), pid=os.getpid(), started_at=now_iso())
    ends = [i for i, e in enumerate(events) if isinstance(e, EpochEnded)]
    writers = []
    for k in range(live):
        d = root / f"20300101-00000{k}-live"
        d.mkdir()
        writers.append(RunLogWriter(d))
        for e in events[:ends[0] + 1]:
            writers[-1](e)
    ws = Workspace(root)
    ws.load()
    idle, busy = [], []
    for t in range(1, min(ticks, len(ends) - 1)):
        t0 = time.perf_counter()
        ws.poll()
        idle.append(time.perf_counter() - t0)
        for w in writers:  # each live run writes its next epoch (batches and all)
            for e in events[ends[t - 1] + 1:ends[t] + 1]:
                w(e)
        t0 = time.perf_counter()
        changes = ws.poll()
        busy.append(time.perf_counter() - t0)
        assert len(changes.changed) == live
    for w in writers:
        w.close()
    ms = statistics.median(busy) * 1000
    record("workspace poll, 500 runs, 3 live", ms, "<= 10 ms", ms <= 10, "ms",
           f"a tick that reads an epoch of 3 live runs (median of {len(busy)}); a tick with nothing new "
           f"{statistics.median(idle) * 1000:.2f} ms; finished runs are only stat'ed")


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def memory_figure() -> None:
    """The app's resident memory after streaming 1e6 batch losses through its event path."""
    from tui_trainer.events import BatchLosses, EpochEnded, RunStarted
    from tui_trainer.ui.viewer import ReplayApp

    out = {}

    async def main():
        app = ReplayApp(Path("bench"), [], speed=0)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.3)
            app.monitor.refresh_view(force=True)
            await pilot.pause(0.3)
            before = rss_mb()
            steps = 10_000
            app.handle_event(RunStarted(run_id="m", run_dir="-", preset_name="m", preset={}, seed=0, device="CPU",
                                        dataset="-", data_source="-", n_train=1, n_val=0, n_test=0,
                                        input_shape=(1,), num_classes=2, layers=(), params_total=0, epochs=100,
                                        batch_size=32, steps_per_epoch=steps, monitor=None, patience=None,
                                        started_at="-"))
            rng = np.random.default_rng(0)
            for epoch in range(1, 101):
                for first in range(1, steps + 1, 100):
                    app.handle_event(BatchLosses(epoch=epoch, first_step=first,
                                                 losses=tuple(rng.random(100).tolist()), steps_per_epoch=steps))
                app.handle_event(EpochEnded(epoch=epoch, metrics={"loss": 1.0, "val_loss": 1.0}, duration_s=1,
                                            elapsed_s=epoch))
                await pilot.pause(0)  # let the redraw timer run, as it would live
            await pilot.pause(0.5)
            out["delta"] = rss_mb() - before

    asyncio.run(main())
    record("memory after 1e6 batch events", out["delta"], "<= +60 MB", out["delta"] <= 60, "MB", "app RSS delta")


def main() -> int:
    parser = argparse.ArgumentParser(description="Run every benchmark and write bench/results.json.")
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer repeats (a few minutes)")
    parser.add_argument("--only", choices=["training", "ui", "runs", "hook"],
                        help="run one group (runs: the runs screen's; hook: the per-batch hook's)")
    args = parser.parse_args()
    started = time.time()
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    with tempfile.TemporaryDirectory() as tmp:
        if args.only == "runs":
            from bench_startup import tui_trainer_command

            runs_figures(Path(tmp), tui_trainer_command(), 3 if args.quick else 5)
        if args.only in (None, "ui"):
            ui_figures(args.quick, Path(tmp))
            __import__("bench_tensorboard").figures(record, Path(tmp))  # TensorBoard logs in: export, replay
        if args.only in (None, "training"):
            training_figures(args.quick, Path(tmp))
        if args.only == "hook":  # the hook figures alone (they also close the training group)
            hook_figures(args.quick)
    figures = RESULTS
    results_file = HERE / "results.json"
    if args.only and results_file.exists():  # one group re-run: keep the other group's figures
        ours = {r["figure"] for r in RESULTS}
        kept = [r for r in json.loads(results_file.read_text()).get("figures", []) if r["figure"] not in ours]
        figures = kept + RESULTS
    out = {"machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
           "quick": args.quick, "seconds": round(time.time() - started), "figures": figures}
    results_file.write_text(json.dumps(out, indent=2) + "\n")
    missed = [r["figure"] for r in RESULTS if r["met"] is False]
    print(f"\n{len(RESULTS)} figures in {time.time() - started:.0f} s; missed: {', '.join(missed) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
