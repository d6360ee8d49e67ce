"""The one event vocabulary: run log, console printer, UI and replay all speak it.

Every event is a small frozen dataclass that round-trips through JSON
(``to_dict`` / ``from_dict``). Epochs and steps count from 1 here and
everywhere the product writes or shows them; the streaming callback converts
Keras's 0-based counters once.

A new event: its dataclass here (with a ``kind``, the name the run log writes) named once in ``_ALL``;
then a line in the table of each consumer that acts on it: ``runstate._FOLDS`` (what views show),
``console._SHOW`` (what ``train`` prints). Consumers dispatch on the type through those tables.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional, Union

STATUSES = ("completed", "early_stopped", "cancelled", "failed")


@dataclass(frozen=True)
class RunStarted:
    """Training is about to start: what runs, on what, with how much data."""

    kind: ClassVar[str] = "run_started"
    run_id: str
    run_dir: str
    preset_name: str
    preset: dict[str, Any]
    seed: Optional[int]  # None: a Monitor in the user's own script, which seeds (or not) as it likes
    device: str
    dataset: str
    data_source: str
    n_train: int
    n_val: int
    n_test: int
    input_shape: tuple[int, ...]
    num_classes: int
    layers: tuple[dict[str, Any], ...]
    params_total: int
    epochs: int
    batch_size: int
    steps_per_epoch: int
    monitor: Optional[str]
    patience: Optional[int]
    started_at: str
    versions: dict[str, str] = field(default_factory=dict)
    replay_of: Optional[str] = None
    host: str = ""  # with pid: lets `watch` tell a live writer from one that died
    pid: Optional[int] = None
    notes: tuple[str, ...] = ()  # warnings about the setup, e.g. a strategy that fell back to one device
    # "preset" (tui-trainer built the model) or "script" (a Monitor in the user's own fit: ``preset`` is
    # empty, the run folder holds source.json and script.py instead of preset.toml)
    origin: str = "preset"
    # the classes' names, index = label: the data set's own (fashion_mnist's clothing names), a csv's
    # string labels or an image folder's subfolders, as mapped to 0..n-1; empty when not known
    class_names: tuple[str, ...] = ()
    # the model and training setup read from the objects that ran (tui_trainer.setup.describe_setup):
    # plain values keyed by the names compare shows, e.g. {"learning rate": 0.001, "hp.units": 32};
    # empty in logs written before it existed (compare then derives what the other fields tell)
    setup: dict[str, Any] = field(default_factory=dict)
    # read the batch loss every this many steps (1: every step; 0: epochs only, no batch losses at all)
    batch_stride: int = 1


@dataclass(frozen=True)
class ModelBuilt:
    """The model's description, once Keras has built it.

    A model that isn't built when ``fit`` begins (a ``Sequential`` without
    ``keras.Input``, a subclassed model) has no shapes or weights yet, so its
    RunStarted carries what could be read then; this event, sent once the first
    training step has built it, replaces those fields. Readers fold it into the
    RunStarted they hold.
    """

    kind: ClassVar[str] = "model_built"
    layers: tuple[dict[str, Any], ...]
    params_total: int
    input_shape: tuple[int, ...] = ()
    num_classes: int = 0

    def describe(self, started: "RunStarted") -> "RunStarted":
        """``started`` with this model's description in place of the one it had."""
        return dataclasses.replace(started, layers=self.layers, params_total=self.params_total,
                                   input_shape=self.input_shape or started.input_shape,
                                   num_classes=self.num_classes or started.num_classes)


@dataclass(frozen=True)
class BatchLosses:
    """Losses of consecutive batches of one epoch.

    The callback sends these in chunks (about ten a second and at each epoch's
    end) rather than one event per batch: the UI redraws at that rate anyway,
    the run log stays compact, and the per-batch hook stays cheap. ``losses``
    holds each batch's own loss (Keras reports a running mean; the callback
    undoes the averaging).
    """

    kind: ClassVar[str] = "batches"
    epoch: int
    first_step: int
    losses: tuple[float, ...]
    steps_per_epoch: int

    @property
    def last_step(self) -> int:
        return self.first_step + len(self.losses) - 1


@dataclass(frozen=True)
class EpochEnded:
    """An epoch finished: every value in Keras's logs, and early stopping's state after it."""

    kind: ClassVar[str] = "epoch"
    epoch: int
    metrics: dict[str, float]
    duration_s: float
    elapsed_s: float
    partial: bool = False  # training was stopped mid-epoch (cancel or NaN); Keras still validated it
    best_epoch: Optional[int] = None  # early stopping's best epoch so far (None: nothing watched yet)
    best_value: Optional[float] = None
    wait: Optional[int] = None  # epochs since the last improvement, as EarlyStopping counts them
    # diagnostics.gradient_norms only: L2 norm of each Dense kernel's gradient on the run's fixed
    # batch, with the weights at the end of this epoch; input side first, in GradientNorms.layers'
    # order. None inside the tuple: the norm was NaN or infinite.
    grad_norms: Optional[tuple[Optional[float], ...]] = None
    # metrics that are vectors (``F1Score(average=None)``: one value per class), by name, each value in
    # order (None: NaN); ``metrics`` holds their mean under the same name, for the charts
    per_class: dict[str, tuple[Optional[float], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class GradientNorms:
    """Kernel-gradient norms before training (epoch 0), and the names they line up with.

    Sent once, after RunStarted and before the first batch, when the preset
    asks for ``diagnostics.gradient_norms``. Each later EpochEnded carries the
    same measurement for its epoch in ``grad_norms``. The gradient is that of
    the compiled loss on one fixed batch (the first ``samples`` training
    samples), with the model in inference mode (``training=False``: no dropout
    noise), so every number is reproducible from the saved weights. A vanishing
    gradient shows as ``norms[0]`` far below ``norms[-1]``.
    """

    kind: ClassVar[str] = "gradient_norms"
    epoch: int  # 0: before training
    norms: tuple[Optional[float], ...]
    layers: tuple[str, ...]  # the Dense layers' names, input side first (the output layer last)
    samples: int = 0  # size of the fixed batch


def grad_ratio(norms: Optional[tuple[Optional[float], ...]]) -> Optional[float]:
    """First layer's gradient norm over the last (output) layer's; None when it can't be told."""
    if not norms or len(norms) < 2 or norms[0] is None or not norms[-1]:
        return None
    return norms[0] / norms[-1]


@dataclass(frozen=True)
class EarlyStoppingResult:
    """What keras.callbacks.EarlyStopping did, read from its attributes after training.

    ``stopped_epoch`` is None when it did not fire. ``restored_epoch`` is the
    epoch whose weights the model ended with when Keras restored them (Keras 3
    restores at train end whenever restore_best_weights is on and a best epoch
    exists, fired or not), else None.
    """

    kind: ClassVar[str] = "early_stopping"
    monitor: str
    mode: str
    patience: int
    min_delta: float
    baseline: Optional[float]
    start_from_epoch: int
    restore_best_weights: bool
    triggered: bool
    stopped_epoch: Optional[int]
    best_epoch: Optional[int]
    best_value: Optional[float]
    restored: bool
    restored_epoch: Optional[int]
    whatif: bool = False  # computed over a foreign log's curve (whatif.py): no EarlyStopping ran


@dataclass(frozen=True)
class RunResumed:
    """``train --resume`` continues this run from the end of ``from_epoch`` (its last checkpoint).

    Epochs after ``from_epoch`` in the log before this event (an epoch logged after the
    last checkpoint was written) are superseded by the ones that follow it.
    """

    kind: ClassVar[str] = "run_resumed"
    from_epoch: int
    resumed_at: str
    host: str = ""
    pid: Optional[int] = None
    device: str = ""
    epochs: int = 0  # the run's total epochs from now on (``--epochs`` may raise it); 0: unchanged


@dataclass(frozen=True)
class Note:
    """Something the user should know about a run that is not a failure (a model that could not be saved)."""

    kind: ClassVar[str] = "note"
    message: str
    epoch: Optional[int] = None


@dataclass(frozen=True)
class RunFailed:
    """Training broke: NaN loss, an error inside fit, an incompatible layer."""

    kind: ClassVar[str] = "run_failed"
    error: str
    epoch: Optional[int] = None


@dataclass(frozen=True)
class RunFinished:
    """The last event of every run, whatever happened."""

    kind: ClassVar[str] = "run_finished"
    status: str  # one of STATUSES
    epochs_run: int
    test_metrics: dict[str, float]
    wall_time_s: float
    reason: str = ""
    finished_at: str = ""  # ISO 8601, when the run ended (older logs: empty)


@dataclass(frozen=True)
class Telemetry:
    """What the machine was doing, sampled off the training thread (see ``telemetry.py``).

    ``gpus`` holds one dict per GPU NVML reports (index, name, util %, mem_used_mb, mem_total_mb);
    empty without NVML. ``tf_peak_mb`` (TensorFlow's peak memory per GPU) is in the last sample only.
    """

    kind: ClassVar[str] = "telemetry"
    elapsed_s: float  # since the sampler started (just before fit)
    cpu_percent: Optional[float] = None  # this process, percent of one core
    rss_mb: Optional[float] = None  # this process's resident memory, MiB
    gpus: tuple[dict[str, Any], ...] = ()
    tf_peak_mb: Optional[tuple[float, ...]] = None


# Every event type, once: a new event = its dataclass above (with a ``kind``) and its name here; then a
# line in the tables of the consumers that act on it (runstate._FOLDS, console._SHOW, the UI's handlers).
_ALL = (RunStarted, ModelBuilt, BatchLosses, EpochEnded, GradientNorms, EarlyStoppingResult, RunResumed, Note,
        RunFailed, RunFinished, Telemetry)
Event = Union[_ALL]  # type: ignore[valid-type]
EVENT_TYPES: dict[str, type] = {cls.kind: cls for cls in _ALL}
_TUPLE_FIELDS = {  # Optional[tuple[...]] counts too: JSON hands every tuple back as a list
    cls: {f.name for f in dataclasses.fields(cls) if str(f.type).startswith(("tuple", "Optional[tuple"))}
    for cls in EVENT_TYPES.values()
}


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (null), in dicts, lists and tuples.

    JSON has no NaN or inf: written as null, any JSON reader can load the log, summary.json and exports.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


_json_safe = json_safe


def to_dict(event: Event) -> dict[str, Any]:
    """JSON-ready dict of an event, with its kind under ``"event"``."""
    data = {"event": event.kind}
    for f in dataclasses.fields(event):
        data[f.name] = getattr(event, f.name)
    if isinstance(event, BatchLosses):  # the hot path: floats are already finite-checked by the callback
        data["losses"] = list(event.losses)
        return data
    if isinstance(event, EpochEnded):  # unused optional fields: the log reads as it did before they existed
        if event.grad_norms is None:
            del data["grad_norms"]
        if not event.per_class:
            del data["per_class"]
    return _json_safe(data)


def _type_error(annotation: str, value: Any) -> Optional[str]:
    """Why ``value`` (as JSON gave it) does not fit the field type written as ``annotation``; None if it does.

    The annotations are the strings of this module's dataclass fields (``Optional[int]``,
    ``dict[str, float]``, ``tuple[Optional[float], ...]``...). Numbers must be finite: JSON has
    no NaN, so a ``NaN`` token in a log was not written by tui-trainer. A NaN metric is written as
    null, so the values of a ``dict[str, float]`` may be null.
    """
    t = annotation.replace(" ", "")
    if t.startswith("Optional[") and t.endswith("]"):
        return None if value is None else _type_error(t[9:-1], value)
    if t == "Any":
        return None
    if t == "bool":
        return None if isinstance(value, bool) else "a true/false value"
    if t == "int":
        return None if isinstance(value, int) and not isinstance(value, bool) else "a whole number"
    if t == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) <= FLOAT_LIMIT
        return None if ok else "a finite number (of magnitude at most 1e39)"
    if t == "str":
        return None if isinstance(value, str) else "a string"
    if t.startswith("dict["):
        if not isinstance(value, dict):
            return "an object"
        inner = t[5:-1].split(",", 1)[1]
        inner = "Optional[float]" if inner == "float" else inner
        bad = next((k for k, v in value.items() if _type_error(inner, v)), None)
        return None if bad is None else f"an object whose values are each {_type_error(inner, value[bad])}"
    if t.startswith("tuple["):
        if not isinstance(value, (list, tuple)):
            return "a list"
        inner = t[6:-1].removesuffix(",...")
        if inner == "float" and _all_finite_numbers(value):  # batch losses: nearly every line of a long log
            return None
        bad = next((v for v in value if _type_error(inner, v)), _OK)
        return None if bad is _OK else f"a list whose items are each {_type_error(inner, bad)}"
    return None  # a type this checker does not know: accepted as it is


_OK = object()
# Keras logs float32 values (at most 3.4e38); a number far beyond that was not written by a run, and
# plotext's axis arithmetic overflows on 1e308. NaN and inf fail ``abs(v) <= FLOAT_LIMIT`` too.
FLOAT_LIMIT = 1e39
_INT_LIMIT = 2**31
_BIG_INTS = {"params_total", "n_train", "n_val", "n_test", "pid"}  # counts that may pass 2**31
_NUMBER_TYPES = {float, int}


def _all_finite_numbers(values) -> bool:
    # The fast path, looping in C: a million batch losses take milliseconds, not a second.
    return {type(v) for v in values} <= _NUMBER_TYPES and max(map(abs, values), default=0) <= FLOAT_LIMIT


def check_fields(cls: type, data: dict[str, Any], what: str) -> None:
    """Raise ValueError naming the first field of ``data`` whose JSON value does not fit ``cls``'s type.

    Fields ``data`` lacks are left to the dataclass (it knows which have defaults); unknown keys are ignored.
    """
    for f in dataclasses.fields(cls):
        if f.name in data:
            value = data[f.name]
            why = _type_error(str(f.type), value)
            if not why and isinstance(value, int) and not -_INT_LIMIT <= value < _INT_LIMIT and (
                    f.name not in _BIG_INTS):  # epochs and steps are kept in C ints (RunState's arrays)
                why = f"a whole number of magnitude below {_INT_LIMIT:,}"
            if why:
                raise ValueError(f"bad {what}: {f.name} must be {why}, not {_shown(value)}")


def _shown(value: Any) -> str:
    text = json.dumps(value, allow_nan=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from ``to_dict``'s output, checking the type of every field.

    Raises:
        ValueError: not an object, unknown kind, missing fields, or a field of the wrong type
            (a string where a number belongs, a NaN, a list where an object belongs).
    """
    if not isinstance(data, dict):
        raise ValueError(f"not an event object: {_shown(data)}")
    kind = data.get("event")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event kind {_shown(kind)}")
    kwargs = {k: v for k, v in data.items() if k != "event"}
    for name in _TUPLE_FIELDS[cls]:
        if isinstance(kwargs.get(name), list):
            kwargs[name] = tuple(tuple(v) if isinstance(v, list) else v for v in kwargs[name])
    if cls is EpochEnded and isinstance(kwargs.get("per_class"), dict):  # tuples inside the dict, as written
        kwargs["per_class"] = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs["per_class"].items()}
    names = {f.name for f in dataclasses.fields(cls)}
    check_fields(cls, kwargs, f"{kind} event")
    if cls is RunFinished and kwargs.get("status") not in STATUSES:
        raise ValueError(f"bad {kind} event: status must be one of {', '.join(STATUSES)}, "
                         f"not {_shown(kwargs.get('status'))}")
    try:
        return cls(**{k: v for k, v in kwargs.items() if k in names})
    except TypeError as exc:
        raise ValueError(f"bad {kind} event: {exc}") from None
