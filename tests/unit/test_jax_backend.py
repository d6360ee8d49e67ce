"""Under ``KERAS_BACKEND=jax``: the Monitor records without TensorFlow, the gradient lens measures what
TensorFlow's measures, and what only TensorFlow can do is refused in one line before a run starts.

Each case runs in a child process: Keras picks its backend once per process.
Skipped when jax is not installed (``pip install ".[jax]"``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

pytest.importorskip("jax", reason="jax is not installed: pip install '.[jax]'")


def run_jax(code: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu")
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=env,
                          timeout=240, cwd=tmp_path)


MONITOR_FIT = """
    import json, sys
    import keras, numpy as np
    from tui_trainer import Monitor
    from tui_trainer.runlog import load_run
    x = np.random.default_rng(0).random((64, 4)).astype("float32"); y = (x.sum(1) > 2).astype("int32")
    model = keras.Sequential([keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    es = keras.callbacks.EarlyStopping(patience=1, min_delta=10.0, restore_best_weights=True)
    monitor = Monitor(runs_dir="runs", save_model=sys.argv[1] == "save")
    model.fit(x, y, validation_split=0.25, epochs=5, batch_size=16, verbose=0, callbacks=[es, monitor])
    run = load_run(monitor.run_dir)
    result = next(e for e in run.events if e.kind == "early_stopping")
    print(json.dumps({"tensorflow_imported": "tensorflow" in sys.modules, "backend": keras.backend.backend(),
                      "stopped": result.stopped_epoch, "best": result.best_epoch, "restored": result.restored,
                      "keras_stopped": es.stopped_epoch, "keras_best": es.best_epoch,
                      "params": run.started.params_total, "expected_params": model.count_params(),
                      "status": run.finished.status, "versions": run.started.versions,
                      "files": sorted(p.name for p in run.dir.iterdir())}))
"""


def test_the_monitor_records_a_jax_fit_without_importing_tensorflow(tmp_path):
    done = run_jax(MONITOR_FIT, tmp_path, "nosave")
    assert done.returncode == 0, done.stderr[-2000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["backend"] == "jax"
    assert facts["tensorflow_imported"] is False
    assert (facts["stopped"], facts["best"]) == (facts["keras_stopped"] + 1, facts["keras_best"] + 1) == (2, 1)
    assert facts["restored"] is True and facts["status"] == "early_stopped"
    assert facts["params"] == facts["expected_params"] > 0
    assert facts["versions"]["backend"] == "jax" and "jax" in facts["versions"]


def test_a_jax_fit_keeps_its_model_too(tmp_path):
    # Keras's own serialisation imports TensorFlow when it is installed; the run is complete either way.
    done = run_jax(MONITOR_FIT, tmp_path, "save")
    assert done.returncode == 0, done.stderr[-2000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["status"] == "early_stopped"
    assert {"model.keras", "best.keras", "events.jsonl", "summary.json"} <= set(facts["files"])


def test_the_gradient_lens_on_jax_measures_what_tensorflow_measures(tmp_path):
    from tui_trainer.callback import _gradient_norms_fn

    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6,)), *[keras.layers.Dense(8, activation="sigmoid") for _ in range(4)],
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.random.default_rng(1).random((32, 6)).astype("float32")
    y = np.arange(32) % 3
    weights = tmp_path / "w.npz"
    np.savez(weights, x=x, y=y, *model.get_weights())
    here, _ = _gradient_norms_fn(model, x, y)
    expected = here()
    done = run_jax(f"""
        import json, keras, numpy as np
        from tui_trainer.callback import _gradient_norms_fn
        data = np.load({str(weights)!r})
        model = keras.Sequential([keras.Input((6,)), *[keras.layers.Dense(8, activation="sigmoid") for _ in range(4)],
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy")
        model.set_weights([data[f"arr_{{i}}"] for i in range(len(model.get_weights()))])
        norms, names = _gradient_norms_fn(model, data["x"], data["y"])
        print(json.dumps({{"norms": norms(), "names": list(names)}}))
    """, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(got["names"]) == 5
    assert got["norms"] == pytest.approx(list(expected), rel=1e-3)
    assert got["norms"][0] < got["norms"][-1] / 10  # sigmoids: the gradient fades toward the input


def test_a_tf_distribute_strategy_is_refused_on_jax_in_one_line(tmp_path, blobs_csv):
    from ..conftest import tiny_preset_toml

    preset = tmp_path / "mirrored.toml"
    preset.write_text(tiny_preset_toml(blobs_csv).replace("learning_rate = 0.05", 'learning_rate = 0.05\nstrategy = "mirrored"'))
    done = run_jax("""
        import sys
        from tui_trainer.launch import main
        sys.argv = ["tui-trainer", "train", sys.argv[1], "--runs-dir", "runs"]
        main()
    """, tmp_path, str(preset))
    assert done.returncode == 2, done.stderr[-2000:]
    refusal = [line for line in done.stderr.splitlines() if "training.strategy" in line]
    assert len(refusal) == 1 and "jax" in refusal[0] and "mirrored" in refusal[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
