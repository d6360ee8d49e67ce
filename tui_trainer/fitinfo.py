"""What a user's own ``fit`` is: the model, the data, the device, the script or notebook that ran it.

Read by the :class:`~tui_trainer.monitor.Monitor` from the objects themselves,
best effort: each fact is read on its own and a fact that can't be read is left
out (or said to be unknown), never guessed and never allowed to fail the fit.
Backend-neutral: nothing here imports TensorFlow unless Keras runs on it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import keras

# Losses that make an output a classifier, by a part of their name (Keras's spellings and classes).
_CLASSIFYING = ("crossentropy", "hinge", "focal", "kl_divergence", "poisson")


# --- the model ---------------------------------------------------------------------------------------


@dataclass
class ModelFacts:
    """A model as far as it can be described now; ``built`` False: shapes and weights are not known yet."""

    layers: tuple[dict[str, Any], ...]
    params_total: int
    input_shape: tuple[int, ...]
    num_classes: int
    built: bool
    missing: list[str] = field(default_factory=list)  # what could not be read, for a note


def describe_model(model: keras.Model, x: Any = None) -> ModelFacts:
    """The model's layers, parameter count, input shape and classes; ``x`` (the fit's inputs) gives
    the input shape of a model that has no ``Input`` yet."""
    built = bool(getattr(model, "built", False))
    missing: list[str] = []
    params = 0
    if built:
        try:
            params = int(model.count_params())
        except Exception:
            missing.append("parameter count")
    input_shape = _input_shape(model) or data_shape(x)
    if not input_shape:
        missing.append("input shape")
    return ModelFacts(layers=tuple(layer_rows(model)), params_total=params, input_shape=input_shape,
                      num_classes=num_classes(model), built=built, missing=missing)


def built_parts(model: keras.Model) -> list[tuple[str, int]]:
    """``(name, parameters)`` of the model's direct sub-layers that are built, for a model that never is
    (a GAN-style ``train_step`` calls its generator and discriminator, never the model itself)."""
    parts = []
    for layer in getattr(model, "layers", None) or []:
        if getattr(layer, "built", False):
            with contextlib.suppress(Exception):
                parts.append((str(layer.name), int(layer.count_params())))
    return parts


def parts_note(parts: list[tuple[str, int]]) -> str:
    """The note a never-built model's run carries: which parts its parameter count covers."""
    if not parts:
        return "the model was never built (its train_step never called it): no layers or parameters recorded"
    listed = ", ".join(f"{name} ({params:,})" for name, params in parts)
    return (f"the model itself was never built (its train_step calls its parts): parameters counted over its "
            f"built parts: {listed}")


def _dims(shape) -> tuple[int, ...]:
    return tuple(int(d) for d in shape if d is not None)


def _input_shape(model: keras.Model) -> tuple[int, ...]:
    with contextlib.suppress(Exception):
        inputs = getattr(model, "inputs", None)
        if inputs:
            return _dims(inputs[0].shape[1:])
    return ()


def _first_array(x: Any) -> Any:
    """The first input of ``x`` (a list, tuple or dict of inputs: its first), as given."""
    first = x
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    if isinstance(first, dict) and first:
        first = next(iter(first.values()))
    return first


def data_shape(x: Any) -> tuple[int, ...]:
    """One sample's shape in the fit's inputs (the first input of several): arrays or a tf.data
    pipeline's element spec; () when it can't be told (a generator)."""
    with contextlib.suppress(Exception):
        spec = getattr(x, "element_spec", None)  # tf.data: (inputs, targets[, weights])
        first = _first_array(spec if spec is not None else x)
        shape = getattr(first, "shape", None)
        if shape is not None and len(shape) > 1:
            return _dims(shape[1:])
    return ()


def length(x: Any) -> Optional[int]:
    """Samples in ``x`` (its first array's first dimension), None when not known."""
    shape = getattr(_first_array(x), "shape", None) if x is not None else None
    try:
        return int(shape[0]) if shape is not None and len(shape) and shape[0] is not None else None
    except (TypeError, ValueError):
        return None


def describe_data(x: Any) -> str:
    """The fit's data in words: arrays and their shape, a tf.data pipeline, a generator."""
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
    if isinstance(x, dict):
        return f"inputs {', '.join(map(str, x))}"
    if isinstance(x, (list, tuple)):
        return f"{len(x)} inputs"
    return f"{type(x).__name__} data"


def _loss_name(loss: Any) -> str:
    if loss is None:
        return ""
    if isinstance(loss, str):
        return loss.lower()
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    return str(name).lower()


def _output_losses(model: keras.Model, names: list[str]) -> list[str]:
    """The loss name of each output, in order ('' where none or unknown)."""
    loss = getattr(model, "loss", None)
    if isinstance(loss, dict):
        return [_loss_name(loss.get(n)) for n in names]
    if isinstance(loss, (list, tuple)):
        return [_loss_name(loss[i]) if i < len(loss) else "" for i in range(len(names))]
    return [_loss_name(loss)] * len(names)


def num_classes(model: keras.Model) -> int:
    """Classes of the model's classifying output (the first output trained with a classification
    loss; with one output, that one); 0 when no output is a classifier or it can't be told."""
    shapes: list[Any] = []
    with contextlib.suppress(Exception):
        shapes = [o.shape for o in (getattr(model, "outputs", None) or [])]
    if not shapes:  # a subclassed model: its last layer with units, if any
        with contextlib.suppress(Exception):
            units = [getattr(layer, "units", None) for layer in model.layers]
            units = [u for u in units if isinstance(u, int)]
            if units:
                shapes = [(None, units[-1])]
    if not shapes:
        return 0
    names = list(getattr(model, "output_names", None) or [str(i) for i in range(len(shapes))])
    losses = _output_losses(model, names)
    for shape, loss in zip(shapes, losses):
        last = shape[-1] if len(shape) > 1 else None
        if last is None or not any(part in loss for part in _CLASSIFYING):
            continue
        return 2 if int(last) == 1 else int(last)
    return 0  # no output is trained with a classification loss we can name: not guessed from its units


def layer_rows(model: keras.Model) -> list[dict[str, Any]]:
    """One row per layer (kind, name, parameters, output shape, units, activation), as far as known."""
    rows = []
    with contextlib.suppress(Exception):
        layers = [layer for layer in getattr(model, "layers", []) or [] if type(layer).__name__ != "InputLayer"]
        for i, layer in enumerate(layers):
            row: dict[str, Any] = {"position": i + 1, "type": type(layer).__name__, "name": layer.name}
            if getattr(layer, "built", False):
                with contextlib.suppress(Exception):
                    row["params"] = int(layer.count_params())
                with contextlib.suppress(Exception):
                    row["output_shape"] = [None if d is None else int(d) for d in layer.output.shape]
            with contextlib.suppress(Exception):
                units = getattr(layer, "units", None) or getattr(layer, "filters", None)
                if isinstance(units, int):
                    row["units"] = int(units)
            act = getattr(layer, "activation", None)
            if act is not None:
                row["activation"] = getattr(act, "__name__", str(act))
            rows.append(row)
    return rows


# --- the machine -------------------------------------------------------------------------------------


def backend() -> str:
    with contextlib.suppress(Exception):
        return keras.backend.backend()
    return "unknown"


def versions() -> dict[str, str]:
    """Python, Keras, its backend's package and tui-trainer, by name."""
    from . import __version__

    out = {"python": platform.python_version(), "keras": keras.__version__, "backend": backend(),
           "tui_trainer": __version__}
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(out["backend"])
    if module and module in sys.modules:
        out[module] = str(getattr(sys.modules[module], "__version__", "?"))
    return out


def describe_device(model: keras.Model) -> str:
    """The device the fit runs on, in words, from the backend Keras runs on (TensorFlow is imported
    only when it is that backend)."""
    from .distribute import cpu_text

    name = backend()
    with contextlib.suppress(Exception):
        if name == "tensorflow":
            import tensorflow as tf

            from .engine import describe_device as tf_device

            strategy = model.distribute_strategy
            return tf_device(tf, strategy if strategy is not tf.distribute.get_strategy() else None)
        if name == "jax":
            import jax

            devices = jax.devices()
            if devices and devices[0].platform != "cpu":
                kind = getattr(devices[0], "device_kind", devices[0].platform)
                return f"GPU {kind}" + (f" (1 of {len(devices)})" if len(devices) > 1 else "")
        if name == "torch":
            import torch

            if torch.cuda.is_available():
                return f"GPU {torch.cuda.get_device_name(0)}"
    return cpu_text()


# --- the script or notebook --------------------------------------------------------------------------


def script_path() -> Optional[Path]:
    """The Python file the process runs, if it is one (not a notebook's kernel launcher)."""
    if notebook_shell() is not None:
        return None
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv and sys.argv[0] else None)
    if not path or path == "-c":
        return None
    p = Path(path)
    return p.resolve() if p.is_file() and p.suffix == ".py" else None


def notebook_shell():
    """The IPython shell this process runs cells in (Jupyter, VS Code, Colab, ipython), or None."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    with contextlib.suppress(Exception):
        return ipython.get_ipython()
    return None


def notebook_path(shell) -> Optional[str]:
    """The notebook's path or name where its front end tells it; None where it does not (Colab)."""
    ns = getattr(shell, "user_ns", {}) or {}
    for value in (ns.get("__session__"), ns.get("__vsc_ipynb_file__"), os.environ.get("JPY_SESSION_NAME")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def notebook_name(shell) -> str:
    path = notebook_path(shell)
    if not path:
        return "notebook"
    name = Path(path).name
    for suffix in (".ipynb", ".py"):
        name = name.removesuffix(suffix)
    return name or "notebook"


def notebook_cells(shell) -> list[str]:
    """The cells executed so far in this session, in order (IPython's input history)."""
    with contextlib.suppress(Exception):
        cells = shell.history_manager.input_hist_raw
        return [c for c in cells[1:] if isinstance(c, str)]  # index 0 is an empty placeholder
    with contextlib.suppress(Exception):
        return [c for c in shell.user_ns.get("In", [])[1:] if isinstance(c, str)]
    return []


def cells_as_script(cells: list[str], title: str) -> str:
    """The cells as one file, each under a ``# %% In[n]`` marker (the format editors read as cells)."""
    parts = [f"# The cells of {title} executed before this fit, in order (IPython's input history).\n"]
    for i, cell in enumerate(cells, start=1):
        parts.append(f"# %% In[{i}]\n{cell.rstrip()}\n")
    return "\n".join(parts)
