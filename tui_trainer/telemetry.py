"""What the machine is doing while a run trains: GPU utilization and memory, process CPU and RAM.

A :class:`Sampler` runs in its own daemon thread, never on the training thread:
every ``interval_s`` (at most twice a second) it reads NVML, through the
``nvidia-ml-py`` package of the ``gpu`` extra, and this process's CPU time and
resident memory, and emits a :class:`~tui_trainer.events.Telemetry` event. The
run log records it, so a replay shows it too. Without NVML (not installed, no
driver, no GPU) the GPU part is simply absent: telemetry never fails a run.
At the end, TensorFlow's peak memory per GPU goes into the last sample.

No TensorFlow, Textual or NVML import at module level: the core stays light.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from typing import Any, Callable, Optional

from .events import Event, Telemetry

MIN_INTERVAL_S = 0.5  # at most twice a second, whatever is asked
DEFAULT_INTERVAL_S = 1.0
MB = 1024 * 1024


def serialized(sink: Callable[[Event], None]) -> Callable[[Event], None]:
    """``sink`` behind a lock: the sampler thread and the training thread both emit into the run log."""
    lock = threading.Lock()

    def emit(event: Event) -> None:
        with lock:
            sink(event)

    return emit


# --- NVML ------------------------------------------------------------------------------------------


def load_nvml() -> Optional[Any]:
    """The initialised ``pynvml`` module, or None when there is no NVML (package, driver or GPU missing)."""
    try:
        import pynvml  # nvidia-ml-py; imported here only, so a machine without it never pays for it
    except Exception:  # ImportError, or a broken install
        return None
    try:
        pynvml.nvmlInit()
        if pynvml.nvmlDeviceGetCount() < 1:
            pynvml.nvmlShutdown()
            return None
    except Exception:  # NVMLError: no driver, no device, no permission
        return None
    return pynvml


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def gpu_samples(nvml: Any) -> tuple[dict[str, Any], ...]:
    """One dict per GPU: index, name, util (%), mem_used_mb, mem_total_mb. A GPU that won't answer is skipped."""
    out = []
    try:
        count = nvml.nvmlDeviceGetCount()
    except Exception:
        return ()
    for i in range(count):
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(i)
            util = nvml.nvmlDeviceGetUtilizationRates(handle)
            mem = nvml.nvmlDeviceGetMemoryInfo(handle)
            out.append({"index": i, "name": _text(nvml.nvmlDeviceGetName(handle)), "util": int(util.gpu),
                        "mem_used_mb": round(mem.used / MB, 1), "mem_total_mb": round(mem.total / MB, 1)})
        except Exception:
            continue
    return tuple(out)


def cuda_text(version: int) -> str:
    """NVML's integer CUDA version (12040) as people write it (12.4)."""
    return f"{version // 1000}.{(version % 1000) // 10}"


def driver_cuda_version(nvml: Any = None) -> Optional[str]:
    """The newest CUDA version the installed NVIDIA driver supports, e.g. ``12.4``; None without a driver.

    Asked of NVML when it is there, else read from nvidia-smi's header ("CUDA Version: 12.4").
    """
    nvml = nvml if nvml is not None else load_nvml()
    if nvml is not None:
        for name in ("nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion"):
            fn = getattr(nvml, name, None)
            if fn is None:
                continue
            try:
                return cuda_text(int(fn()))
            except Exception:
                continue
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run([exe], capture_output=True, text=True, timeout=15).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    marker = "CUDA Version:"
    if marker in out:
        return out.split(marker, 1)[1].split()[0].strip("|") or None
    return None


# --- this process ----------------------------------------------------------------------------------


def rss_mb() -> Optional[float]:
    """Resident memory of this process, in MiB (Linux: /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return round(int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(peak / (MB if sys.platform == "darwin" else 1024), 1)
    except Exception:
        return None


class _CpuMeter:
    """This process's CPU use since the last reading, in percent of one core (200 = two cores busy)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.last = (clock(), self._cpu())

    @staticmethod
    def _cpu() -> float:
        t = os.times()
        return t.user + t.system

    def read(self) -> Optional[float]:
        now, cpu = self.clock(), self._cpu()
        wall = now - self.last[0]
        used = cpu - self.last[1]
        self.last = (now, cpu)
        return round(100.0 * used / wall, 1) if wall > 0 else None


# --- TensorFlow ------------------------------------------------------------------------------------


def tf_peak_mb(tf: Any) -> Optional[tuple[float, ...]]:
    """TensorFlow's peak memory on each GPU it sees, in MiB; None on the CPU or when it can't tell."""
    if tf is None:
        return None
    try:
        gpus = tf.config.list_logical_devices("GPU")
        peaks = [tf.config.experimental.get_memory_info(d.name)["peak"] / MB for d in gpus]
    except Exception:  # CPU only, or a TensorFlow without memory stats
        return None
    return tuple(round(p, 1) for p in peaks) or None


# --- the sampler -----------------------------------------------------------------------------------


class Sampler:
    """Samples in a daemon thread while a run trains; ``start()`` before ``fit``, ``stop(tf)`` after.

    Args:
        emit: where Telemetry events go (the engine's serialized sink).
        interval_s: seconds between samples; never below :data:`MIN_INTERVAL_S`.
        nvml: an NVML module (tests pass a fake); default: ``pynvml`` if it loads, else no GPU lines.
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(self, emit: Callable[[Event], None], interval_s: float = DEFAULT_INTERVAL_S, *,
                 nvml: Any = "auto", clock: Callable[[], float] = time.monotonic):
        self.emit = emit
        self.interval_s = max(MIN_INTERVAL_S, interval_s)
        self._nvml_arg = nvml
        self.nvml: Any = None
        self.clock = clock
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._t0 = 0.0
        self._cpu: Optional[_CpuMeter] = None
        self.samples = 0

    def start(self) -> "Sampler":
        """Begin sampling in the background; returns self."""
        self._t0 = self.clock()
        self._cpu = _CpuMeter(self.clock)
        self._thread = threading.Thread(target=self._run, name="tui-trainer-telemetry", daemon=True)
        self._thread.start()
        return self

    def sample(self, tf_peak: Optional[tuple[float, ...]] = None) -> Telemetry:
        """One reading now."""
        gpus = gpu_samples(self.nvml) if self.nvml is not None else ()
        return Telemetry(elapsed_s=round(self.clock() - self._t0, 2),
                         cpu_percent=self._cpu.read() if self._cpu else None,
                         rss_mb=rss_mb(), gpus=gpus, tf_peak_mb=tf_peak)

    def _run(self) -> None:
        # NVML is loaded here, off the training thread: nvmlInit can take a moment on a big box.
        self.nvml = load_nvml() if self._nvml_arg == "auto" else self._nvml_arg
        while not self._stop.wait(self.interval_s):
            try:
                self.emit(self.sample())
                self.samples += 1
            except Exception:  # telemetry must never disturb a run
                return

    def stop(self, tf: Any = None) -> None:
        """Stop sampling and emit a last sample, with TensorFlow's peak GPU memory when ``tf`` can tell it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.emit(self.sample(tf_peak=tf_peak_mb(tf)))
        except Exception:
            pass
        if self.nvml is not None and self._nvml_arg == "auto":
            try:
                self.nvml.nvmlShutdown()
            except Exception:
                pass


# --- in words --------------------------------------------------------------------------------------


def _gib(mb: float) -> str:
    return f"{mb / 1024:.1f}" if mb >= 1024 else f"{mb / 1024:.2f}"


def describe(t: Optional[Telemetry]) -> str:
    """One line for the monitor: each GPU's load and memory, else this process's CPU and RAM.

    ``GPU0 87% 12.1/139.8 GiB · TF peak 10.2 GiB`` or ``CPU 183% · RAM 1.21 GiB``.
    """
    if t is None:
        return ""
    parts = []
    for g in t.gpus:
        parts.append(f"GPU{g.get('index', '')} {g.get('util', 0)}% "
                     f"{_gib(g.get('mem_used_mb', 0))}/{_gib(g.get('mem_total_mb', 0))} GiB")
    if t.tf_peak_mb:
        parts.append("TF peak " + ", ".join(f"{_gib(p)} GiB" for p in t.tf_peak_mb))
    if not t.gpus:
        if t.cpu_percent is not None:
            parts.append(f"CPU {t.cpu_percent:.0f}%")
        if t.rss_mb is not None:
            parts.append(f"RAM {_gib(t.rss_mb)} GiB")
    return " · ".join(parts)
