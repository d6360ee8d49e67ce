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
import copy
import functools
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

import keras

from . import fitinfo, keras_compat
from .atomic import open_append, replacing, write_text_atomic
from .callback import StreamingCallback
from .checkpoint_callback import CheckpointCallback
from .events import Event, ModelBuilt, Note, RunFailed, RunStarted
from .runlog import MODEL, RUN_LIST_ENV, SCRIPT, SOURCE, RunLogWriter, default_runs_dir, new_run_dir
from .started import run_started
from .text import one_line, printable

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
        tensorboard: also write the run live as TensorBoard event files: ``True`` into the run
            folder's ``tensorboard/``, a folder path into ``<that folder>/<run id>``.
        batch_stride: read the batch loss every this many steps (default 1, every step); 0: epochs
            only, nothing read per batch. See README, "What recording costs".
    """

    def __init__(
        self,
        name: Optional[str] = None,
        runs_dir: Optional[str | os.PathLike] = None,
        early_stopping: Optional[keras.callbacks.EarlyStopping] = None,
        save_model: bool = True,
        *,
        cancel: Optional[threading.Event] = None,
        tensorboard: bool | str | os.PathLike = False,
        batch_stride: int = 1,
    ):
        super().__init__(self._emit, early_stopping=early_stopping, cancel=cancel, batch_stride=batch_stride)
        self.name = name
        self.tensorboard = tensorboard
        self._tb = None  # the live TensorBoard writer of the current fit
        self.runs_dir = runs_dir
        self.save_model = save_model
        self.run_dir: Optional[Path] = None  # the folder of the current (or last) fit
        self.run_dirs: list[Path] = []  # every fit this Monitor recorded
        self._log: Optional[RunLogWriter] = None
        self._disabled = False
        self._t_start = 0.0
        self._unbuilt = False  # the model wasn't built when fit began: described once it is
        self._fit_x: Any = None
        self._checkpoints: Optional[CheckpointCallback] = None  # best.keras while it trains (save_model)

    def __deepcopy__(self, memo) -> "Monitor":
        """A new Monitor with the same settings: KerasTuner copies the search's callbacks for each trial
        (in one ``deepcopy`` of the list, so a given EarlyStopping maps to its own copy)."""
        es = copy.deepcopy(self._given_es, memo) if self._given_es is not None else None
        return type(self)(self.name, self.runs_dir, es, self.save_model, cancel=self.cancel,
                          tensorboard=self.tensorboard, batch_stride=self.batch_stride)

    # -- the run log -------------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        if self._log is not None:
            self._log(event)
            self._to_tensorboard(event)

    def _to_tensorboard(self, event: Event) -> None:
        """The event to the live TensorBoard writer; a failure there stops only that writer, once said."""
        if self._tb is None:
            return
        try:
            self._tb(event)
        except Exception as exc:  # noqa: BLE001 - a full disk or a removed folder: training goes on
            self._tb = None
            self._say(f"stopped writing TensorBoard files ({exc}); the run log goes on")

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
        what = one_line(exc)
        where = f" (the run so far is in {self.run_dir})" if self._log is not None and self.run_dir else ""
        with contextlib.suppress(Exception):
            self._close("failed", f"tui-trainer's Monitor stopped recording ({what}); training went on")
        self._say(f"the Monitor stopped recording this fit: {what}; training goes on{where}")

    @staticmethod
    def _say(message: str) -> None:
        """One line on stderr, about a fit that is not (or no longer) being recorded."""
        with contextlib.suppress(Exception):  # a closed or broken stderr must not fail fit either
            print(f"tui-trainer: {printable(message)}", file=sys.stderr, flush=True)

    def _open_tensorboard(self, run_dir: Path) -> None:
        if not self.tensorboard:
            return
        from .tbwrite import TensorBoardSink

        target = run_dir / "tensorboard" if self.tensorboard is True else Path(self.tensorboard) / run_dir.name
        try:
            self._tb = TensorBoardSink(target)
        except OSError as exc:
            self._say(f"can't write TensorBoard files to {target} ({exc}); the run log goes on")

    def _close(self, status: str, reason: str = "") -> None:
        log, lock = self._log, getattr(self, "_run_lock", None)
        self._run_lock = None
        if log is None:  # on_train_begin failed before the log was open: only the lock to let go
            if lock is not None:
                lock.release()
            return
        self._log = None
        with contextlib.suppress(Exception):
            atexit.unregister(self._at_exit)
        from .engine import finished  # the engine's constructor of the last event

        try:
            if status == "failed" and reason and log.state.failure is None:
                log(RunFailed(error=reason, epoch=log.state.epochs_run or None))
            last = finished(status, log.state.epochs_run, {}, self._t_start, reason)
            log(last)
            self._to_tensorboard(last)
        finally:
            log.close()
            if self._tb is not None:
                with contextlib.suppress(Exception):
                    self._tb.close()
                self._tb = None
            if lock is not None:  # held until the run's last line and summary are written
                lock.release()

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
            self._close("failed", one_line(exc))

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
        trial = _tuner_trial(keras_compat.fit_callbacks())
        name = _run_name(self.name) + (f"-trial-{trial['trial_id']}" if trial and not self.name else "")
        run_dir = new_run_dir(Path(self.runs_dir) if self.runs_dir else default_runs_dir(), name)
        self.run_dir = run_dir
        self.run_dirs.append(run_dir)
        from .runlock import RunLock

        self._run_lock = RunLock(run_dir).acquire()  # one writer per run folder, for the whole fit
        _write_source(run_dir, trial)
        self._log = RunLogWriter(run_dir, on_error=lambda message: self._say(f"{message}; training goes on"))
        self._open_tensorboard(run_dir)
        atexit.register(self._at_exit)
        announce = os.environ.get(RUN_LIST_ENV)
        if announce:
            with open_append(announce) as fh:  # never through a link
                fh.write(f"{run_dir}\n")
        started, self._unbuilt = self._run_started(run_dir, name, trial)
        self._emit(started)
        if self.save_model and not self._unbuilt:  # an unbuilt model can't be cloned yet: once it is built
            self._start_checkpoints(run_dir)  # best.keras whenever the monitored value improves
        if fitinfo.notebook_shell() is not None:  # a notebook cell shows one line: where the run is
            print(f"tui-trainer: recording this fit in {run_dir} (follow it: tui-trainer watch {run_dir})")

    def _start_checkpoints(self, run_dir: Path) -> None:
        """best.keras from now on: the checkpoint callback, driven from this Monitor's hooks, which run
        after EarlyStopping's wherever the two stand in the fit's callbacks."""
        keeper = CheckpointCallback(run_dir, self._emit, self, early_stopping=self.early_stopping)
        keeper.set_model(self.model)
        keeper.set_params(self.params)
        keeper.on_train_begin()
        self._checkpoints = keeper

    def _close_checkpoints(self, model_file: Optional[Path] = None) -> None:
        keeper, self._checkpoints = self._checkpoints, None
        if keeper is not None:
            keeper.close(model_file)

    def _describe_built_model(self) -> None:
        """Send the model's description once Keras has built it (it wasn't when fit began)."""
        if self._unbuilt and self.model.built:
            self._unbuilt = False
            facts = fitinfo.describe_model(self.model, self._fit_x)
            self._emit(ModelBuilt(layers=facts.layers, params_total=facts.params_total,
                                  input_shape=facts.input_shape, num_classes=facts.num_classes))
            if self.save_model and self.run_dir is not None:
                self._start_checkpoints(self.run_dir)

    @_guarded
    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)

    @_guarded
    def on_train_batch_begin(self, batch, logs=None):
        if self._unbuilt:  # the first step builds it: described from the second batch on
            self._describe_built_model()
        super().on_train_batch_begin(batch, logs)

    @_guarded
    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)

    @_guarded
    def _epoch_end(self, epoch, logs=None):
        if self._unbuilt:
            self._describe_built_model()
        super()._epoch_end(epoch, logs)
        if self._checkpoints is not None:
            self._checkpoints.on_epoch_end(epoch, logs)

    def _describe_parts(self) -> None:
        """A model still unbuilt when its fit ends (a GAN's): described by the parts that are built."""
        self._unbuilt = False
        parts = fitinfo.built_parts(self.model)
        facts = fitinfo.describe_model(self.model, self._fit_x)
        self._emit(ModelBuilt(layers=facts.layers, params_total=sum(p for _, p in parts),
                              input_shape=facts.input_shape, num_classes=facts.num_classes))
        self._emit(Note(fitinfo.parts_note(parts), epoch=self.epochs_run or None))

    @_guarded
    def _train_end(self, logs=None):
        if self._unbuilt and self.epochs_run:
            self._describe_parts()
        super()._train_end(logs)  # the EarlyStopping facts, after Keras restored the weights
        if self._checkpoints is not None:
            self._checkpoints.on_train_end()  # the last best.keras is written while model.keras is saved
        status, reason = self.ending()
        saved = self._save_model(self.run_dir) if self.save_model and self.run_dir is not None else None
        self._close_checkpoints(saved)
        self._close(status, reason)

    def _save_model(self, run_dir: Path) -> Optional[Path]:
        """model.keras; its path, or None when it could not be saved (said in a note)."""
        try:
            with replacing(run_dir / MODEL, run_file=True) as tmp:  # a unique .keras name, renamed once complete
                self.model.save(tmp)
            return run_dir / MODEL
        except Exception as exc:  # a custom layer without get_config, a full disk: the run stands
            self._emit(Note(f"model not saved: {one_line(exc, limit=200)}", epoch=self.epochs_run or None))
            return None

    # -- what ran ----------------------------------------------------------------------------------

    def _run_started(self, run_dir: Path, name: str, trial: Optional[dict[str, Any]]) -> tuple[RunStarted, bool]:
        """The run's first event, and whether the model is still to be described (not built yet)."""
        model = self.model
        x, val_x = keras_compat.fit_data()
        self._fit_x = x
        facts = fitinfo.describe_model(model, x)
        notes = list(self.notes)
        if not facts.built:
            notes.append("the model is built by its first training step: its layers' shapes and parameter "
                         "count are recorded then")
        elif facts.missing:
            notes.append(f"not recorded: {', '.join(facts.missing)}")
        if trial:
            hp = ", ".join(f"{k}={v}" for k, v in trial["hyperparameters"].items())
            notes.append(f"KerasTuner trial {trial['trial_id']}" + (f": {hp}" if hp else ""))
        script = fitinfo.script_path()
        shell = fitinfo.notebook_shell()
        n_val = fitinfo.length(val_x) or 0
        params = self.params or {}
        return run_started(
            run_dir, model, early_stopping=self.early_stopping, batch_size=int(self.batch_size or 0),
            epochs=int(params.get("epochs") or 0),
            validation_split=keras_compat.fit_local("validation_split") if n_val else None,
            hyperparameters=trial["hyperparameters"] if trial else None,
            preset_name=name, preset={}, seed=None,  # the script seeds (or not) as it likes
            device=fitinfo.describe_device(model),
            dataset=script.name if script else (f"{name} (notebook)" if shell is not None else "your fit"),
            data_source=fitinfo.describe_data(x), n_train=self.n_fit or fitinfo.length(x) or 0, n_val=n_val,
            n_test=0, input_shape=facts.input_shape, num_classes=facts.num_classes, layers=facts.layers,
            params_total=facts.params_total, steps_per_epoch=int(self.steps_per_epoch or 0),
            batch_stride=self.batch_stride,
            versions=fitinfo.versions(), notes=tuple(notes), origin="script",
        ), not facts.built


# --- where the fit came from --------------------------------------------------------------------------


def _run_name(given: Optional[str]) -> str:
    """The run's name: the one given, else the notebook's or the script's (a package's for ``-m``)."""
    if given:
        return given
    shell = fitinfo.notebook_shell()
    if shell is not None:
        return fitinfo.notebook_name(shell)
    script = fitinfo.script_path()
    if script is None:
        return "keras-fit"
    return script.parent.name if script.stem == "__main__" else script.stem  # python -m package


def _write_source(run_dir: Path, trial: Optional[dict[str, Any]]) -> None:
    """source.json (what ran, where, with which versions) and the code as script.py: a copy of the
    script, or a notebook's cells executed so far."""
    script = fitinfo.script_path()
    shell = fitinfo.notebook_shell()
    info: dict[str, Any] = {"script": str(script) if script else None, "argv": list(sys.argv),
                            "cwd": os.getcwd(), "versions": fitinfo.versions(), "executable": sys.executable}
    code: Optional[str] = None
    if shell is not None:
        info["notebook"] = fitinfo.notebook_path(shell) or fitinfo.notebook_name(shell)
        code = fitinfo.cells_as_script(fitinfo.notebook_cells(shell), info["notebook"])
    if trial:
        info["tuner_trial"] = trial
    write_text_atomic(run_dir / SOURCE, json.dumps(info, indent=2) + "\n", run_file=True)
    with contextlib.suppress(OSError):
        if code is not None:
            write_text_atomic(run_dir / SCRIPT, code[:MAX_SCRIPT_BYTES], run_file=True)
        elif script is not None and script.stat().st_size <= MAX_SCRIPT_BYTES:
            write_text_atomic(run_dir / SCRIPT, script.read_text(encoding="utf-8", errors="replace"), run_file=True)


def _tuner_trial(callbacks: Optional[list]) -> Optional[dict[str, Any]]:
    """KerasTuner's trial this fit belongs to (its id and hyperparameter values), if any."""
    for cb in callbacks or []:
        trial = getattr(cb, "trial", None) if type(cb).__name__ == "TunerCallback" else None
        if trial is not None:
            with contextlib.suppress(Exception):
                values = dict(trial.hyperparameters.values)
                return {"trial_id": str(trial.trial_id),
                        "hyperparameters": {k: v for k, v in values.items() if isinstance(v, (int, float, str, bool))}}
    return None
