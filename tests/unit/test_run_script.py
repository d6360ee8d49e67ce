"""``tui-trainer run SCRIPT``: an unmodified script, a Monitor on each of its fits, its output kept."""

from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tui_trainer.runlog import load_run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TWO_FITS = textwrap.dedent("""
    import sys
    print("hello from the script", sys.argv[1:])
    import numpy as np
    import keras
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    es = keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    model.fit(x, y, epochs=3, batch_size=32, validation_split=0.1, callbacks=[es], verbose=1)
    from tui_trainer import Monitor
    model.fit(x, y, epochs=2, batch_size=32, callbacks=[Monitor(name="own-monitor")], verbose=0)
    print("script done")
""")


def tui_trainer(*args, cwd, timeout=180):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", "tui_trainer", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def run_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def test_an_unmodified_script_with_two_fits(tmp_path):
    script = tmp_path / "train_two.py"
    script.write_text(TWO_FITS)
    r = tui_trainer("run", "--no-ui", "--runs-dir", "runs", str(script), "--lr", "0.1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # one folder per fit, the script's own Monitor not doubled; in the order the console announced them
    # (not by name: two fits in one second sort by their run names)
    first, second = [Path(p) for p in re.findall(r"^Recording to (.+)$", r.stdout, re.M)]
    assert sorted(run_folders(tmp_path / "runs")) == sorted([first, second])
    assert not list((tmp_path / "runs").glob(".run-list-*"))  # nothing else left in the runs folder
    # the console follows each fit, as `train` prints
    assert r.stdout.count("Recording to ") == 2
    assert "Epoch 1/3" in r.stdout and "Epoch 2/2" in r.stdout
    assert "All 2 epochs ran (early stopping off)" in r.stdout
    # the script's own output goes to output.log, not to the console
    out1 = (first / "output.log").read_text()
    assert "hello from the script ['--lr', '0.1']" in out1  # argv passed through
    assert "Epoch 1/3" in out1 and "step" in out1  # Keras's verbose=1 progress
    assert "script done" in (second / "output.log").read_text()
    assert "hello from the script" not in r.stdout
    # each folder is a full run
    source = json.loads((first / "source.json").read_text())
    assert source["argv"][1:] == ["--lr", "0.1"] and source["script"] == str(script.resolve())
    assert (first / "script.py").read_text() == TWO_FITS
    run1, run2 = load_run(first), load_run(second)
    assert run1.started.origin == "script" and run1.started.preset_name == "train_two"
    assert run2.started.preset_name == "own-monitor"
    assert run1.summary["early_stopping"] and run1.summary["monitor"] == "val_loss"
    assert run2.summary["status"] == "completed" and (second / "model.keras").is_file()


def test_a_script_that_fails_before_fit(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("print('loading')\nimport no_such_module_here\n")
    r = tui_trainer("run", "--no-ui", "--runs-dir", "runs", str(script), cwd=tmp_path)
    assert r.returncode == 1
    assert "broken.py exited with code 1 before any fit" in r.stderr
    assert "ModuleNotFoundError: No module named 'no_such_module_here'" in r.stderr
    assert "autolog.py" not in r.stderr and "runpy" not in r.stderr  # the script's own traceback
    assert run_folders(tmp_path / "runs") == []


def test_a_script_that_fails_inside_fit_closes_its_run_as_failed(tmp_path):
    script = tmp_path / "fails.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, keras
        class Boom(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1:
                    raise ValueError("bad thing in epoch 2")
        x = np.random.rand(64, 4).astype("float32"); y = np.random.randint(0, 2, 64)
        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        m.compile("adam", "sparse_categorical_crossentropy")
        m.fit(x, y, epochs=5, verbose=0, callbacks=[Boom()])
    """))
    r = tui_trainer("run", "--no-ui", "--runs-dir", "runs", str(script), cwd=tmp_path)
    assert r.returncode == 1
    (folder,) = run_folders(tmp_path / "runs")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["reason"] == "ValueError: bad thing in epoch 2"
    assert "Training failed" in r.stdout
    assert "ValueError: bad thing in epoch 2" in (folder / "output.log").read_text()


def test_a_missing_script_is_a_usage_error(tmp_path):
    r = tui_trainer("run", "nowhere.py", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == "error: nowhere.py: no such script"


def test_ctrl_c_cancels_the_fit_and_closes_the_run(tmp_path):
    script = tmp_path / "long.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, keras
        x = np.random.rand(2000, 8).astype("float32"); y = np.random.randint(0, 2, 2000)
        m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
        m.compile("adam", "sparse_categorical_crossentropy")
        m.fit(x, y, epochs=60, batch_size=8, verbose=0)
        print("never reached")
    """))
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "tui_trainer", "run", "--no-ui", "--runs-dir", "runs", str(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    for line in proc.stdout:
        if line.startswith("Epoch "):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Cancelled by the user at epoch" in out
    (folder,) = run_folders(tmp_path / "runs")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "cancelled" and summary["reason"] == "cancelled by the user"
    assert "never reached" not in (folder / "output.log").read_text()


def test_the_example_script_runs_under_run_and_on_its_own(tmp_path):
    """examples/own_script_cnn.py adds its own Monitor: `run` records each fit once."""
    r = tui_trainer("run", "--no-ui", "--runs-dir", "runs", str(EXAMPLES / "own_script_cnn.py"),
                    "--epochs", "2", "--samples", "300", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (folder,) = run_folders(tmp_path / "runs")
    run = load_run(folder)
    assert run.summary["epochs_run"] == 2 and run.started.input_shape == (16, 16, 1)
    assert "validation accuracy" in (folder / "output.log").read_text()


def test_a_script_without_fit_is_never_a_silent_exit_0(tmp_path):
    script = tmp_path / "no_fit.py"
    script.write_text("print('preparing data only')\n")
    r = tui_trainer("run", "--no-ui", "--runs-dir", "runs", str(script), cwd=tmp_path)
    assert r.returncode == 0
    assert "no_fit.py ran to the end (exit 0) without a recorded fit: nothing recorded" in r.stderr
    assert "preparing data only" in r.stderr  # its output is not lost
    assert "no_fit.py called no keras Model.fit" in r.stderr
    assert run_folders(tmp_path / "runs") == []


def test_output_between_fits_goes_to_the_fit_running_when_it_was_printed(tmp_path):
    """Each fit's output.log holds what was printed from its start to the next fit's start (the first's
    also what came before it), however late the parent reads the pipe: the child marks each fit's start
    in the output stream itself."""
    script = tmp_path / "three.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, keras
        x = np.random.rand(64, 4).astype("float32"); y = np.random.randint(0, 2, 64)
        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        m.compile("adam", "sparse_categorical_crossentropy")
        for i in range(3):
            print(f"before fit {i}")
            m.fit(x, y, epochs=1, verbose=0)
        print("after the last fit")
    """))
    r = tui_trainer("run", "--no-ui", "--runs-dir", "runs", str(script), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    recorded = [Path(p) for p in re.findall(r"^Recording to (.+)$", r.stdout, re.M)]
    logs = [(folder / "output.log").read_text() for folder in recorded]
    # each line goes to the newest fit when it was printed (before the first: to the first)
    assert "before fit 0" in logs[0] and "before fit 1" in logs[0] and "before fit 2" not in logs[0]
    assert "before fit 2" in logs[1] and "after the last fit" not in logs[1]
    assert "after the last fit" in logs[2] and "before fit" not in logs[2]
    assert not any("tui-trainer-run" in log for log in logs)  # the marks are not output


def test_output_log_keeps_the_first_and_last_8_mb(tmp_path):
    """A script that prints 40 MB after its fit, one line of it 20 MB long: output.log keeps 8 + 8 MB and
    says how much was dropped between."""
    script = tmp_path / "chatty.py"
    script.write_text(textwrap.dedent("""
        import sys
        import numpy as np, keras
        print("first line")
        m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        m.compile("sgd", "mse")
        m.fit(np.zeros((8, 2)), np.zeros(8), epochs=1, verbose=0)
        for i in range(2000):
            sys.stdout.write(("%05d " % i) + "x" * 9994 + "\\n")
        sys.stdout.write("y" * 20_000_000 + "\\n")
        print("last line")
    """))
    r = tui_trainer("run", "--no-ui", "--runs-dir", "runs", str(script), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (folder,) = run_folders(tmp_path / "runs")
    data = (folder / "output.log").read_bytes()
    assert 16 * 2**20 <= len(data) < 16 * 2**20 + 4096
    assert data.startswith(b"first line") or b"first line" in data[:4096]
    assert data.rstrip().endswith(b"last line")
    dropped = int(re.search(rb"\[tui-trainer: (\d+) bytes of output dropped here", data).group(1))
    assert dropped > 20 * 2**20


def test_capped_log_keeps_head_and_tail(tmp_path):
    from tui_trainer.scriptrun import CappedLog

    log = CappedLog(None, head=10, tail=6)
    log.write(b"0123456")  # before the file is known: held
    log.attach(tmp_path / "out.log")
    log.write(b"789abcdef")
    log.write(b"ghijklmnop")
    log.close()
    text = (tmp_path / "out.log").read_bytes()
    assert text.startswith(b"0123456789") and text.endswith(b"klmnop")
    assert b"[tui-trainer: 10 bytes of output dropped here" in text


def test_a_long_line_is_cut_for_the_log_pane():
    from tui_trainer.scriptrun import PANE_LINE_MAX, READ_CHUNK, _LineBuffer

    line = _LineBuffer()
    pieces = [b"z" * READ_CHUNK] * 100 + [b"end\n"]  # 6.4 MB read as the reader reads it
    assert [line.add(p) for p in pieces][-1] is True
    text = line.finish()
    assert len(text) < PANE_LINE_MAX + 100 and text.endswith(f"[... {100 * READ_CHUNK + 4 - PANE_LINE_MAX} more bytes on this line]".encode())
