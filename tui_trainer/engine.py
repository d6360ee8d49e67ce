"""The engine: ``train(spec, sink, cancel)`` runs one recorded Keras fit.

It knows nothing of the UI. TensorFlow is imported lazily, inside ``train``,
after its logging environment is set, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from .datasets import DataError, Dataset, load_dataset
from .distribute import WorkerRole, cpu_text, describe_placement, gpu_text, grouped, make_strategy, worker_role
from .atomic import is_disk_error, replacing, write_error_message
from .events import EarlyStoppingResult, Event, RunFailed, RunFinished, RunStarted
from .runlog import STDERR, MODEL, RunDirError, RunLogWriter, check_runs_dir, default_runs_dir, new_run_dir, now_iso
from .runstate import RunState, Summary
from .spec import Preset, SpecError, check_shapes, param_counts
from .tbwrite import guarded_sink  # stdlib only: no TensorFlow, no tensorboard
from .telemetry import Sampler, serialized
from .text import one_line
from .tfenv import native_stderr_to, quiet_tensorflow, quiet_tensorflow_env

Sink = Callable[[Event], None]

if TYPE_CHECKING:
    from .resume import ResumePlan
    from .runlock import RunLock

__all__ = ["train", "RunResult", "DataError", "SpecError", "RunDirError", "check_compatible", "check_size",
           "quiet_tensorflow_env"]


@dataclass
class RunResult:
    """What ``train`` returns: where the run is and how it ended."""

    run_dir: Path
    status: str
    summary: Summary
    early_stopping: Optional[EarlyStoppingResult]
    test_metrics: dict[str, float]
    # multi-worker runs: "worker 1 of 2" on a worker that trained silently (its run_dir, a temporary
    # folder for Keras's model save, is deleted); None on the chief and in every other run.
    silent_worker: Optional[str] = None
    # a write that failed after the run's last event was sent (summary.json on a full disk): the one line
    # the caller still has to show, since the verdict already went out saying how training ended
    late_error: Optional[str] = None


def check_compatible(preset: Preset, data: Dataset, source: Optional[str] = None) -> None:
    """Raise SpecError when the model can't train on this data (before anything runs)."""
    check_shapes(preset, data.input_shape, source)  # a layer that can't take its input: names it and the fix
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


def describe_device(tf, strategy=None) -> str:
    """The devices training runs on, in words.

    Each GPU is named with its memory when nvidia-smi can tell it (TensorFlow's
    device details give the name only), e.g. ``GPU NVIDIA H200 (140 GiB)``; with no
    GPU, ``CPU (N cores)``. With a ``tf.distribute`` strategy, the devices it
    mirrors over, the strategy and its replicas: ``2 × GPU NVIDIA H200 (140 GiB),
    MirroredStrategy (2 replicas)``. Without one (Keras's default), the one device
    Keras trains on: the first GPU, else the CPU.
    """
    if strategy is not None:
        try:
            return describe_placement(tf, strategy)
        except Exception:  # a description must never fail a run; fall back to the plain one
            pass
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return cpu_text()
    text = gpu_text(tf, gpus[0])
    if len(gpus) > 1:  # Keras's default strategy uses the first GPU only
        text += f' (1 of {len(gpus)} GPUs: {grouped([gpu_text(tf, g) for g in gpus])}; strategy = "mirrored" uses all)'
    return text


def check_mixed_precision(preset: Preset, source: Optional[str] = None) -> None:
    """Refuse mixed precision without a GPU, before anything is recorded.

    Imports TensorFlow (only when the preset asks for mixed precision); its native
    log lines go to a temporary file, not the terminal.
    """
    if not preset.training.mixed_precision:
        return
    with quiet_tensorflow():
        import tensorflow as tf

        gpus = _visible_gpus(tf)
    if not gpus:
        raise SpecError(
            "mixed_precision needs a GPU; on CPU it only slows training down (set mixed_precision = false, "
            "or run `tui-trainer doctor` to see why no GPU is visible)",
            source=source,
            field="training.mixed_precision",
        )


def check_backend(preset: Preset, source: Optional[str] = None) -> None:
    """Refuse, before anything is recorded, what the Keras backend in use can't do (``KERAS_BACKEND``):
    tf.distribute strategies are TensorFlow's; the gradient lens runs on TensorFlow and JAX."""
    import keras

    from .gradnorms import GRADIENT_BACKENDS

    backend = keras.backend.backend()
    if backend == "tensorflow":
        return
    if preset.training.strategy not in ("auto", "one_device"):
        raise SpecError(f"strategy {preset.training.strategy!r} is a tf.distribute strategy, and Keras runs on "
                        f"{backend} here (KERAS_BACKEND): use strategy = \"auto\", or KERAS_BACKEND=tensorflow",
                        source=source, field="training.strategy")
    if preset.diagnostics.gradient_norms and backend not in GRADIENT_BACKENDS:
        raise SpecError(f"gradient_norms measures gradients with TensorFlow or JAX, and Keras runs on {backend} here "
                        "(KERAS_BACKEND): set gradient_norms = false, or KERAS_BACKEND=tensorflow or jax",
                        source=source, field="diagnostics.gradient_norms")


def _visible_gpus(tf) -> list:
    # A seam of its own: tests stand a GPU in for the mixed-precision path.
    return tf.config.list_physical_devices("GPU")


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
    resume: Optional["ResumePlan"] = None,
    on_phase: Optional[Callable[[str], None]] = None,
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
        resume: continue an interrupted run in its own folder, from its last checkpoint
            (see :func:`tui_trainer.resume.plan_resume`).
        on_phase: told, on the training thread, what the start is doing before the first event:
            ``"loading data"``, ``"starting TensorFlow"``, ``"building the model"``,
            ``"compiling"``, ``"training"`` (the app says it from the moment ``t`` is pressed);
            must not block.

    With ``training.strategy = "multi_worker"`` every process of the cluster calls
    this; only the chief (see :func:`tui_trainer.distribute.read_tf_config`) records
    the run and sends events to ``sink``. The others train in step, silently: no run
    folder, no events; their result has ``silent_worker`` set.

    Raises:
        DataError: the data set can't be had (nothing is recorded).
        SpecError: the preset doesn't fit the data, TF_CONFIG is missing or wrong, or
            mixed precision is asked for without a GPU (nothing is recorded).
    """
    try:
        return _train(preset, sink, cancel, runs_dir, replay_of, source, data, resume, on_phase)
    finally:
        if resume is not None:  # plan_resume took the run's lock: let it go however training ended
            resume.release()


def _train(preset: Preset, sink: Optional[Sink], cancel: Optional[threading.Event], runs_dir: Optional[Path],
           replay_of: Optional[str], source: Optional[str], data: Optional[Dataset],
           resume: Optional["ResumePlan"], on_phase: Optional[Callable[[str], None]] = None) -> RunResult:
    t_start = time.perf_counter()
    role = worker_role(preset, source=source)
    runs_root = Path(runs_dir or default_runs_dir()).expanduser()
    if role is None or role.is_chief:
        check_runs_dir(runs_root)  # before the data loads: a read-only folder is said at once
    phase = on_phase or _no_phase
    if data is None:
        phase("loading data")
        data = load_dataset(preset.data)
    check_compatible(preset, data, source)
    check_size(preset, data, source)
    check_mixed_precision(preset, source)
    check_backend(preset, source)

    quiet_tensorflow_env()
    if role is not None and not role.is_chief:
        return _train_silently(preset, data, cancel, role, replay_of, t_start)
    if resume is not None:
        run_dir, lock = resume.run_dir, resume.lock  # plan_resume took the run's lock
        try:
            log = RunLogWriter(run_dir, preset, previous=resume.previous_events)  # one continuous log
        except OSError as exc:
            raise RunDirError(f"{write_error_message(exc, getattr(exc, 'filename', None) or run_dir)}; "
                              "nothing was trained") from None
    else:
        run_dir, log, lock = _open_run(runs_root, preset)
    try:
        return _record(preset, data, sink, cancel, run_dir, log, replay_of, resume, t_start, phase)
    finally:
        if lock is not None:  # held for the whole run: one writer per run folder
            lock.release()


def _record(preset: Preset, data: Dataset, sink: Optional[Sink], cancel, run_dir: Path, log: RunLogWriter,
            replay_of, resume: Optional["ResumePlan"], t_start: float,
            phase: Callable[[str], None]) -> RunResult:
    """Train into an open run log and close it, however training ends."""
    stop = _Stop(cancel)
    log.on_error = stop.set_write_failed  # a full disk stops training after the batch that hit it
    tb = guarded_sink(run_dir / "tensorboard") if preset.logging.tensorboard else None  # written live too
    emit = serialized(_compose(log, sink, tb))  # the telemetry thread emits too
    try:
        with native_stderr_to(run_dir / STDERR):
            outcome = _fit(preset, data, emit, stop, run_dir, replay_of, resume, on_phase=phase)
    except BaseException as exc:  # record, then let Ctrl-C and the like propagate
        if is_disk_error(exc):  # model.keras could not be written
            log.record_failure(exc, run_dir / MODEL)
        _finish_after_error(emit, log.state, exc, t_start, reason=log.error)
        log.close()
        if not isinstance(exc, Exception):
            raise
    else:
        if log.error is not None:  # the run log could not be written: the run ends failed, saying why
            emit(RunFailed(error=log.error, epoch=outcome.epochs_run or None))
            outcome.status, outcome.reason = "failed", log.error
        emit(finished(outcome.status, outcome.epochs_run, outcome.test_metrics, t_start, outcome.reason))
        log.close()
    state = log.state
    summary = log.summary
    late = log.error if log.error is not None and state.status != "failed" else None
    if late:  # summary.json itself could not be written
        summary.status, summary.reason = "failed", late
    return RunResult(run_dir, summary.status, summary, state.early_stopping,
                     dict(state.finished.test_metrics) if state.finished else {}, late_error=late)


class _Stop:
    """The callback's cancel: set when the caller cancels or when the run log can't be written."""

    def __init__(self, cancel: Optional[threading.Event]):
        self.cancel = cancel
        self.write_failed = threading.Event()

    def set_write_failed(self, message: str = "") -> None:
        self.write_failed.set()

    def is_set(self) -> bool:
        return self.write_failed.is_set() or (self.cancel is not None and self.cancel.is_set())


def _open_run(runs_root: Path, preset: Preset) -> tuple[Path, RunLogWriter, "RunLock"]:
    """A new run folder, its write lock taken, with its preset.toml and open log.

    Raises:
        RunDirError: the folder or its first files can't be written (no run folder is left behind).
    """
    from .runlock import RunLock

    try:
        run_dir = new_run_dir(runs_root, preset.name)
    except OSError as exc:
        raise RunDirError(f"can't make a run folder: {write_error_message(exc, runs_root)}") from None
    lock = RunLock(run_dir)
    try:
        lock.acquire()  # nobody else knows the folder yet: this only fails on a full or read-only disk
        return run_dir, RunLogWriter(run_dir, preset), lock
    except OSError as exc:
        lock.release()
        shutil.rmtree(run_dir, ignore_errors=True)
        where = getattr(exc, "filename", None) or run_dir
        raise RunDirError(f"{write_error_message(exc, where)}; nothing was trained") from None


# Bytes per parameter while training: the float32 weights and their gradient, the optimizer's
# slots (Adam keeps two moments), and the copy EarlyStopping keeps for restore_best_weights.
_OPTIMIZER_SLOTS = {"adam": 2, "adamw": 2, "nadam": 2, "rmsprop": 1, "adagrad": 1, "sgd": 0}


def machine_memory() -> Optional[int]:
    """This machine's total memory in bytes (None where it can't be told)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_size(preset: Preset, data: Dataset, source: Optional[str] = None) -> None:
    """Refuse a model whose weights and optimizer state can't fit in this machine's memory.

    Checked from the spec alone, before any run folder exists or TensorFlow builds anything: a
    model too large is otherwise killed by the OOM killer with no message.

    Raises:
        SpecError: saying how much memory the model needs and how much the machine has.
    """
    total = machine_memory()
    if not total:
        return
    params = sum(param_counts(preset, tuple(data.input_shape)))
    copies = 2 + _OPTIMIZER_SLOTS.get(preset.training.optimizer, 2) + int(
        preset.early_stopping.enabled and preset.early_stopping.restore_best_weights)
    need = params * 4 * copies
    if need > 0.9 * total:
        raise SpecError(
            f"the model has {params:,} parameters: about {_gb(need)} of weights and optimizer state; "
            f"this machine has {_gb(total)} of memory (make the layers smaller)",
            source=source,
            field="layers",
        )


def _gb(n: float) -> str:
    return f"{n / 1e9:.0f} GB" if n >= 10e9 else f"{n / 1e9:.1f} GB"


def finished(status: str, epochs_run: int, test_metrics: dict, t_start: float, reason: str = "") -> RunFinished:
    """The RunFinished event of a run that began at ``t_start`` (``time.perf_counter()``)."""
    return RunFinished(status=status, epochs_run=epochs_run, test_metrics=test_metrics,
                       wall_time_s=time.perf_counter() - t_start, reason=reason, finished_at=now_iso())


def _finish_after_error(emit: Sink, state: RunState, exc: BaseException, t_start: float,
                        reason: Optional[str] = None) -> None:
    """Close a run that an exception ended: failed, or cancelled when it was an interrupt (Ctrl-C).

    ``reason``: what the run failed of, when known better than the exception says (a full disk).
    """
    interrupted = not isinstance(exc, Exception)
    if interrupted:
        reason = "interrupted"
    reason = reason or one_line(exc)
    if not interrupted:
        emit(RunFailed(error=reason, epoch=state.epochs_run or None))
    emit(finished("cancelled" if interrupted else "failed", state.epochs_run, {}, t_start, reason))


def _train_silently(preset: Preset, data: Dataset, cancel, role: WorkerRole, replay_of, t_start: float) -> RunResult:
    """A multi-worker run on a worker that is not the chief: the same fit, recording nothing.

    It runs the same callbacks as the chief (EarlyStopping sees the same global
    metrics, so every worker stops at the same epoch) and saves the model, as Keras
    wants every worker to, into a temporary folder that is then deleted.
    """
    state = RunState(live=False)
    tmp = Path(tempfile.mkdtemp(prefix="tui-trainer-worker-"))
    try:
        with native_stderr_to(tmp / STDERR):
            outcome = _fit(preset, data, state.apply, cancel, tmp, replay_of, checkpoints=False)
    except Exception as exc:
        _finish_after_error(state.apply, state, exc, t_start)
    else:
        state.apply(finished(outcome.status, outcome.epochs_run, outcome.test_metrics, t_start, outcome.reason))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary = state.summary()
    summary.preset, summary.seed = summary.preset or preset.name, preset.seed
    return RunResult(tmp, state.status, summary, state.early_stopping,
                     dict(state.finished.test_metrics) if state.finished else {}, silent_worker=role.name)


def _no_phase(phase: str) -> None:
    """``train``'s ``on_phase`` when nobody listens."""


def _fit(preset: Preset, data: Dataset, emit: Sink, cancel, run_dir: Path, replay_of,
         resume: Optional["ResumePlan"] = None, checkpoints: bool = True,
         on_phase: Callable[[str], None] = _no_phase) -> FitOutcome:
    on_phase("starting TensorFlow")  # its first import takes seconds
    import keras
    import tensorflow as tf

    # The strategy first, before any other TensorFlow op of this process: logical devices and
    # MultiWorkerMirroredStrategy must be set up before TensorFlow initialises its devices.
    placement = make_strategy(tf, preset.training.strategy)
    for note in placement.notes:  # fd 2 is the run folder's stderr.log here
        with contextlib.suppress(OSError):
            os.write(2, f"tui-trainer: warning: {note}\n".encode())
    # Same seed, same curves: seed Python, NumPy and TensorFlow, and make ops deterministic.
    keras.backend.clear_session()  # (this also resets Keras's dtype policy to float32)
    keras.utils.set_random_seed(preset.seed)
    with contextlib.suppress(Exception):
        tf.config.experimental.enable_op_determinism()
    previous_policy = keras.mixed_precision.global_policy()
    if preset.training.mixed_precision:  # check_mixed_precision has made sure there is a GPU
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        return _fit_model(preset, data, emit, cancel, run_dir, replay_of, placement, resume, checkpoints,
                          on_phase)
    finally:
        # Later runs in this process (the app trains many) start from float32 again.
        keras.mixed_precision.set_global_policy(previous_policy)


@dataclass
class FitOutcome:
    """How one fit went, as ``_fit`` returns it: its status and reason, the test metrics, epochs run."""

    status: str
    reason: str
    test_metrics: dict[str, float]
    epochs_run: int


def _early_stopping(preset: Preset):
    """The preset's EarlyStopping (a new one for every run), or None when it is off."""
    import keras

    es = preset.early_stopping
    if not es.enabled:
        return None
    return keras.callbacks.EarlyStopping(monitor=es.monitor, min_delta=es.min_delta, patience=es.patience,
                                         restore_best_weights=es.restore_best_weights,
                                         start_from_epoch=es.start_from_epoch, baseline=es.baseline, mode=es.mode,
                                         verbose=0)  # its messages go to stdout; the verdict is ours


def _fit_model(preset: Preset, data: Dataset, emit: Sink, cancel, run_dir: Path, replay_of, placement,
               resume: Optional["ResumePlan"], checkpoints: bool,
               on_phase: Callable[[str], None] = _no_phase) -> FitOutcome:
    import tensorflow as tf

    from .callback import StreamingCallback
    from .model import build_model, compile_model

    with placement.scope():  # variables made here are mirrored across the strategy's replicas
        on_phase("building the model")
        model = build_model(preset, data.input_shape, data.num_classes)
        on_phase("compiling")
        compile_model(model, preset)
    vs, bs = preset.data.validation_split, preset.training.batch_size
    n_fit = int(len(data.x_train) * (1 - vs)) if vs else len(data.x_train)
    early = _early_stopping(preset)
    # diagnostics.gradient_norms: the first batch of the fit split (Keras holds out the *last*
    # validation_split of the data), the same batch every epoch so the curve shows the weights change.
    grad_batch = (data.x_train[: min(bs, n_fit)], data.y_train[: min(bs, n_fit)]) if (
        preset.diagnostics.gradient_norms) else None
    if resume is not None:
        from .checkpoint import catch_up_best, restore

        restore(model, resume.state)  # weights and optimizer state at the end of the last finished epoch
        catch_up_best(model, run_dir, resume.state)  # best.* match the checkpoint's best epoch
    streaming = StreamingCallback(emit, n_fit=n_fit, batch_size=bs, early_stopping=early, cancel=cancel,
                                  grad_batch=grad_batch, resume=resume.state if resume else None,
                                  batch_stride=preset.logging.batch_stride)
    callbacks = [early, streaming] if early else [streaming]  # EarlyStopping first: the others read its state
    keeper = _checkpoints(run_dir, emit, streaming, early, resume) if checkpoints else None
    if keeper is not None:
        callbacks.append(keeper)
    device = describe_device(tf, placement.strategy)
    emit(resume.event(device) if resume is not None else
         _run_started(preset, data, model, run_dir, early, streaming, device, replay_of, placement.notes))
    on_phase("training")
    sampler = Sampler(emit).start()  # GPU / CPU use, sampled in its own thread
    try:
        model.fit(data.x_train, data.y_train, batch_size=bs, epochs=preset.training.epochs, validation_split=vs,
                  callbacks=callbacks, verbose=0, shuffle=True, initial_epoch=resume.state.epoch if resume else 0)
    finally:
        sampler.stop(tf)  # the last sample carries TensorFlow's peak GPU memory
    return _after_fit(model, preset, data, run_dir, emit, streaming, keeper, placement.strategy is None)


def _checkpoints(run_dir: Path, emit: Sink, streaming, early, resume: Optional["ResumePlan"]):
    """The run's checkpoint callback (best.keras, checkpoint.npz), after EarlyStopping and streaming."""
    from .checkpoint_callback import CheckpointCallback

    return CheckpointCallback(run_dir, emit, streaming, early_stopping=early, resumable=True,
                              resume=resume.state if resume else None,
                              resume_best_weights=resume.best_weights() if resume and early else None)


def _run_started(preset: Preset, data: Dataset, model, run_dir: Path, early, streaming, device: str,
                 replay_of: Optional[str], notes) -> RunStarted:
    from .started import run_started

    counts = param_counts(preset, data.input_shape)
    n_fit = streaming.n_fit
    return run_started(
        run_dir, model, early_stopping=early, batch_size=preset.training.batch_size,
        epochs=preset.training.epochs, validation_split=preset.data.validation_split,
        preset_name=preset.name, preset=preset.model_dump(mode="json"), seed=preset.seed, device=device,
        dataset=data.name, data_source=data.source, n_train=n_fit, n_val=len(data.x_train) - n_fit,
        n_test=len(data.x_test), input_shape=tuple(int(d) for d in data.input_shape), num_classes=data.num_classes,
        layers=tuple({"position": i + 1, **layer.model_dump(mode="json"), "params": counts[i]}
                     for i, layer in enumerate(preset.layers)),
        params_total=int(model.count_params()), steps_per_epoch=streaming.steps_per_epoch,
        batch_stride=streaming.batch_stride,
        versions=_versions(), replay_of=replay_of, notes=tuple(notes),
        class_names=tuple(str(c) for c in (getattr(data, "class_names", None) or ())))


def _versions() -> dict[str, str]:
    import keras
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__, "python": sys.version.split()[0]}


def _after_fit(model, preset: Preset, data: Dataset, run_dir: Path, emit: Sink, streaming, keeper,
               one_pass: bool) -> FitOutcome:
    """After ``fit``: the failure said, the test split evaluated and its predictions saved, model.keras.

    The checkpoint writer finishes its last best.keras while the test split is predicted (both are
    mostly native code), and is waited for before the run's last event.
    """
    epochs_run = streaming.epochs_run
    status, reason = streaming.ending()
    if status == "failed":
        emit(RunFailed(error=reason, epoch=epochs_run or None))
    test_metrics: dict[str, float] = {}
    saved = None
    try:
        if status != "failed":
            from .evaluation import test_split

            test_metrics = test_split(model, preset, data, run_dir, emit, one_pass)
        with replacing(run_dir / MODEL, run_file=True) as tmp:  # a full disk leaves no half-written model.keras
            model.save(tmp)
        saved = run_dir / MODEL
    finally:
        if keeper is not None:
            keeper.close(saved)
    return FitOutcome(status, reason, test_metrics, epochs_run)
