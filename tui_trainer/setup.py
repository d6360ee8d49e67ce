"""A run's setup, read from the objects that trained it, and what differs between runs.

:func:`describe_setup` reads a compiled Keras model, its optimizer, the fit's batch size, epochs and
validation split and its EarlyStopping, and returns a flat dict of plain values keyed by the names
the compare view shows (``"learning rate": 0.001``, ``"hidden layers": "Dense 64 relu"``). The engine
and the :class:`~tui_trainer.monitor.Monitor` store it in ``RunStarted.setup``; a KerasTuner trial
adds its hyperparameters as ``hp.<name>``.

:func:`setup_of` reads it back from a run's RunStarted, deriving what it can from older logs that
have no setup (their layers, preset, epochs, batch size and EarlyStopping monitor);
:func:`differences` and :func:`labels_by_difference` name only the fields whose values differ.

Only what was read is kept: a field that could not be read is absent, never guessed. Headless:
this module imports neither Keras nor textual (the objects are read by duck typing).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterable, Mapping, Optional, Sequence

__all__ = [
    "FIELDS",
    "describe_setup",
    "differences",
    "format_value",
    "labels_by_difference",
    "layers_text",
    "setup_of",
]

# The order in which fields are listed; hp.* fields come first, unknown ones last.
FIELDS = (
    "hidden layers", "output layer", "optimizer", "learning rate", "loss", "batch size", "epochs",
    "validation split", "validation data", "early stopping", "patience", "min_delta", "restore_best_weights",
    "start_from_epoch", "baseline",
)
# Short names for the labels of runs (legend, column headers).
_SHORT = {"learning rate": "lr", "batch size": "batch", "validation split": "val split",
          "early stopping": "ES", "hidden layers": "hidden", "output layer": "output",
          "restore_best_weights": "restore", "start_from_epoch": "start", "validation_split": "val split"}
_OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "adamw": "AdamW", "nadam": "Nadam",
               "adagrad": "Adagrad"}  # the classes model.compile_model builds
_LAYER_FIELDS = ("hidden layers", "output layer")
MAX_LABEL = 48

Scalar = Any  # str | int | float | bool


# --- reading the objects -------------------------------------------------------------------------


def _name(obj: Any) -> Optional[str]:
    """A loss's or an activation's name: a string as given, a function's name, a Loss object's name."""
    if obj is None:
        return None
    if isinstance(obj, str):
        return obj
    name = getattr(obj, "__name__", None)
    if isinstance(name, str):
        return name
    name = getattr(obj, "name", None)
    return name if isinstance(name, str) and name else type(obj).__name__


def _layer_text(layer: Any) -> str:
    """``Dense 64 relu``, ``Conv2D 32 3x3 relu``, ``Dropout 0.2``, ``Flatten``."""
    parts = [type(layer).__name__]
    size = getattr(layer, "units", None) or getattr(layer, "filters", None)
    if isinstance(size, int) and not isinstance(size, bool):
        parts.append(str(size))
    kernel = getattr(layer, "kernel_size", None)
    if isinstance(kernel, (tuple, list)) and kernel and all(isinstance(k, int) for k in kernel):
        parts.append("x".join(str(k) for k in kernel))
    rate = getattr(layer, "rate", None)
    if isinstance(rate, (int, float)) and not isinstance(rate, bool):
        parts.append(_short_float(float(rate)))
    act = _name(getattr(layer, "activation", None))
    if act:
        parts.append(act)
    return " ".join(parts)


def group_repeats(texts: Sequence[str]) -> str:
    """Consecutive equal layers counted: ``Dense 64 sigmoid x8, Dense 32 relu``."""
    groups: list[list[Any]] = []
    for text in texts:
        if groups and groups[-1][0] == text:
            groups[-1][1] += 1
        else:
            groups.append([text, 1])
    return ", ".join(t if n == 1 else f"{t} x{n}" for t, n in groups)


def _model_layers(model: Any) -> dict[str, str]:
    with contextlib.suppress(Exception):
        layers = [layer for layer in (getattr(model, "layers", None) or [])
                  if type(layer).__name__ != "InputLayer"]
        if layers:
            outputs = _output_names(model, layers)
            hidden = [_layer_text(layer) for layer in layers if layer.name not in outputs]
            out = [_layer_text(layer) for layer in layers if layer.name in outputs]
            return {"hidden layers": group_repeats(hidden) or "none", "output layer": ", ".join(out)}
    return {}  # a subclassed model whose layers are made in build(): the built model's layers tell


def _output_names(model: Any, layers: list) -> set[str]:
    """The names of the layers that make the model's outputs (a functional model's may be several,
    anywhere in its layer list); else the last layer's."""
    with contextlib.suppress(Exception):
        names = {t._keras_history[0].name for t in model.outputs}  # a functional model's output tensors
        if names:
            return names
    return {layers[-1].name}


def _learning_rate(optimizer: Any) -> Optional[Scalar]:
    """The optimizer's learning rate as a number, or a schedule's class name."""
    lr = getattr(optimizer, "_learning_rate", None)
    if lr is not None and callable(lr) and hasattr(lr, "get_config"):  # a LearningRateSchedule
        return type(lr).__name__
    with contextlib.suppress(Exception):
        value = getattr(optimizer, "learning_rate")
        value = value.numpy() if hasattr(value, "numpy") else value
        value = float(value)
        if math.isfinite(value):
            return float(f"{value:.6g}")  # float32 storage: 0.0010000000474974513 -> 0.001
    return None


def _loss(model: Any) -> Optional[str]:
    loss = getattr(model, "loss", None)
    # Keras keeps a dict or list of losses in its own tracking wrappers: duck-typed, not isinstance.
    if callable(getattr(loss, "items", None)) and not callable(loss):
        names = [f"{k}: {_name(v)}" for k, v in loss.items()]
        return ", ".join(names) or None
    if isinstance(loss, (list, tuple)) or type(loss).__name__ == "_ListWrapper":
        return ", ".join(str(_name(v)) for v in loss) or None
    return _name(loss)


def _early_stopping(es: Any) -> dict[str, Scalar]:
    if es is None:
        return {"early stopping": "off"}
    out: dict[str, Scalar] = {"early stopping": str(getattr(es, "monitor", "?"))}
    for key in ("patience", "min_delta", "restore_best_weights", "start_from_epoch", "baseline"):
        value = getattr(es, key, None)
        if isinstance(value, (bool, int, float, str)):
            # Keras flips min_delta's sign for a metric it minimises: the size is what the user set.
            out[key] = float(f"{abs(value) if key == 'min_delta' else value:.6g}") if isinstance(value, float) else value
    if out.get("baseline") is None:
        out.pop("baseline", None)
    return out


def describe_setup(
    model: Any,
    *,
    batch_size: Optional[int] = None,
    epochs: Optional[int] = None,
    validation_split: Optional[float] = None,
    validation_samples: Optional[int] = None,
    early_stopping: Any = None,
    hyperparameters: Optional[Mapping[str, Any]] = None,
) -> dict[str, Scalar]:
    """The setup of one fit, read from its objects: plain values keyed by the names compare shows.

    Args:
        model: The compiled model (built or not: unbuilt layers still know their kind and size).
        batch_size: The fit's batch size, when known (0 or None: not known, left out).
        epochs: The fit's ``epochs``.
        validation_split: The fit's ``validation_split`` (left out when None or 0).
        validation_samples: Samples of the fit's own ``validation_data``, recorded when there is no
            split (``validation data: 8 samples``).
        early_stopping: The fit's EarlyStopping, or None when it has none (``early stopping: off``).
        hyperparameters: A KerasTuner trial's ``hp.values``, stored as ``hp.<name>``.
    """
    setup: dict[str, Scalar] = {}
    for key, value in (hyperparameters or {}).items():
        if isinstance(value, (bool, int, float, str)):
            setup[f"hp.{key}"] = value
    setup.update(_model_layers(model))
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        setup["optimizer"] = type(optimizer).__name__
        lr = _learning_rate(optimizer)
        if lr is not None:
            setup["learning rate"] = lr
    loss = _loss(model)
    if loss:
        setup["loss"] = loss
    if batch_size:
        setup["batch size"] = int(batch_size)
    if epochs:
        setup["epochs"] = int(epochs)
    if validation_split:
        setup["validation split"] = float(validation_split)
    elif validation_samples:
        setup["validation data"] = f"{int(validation_samples)} samples"
    setup.update(_early_stopping(early_stopping))
    return setup


# --- reading runs back ---------------------------------------------------------------------------


def layers_text(rows: Iterable[Any]) -> dict[str, str]:
    """``hidden layers`` and ``output layer`` from RunStarted.layers rows (a preset's or a Monitor's)."""
    texts = []
    for row in rows:
        if not isinstance(row, Mapping):
            continue  # a hand-edited log: anything may be here
        kind = str(row.get("type", "dense"))
        parts = [kind[:1].upper() + kind[1:]]
        for key in ("units", "rate", "activation"):
            value = row.get(key)
            if isinstance(value, float):
                parts.append(_short_float(value))
            elif isinstance(value, (int, str)) and not isinstance(value, bool):
                parts.append(str(value))
        texts.append(" ".join(parts))
    if not texts:
        return {}
    return {"hidden layers": group_repeats(texts[:-1]) or "none", "output layer": texts[-1]}


def _from_preset(preset: Mapping[str, Any]) -> dict[str, Scalar]:
    training = preset.get("training") if isinstance(preset.get("training"), Mapping) else {}
    data = preset.get("data") if isinstance(preset.get("data"), Mapping) else {}
    es = preset.get("early_stopping") if isinstance(preset.get("early_stopping"), Mapping) else {}
    out: dict[str, Scalar] = {}
    for key, name in (("optimizer", "optimizer"), ("learning_rate", "learning rate"), ("loss", "loss")):
        if isinstance(training.get(key), (str, int, float)):
            out[name] = training[key]
    if isinstance(out.get("optimizer"), str):  # as the class that ran is named: "adam" built an Adam
        out["optimizer"] = _OPTIMIZERS.get(out["optimizer"].lower(), out["optimizer"])
    if isinstance(data.get("validation_split"), (int, float)):
        out["validation split"] = float(data["validation_split"])
    if es.get("enabled") is False:
        out["early stopping"] = "off"
    elif es:
        for key in ("min_delta", "restore_best_weights", "start_from_epoch", "baseline"):
            if isinstance(es.get(key), (bool, int, float)):
                out[key] = es[key]
    return out


def setup_of(started: Any) -> dict[str, Scalar]:
    """A run's setup: ``RunStarted.setup`` over what its other fields tell (for logs that predate it).

    The layers come from ``RunStarted.layers`` when the setup has none (a model built by its first
    step: the ModelBuilt event has completed those rows).
    """
    if started is None:
        return {}
    out: dict[str, Scalar] = {}
    out.update(layers_text(getattr(started, "layers", ()) or ()))
    preset = getattr(started, "preset", None)
    if isinstance(preset, Mapping) and preset:
        out.update(_from_preset(preset))
    if getattr(started, "batch_size", 0):
        out["batch size"] = started.batch_size
    if getattr(started, "epochs", 0):
        out["epochs"] = started.epochs
    monitor = getattr(started, "monitor", None)
    if monitor:
        out["early stopping"] = monitor
        if getattr(started, "patience", None) is not None:
            out["patience"] = started.patience
    elif getattr(started, "origin", "preset") == "preset" and preset:
        out["early stopping"] = "off"
    stored = getattr(started, "setup", None)
    if isinstance(stored, Mapping):
        out.update({k: v for k, v in stored.items() if isinstance(k, str) and isinstance(v, (bool, int, float, str))})
    return out


def _short_float(value: float) -> str:
    return f"{value:.6g}"


def format_value(value: Any) -> str:
    """One setup value as text; None (the run has no such field) as ``not recorded``."""
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return _short_float(value)
    return str(value)


def _order(key: str) -> tuple[int, int, str]:
    if key.startswith("hp."):
        return (0, 0, key)
    return (1, FIELDS.index(key), key) if key in FIELDS else (2, 0, key)


def differences(setups: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Any]]]:
    """The fields whose values are not the same in every run: ``[(field, [value per run]), ...]``.

    A field no run recorded is not listed; one that some runs lack shows None for them.
    """
    keys = sorted({k for s in setups for k in s}, key=_order)
    out = []
    for key in keys:
        values = [s.get(key) for s in setups]
        if len({format_value(v) for v in values}) > 1:
            out.append((key, values))
    return out


def _label_part(key: str, value: Any) -> str:
    text = format_value(value)
    if key.startswith("hp."):
        return f"{key[3:]}={text}"
    if key in _LAYER_FIELDS and value is not None:
        text = text.replace("Dense ", "")  # "hidden 64 relu, 32 relu": the legend is narrow
    short = _SHORT.get(key, key)
    return f"{short} {text}" if short else text


def _telling_fields(diffs: list[tuple[str, list[Any]]], most: int = 3) -> list[tuple[str, list[Any]]]:
    """The fewest differing fields, in order, whose values together tell the runs apart (or as many
    as ``most`` allows)."""
    chosen: list[tuple[str, list[Any]]] = []
    n = len(diffs[0][1]) if diffs else 0
    groups = [()] * n
    for key, values in diffs:
        split = [g + (format_value(v),) for g, v in zip(groups, values)]
        if len(set(split)) > len(set(groups)):
            chosen.append((key, values))
            groups = split
        if len(set(groups)) == n or len(chosen) == most:
            break
    return chosen


def labels_by_difference(setups: Sequence[Mapping[str, Any]], fallback: Sequence[str]) -> list[str]:
    """A short label per run naming its values of the fields that tell the runs apart.

    The fields are taken in :data:`FIELDS` order (hyperparameters first), each only when it splits
    runs the earlier ones left together, until every run is told apart (three fields at most); then
    more of the differing fields while every label stays within :data:`MAX_LABEL` characters. Short
    fields (hyperparameters, learning rate...) come before the layers, which are long. Falls
    back to ``fallback`` (the run ids) when nothing differs or the labels would not tell every run
    apart.
    """
    every = differences(setups)
    chosen = _telling_fields(every)
    if not chosen:
        return list(fallback)
    # Room left: name more of what differs (two runs: lr and layers, not one) unless the runs are a
    # search's trials, told apart by their hyperparameters (the layers they build follow from them).
    searched = all(key.startswith("hp.") for key, _ in chosen)
    for field in every:
        if searched or len(chosen) >= 3 or field in chosen:
            continue
        if max(len(label) for label in _labels(chosen + [field], len(setups))) <= MAX_LABEL:
            chosen.append(field)
    labels = [label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"
              for label in _labels(chosen, len(setups))]
    return labels if len(set(labels)) == len(labels) else list(fallback)


def _labels(fields: list[tuple[str, list[Any]]], n: int) -> list[str]:
    ordered = sorted(fields, key=lambda d: (d[0] in _LAYER_FIELDS, _order(d[0])))  # short fields first
    ordered = [(key, _shared_words_dropped(_distinct_layers(values)) if key in _LAYER_FIELDS else values)
               for key, values in ordered]
    if len(ordered) == 1 and ordered[0][0] == "hidden layers":
        # The layers alone tell the runs apart: "relu" / "tanh" say it; the table names the field.
        return [format_value(v).replace("Dense ", "") for v in ordered[0][1]]
    return [", ".join(_label_part(key, values[i]) for key, values in ordered) for i in range(n)]


def _distinct_layers(values: list[Any]) -> list[Any]:
    """Layer lists without the layers every run shares at their start and end, marked ``…``:
    ``Conv2D 8 3x3 relu, Flatten, Dropout 0.5`` and ``…, Dropout 0.25`` become ``…Dropout 0.5``
    and ``…Dropout 0.25``. Left whole when a run would keep no layer of its own."""
    if any(not isinstance(v, str) for v in values):
        return values
    items = [v.split(", ") for v in values]
    head = 0
    while all(len(i) > head + 1 for i in items) and len({tuple(i[: head + 1]) for i in items}) == 1:
        head += 1
    tail = 0
    while all(len(i) > head + tail + 1 for i in items) and len({i[len(i) - tail - 1] for i in items}) == 1:
        tail += 1
    if not head and not tail:
        return values
    return [("…" if head else "") + ", ".join(i[head: len(i) - tail]) + ("…" if tail else "") for i in items]


def _shared_words_dropped(values: list[Any]) -> list[Any]:
    """Layer lists without the words every run shares at the same place of the same layer:
    ``Dense 128 relu`` / ``Dense 128 tanh`` become ``Dense relu`` / ``Dense tanh``. A layer's type
    (its first word) is kept, so ``Dropout 0.5`` / ``Dropout 0.25`` keep saying what 0.5 is. Left
    as they are when the runs have different numbers of layers or a run would keep nothing of a layer."""
    if any(not isinstance(v, str) for v in values):
        return values
    marks = [(v.startswith("…"), v.endswith("…")) for v in values]
    items = [[item.split() for item in v.strip("…").split(", ")] for v in values]
    if len({len(i) for i in items}) != 1:
        return values
    kept: list[list[list[str]]] = [[] for _ in values]
    for layer in range(len(items[0])):
        words = [i[layer] for i in items]
        shared = {j for j in range(1, min(len(w) for w in words)) if len({w[j] for w in words}) == 1}
        trimmed = [w[:1] + [x for j, x in enumerate(w) if j and j not in shared] for w in words]
        if any(len(t) == 1 < len(w) for t, w in zip(trimmed, words)):
            trimmed = words  # "Dense 64 relu x8" / "Dense 64 relu": keep the run's own "64 relu"
        for out, t in zip(kept, trimmed):
            out.append(t)
    return [("…" if head else "") + ", ".join(" ".join(w) for w in k) + ("…" if tail else "")
            for k, (head, tail) in zip(kept, marks)]
