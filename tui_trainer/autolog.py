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

CANCEL = threading.Event()
CANCELLED_EXIT = 130
_in_fit = 0


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
    """Make every ``keras.Model.fit`` record itself with a :class:`~tui_trainer.monitor.Monitor`."""
    model_cls = keras_module.Model
    if getattr(model_cls.fit, "_tui_trainer_autolog", False):
        return
    original = model_cls.fit
    signature = inspect.signature(original)

    from .monitor import Monitor

    @functools.wraps(original)
    def fit(self, *args, **kwargs):
        global _in_fit
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


class _KerasImportHook(importlib.abc.MetaPathFinder):
    """Patches Keras right after the script (or TensorFlow's ``tf.keras``) first imports it."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)  # find the real spec, once
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None:
            return None
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            patch_keras(module)

        spec.loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


def _on_signal(signum, frame) -> None:
    if _in_fit and not CANCEL.is_set():
        CANCEL.set()  # the Monitor stops fit after this batch and closes the run as cancelled
        return
    raise KeyboardInterrupt


def install() -> None:
    """Patch Keras now if it is imported, else when the script imports it; route SIGINT/SIGTERM."""
    if "keras" in sys.modules:
        patch_keras(sys.modules["keras"])
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
    sys.stdout = _QuietStream(sys.stdout)
    sys.stderr = _QuietStream(sys.stderr)
    sys.argv = [str(script), *argv[1:]]
    sys.path.insert(0, str(script.resolve().parent))  # as `python script.py` would
    install()
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
