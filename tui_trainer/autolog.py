"""Run an unmodified Keras script with a Monitor on every ``fit``: ``python -m tui_trainer.autolog SCRIPT [ARGS]``.

This is the child process of ``tui-trainer run``. Like ``mlflow.autolog()`` it
patches ``keras.Model.fit``, but only once the script imports Keras (an import
hook), so whatever the script sets up first (``CUDA_VISIBLE_DEVICES``, a
TensorFlow log level) still comes first. A Monitor the script adds itself is
used as it is, never doubled.

Signals: the first SIGINT or SIGTERM during a ``fit`` stops it after the
current batch; the run is closed as cancelled and the script then ends with
exit code 130. Outside a fit, or a second time, SIGINT interrupts as usual.
"""

from __future__ import annotations

import atexit
import functools
import importlib.abc
import importlib.util
import inspect
import os
import runpy
import signal
import sys
import threading
import traceback
from pathlib import Path

from .keras_compat import MODEL_MODULE
from .runlog import RUN_LIST_ENV

CANCEL = threading.Event()
CANCELLED_EXIT = 130
_in_fit = 0
_output = None  # the script's stdout as autolog set it up (the pipe to tui-trainer run)
fits_recorded = 0  # of which a Monitor made a run folder
fits_called = 0  # Model.fit calls the script made (a script with none is told so at its end)
# The line the child writes into its own output when a fit's run folder exists: the parent
# (scriptrun) sends the output after it to that folder's output.log, in the order it was printed.
RUN_MARK = "\x1b]tui-trainer-run;"
RUN_MARK_END = "\x07"


class _QuietStream:
    """The script's stdout/stderr: once the reader is gone (``tui-trainer run`` closed, the SSH link
    dropped), writes are dropped instead of failing the script; training and its run log go on."""

    def __init__(self, stream):
        self._stream = stream
        self._dead = False

    def write(self, text):
        if not self._dead:
            try:
                return self._stream.write(text)
            except (OSError, ValueError):
                self._dead = True
        return len(text)

    def flush(self):
        if not self._dead:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._dead = True

    def __getattr__(self, name):  # isatty, fileno, encoding...: as the real stream
        return getattr(self._stream, name)


def patch_keras(keras_module) -> None:
    """Make every ``keras.Model.fit`` record itself with a :class:`~tui_trainer.monitor.Monitor`.

    Args:
        keras_module: ``keras`` or ``keras.src.models.model``: anything whose ``Model`` is Keras's.
    """
    model_cls = keras_module.Model
    if getattr(model_cls.fit, "_tui_trainer_autolog", False):
        return
    original = model_cls.fit
    signature = inspect.signature(original)

    @functools.wraps(original)
    def fit(self, *args, **kwargs):
        global _in_fit, fits_called
        from .monitor import Monitor  # here, not at patch time: Keras is still being imported then

        fits_called += 1
        bound = signature.bind(self, *args, **kwargs)
        callbacks = bound.arguments.get("callbacks")
        monitor = None
        if callbacks is None or isinstance(callbacks, (list, tuple)):
            callbacks = list(callbacks or [])
            monitor = next((c for c in callbacks if isinstance(c, Monitor)), None)
            if monitor is None:
                monitor = Monitor()
                callbacks.append(monitor)
            bound.arguments["callbacks"] = callbacks
        if monitor is not None and monitor.cancel is None:
            monitor.cancel = CANCEL
        if monitor is not None:
            _mark_run_dirs_in_output(monitor)
        _in_fit += 1
        try:
            result = original(*bound.args, **bound.kwargs)
        except BaseException as exc:
            if monitor is not None:
                monitor.abort(exc)  # closes the run as failed (or cancelled on Ctrl-C), then the script sees it
            raise
        finally:
            _in_fit -= 1
        if CANCEL.is_set():  # the user cancelled: the run is closed, the script ends here
            print("tui-trainer: training cancelled; the run log was closed as cancelled.", file=sys.stderr)
            raise SystemExit(CANCELLED_EXIT)
        return result

    fit._tui_trainer_autolog = True  # type: ignore[attr-defined]
    model_cls.fit = fit


def _mark_run_dirs_in_output(monitor) -> None:
    """Have ``monitor`` write a :data:`RUN_MARK` line into the output once it has made its run folder.

    Only under ``tui-trainer run`` (its list file is set): the parent then knows exactly which output
    came before which fit, however late it reads the pipe.
    """
    if not os.environ.get(RUN_LIST_ENV) or getattr(monitor, "_tui_trainer_marked", False):
        return
    begin = monitor.on_train_begin

    def on_train_begin(logs=None):
        begin(logs)
        if monitor.run_dir is not None:
            global fits_recorded
            fits_recorded += 1
            out = _output or sys.__stdout__  # the pipe, even where the script redirected sys.stdout
            try:  # never fails the fit: without its mark, this fit's output goes to the previous run's log
                for stream in {id(s): s for s in (sys.stdout, sys.stderr, out) if s is not None}.values():
                    stream.flush()  # what was printed before this fit goes out first
                out.write(f"{RUN_MARK}{monitor.run_dir}{RUN_MARK_END}\n")
                out.flush()
            except (OSError, ValueError, AttributeError):
                pass

    monitor.on_train_begin = on_train_begin
    monitor._tui_trainer_marked = True


class _KerasImportHook(importlib.abc.MetaPathFinder):
    """Patches ``Model.fit`` once Keras's model module has really been executed.

    It watches ``keras.src.models.model`` (where ``keras.Model`` lives, whichever way the script
    reaches it: ``import keras``, ``from tensorflow import keras``, ``tf.keras``, an import inside a
    function) rather than the top-level ``keras``: TensorFlow calls ``importlib.util.find_spec("keras")``
    without importing it, which spent a one-shot hook on ``keras``. This one stays installed until the
    module's code has run, and only then takes itself off ``sys.meta_path``.
    """

    TARGET = MODEL_MODULE

    def __init__(self):
        self._finding = False

    def find_spec(self, fullname, path, target=None):
        if fullname != self.TARGET or self._finding:
            return None
        self._finding = True  # the other finders below may ask the path machinery again
        try:
            spec = next((s for s in (_spec_from(f, fullname, path, target) for f in list(sys.meta_path)
                                     if f is not self) if s is not None), None)
        finally:
            self._finding = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        exec_module = spec.loader.exec_module
        hook = self

        def exec_and_patch(module):
            exec_module(module)
            if hook in sys.meta_path:
                sys.meta_path.remove(hook)
            patch_keras(module)

        spec.loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


def _spec_from(finder, fullname, path, target):
    find = getattr(finder, "find_spec", None)
    if find is None:
        return None
    try:
        return find(fullname, path, target)
    except Exception:  # a finder that fails on this name: let the others answer
        return None


def _on_signal(signum, frame) -> None:
    if _in_fit and not CANCEL.is_set():
        CANCEL.set()  # the Monitor stops fit after this batch and closes the run as cancelled
        return
    raise KeyboardInterrupt


def install() -> None:
    """Patch Keras now if it is imported, else when the script imports it; route SIGINT/SIGTERM."""
    model_module = sys.modules.get(_KerasImportHook.TARGET)
    if model_module is not None and hasattr(model_module, "Model"):
        patch_keras(model_module)
    else:
        sys.meta_path.insert(0, _KerasImportHook())
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a dropped SSH link does not end training


def main(argv: list[str]) -> None:
    if not argv:
        print("usage: python -m tui_trainer.autolog SCRIPT [ARGS...]", file=sys.stderr)
        raise SystemExit(2)
    script = Path(argv[0])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    global _output
    sys.stdout = _output = _QuietStream(sys.stdout)
    sys.stderr = _QuietStream(sys.stderr)
    sys.argv = [str(script), *argv[1:]]
    sys.path.insert(0, str(script.resolve().parent))  # as `python script.py` would
    install()
    atexit.register(_say_if_no_fit, script)
    try:
        runpy.run_path(str(script), run_name="__main__")
    except (SystemExit, KeyboardInterrupt) as exc:
        if isinstance(exc, KeyboardInterrupt):
            traceback.print_exception(type(exc), exc, _script_frames(exc.__traceback__, script))
            raise SystemExit(CANCELLED_EXIT) from None
        raise
    except BaseException as exc:  # as `python script.py` shows it: from the script's own frames
        traceback.print_exception(type(exc), exc, _script_frames(exc.__traceback__, script))
        raise SystemExit(1) from None


def _say_if_no_fit(script: Path) -> None:
    """One line on stderr when the script ended without calling ``Model.fit`` (never a silent end)."""
    if fits_called == 0:
        print(f"tui-trainer: {script.name} called no keras Model.fit: nothing to record.", file=sys.stderr)
    elif fits_recorded == 0 and os.environ.get(RUN_LIST_ENV):
        print(f"tui-trainer: {script.name} called Model.fit {fits_called} time(s) but none was recorded "
              "(its callbacks were not a list, or the fit failed before it began).", file=sys.stderr)


def _script_frames(tb, script: Path):
    """The traceback from the script's first frame on (runpy's and this module's frames dropped)."""
    target = str(script.resolve())
    t = tb
    while t is not None:
        if str(Path(t.tb_frame.f_code.co_filename).resolve()) == target:
            return t
        t = t.tb_next
    return tb


if __name__ == "__main__":
    main(sys.argv[1:])
