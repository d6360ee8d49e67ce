"""tf.distribute, mixed precision, the device line and `doctor`.

MirroredStrategy over two logical CPU devices and a two-process
MultiWorkerMirroredStrategy run each need a fresh process: logical devices and
the multi-worker strategy must be set up before TensorFlow initialises its
devices. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tui_trainer import distribute, doctor, engine
from tui_trainer.cli import app
from tui_trainer.distribute import read_tf_config
from tui_trainer.events import EpochEnded, RunFinished, RunStarted
from tui_trainer.runlog import load_run
from tui_trainer.spec import SpecError, loads_preset

from ..conftest import tiny_preset_toml

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


def preset_file(tmp_path, data_path, training: str, epochs: int = 2, name: str = "dist.toml") -> Path:
    path = tmp_path / name
    path.write_text(tiny_preset_toml(data_path, epochs=epochs).replace("[training]", "[training]\n" + training))
    return path


def cluster(*ports: int) -> dict:
    return {"worker": [f"127.0.0.1:{p}" for p in ports]}


def tf_config(ports, index: int) -> str:
    return json.dumps({"cluster": cluster(*ports), "task": {"type": "worker", "index": index}})


def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def assert_complete_stream(run_dir: Path, epochs: int):
    run = load_run(run_dir)
    assert not run.warnings
    kinds = [type(e) for e in run.events]
    assert kinds[0] is RunStarted and kinds[-1] is RunFinished
    assert [e.epoch for e in run.events if isinstance(e, EpochEnded)] == list(range(1, epochs + 1))
    assert run.summary["status"] in ("completed", "early_stopped")
    assert run.summary["epochs_run"] == epochs
    return run


# --- TF_CONFIG and the chief --------------------------------------------------------------------------


def test_the_chief_is_worker_0_or_the_chief_task():
    env = {"TF_CONFIG": tf_config([1111, 2222], 0)}
    role = read_tf_config(env)
    assert role.is_chief and role.name == "worker 0 of 2" and role.num_workers == 2
    role = read_tf_config({"TF_CONFIG": tf_config([1111, 2222], 1)})
    assert not role.is_chief and role.chief == "worker 0 (127.0.0.1:1111)"
    assert role.silent_message() == (
        "worker 1 of 2: training silently; the chief, worker 0 (127.0.0.1:1111), writes the run log")
    with_chief = {"chief": ["10.0.0.1:5000"], "worker": ["10.0.0.2:5000"]}
    role = read_tf_config({"TF_CONFIG": json.dumps({"cluster": with_chief, "task": {"type": "chief", "index": 0}})})
    assert role.is_chief and role.num_workers == 2
    role = read_tf_config({"TF_CONFIG": json.dumps({"cluster": with_chief, "task": {"type": "worker", "index": 0}})})
    assert not role.is_chief and role.chief == "chief (10.0.0.1:5000)"


@pytest.mark.parametrize("value,fragment", [
    ("", 'training.strategy: strategy "multi_worker" needs TF_CONFIG'),
    ("{not json", "TF_CONFIG: not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
    ("[1]", 'TF_CONFIG: must be a JSON object with "cluster" and "task"'),
    ('{"task": {"type": "worker", "index": 0}}', 'TF_CONFIG: has no "cluster"'),
    (json.dumps({"cluster": cluster(1, 2)}), 'TF_CONFIG: has no "task"'),
    (json.dumps({"cluster": cluster(1, 2), "task": {"type": "worker", "index": 2}}),
     "TF_CONFIG: task.index 2 is out of range: cluster.worker lists 2 addresses (index 0..1)"),
    (json.dumps({"cluster": cluster(1, 2), "task": {"type": "worker"}}), "TF_CONFIG: task.index is None"),
    (json.dumps({"cluster": cluster(1, 2), "task": {"type": "ps", "index": 0}}), 'TF_CONFIG: task.type is \'ps\''),
    (json.dumps({"cluster": {**cluster(1), "ps": ["h:1"]}, "task": {"type": "worker", "index": 0}}),
     'TF_CONFIG: cluster has job "ps"'),
    (json.dumps({"cluster": {"worker": ["nohost"]}, "task": {"type": "worker", "index": 0}}),
     "TF_CONFIG: cluster.worker[0] is 'nohost', not \"host:port\""),
])
def test_bad_tf_config_is_one_line_naming_the_problem(value, fragment):
    with pytest.raises(SpecError) as err:
        read_tf_config({"TF_CONFIG": value}, source="p.toml")
    msg = str(err.value)
    assert fragment in msg and "\n" not in msg
    assert "TF_CONFIG=" in msg  # every message shows what a good one looks like


# --- the CLI refuses bad setups before anything is recorded ------------------------------------------


@pytest.mark.parametrize("value,fragment", [
    (None, 'needs TF_CONFIG in the environment of every machine'),
    ("{oops", "TF_CONFIG: not valid JSON"),
    (tf_config([1, 2], 5), "task.index 5 is out of range"),
])
def test_multi_worker_bad_setup_exits_2_with_one_line(tmp_path, blobs_csv, monkeypatch, value, fragment):
    if value is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", value)
    preset = preset_file(tmp_path, blobs_csv, 'strategy = "multi_worker"')
    r = runner.invoke(app, ["train", str(preset), "--runs-dir", str(tmp_path / "runs")])
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert not (tmp_path / "runs").exists()


def test_mixed_precision_on_cpu_exits_2_before_recording(tmp_path, blobs_csv, monkeypatch):
    monkeypatch.setattr(engine, "_visible_gpus", lambda tf: [])  # a CPU machine, even on a GPU box
    preset = preset_file(tmp_path, blobs_csv, "mixed_precision = true")
    r = runner.invoke(app, ["train", str(preset), "--runs-dir", str(tmp_path / "runs")])
    assert r.exit_code == 2, r.output
    assert r.output.strip().splitlines() == [
        f"error: {preset}: training.mixed_precision: mixed_precision needs a GPU; on CPU it only slows training "
        "down (set mixed_precision = false, or run `tui-trainer doctor` to see why no GPU is visible)"]
    assert not (tmp_path / "runs").exists()


def test_mixed_precision_keeps_the_output_float32_and_resets_the_policy(tmp_path, blobs_csv, monkeypatch):
    import keras

    # Stand a GPU in: mixed_float16 computes (slowly) on a CPU too, which is all this test needs.
    monkeypatch.setattr(engine, "_visible_gpus", lambda tf: ["GPU stand-in"])
    preset = loads_preset(preset_file(tmp_path, blobs_csv, "mixed_precision = true").read_text())
    result = engine.train(preset, runs_dir=tmp_path / "runs")
    assert result.status == "completed", result.summary.reason
    assert keras.mixed_precision.global_policy().name == "float32"  # later runs are not affected
    model = keras.models.load_model(result.run_dir / "model.keras", compile=False)
    policies = [layer.dtype_policy.name for layer in model.layers]
    assert policies == ["mixed_float16", "float32"]  # hidden layer in float16, output layer float32
    assert model.predict(np.zeros((2, 6), "float32"), verbose=0).dtype == np.float32


def test_mirrored_with_one_cpu_device_trains_on_one_with_a_warning(tmp_path, blobs_csv):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU") or len(tf.config.list_logical_devices("CPU")) > 1:
        pytest.skip("this process has more than one device")
    preset = preset_file(tmp_path, blobs_csv, 'strategy = "mirrored"')
    r = runner.invoke(app, ["train", str(preset), "--runs-dir", str(tmp_path / "runs")])
    assert r.exit_code == 0, r.output
    note = 'strategy "mirrored" found no GPU and one CPU device: training on one device (the CPU) instead'
    assert f"Warning: {note}" in r.output
    (run_dir,) = (tmp_path / "runs").iterdir()
    run = assert_complete_stream(run_dir, 2)
    assert run.started.notes == (note,) and run.started.device.startswith("CPU (")
    assert f"tui-trainer: warning: {note}" in (run_dir / "stderr.log").read_text()


# --- fresh processes: two logical CPUs, two workers ------------------------------------------------


MIRRORED_SCRIPT = textwrap.dedent("""
    import os, sys
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    # Two logical CPU devices: must be configured before TensorFlow initialises its devices.
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    from tui_trainer import presets
    from tui_trainer.engine import train

    spec, _ = presets.load("digits")
    raw = spec.model_dump(mode="json")
    raw["training"].update(strategy="mirrored", epochs=3)
    result = train(spec.model_validate(raw), runs_dir=sys.argv[1])
    print("STATUS", result.status)
""")


def test_mirrored_over_two_logical_cpu_devices(tmp_path):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")  # the rule under test is the no-GPU one
    script = tmp_path / "mirrored.py"
    script.write_text(MIRRORED_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "runs")], capture_output=True, text=True,
                          timeout=180, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "STATUS completed" in proc.stdout or "STATUS early_stopped" in proc.stdout
    (run_dir,) = (tmp_path / "runs").iterdir()
    run = assert_complete_stream(run_dir, 3)
    device = run.started.device
    assert device == f"2 logical devices on CPU ({os.cpu_count()} cores), MirroredStrategy (2 replicas)"
    assert run.summary["device"] == device
    assert run.summary["test_metrics"]["accuracy"] > 0.8  # it learned: the replicas' gradients were combined


def test_multi_worker_two_processes_one_writer(tmp_path, blobs_csv):
    preset = preset_file(tmp_path, blobs_csv, 'strategy = "multi_worker"')
    ports = free_ports(2)
    scratch = tmp_path / "tmp"  # where each worker's temporary model save goes
    scratch.mkdir()
    procs = []
    try:
        for index in (0, 1):
            env = dict(os.environ, TF_CONFIG=tf_config(ports, index), TMPDIR=str(scratch), PYTHONUNBUFFERED="1",
                       CUDA_VISIBLE_DEVICES="")
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "tui_trainer", "train", str(preset), "--runs-dir", str(tmp_path / "runs")],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path))
        outs = [p.communicate(timeout=150) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, f"stdout:\n{out}\nstderr:\n{err[-3000:]}"
    (run_dir,) = (tmp_path / "runs").iterdir()  # exactly one run folder: the chief's
    run = assert_complete_stream(run_dir, 2)
    assert run.started.pid == procs[0].pid  # written by worker 0, the chief
    assert "MultiWorkerMirroredStrategy (2 workers, 2 replicas)" in run.started.device
    assert "Epoch 2/2" in outs[0][0] and "Run saved in" in outs[0][0]
    silent = outs[1][0]
    assert silent.splitlines()[0] == (
        f"worker 1 of 2: training silently; the chief, worker 0 (127.0.0.1:{ports[0]}), writes the run log")
    assert "Epoch" not in silent and "worker 1 of 2: completed after 2 epochs" in silent
    assert not any(scratch.iterdir())  # worker 1's temporary save folder is gone


# --- the device line ---------------------------------------------------------------------------------


class _FakeGPU:
    def __init__(self, i):
        self.name = f"/physical_device:GPU:{i}"


class _FakeTF:
    """Just enough of tensorflow for describe_device: two H200s."""

    class config:
        @staticmethod
        def list_physical_devices(kind):
            return [_FakeGPU(0), _FakeGPU(1)] if kind == "GPU" else []

        class experimental:
            @staticmethod
            def get_device_details(gpu):
                return {"device_name": "NVIDIA H200", "compute_capability": (9, 0)}

    class distribute:
        class MultiWorkerMirroredStrategy:
            pass


class MirroredStrategy:
    num_replicas_in_sync = 2

    class extended:
        worker_devices = ("/job:localhost/replica:0/task:0/device:GPU:0",
                          "/job:localhost/replica:0/task:0/device:GPU:1")


def test_device_line_names_gpus_memory_strategy_and_replicas(monkeypatch):
    monkeypatch.setattr(distribute, "nvidia_gpus", lambda: (("NVIDIA H200", 143771), ("NVIDIA H200", 143771)))
    assert engine.describe_device(_FakeTF, MirroredStrategy()) == (
        "2 × GPU NVIDIA H200 (140 GiB), MirroredStrategy (2 replicas)")
    assert engine.describe_device(_FakeTF) == (
        'GPU NVIDIA H200 (140 GiB) (1 of 2 GPUs: 2 × GPU NVIDIA H200 (140 GiB); strategy = "mirrored" uses all)')
    monkeypatch.setattr(distribute, "nvidia_gpus", lambda: ())  # no nvidia-smi: the name alone
    assert engine.describe_device(_FakeTF, MirroredStrategy()) == "2 × GPU NVIDIA H200, MirroredStrategy (2 replicas)"


# --- doctor ----------------------------------------------------------------------------------------------


def test_doctor_runs_and_is_honest_about_this_machine(tmp_path):
    import tensorflow as tf

    r = runner.invoke(app, ["doctor", "--runs-dir", str(tmp_path / "runs")])
    assert r.exit_code == 0, r.output
    rows = [re.match(r"^(.+?)\s{2,}(ok|warn)\s+(.*)$", line) for line in r.output.splitlines()]
    lines = {m.group(1): [m.group(2), m.group(3)] for m in rows if m}
    assert lines["TensorFlow"] == ["ok", tf.__version__]
    assert lines["Devices"][1].startswith("CPU (")
    assert lines["digits"] == ["ok", "available offline (ships with scikit-learn)"]
    assert lines["fashion_mnist"][1].startswith(("available offline", "not available offline"))
    assert lines["mnist"][1].startswith(("available offline", "not cached"))
    if not tf.config.list_physical_devices("GPU") and not doctor.nvidia_driver()[0]:
        assert lines["GPU"] == ["ok", 'none: training runs on the CPU (mixed_precision needs a GPU; strategy = '
                                      '"mirrored" falls back to one device)']


def test_doctor_data_rows_follow_what_is_on_disk(tmp_path, monkeypatch):
    from tui_trainer.datasets import fashion_mnist

    rows = {r.check: r for r in doctor.run_checks(tmp_path / "runs", tensorflow=False)}
    assert rows["digits"].status == "ok"
    assert rows["mnist"].status == "warn" and "not cached" in rows["mnist"].value  # KERAS_HOME is the test's
    cache = Path(os.environ["KERAS_HOME"]) / "datasets"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"x")
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FASHION_MNIST", str(tmp_path / "no-debian"))
    rows = {r.check: r for r in doctor.run_checks(tmp_path / "runs", tensorflow=False)}
    assert rows["mnist"].status == "ok" and str(cache / "mnist.npz") in rows["mnist"].value
    fashion = rows["fashion_mnist"]
    assert fashion.status == "warn" and "apt-get install dataset-fashion-mnist" in fashion.value
    assert rows["TF_CONFIG"].value.startswith("not set")


class _CpuOnlyTF:
    __version__ = "2.21.0"

    class test:
        @staticmethod
        def is_built_with_cuda():
            return False

    class sysconfig:
        @staticmethod
        def get_build_info():
            return {"is_cuda_build": False}


def test_doctor_says_why_a_present_gpu_is_not_seen(monkeypatch):
    monkeypatch.setattr(doctor, "_import_tensorflow", lambda: (_CpuOnlyTF, [], ""))
    rows = {r.check: r for r in doctor._tensorflow_checks(driver_present=True)}
    assert rows["TensorFlow build"].value == "CPU only (not built with CUDA)"
    assert rows["GPU"].status == "warn" and "CPU-only build" in rows["GPU"].value
    assert 'pip install "tui-trainer[gpu]"' in rows["GPU"].value
    rows = {r.check: r for r in doctor._tensorflow_checks(driver_present=False)}
    assert rows["GPU"].status == "ok" and rows["GPU"].value.startswith("none: training runs on the CPU")
