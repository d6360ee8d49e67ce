"""Everything tui-trainer reads of Keras's private layout, in one module.

Keras hands a callback neither the fit's other callbacks nor its data, and keeps
how EarlyStopping resolved ``mode="auto"`` to itself. The Monitor needs all
three, so it reads them from where Keras keeps them:

- the locals of ``Model.fit`` a few frames up the training thread's stack
  (``callbacks``: the CallbackList; ``x``/``val_x``: the data after the
  validation split; ``epoch_iterator``: the iterator and its data adapter) —
  the same names in the TensorFlow, JAX and PyTorch trainers;
- the data adapter's ``num_batches``, ``batch_size``, ``has_partial_batch``,
  ``partial_batch_size`` (arrays only; a ``tf.data`` pipeline knows none);
- ``EarlyStopping.monitor_op`` (``ops.less`` / ``ops.greater``), and the fit's EarlyStopping itself,
  whose ``on_epoch_end`` / ``on_train_end`` are wrapped on the instance (:func:`run_after`) so that a
  callback standing anywhere in the list reports after EarlyStopping has counted the epoch;
- the module ``keras.Model`` is defined in (:data:`MODEL_MODULE`), which ``tui-trainer run`` watches
  to patch ``fit`` once it is loaded, whichever way the script imports Keras.

Laid out this way from Keras 3.0 through 3.15 (checked: 3.15.1, with the
TensorFlow and JAX backends). ``tests/unit/test_keras_compat.py`` runs a real fit
and asserts every reader here finds what it reads, so a Keras release that moves
any of it fails that one test, loudly, and nothing else has to be searched.
Every reader returns None (never raises) when the layout is not what it expects,
and callers degrade: a run without its batch size still records its epochs.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

# The Keras versions whose layout this module was checked against (the test names the running one).
CHECKED = ("3.15",)
# Where keras.Model lives: `import keras`, `from tensorflow import keras` and `tf.keras` all load it.
MODEL_MODULE = "keras.src.models.model"
_MAX_DEPTH = 24  # frames between a callback hook and Model.fit: CallbackList, wrappers, our own helpers


def fit_local(name: str) -> Any:
    """A local variable of the ``Model.fit`` that is running this thread's callbacks, or None.

    Walks up from the caller to the nearest frame of a function named ``fit`` that
    has ``name`` among its locals (a wrapper named ``fit`` that lacks it, like
    ``tui-trainer run``'s own, is passed over).
    """
    frame = sys._getframe(1)
    for _ in range(_MAX_DEPTH):
        if frame is None:
            return None
        if frame.f_code.co_name == "fit" and name in frame.f_locals:
            return frame.f_locals[name]
        frame = frame.f_back
    return None


def fit_callbacks() -> Optional[list]:
    """Every callback of the running ``fit`` (its CallbackList's), or None when they can't be seen."""
    inner = getattr(fit_local("callbacks"), "callbacks", None)
    return list(inner) if isinstance(inner, list) else None


def fit_data() -> tuple[Any, Any]:
    """``(x, val_x)`` of the running fit: the training inputs after the validation split, and the
    validation inputs (None without validation, or when they can't be seen)."""
    return fit_local("x"), fit_local("val_x")


def batch_layout() -> Optional[tuple[int, int, int]]:
    """``(num_batches, batch_size, partial_batch_size)`` of the running fit's data adapter, when it
    knows them (NumPy arrays, tensors); None for a ``tf.data`` pipeline, a generator or a PyDataset."""
    adapter = getattr(fit_local("epoch_iterator"), "data_adapter", None)
    try:
        batches, size = adapter.num_batches, adapter.batch_size
        partial = adapter.partial_batch_size if adapter.has_partial_batch else 0
    except Exception:
        return None
    if not batches or not size:
        return None
    return int(batches), int(size), int(partial or 0)


def early_stopping_mode(es) -> str:
    """What an EarlyStopping compares with: "min" or "max" once it has resolved ``mode="auto"``
    (lazily, at the first epoch it watches); its ``mode`` as given before that."""
    op = getattr(es, "monitor_op", None)
    if op is None:  # not resolved yet (no epoch watched)
        return getattr(es, "mode", "auto")
    name = getattr(op, "__name__", "")
    return "max" if "greater" in name else "min"


# --- the fit's EarlyStopping ------------------------------------------------------------------------


def find_early_stopping(callbacks: Optional[list], notes: list[str]):
    """The first EarlyStopping among ``callbacks`` (a fit's, see :func:`fit_callbacks`), or None.

    What could not be told goes into ``notes`` (the callbacks unseen, more than one EarlyStopping).
    """
    import keras  # loaded already: only a running fit gets here

    if callbacks is None:
        notes.append("could not see the fit's other callbacks; EarlyStopping, if any, is not reported")
        return None
    found = [c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)]
    if len(found) > 1:
        notes.append(f"{len(found)} EarlyStopping callbacks in this fit; reporting the first "
                     f"(monitor={found[0].monitor})")
    return found[0] if found else None


def run_after(obj: Any, hooks: dict[str, Any]) -> list[tuple[Any, str]]:
    """Make each ``obj.<name>(...)`` call ``hooks[name](...)`` right after itself, on this instance only.

    A callback that must see EarlyStopping's state after it handled an epoch, wherever it stands in
    the fit's callbacks, wraps EarlyStopping's own methods this way. Returns what :func:`unhook` undoes.
    """
    hooked = []
    for name, after in hooks.items():
        original = getattr(obj, name)

        def wrapped(*args, _original=original, _after=after, **kwargs):
            _original(*args, **kwargs)
            _after(*args, **kwargs)

        setattr(obj, name, wrapped)
        hooked.append((obj, name))
    return hooked


def unhook(hooked: list[tuple[Any, str]]) -> None:
    """Undo :func:`run_after`: the instance attributes go, the class's methods show again."""
    for obj, name in hooked:
        try:
            delattr(obj, name)
        except AttributeError:
            pass
