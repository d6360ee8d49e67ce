"""The engine: ``train(spec, sink, cancel)`` runs one recorded Keras fit.

It knows nothing of the UI. TensorFlow is imported lazily, inside ``train``,
after its logging environment is set, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from .data import DataError, Dataset, load_dataset
from .events import EarlyStoppingResult, Event, RunFailed, RunFinished, RunStarted
from .runlog import STDERR, MODEL, RunLogWriter, Summary, default_runs_dir, new_run_dir, now_iso
from .spec import Preset, SpecError, param_counts

Sink = Callable[[Event], None]

__all__ = ["train", "RunResult", "DataError", "SpecError", "check_compatible", "quiet_tensorflow_env"]


def quiet_tensorflow_env() -> None:
    """Keep TensorFlow's C++ log lines off the terminal, unless the user chose otherwise."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@contextlib.contextmanager
def native_stderr_to(path: Path) -> Iterator[None]:
    """Point file descriptor 2 at ``path`` for the duration.

    TensorFlow's native code writes to fd 2 whatever its log level (with op
    determinism on, every fit prints an error-level line), which garbles a
    terminal UI and clutters the CLI's output. The lines are kept in the run
    folder instead of being lost.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (embedded, closed): nothing to protect
        yield
        return
    try:
        with open(path, "ab") as fh:
            os.dup2(fh.fileno(), 2)
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


@dataclass
class RunResult:
    """What ``train`` returns: where the run is and how it ended."""

    run_dir: Path
    status: str
    summary: Summary
    early_stopping: Optional[EarlyStoppingResult]
    test_metrics: dict[str, float]


def check_compatible(preset: Preset, data: Dataset, source: Optional[str] = None) -> None:
    """Raise SpecError when the model can't train on this data (before anything runs)."""
    out = preset.layers[-1]
    if out.units < data.num_classes:
        raise SpecError(
            f"the output layer has {out.units} units but {data.name} has {data.num_classes} classes; "
            f"set units = {data.num_classes}",
            source=source,
            field=f"layers[{len(preset.layers)}].units",
        )
    n_fit = int(len(data.x_train) * (1 - preset.data.validation_split))
    if n_fit < 1 or (preset.data.validation_split and len(data.x_train) - n_fit < 1):
        raise SpecError(
            f"{data.name} has {len(data.x_train)} training samples: too few for validation_split "
            f"{preset.data.validation_split}",
            source=source,
            field="data.validation_split",
        )


def describe_device(tf) -> str:
    """The devices training runs on, in words: GPU names and memory, or CPU and its cores."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return f"CPU ({os.cpu_count()} cores)"
    names = []
    for gpu in gpus:
        try:
            details = tf.config.experimental.get_device_details(gpu)
            names.append(details.get("device_name", gpu.name))
        except Exception:  # details are best-effort; the device still trains
            names.append(gpu.name)
    return ", ".join(f"GPU {n}" for n in names)


def _compose(*sinks: Optional[Sink]) -> Sink:
    active = [s for s in sinks if s is not None]

    def emit(event: Event) -> None:
        for s in active:
            s(event)

    return emit


def train(
    preset: Preset,
    sink: Optional[Sink] = None,
    cancel: Optional[threading.Event] = None,
    *,
    runs_dir: Optional[Path] = None,
    replay_of: Optional[str] = None,
    source: Optional[str] = None,
    data: Optional[Dataset] = None,
) -> RunResult:
    """Train one preset, recording the run; works from any thread.

    Events go to the run log and to ``sink``. Setting ``cancel`` stops training
    at the next batch boundary; the run then ends as ``cancelled`` (Keras still
    restores the best weights when asked to).

    Args:
        preset: what to train.
        sink: receives every event on the training thread; must not block.
        cancel: set it to stop training.
        runs_dir: where run folders go (default ``$TUI_TRAINER_RUNS`` or ``./runs``).
        replay_of: the run this one re-runs, noted in its summary.
        source: where the preset came from, for error messages.
        data: an already-loaded data set (skips loading).

    Raises:
        DataError: the data set can't be had (nothing is recorded).
        SpecError: the preset doesn't fit the data (nothing is recorded).
    """
    t_start = time.perf_counter()
    data = data if data is not None else load_dataset(preset.data)
    check_compatible(preset, data, source)

    quiet_tensorflow_env()
    run_dir = new_run_dir(runs_dir or default_runs_dir(), preset.name)
    log = RunLogWriter(run_dir, preset)
    emit = _compose(log, sink)
    es_result: Optional[EarlyStoppingResult] = None
    status, reason, test_metrics, epochs_run = "failed", "", {}, 0

    def capture(event: Event) -> None:
        nonlocal es_result
        if isinstance(event, EarlyStoppingResult):
            es_result = event

    emit = _compose(emit, capture)
    try:
        with native_stderr_to(run_dir / STDERR):
            status, reason, test_metrics, epochs_run = _fit(preset, data, emit, cancel, run_dir, replay_of)
    except BaseException as exc:  # record, then let Ctrl-C and the like propagate
        interrupted = not isinstance(exc, Exception)
        status = "cancelled" if interrupted else "failed"
        reason = "interrupted" if interrupted else f"{type(exc).__name__}: {_first_line(exc)}"
        if not interrupted:
            emit(RunFailed(error=reason, epoch=log.summary.epochs_run or None))
        emit(RunFinished(status=status, epochs_run=log.summary.epochs_run, test_metrics={},
                         wall_time_s=time.perf_counter() - t_start, reason=reason))
        log.close()
        if interrupted:
            raise
        return RunResult(run_dir, status, log.summary, es_result, {})
    emit(RunFinished(status=status, epochs_run=epochs_run, test_metrics=test_metrics,
                     wall_time_s=time.perf_counter() - t_start, reason=reason))
    log.close()
    return RunResult(run_dir, status, log.summary, es_result, test_metrics)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


def _fit(preset: Preset, data: Dataset, emit: Sink, cancel, run_dir: Path, replay_of) -> tuple:
    import keras
    import tensorflow as tf

    from .callback import StreamingCallback
    from .model import build_model, compile_model

    # Same seed, same curves: seed Python, NumPy and TensorFlow, and make ops deterministic.
    keras.backend.clear_session()
    keras.utils.set_random_seed(preset.seed)
    with contextlib.suppress(Exception):
        tf.config.experimental.enable_op_determinism()

    model = build_model(preset, data.input_shape, data.num_classes)
    compile_model(model, preset)
    counts = param_counts(preset, math.prod(data.input_shape))

    vs = preset.data.validation_split
    n_fit = int(len(data.x_train) * (1 - vs)) if vs else len(data.x_train)
    bs = preset.training.batch_size
    es_spec = preset.early_stopping
    early = None
    if es_spec.enabled:
        early = keras.callbacks.EarlyStopping(
            monitor=es_spec.monitor,
            min_delta=es_spec.min_delta,
            patience=es_spec.patience,
            restore_best_weights=es_spec.restore_best_weights,
            start_from_epoch=es_spec.start_from_epoch,
            baseline=es_spec.baseline,
            mode=es_spec.mode,
            verbose=0,  # its messages go to stdout; the verdict is ours
        )
    streaming = StreamingCallback(emit, n_fit=n_fit, batch_size=bs, early_stopping=early, cancel=cancel)
    emit(
        RunStarted(
            run_id=run_dir.name,
            run_dir=str(run_dir),
            preset_name=preset.name,
            preset=preset.model_dump(mode="json"),
            seed=preset.seed,
            device=describe_device(tf),
            dataset=data.name,
            data_source=data.source,
            n_train=n_fit,
            n_val=len(data.x_train) - n_fit,
            n_test=len(data.x_test),
            input_shape=tuple(int(d) for d in data.input_shape),
            num_classes=data.num_classes,
            layers=tuple(
                {"position": i + 1, **layer.model_dump(mode="json"), "params": counts[i]}
                for i, layer in enumerate(preset.layers)
            ),
            params_total=int(model.count_params()),
            epochs=preset.training.epochs,
            batch_size=bs,
            steps_per_epoch=streaming.steps_per_epoch,
            monitor=es_spec.monitor if early else None,
            patience=es_spec.patience if early else None,
            started_at=now_iso(),
            versions={"tensorflow": tf.__version__, "keras": keras.__version__, "python": sys.version.split()[0]},
            replay_of=replay_of,
            host=socket.gethostname(),
            pid=os.getpid(),
        )
    )
    callbacks = [early, streaming] if early else [streaming]  # EarlyStopping first: streaming reads its state
    model.fit(
        data.x_train,
        data.y_train,
        batch_size=bs,
        epochs=preset.training.epochs,
        validation_split=vs,
        callbacks=callbacks,
        verbose=0,
        shuffle=True,
    )
    epochs_run = streaming.epochs_run
    if streaming.failure:
        emit(RunFailed(error=streaming.failure, epoch=epochs_run or None))
        status, reason = "failed", streaming.failure
    elif streaming.cancelled:
        status, reason = "cancelled", "cancelled by the user"
    elif early is not None and early.stopped_epoch > 0:
        status, reason = "early_stopped", ""
    else:
        status, reason = "completed", ""
    test_metrics: dict[str, float] = {}
    if status != "failed":
        results = model.evaluate(data.x_test, data.y_test, batch_size=max(bs, 256), verbose=0, return_dict=True)
        test_metrics = {k: float(v) for k, v in results.items()}
    model.save(run_dir / MODEL)
    return status, reason, test_metrics, epochs_run
