"""``Monitor``: record any Keras ``fit`` as a tui-trainer run.

Add it to the callbacks of your own script::

    from tui_trainer import Monitor
    model.fit(x, y, validation_split=0.1, callbacks=[EarlyStopping(...), Monitor()])

Each ``fit`` gets a run folder like ``tui-trainer train`` leaves (events.jsonl,
summary.json, model.keras), with ``source.json`` and a copy of the script in
place of preset.toml; ``watch``, ``replay``, ``compare``, ``export`` and the
runs screen read it like any other run. The streaming is the engine's own
callback (:class:`tui_trainer.callback.StreamingCallback`).

The Monitor prints nothing while it records, and it never makes ``fit`` fail:
an error inside it is written to the run log and it stops recording. Only a
fit it can't record gets one line on stderr (the folder can't be made, the
disk filled), so that a run missing from the runs folder doesn't go unnoticed.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import platform
import shutil
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

import keras

from .callback import StreamingCallback, _fit_local
from .events import Event, Note, RunFailed, RunStarted
from .runlog import MODEL, RUN_LIST_ENV, SCRIPT, SOURCE, RunLogWriter, default_runs_dir, new_run_dir, now_iso
from .text import printable

MAX_SCRIPT_BYTES = 1 << 20  # a copy of the script, not of whatever large file argv[0] names


def _guarded(method):
    """Run a hook; an error in it is recorded and turns the Monitor off, and never reaches ``fit``."""

    @functools.wraps(method)
    def hook(self: "Monitor", *args, **kwargs):
        if self._disabled:
            return None
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # never KeyboardInterrupt: Ctrl-C still stops the script
            self._give_up(exc)
            return None

    return hook


class Monitor(StreamingCallback):
    """A Keras callback that records the ``fit`` it is given to, as ``tui-trainer train`` records its runs.

    Works with Sequential, functional and subclassed models; NumPy arrays,
    ``tf.data`` datasets (unknown cardinality included) and generators; with
    ``validation_split``, ``validation_data`` or none; any loss and metrics.
    The EarlyStopping of the same ``fit`` is found by itself, in either order.

    Args:
        name: the run's name (default: the script's file name, else ``keras-fit``).
        runs_dir: where run folders go (default ``$TUI_TRAINER_RUNS``, else ``./runs``).
        early_stopping: the EarlyStopping to report (default: the first in the fit's callbacks).
        save_model: save the model the run ends with (the restored weights when Keras
            restored them) as ``model.keras``, and the best so far as ``best.keras`` while it
            trains (a kill keeps it); a model that can't be saved leaves a note in the log.
        cancel: when set, training stops after the current batch and the run is closed as
            cancelled (``tui-trainer run`` sets it on Ctrl-C or ``c``).
    """

    def __init__(
        self,
        name: Optional[str] = None,
        runs_dir: Optional[str | os.PathLike] = None,
        early_stopping: Optional[keras.callbacks.EarlyStopping] = None,
        save_model: bool = True,
        *,
        cancel: Optional[threading.Event] = None,
    ):
        super().__init__(self._emit, early_stopping=early_stopping, cancel=cancel)
        self.name = name
        self.runs_dir = runs_dir
        self.save_model = save_model
        self.run_dir: Optional[Path] = None  # the folder of the current (or last) fit
        self.run_dirs: list[Path] = []  # every fit this Monitor recorded
        self._log: Optional[RunLogWriter] = None
        self._disabled = False
        self._t_start = 0.0

    # -- the run log -------------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        if self._log is not None:
            self._log(event)

    @property
    def recording(self) -> bool:
        """Whether a fit is being recorded now."""
        return self._log is not None

    def _give_up(self, exc: BaseException) -> None:
        """Stop recording after an error of the Monitor's own: say so in the log and close it."""
        self._disabled = True
        self._unhook()
        with contextlib.suppress(Exception):
            self._close_checkpoints()
        what = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}"
        where = f" (the run so far is in {self.run_dir})" if self._log is not None and self.run_dir else ""
        with contextlib.suppress(Exception):
            self._close("failed", f"tui-trainer's Monitor stopped recording ({what}); training went on")
        self._say(f"the Monitor stopped recording this fit: {what}; training goes on{where}")

    @staticmethod
    def _say(message: str) -> None:
        """One line on stderr, about a fit that is not (or no longer) being recorded."""
        with contextlib.suppress(Exception):  # a closed or broken stderr must not fail fit either
            print(f"tui-trainer: {printable(message)}", file=sys.stderr, flush=True)

    def _close(self, status: str, reason: str = "") -> None:
        log = self._log
        if log is None:
            return
        self._log = None
        with contextlib.suppress(Exception):
            atexit.unregister(self._at_exit)
        from .engine import finished  # the engine's constructor of the last event

        try:
            if status == "failed" and reason and log.state.failure is None:
                log(RunFailed(error=reason, epoch=log.state.epochs_run or None))
            log(finished(status, log.state.epochs_run, {}, self._t_start, reason))
        finally:
            log.close()

    def abort(self, exc: BaseException) -> None:
        """Close the current run after ``fit`` raised ``exc``: cancelled for Ctrl-C, else failed."""
        if self._log is None:
            return
        self._unhook()
        with contextlib.suppress(Exception):
            self._close_checkpoints()  # the best weights so far are kept
        if isinstance(exc, KeyboardInterrupt):
            self._close("cancelled", "interrupted")
        else:
            first = str(exc).strip().splitlines()
            self._close("failed", f"{type(exc).__name__}: {first[0][:300] if first else ''}")

    def _at_exit(self) -> None:
        # The script ended inside fit (an exception nobody caught, or Ctrl-C): close the log as
        # the run ended, rather than leave a run that reads as "gone".
        exc = getattr(sys, "last_value", None) or getattr(sys, "last_exc", None)
        self.abort(exc if exc is not None else RuntimeError("the script ended during fit"))

    # -- hooks -------------------------------------------------------------------------------------

    @_guarded
    def on_train_begin(self, logs=None):
        self._close("failed", "a new fit began before this one ended")  # a fit that raised inside a try
        self._t_start = time.perf_counter()
        super().on_train_begin(logs)
        run_dir = new_run_dir(Path(self.runs_dir) if self.runs_dir else default_runs_dir(), self._run_name())
        self.run_dir = run_dir
        self.run_dirs.append(run_dir)
        _write_source(run_dir)
        self._log = RunLogWriter(run_dir, on_error=lambda message: self._say(f"{message}; training goes on"))
        atexit.register(self._at_exit)
        announce = os.environ.get(RUN_LIST_ENV)
        if announce:
            with open(announce, "a", encoding="utf-8") as fh:
                fh.write(f"{run_dir}\n")
        self._emit(self._run_started(run_dir))
        if self.save_model:
            self.start_checkpoints(run_dir)  # best.keras whenever the monitored value improves

    @_guarded
    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)

    @_guarded
    def on_train_batch_begin(self, batch, logs=None):
        super().on_train_batch_begin(batch, logs)

    @_guarded
    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)

    @_guarded
    def _epoch_end(self, epoch, logs=None):
        super()._epoch_end(epoch, logs)

    @_guarded
    def _train_end(self, logs=None):
        super()._train_end(logs)  # the EarlyStopping facts, after Keras restored the weights
        status, reason = self.ending()
        if self.save_model and self.run_dir is not None:
            self._save_model(self.run_dir)
        self._close(status, reason)

    def _save_model(self, run_dir: Path) -> None:
        tmp = run_dir / ("tmp-" + MODEL)  # Keras wants the .keras suffix; renamed once complete
        try:
            self.model.save(tmp)
            os.replace(tmp, run_dir / MODEL)
        except Exception as exc:  # a custom layer without get_config, a full disk: the run stands
            with contextlib.suppress(OSError):
                tmp.unlink()
            first = str(exc).strip().splitlines()
            self._emit(Note(f"model not saved: {type(exc).__name__}: {first[0][:200] if first else ''}",
                            epoch=self.epochs_run or None))

    # -- what ran ----------------------------------------------------------------------------------

    def _run_name(self) -> str:
        if self.name:
            return self.name
        script = _script_path()
        return script.stem if script else "keras-fit"

    def _run_started(self, run_dir: Path) -> RunStarted:
        from .engine import describe_device

        model = self.model
        import tensorflow as tf

        x = _fit_local("x")
        val_x = _fit_local("val_x")
        n_val = _length(val_x) or 0
        input_shape = _input_shape(model)
        es = self.early_stopping
        script = _script_path()
        notes = list(self.notes)
        return RunStarted(
            run_id=run_dir.name,
            run_dir=str(run_dir),
            preset_name=self._run_name(),
            preset={},
            seed=None,  # type: ignore[arg-type]  # the script seeds (or not) as it likes
            device=describe_device(tf, model.distribute_strategy if _has_strategy(model) else None),
            dataset=script.name if script else "your fit",
            data_source=_describe_data(x),
            n_train=self.n_fit or (_length(x) if _length(x) else 0),
            n_val=n_val,
            n_test=0,
            input_shape=input_shape,
            num_classes=_num_outputs(model),
            layers=tuple(_layer_rows(model)),
            params_total=int(model.count_params()),
            epochs=int((self.params or {}).get("epochs") or 0),
            batch_size=int(self.batch_size or 0),
            steps_per_epoch=int(self.steps_per_epoch or 0),
            monitor=es.monitor if es else None,
            patience=int(es.patience) if es else None,
            started_at=now_iso(),
            versions=_versions(),
            host=socket.gethostname(),
            pid=os.getpid(),
            notes=tuple(notes),
            origin="script",
        )


# --- describing a user's fit (best effort: none of this may fail a run) ------------------------------


def _script_path() -> Optional[Path]:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv and sys.argv[0] else None)
    if not path or path == "-c":
        return None
    p = Path(path)
    return p.resolve() if p.is_file() and p.suffix == ".py" else None


def _versions() -> dict[str, str]:
    import tensorflow as tf

    from . import __version__

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "tui_trainer": __version__}


def _write_source(run_dir: Path) -> None:
    """source.json (what ran, where, with which versions) and a copy of the script as script.py."""
    script = _script_path()
    info: dict[str, Any] = {"script": str(script) if script else None, "argv": list(sys.argv),
                            "cwd": os.getcwd(), "versions": _versions(), "executable": sys.executable}
    (run_dir / SOURCE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    if script is not None and script.stat().st_size <= MAX_SCRIPT_BYTES:
        with contextlib.suppress(OSError):
            shutil.copyfile(script, run_dir / SCRIPT)


def _length(x: Any) -> Optional[int]:
    if x is None:
        return None
    first = x
    while isinstance(first, (list, tuple)) and first:  # multi-input: its first array
        first = first[0]
    if isinstance(first, dict) and first:
        first = next(iter(first.values()))
    shape = getattr(first, "shape", None)
    try:
        return int(shape[0]) if shape is not None and len(shape) and shape[0] is not None else None
    except (TypeError, ValueError):
        return None


def _describe_data(x: Any) -> str:
    if x is None:
        return "unknown data"
    kind = type(x).__module__.split(".")[0] + "." + type(x).__name__
    if "Dataset" in type(x).__name__ and "tensorflow" in kind:
        return "a tf.data.Dataset"
    if hasattr(x, "__next__") or type(x).__name__ == "generator":
        return "a Python generator"
    shape = getattr(x, "shape", None)
    if shape is not None:
        return f"arrays, x {'x'.join(str(d) for d in shape)}"
    return f"{type(x).__name__} data"


def _input_shape(model: keras.Model) -> tuple[int, ...]:
    try:
        shape = model.inputs[0].shape if getattr(model, "inputs", None) else None
    except Exception:
        shape = None
    if shape is None:
        return ()
    return tuple(int(d) for d in shape[1:] if d is not None)


def _num_outputs(model: keras.Model) -> int:
    try:
        shape = model.outputs[0].shape if getattr(model, "outputs", None) else None
        return int(shape[-1]) if shape is not None and shape[-1] is not None else 0
    except Exception:
        return 0


def _has_strategy(model: keras.Model) -> bool:
    try:
        import tensorflow as tf

        return model.distribute_strategy is not tf.distribute.get_strategy()
    except Exception:
        return False


def _layer_rows(model: keras.Model) -> list[dict[str, Any]]:
    rows = []
    layers = [layer for layer in getattr(model, "layers", []) or [] if type(layer).__name__ != "InputLayer"]
    for i, layer in enumerate(layers):
        row: dict[str, Any] = {"position": i + 1, "type": type(layer).__name__, "name": layer.name}
        with contextlib.suppress(Exception):
            row["params"] = int(layer.count_params())
        with contextlib.suppress(Exception):
            row["output_shape"] = [None if d is None else int(d) for d in layer.output.shape]
        with contextlib.suppress(Exception):
            units = getattr(layer, "units", None) or getattr(layer, "filters", None)
            if units:
                row["units"] = int(units)
        act = getattr(layer, "activation", None)
        if act is not None:
            row["activation"] = getattr(act, "__name__", str(act))
        rows.append(row)
    return rows

