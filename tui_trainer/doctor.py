"""``tui-trainer doctor``: what this machine can train on, checked without downloading anything.

:func:`run_checks` returns rows of (check, value, status), status ``ok`` or
``warn``; the CLI prints them. It names the Python, TensorFlow and Keras
versions, the devices TensorFlow sees, whether TensorFlow is built with CUDA,
and, when an NVIDIA driver is present but TensorFlow sees no GPU, the likely
reason and the fix. Then where data sets are cached and, for every data source of
the registry, whether it can be had offline; the runs folder; TF_CONFIG for
multi-worker runs.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from . import __version__

OK, WARN = "ok", "warn"


@dataclass(frozen=True)
class Check:
    """One row of the report."""

    check: str
    value: str
    status: str = OK  # "ok" or "warn"


def nvidia_driver() -> tuple[bool, str]:
    """(present, what was found): nvidia-smi's GPUs and driver version, or /proc/driver/nvidia."""
    exe = shutil.which("nvidia-smi")
    proc = Path("/proc/driver/nvidia")
    if exe:
        try:
            out = subprocess.run(
                [exe, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits"],
                capture_output=True, text=True, timeout=15,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return True, f"nvidia-smi at {exe} did not answer ({exc})"
        if out.returncode != 0:
            first = (out.stdout or out.stderr).strip().splitlines()
            return True, f"nvidia-smi at {exe} failed: {first[0] if first else 'exit ' + str(out.returncode)}"
        gpus = []
        driver = ""
        for line in out.stdout.strip().splitlines():
            parts = [p.strip() for p in line.split(",")]
            if len(parts) >= 3:
                mib = f" ({round(int(parts[1]) / 1024)} GiB)" if parts[1].isdigit() else ""
                gpus.append(f"{parts[0]}{mib}")
                driver = parts[2]
        listed = ", ".join(gpus) if gpus else "no GPU listed"
        return True, f"nvidia-smi: {listed}" + (f"; driver {driver}" if driver else "")
    if proc.exists():
        return True, f"{proc} exists (no nvidia-smi on PATH)"
    return False, "none (no nvidia-smi, no /proc/driver/nvidia)"


def _import_tensorflow():
    """Import TensorFlow quietly: its native log lines go to a temporary file, not the terminal."""
    from .text import one_line
    from .tfenv import quiet_tensorflow

    try:
        with quiet_tensorflow(prefix="tui-trainer-doctor-"):
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
    except Exception as exc:  # a broken install: report it, don't crash the doctor
        return None, [], one_line(exc)
    return tf, gpus, ""


def _version_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split(".")[:2])
    except ValueError:
        return ()


def cuda_mismatch(driver_cuda: Optional[str], built_cuda: str) -> str:
    """Why a GPU may stay unseen, from the driver's CUDA version and TensorFlow's, exactly; "" if they fit."""
    if not driver_cuda:
        return ""
    have, need = _version_tuple(driver_cuda), _version_tuple(built_cuda)
    if have and need and have < need:
        return (f"the driver supports CUDA up to {driver_cuda}, older than the CUDA {built_cuda} this TensorFlow "
                "is built for: update the NVIDIA driver")
    return ""


def _tensorflow_checks(driver_present: bool, driver_cuda: Optional[str] = None) -> list[Check]:
    tf, gpus, error = _import_tensorflow()
    if tf is None:
        return [Check("TensorFlow", f"not importable ({error}); pip install \"tui-trainer\"", WARN)]
    import keras

    from .distribute import cpu_text, gpu_text

    rows = [Check("TensorFlow", tf.__version__)]
    major = int(keras.__version__.split(".")[0])
    rows.append(Check("Keras", keras.__version__, OK if major >= 3 else WARN))
    cuda = bool(tf.test.is_built_with_cuda())
    info = dict(tf.sysconfig.get_build_info())
    if cuda:
        build = f"built with CUDA {info.get('cuda_version', '?')}, cuDNN {info.get('cudnn_version', '?')}"
    else:
        build = "CPU only (not built with CUDA)"
    rows.append(Check("TensorFlow build", build))
    devices = [cpu_text()] + [f"GPU:{i} {gpu_text(tf, g).removeprefix('GPU ')}" for i, g in enumerate(gpus)]
    rows.append(Check("Devices", ", ".join(devices)))
    cuda_wheels = importlib.util.find_spec("nvidia") is not None  # the pip CUDA libraries of tensorflow[and-cuda]
    if gpus:
        rows.append(Check("GPU", f"{len(gpus)} visible to TensorFlow: mixed_precision and strategy = \"mirrored\" "
                                 "can use them"))
    elif not driver_present:
        rows.append(Check("GPU", "none: training runs on the CPU (mixed_precision needs a GPU; strategy = "
                                 "\"mirrored\" falls back to one device)"))
    elif not cuda:
        rows.append(Check("GPU", "TensorFlow sees none although an NVIDIA driver is present: this TensorFlow is "
                                 "a CPU-only build; install the GPU build: pip install \"tui-trainer[gpu]\"", WARN))
    elif not cuda_wheels:
        rows.append(Check("GPU", "TensorFlow sees none although an NVIDIA driver is present: its CUDA libraries "
                                 "are likely missing; pip install \"tui-trainer[gpu]\" (tensorflow[and-cuda] brings "
                                 f"CUDA {info.get('cuda_version', '')} and cuDNN as pip packages)", WARN))
    else:
        built = str(info.get("cuda_version", "?"))
        why = cuda_mismatch(driver_cuda, built) or (
            f"the driver supports CUDA {driver_cuda} (enough for the CUDA {built} TensorFlow is built for), so "
            "a library likely fails to load" if driver_cuda else
            f"the driver's CUDA version is unknown (TensorFlow is built for CUDA {built}), or a library fails to load")
        rows.append(Check("GPU", "TensorFlow sees none although an NVIDIA driver and the CUDA libraries are "
                                 f"present: {why}; see the error with: TF_CPP_MIN_LOG_LEVEL=0 python -c "
                                 "\"import tensorflow as tf; print(tf.config.list_physical_devices('GPU'))\"", WARN))
    return rows


def _data_checks() -> list[Check]:
    """The Keras cache, then one row per data source of the registry: can it be had offline?"""
    from .datasets import SOURCES
    from .datasets.download import keras_cache_dir

    cache = keras_cache_dir()
    rows = [Check("Data cache", f"{cache} ({'exists' if cache.is_dir() else 'not created yet'}; "
                                "set KERAS_HOME to move it)")]
    for source in SOURCES.values():
        found = source.offline()
        rows.append(Check(source.name, found.text, OK if found.ok else WARN))
    return rows


def _runs_check(runs_dir: Optional[Path]) -> Check:
    from .runlog import EVENTS, default_runs_dir

    runs = Path(runs_dir or default_runs_dir()).expanduser().resolve()
    if not runs.exists():
        parent = next((p for p in runs.parents if p.exists()), None)
        ok = parent is not None and os.access(parent, os.W_OK)
        return Check("Runs folder", f"{runs} (not created yet{'' if ok else '; its parent is not writable'})",
                     OK if ok else WARN)
    if not runs.is_dir():
        return Check("Runs folder", f"{runs} is a file, not a folder", WARN)
    n = sum(1 for d in runs.iterdir() if (d / EVENTS).exists())
    writable = os.access(runs, os.W_OK)
    return Check("Runs folder", f"{runs} ({n} run{'s' if n != 1 else ''}{'' if writable else ', not writable'}; "
                                "--runs-dir or TUI_TRAINER_RUNS to change)", OK if writable else WARN)


def _tf_config_check() -> Check:
    from .distribute import read_tf_config
    from .spec import SpecError

    if not os.environ.get("TF_CONFIG", "").strip():
        return Check("TF_CONFIG", "not set (only strategy = \"multi_worker\" needs it)")
    try:
        role = read_tf_config()
    except SpecError as exc:
        return Check("TF_CONFIG", str(exc), WARN)
    who = "the chief: writes the run log" if role.is_chief else f"trains silently; the chief is {role.chief}"
    return Check("TF_CONFIG", f"{role.name} at {role.address}, {role.num_workers} processes in all; {who}")


def run_checks(runs_dir: Optional[Path] = None, *, tensorflow: bool = True) -> list[Check]:
    """Every check, in report order. Downloads nothing; imports TensorFlow unless ``tensorflow=False``."""
    rows = [Check("Python", sys.version.split()[0], OK if sys.version_info >= (3, 10) else WARN),
            Check("tui-trainer", __version__)]
    present, found = nvidia_driver()
    driver_cuda = None
    if present:
        from .telemetry import driver_cuda_version

        driver_cuda = driver_cuda_version()
    if tensorflow:
        rows += _tensorflow_checks(present, driver_cuda)
    rows.append(Check("NVIDIA driver", found))
    if present:
        rows.append(Check("Driver CUDA", f"{driver_cuda} (the newest CUDA this driver runs; from NVML / nvidia-smi)"
                          if driver_cuda else "unknown (neither NVML nor nvidia-smi told it)",
                          OK if driver_cuda else WARN))
    rows += _data_checks()
    rows.append(_runs_check(runs_dir))
    rows.append(_tf_config_check())
    return rows


def format_checks(rows: list[Check]) -> str:
    """One aligned line per check: name, ok/warn, value."""
    width = max(len(r.check) for r in rows)
    return "\n".join(f"{r.check:<{width}}  {r.status:<4}  {r.value}" for r in rows)
