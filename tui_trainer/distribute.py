"""tf.distribute for the engine: the strategy a preset asks for, who writes in a cluster, what the devices are.

Scaling is TensorFlow's own ``tf.distribute``: ``OneDeviceStrategy``,
``MirroredStrategy`` (the GPUs of one machine) and
``MultiWorkerMirroredStrategy`` (several machines, configured by ``TF_CONFIG``).
``batch_size`` is the *global* batch: each step takes ``batch_size`` samples in
all, split across the replicas.

Two facts of TensorFlow shape this module:

* logical devices (e.g. two logical CPUs for a test) and
  ``MultiWorkerMirroredStrategy`` must be set up before TensorFlow initialises
  its devices in the process, so the engine creates the strategy first thing in
  a fit, before any other TensorFlow op. ``multi_worker`` is therefore a thing
  for the headless ``tui-trainer train`` (one run per process), not for the app;
* in a multi-worker run only the chief writes: task type ``chief``, or worker 0
  when the cluster has no chief. The others train silently.

This module imports neither TensorFlow nor Keras at import time: TF_CONFIG is
read and checked (and the chief found) before TensorFlow is imported, so a bad
cluster setup is refused in one line before anything is recorded.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from .spec import Preset, SpecError

STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker")

TF_CONFIG_EXAMPLE = (
    'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}\''
)


# --- TF_CONFIG and the chief ------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerRole:
    """This process's place in a multi-worker cluster, read from TF_CONFIG."""

    task_type: str  # "chief" or "worker"
    index: int
    num_workers: int  # every process that trains: the chief (if any) plus the workers
    is_chief: bool
    chief: str  # "worker 0 (10.0.0.1:12345)": who writes the run log
    job_size: int = 1  # addresses listed for this task's type
    address: str = ""

    @property
    def name(self) -> str:
        """``worker 1 of 2``, or ``chief``."""
        return "chief" if self.task_type == "chief" else f"worker {self.index} of {self.job_size}"

    def silent_message(self) -> str:
        """What a non-chief worker prints instead of the epoch lines."""
        return f"{self.name}: training silently; the chief, {self.chief}, writes the run log"


def _tf_config_error(what: str) -> SpecError:
    return SpecError(f"{what}; expected e.g. {TF_CONFIG_EXAMPLE}", source="TF_CONFIG")


def read_tf_config(environ: Optional[Mapping[str, str]] = None, *, source: Optional[str] = None) -> WorkerRole:
    """Parse and check ``TF_CONFIG`` for ``MultiWorkerMirroredStrategy``; find the chief.

    The chief is the task of type ``chief``, or worker 0 when the cluster has no chief.

    Raises:
        SpecError: one line: TF_CONFIG is missing (with the fix), not JSON, or names
            something wrong (missing cluster or task, an unknown job, an index out of range).
    """
    environ = os.environ if environ is None else environ
    raw = (environ.get("TF_CONFIG") or "").strip()
    if not raw:
        raise SpecError(
            'strategy "multi_worker" needs TF_CONFIG in the environment of every machine, e.g. '
            f"{TF_CONFIG_EXAMPLE} (index 1 on the second); for the GPUs of one machine use strategy = \"mirrored\"",
            source=source,
            field="training.strategy",
        )
    try:
        config = json.loads(raw)
    except ValueError as exc:
        msg = getattr(exc, "msg", str(exc))
        where = f" at line {exc.lineno} column {exc.colno}" if hasattr(exc, "lineno") else ""
        raise _tf_config_error(f"not valid JSON ({msg}{where})") from None
    if not isinstance(config, dict):
        raise _tf_config_error(f"must be a JSON object with \"cluster\" and \"task\", not {type(config).__name__}")
    cluster = config.get("cluster")
    if not isinstance(cluster, dict) or not cluster:
        raise _tf_config_error('has no "cluster" (the address of every machine, by job)' if cluster is None
                               else '"cluster" must be an object mapping "worker" (and "chief") to lists of host:port')
    jobs = sorted(cluster)
    extra = [j for j in jobs if j not in ("chief", "worker")]
    if extra:
        raise _tf_config_error(
            f'cluster has job "{extra[0]}"; MultiWorkerMirroredStrategy uses only "chief" and "worker"'
        )
    if "worker" not in cluster and "chief" not in cluster:
        raise _tf_config_error('cluster lists no "worker"')
    for job in jobs:
        addresses = cluster[job]
        if not isinstance(addresses, list) or not addresses:
            raise _tf_config_error(f'cluster.{job} must be a non-empty list of "host:port" strings')
        for i, addr in enumerate(addresses):
            if not isinstance(addr, str) or not re.fullmatch(r"\S+:\d{1,5}", addr):
                raise _tf_config_error(f'cluster.{job}[{i}] is {addr!r}, not "host:port"')
    if "chief" in cluster and len(cluster["chief"]) != 1:
        raise _tf_config_error(f"cluster.chief lists {len(cluster['chief'])} addresses; a cluster has one chief")
    task = config.get("task")
    if not isinstance(task, dict):
        raise _tf_config_error('has no "task" (which of the cluster\'s machines this is)' if task is None
                               else '"task" must be an object like {"type": "worker", "index": 0}')
    task_type = task.get("type")
    if task_type not in cluster:
        have = ", ".join(f'"{j}"' for j in jobs)
        raise _tf_config_error(f"task.type is {task_type!r}; it must be one of the cluster's jobs: {have}")
    index = task.get("index", 0 if task_type == "chief" else None)
    if isinstance(index, str) and index.isdigit():
        index = int(index)
    if not isinstance(index, int) or isinstance(index, bool):
        raise _tf_config_error(f"task.index is {index!r}; it must be a whole number")
    n = len(cluster[task_type])
    if not 0 <= index < n:
        raise _tf_config_error(
            f"task.index {index} is out of range: cluster.{task_type} lists {n} address{'es' if n != 1 else ''} "
            f"(index 0..{n - 1})"
        )
    has_chief = "chief" in cluster
    is_chief = task_type == "chief" or (not has_chief and index == 0)
    chief = f"chief ({cluster['chief'][0]})" if has_chief else f"worker 0 ({cluster['worker'][0]})"
    num = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    return WorkerRole(task_type=task_type, index=index, num_workers=num, is_chief=is_chief, chief=chief,
                      job_size=n, address=cluster[task_type][index])


def worker_role(preset: Preset, environ: Optional[Mapping[str, str]] = None,
                source: Optional[str] = None) -> Optional[WorkerRole]:
    """This process's role when the preset trains with ``multi_worker``; None for every other strategy.

    Raises:
        SpecError: TF_CONFIG is missing or wrong (see :func:`read_tf_config`).
    """
    if preset.training.strategy != "multi_worker":
        return None
    return read_tf_config(environ, source=source)


# --- strategies -------------------------------------------------------------------------------------


@dataclass
class Placement:
    """Where a fit runs: a tf.distribute strategy (None: Keras's default, one device) and notes for the log."""

    strategy: Any = None
    notes: list[str] = field(default_factory=list)

    def scope(self):
        """The strategy's scope, for building and compiling the model; a no-op for the default."""
        import contextlib

        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()


def make_strategy(tf, name: str) -> Placement:
    """Create the strategy a preset names. Call it before any other TensorFlow op of the fit.

    * ``auto``: Keras's default strategy: one device, the first GPU, else the CPU.
    * ``one_device``: ``OneDeviceStrategy`` on the first GPU, else the CPU.
    * ``mirrored``: ``MirroredStrategy`` over all local GPUs; with no GPU, over the
      logical CPU devices when more than one is configured
      (``tf.config.set_logical_device_configuration``); else one device, with a note.
    * ``multi_worker``: ``MultiWorkerMirroredStrategy`` configured by ``TF_CONFIG``.
    """
    if name == "auto":
        return Placement()
    gpus = tf.config.list_physical_devices("GPU")
    if name == "one_device":
        return Placement(tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0"))
    if name == "mirrored":
        if gpus:
            return Placement(tf.distribute.MirroredStrategy())
        cpus = tf.config.list_logical_devices("CPU")
        if len(cpus) > 1:
            return Placement(tf.distribute.MirroredStrategy(devices=[d.name for d in cpus]))
        return Placement(None, [
            'strategy "mirrored" found no GPU and one CPU device: training on one device (the CPU) instead'
        ])
    if name == "multi_worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        _reduce_nested_and_scalars(tf, strategy)
        return Placement(strategy)
    raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


def _reduce_nested_and_scalars(tf, strategy) -> None:
    """Let ``strategy.reduce`` take nests and scalars under MultiWorkerMirroredStrategy, as Keras 3 needs.

    Keras 3's TensorFlow trainer calls ``strategy.reduce("MEAN", (x, y), axis=None)``
    before a fit (to build the model symbolically) and ``strategy.reduce("MEAN",
    scalar_metric, axis=0)`` after every step when the strategy is multi-worker.
    ``tf.distribute.Strategy.reduce`` documents nested values, but the collective
    strategy reduces only one tensor, and axis 0 of a scalar is an error; so
    ``model.fit`` fails with MultiWorkerMirroredStrategy (keras-team/keras#20585,
    tensorflow/tensorflow#72388). Here each leaf is reduced by TensorFlow's own
    ``reduce``, with ``axis=None`` for scalars: the same cross-worker all-reduce,
    one tensor at a time. Metric values are already global (Keras's metric
    variables sum their updates across replicas), so every worker logs the same
    numbers and every worker's EarlyStopping decides alike.
    """
    original = strategy.reduce

    def rank(value) -> Optional[int]:
        values = getattr(value, "values", None)
        leaf = values[0] if values else value
        shape = getattr(leaf, "shape", None)
        return None if shape is None else shape.rank

    @functools.wraps(original)
    def reduce(reduce_op, value, axis=None):
        def one(v):
            return original(reduce_op, v, axis=None if rank(v) == 0 else axis)

        return tf.nest.map_structure(one, value)

    strategy.reduce = reduce


# --- devices in words ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def nvidia_gpus() -> tuple[tuple[str, int], ...]:
    """(name, total memory in MiB) of each GPU ``nvidia-smi`` lists; empty without it or when it fails."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return ()
    try:
        out = subprocess.run([exe, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    gpus = []
    for line in out.splitlines():
        name, _, mib = line.rpartition(",")
        if name.strip() and mib.strip().isdigit():
            gpus.append((name.strip(), int(mib.strip())))
    return tuple(gpus)


def gpu_memory_gib(name: str) -> Optional[int]:
    """Total memory of a GPU by its name, from nvidia-smi (TensorFlow knows it only after allocating)."""
    sizes = {mib for n, mib in nvidia_gpus() if n == name}
    return round(sizes.pop() / 1024) if len(sizes) == 1 else None


def cpu_text() -> str:
    return f"CPU ({os.cpu_count()} cores)"


def gpu_text(tf, gpu) -> str:
    """``GPU NVIDIA H200 (140 GiB)``: name from TensorFlow's device details, memory from nvidia-smi."""
    try:
        name = tf.config.experimental.get_device_details(gpu).get("device_name") or gpu.name
    except Exception:  # details are best-effort; the device still trains
        name = gpu.name
    gib = gpu_memory_gib(name)
    return f"GPU {name}" + (f" ({gib} GiB)" if gib else "")


def grouped(texts: list[str]) -> str:
    """``2 × GPU NVIDIA H200 (140 GiB)``: identical devices counted, others listed in order."""
    out: list[str] = []
    for text in dict.fromkeys(texts):
        n = texts.count(text)
        out.append(f"{n} × {text}" if n > 1 else text)
    return ", ".join(out)


def describe_placement(tf, strategy) -> str:
    """The devices a strategy trains on, the strategy and its replicas.

    E.g. ``2 × GPU NVIDIA H200 (140 GiB), MirroredStrategy (2 replicas)``.
    """
    gpus = tf.config.list_physical_devices("GPU")
    local = []
    for dev in strategy.extended.worker_devices:
        m = re.search(r"(GPU|CPU):(\d+)$", dev)
        if m and m.group(1) == "GPU" and gpus:
            local.append(gpu_text(tf, gpus[min(int(m.group(2)), len(gpus) - 1)]))
        else:
            local.append("CPU")
    if local and all(t == "CPU" for t in local):
        devices = cpu_text() if len(local) == 1 else f"{len(local)} logical devices on {cpu_text()}"
    else:
        devices = grouped(local)
    kind = "MultiWorkerMirroredStrategy" if _is_multi_worker(tf, strategy) else type(strategy).__name__
    n = int(strategy.num_replicas_in_sync)
    replicas = f"{n} replica{'s' if n != 1 else ''}"
    if kind == "MultiWorkerMirroredStrategy":
        workers = _num_workers(strategy)
        if workers:
            replicas = f"{workers} worker{'s' if workers != 1 else ''}, {replicas}"
        return f"{devices} per worker, {kind} ({replicas})"
    return f"{devices}, {kind} ({replicas})"


def _is_multi_worker(tf, strategy) -> bool:
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def _num_workers(strategy) -> Optional[int]:
    try:
        spec = strategy.cluster_resolver.cluster_spec()
        return sum(spec.num_tasks(job) for job in spec.jobs if job in ("chief", "worker"))
    except Exception:  # the count is decoration; never fail a run over it
        return None
