"""Preset specification: pydantic models of a preset, TOML load and save.

This module never imports TensorFlow, Textual or plotext: the CLI validates
presets and the UI edits them without paying for those imports.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import tomli_w

from .datasets import get_source, source_names  # the registry imports neither numpy nor keras
from .layers import KINDS, LayerRow, LayerSpec, Shape, implied_kind, layer_rows
from .layers import ACTIVATIONS, DenseLayer, DropoutLayer  # noqa: F401  (re-exported: v0.1 imported them from here)

# The allowed values, written once: the models validate against these types, and the
# tuples (for the builder's pickers) are read from them.
# The names of tui_trainer.datasets.SOURCES, read from the registry (a new source is one module
# there and nothing here); a Literal still, so pydantic lists the names in its messages.
DatasetName = Literal[source_names()]  # type: ignore[valid-type]
ColorMode = Literal["grayscale", "rgb"]
Optimizer = Literal["adam", "sgd", "rmsprop", "adamw", "nadam", "adagrad"]
Metric = Literal["accuracy", "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy"]

DATASETS: tuple[str, ...] = get_args(DatasetName)
OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
COLOR_MODES: tuple[str, ...] = get_args(ColorMode)
MAX_DESCRIPTION = 10_000  # characters; a description is copied into every run's log
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]*")
MAX_IMAGE_SIDE = 4096  # pixels; a larger side is a typo, and memory would not hold many such images

MAX_ERRORS_SHOWN = 10
"""A SpecError lists this many problems, then says how many more there are."""


@dataclass(frozen=True)
class FieldError:
    """One problem in a preset: where it is and what is allowed.

    Attributes:
        field: the field path, ``layers[3].kernel_size`` (layers count from 1); ``""``
            for the preset as a whole.
        message: what is wrong and what is allowed, one line.
    """

    field: str
    message: str

    def line(self, source: Optional[str] = None) -> str:
        """``file: field: message``."""
        return ": ".join([p for p in (source, self.field) if p] + [self.message])


class SpecError(ValueError):
    """A preset is invalid.

    ``str()`` is one line per problem (up to :data:`MAX_ERRORS_SHOWN`, then ``and N
    more errors``), each naming the file, the field path and what is allowed.
    ``field`` and ``message`` are the first problem's; ``errors`` holds them all.
    """

    def __init__(
        self,
        message: str = "",
        *,
        source: str | None = None,
        field: str | None = None,
        errors: Optional[list[FieldError]] = None,
    ):
        self.errors: list[FieldError] = list(errors) if errors else [FieldError(field or "", message)]
        self.source = source
        self.field = self.errors[0].field or None
        self.message = self.errors[0].message
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """One line per problem, as ``str()`` joins them."""
        out = [e.line(self.source) for e in self.errors[:MAX_ERRORS_SHOWN]]
        more = len(self.errors) - MAX_ERRORS_SHOWN
        if more > 0:
            out.append(f"{self.source + ': ' if self.source else ''}and {more} more error{'s' if more > 1 else ''}")
        return out


class FieldValueError(ValueError):
    """Raise in a model validator to put the error at a field path (``early_stopping.monitor``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class _Model(BaseModel):
    # Unknown keys are typos more often than not: reject them, naming the key.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# Every registered kind, told apart by its `type` (tui_trainer.layers.KINDS).
Layer = Annotated[Union[tuple(KINDS.values())], Field(discriminator="type")]  # type: ignore[misc]


class DataSpec(_Model):
    """Which data set to train on and how to preprocess it."""

    dataset: DatasetName = Field(
        "digits",
        description="digits (offline, scikit-learn), mnist, fashion_mnist, or your own data: npz, csv, "
        "image_folder (a folder of class subfolders of images).",
    )
    path: Optional[str] = Field(
        None,
        description="Local file or folder: an mnist.npz-style file (x_train, y_train, x_test, y_test), "
        "a folder of the four IDX .gz files, the npz/csv file of your own data, or for image_folder a folder "
        "with one subfolder of .png/.jpg images per class.",
    )
    flatten: bool = Field(
        True,
        description="Reshape each image to a vector (the lesson's reshape). false: images keep their "
        "(height, width, channels) shape, as convolution layers need; grayscale gets 1 channel.",
    )
    scale: bool = Field(True, description="Min-max scale the inputs to 0..1 (from the training split's range).")
    validation_split: float = Field(0.1, ge=0, lt=1, description="Fraction of the training data held out for val_loss.")
    test_split: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="Fraction held out as the test split, for data sets without their own; every class in "
        "proportion (stratified), the same samples on every run.",
    )
    label_column: str = Field(
        "label",
        min_length=1,
        description="csv only: the name of the label column; class numbers 0..n-1 or class names (sorted).",
    )
    image_size: Optional[tuple[int, int]] = Field(
        None,
        description="image_folder only: [height, width] every image is resized to (bilinear). Unset: the "
        "images are used as they are and must all have one size.",
    )
    color_mode: ColorMode = Field(
        "rgb", description="image_folder only: rgb (3 channels) or grayscale (1 channel); images are converted."
    )

    @field_validator("image_size", mode="before")
    @classmethod
    def _height_width(cls, value: Any) -> Any:
        if value is None:
            return value
        sides = list(value) if isinstance(value, (list, tuple)) else None
        if sides is None or len(sides) != 2 or not all(
            isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_IMAGE_SIDE for v in sides
        ):
            got = f" (got {value!r})" if isinstance(value, (list, tuple)) else ""  # else the message adds it
            raise ValueError(
                f"data.image_size must be [height, width], two whole numbers from 1 to {MAX_IMAGE_SIDE}{got}"
            )
        return tuple(sides)

    @model_validator(mode="after")
    def _path_needed(self) -> "DataSpec":
        if get_source(self.dataset).needs_path and not self.path:
            raise ValueError(f"data.path is required when data.dataset is '{self.dataset}'")
        return self


class TrainingSpec(_Model):
    """How to fit the model."""

    optimizer: Optimizer = Field("adam", description="Optimizer.")
    learning_rate: float = Field(0.001, gt=0, le=10, description="Optimizer learning rate.")
    loss: Literal["sparse_categorical_crossentropy"] = Field(
        "sparse_categorical_crossentropy", description="Loss; integer class labels."
    )
    metrics: list[Metric] = Field(
        default_factory=lambda: ["accuracy"], description="Metrics reported per epoch."
    )
    batch_size: int = Field(
        32,
        gt=0,
        le=1_000_000,
        description="Samples per gradient step: the global batch. With a strategy over several devices or "
        "workers, each step still takes batch_size samples in all, split across the replicas.",
    )
    epochs: int = Field(50, gt=0, le=100_000, description="Maximum number of epochs.")
    mixed_precision: bool = Field(
        False,
        description="Compute in float16 with float32 weights (Keras's mixed_float16 policy; the output layer "
        "stays float32). GPU only: refused on CPU, where it only slows training down.",
    )
    strategy: Literal["auto", "one_device", "mirrored", "multi_worker"] = Field(
        "auto",
        description="tf.distribute strategy. auto: one device (the first GPU, else the CPU). one_device: "
        "OneDeviceStrategy on the first GPU or the CPU. mirrored: MirroredStrategy over all local GPUs (with no "
        "GPU, over the logical CPU devices if several are configured, else one device with a warning). "
        "multi_worker: MultiWorkerMirroredStrategy across machines, configured by TF_CONFIG; headless "
        "`tui-trainer train` only (it must start before TensorFlow does anything else in the process).",
    )


class EarlyStoppingSpec(_Model):
    """keras.callbacks.EarlyStopping settings; the defaults are the lesson's."""

    enabled: bool = Field(True, description="Use EarlyStopping at all.")
    monitor: str = Field("val_loss", min_length=1, description="Quantity to watch, e.g. val_loss, val_accuracy, loss.")
    min_delta: float = Field(0.0, ge=0, description="Smallest change that counts as an improvement.")
    patience: int = Field(5, ge=0, description="Epochs without improvement before training stops.")
    restore_best_weights: bool = Field(True, description="Restore the weights of the best epoch at the end.")
    start_from_epoch: int = Field(0, ge=0, description="Epochs to wait before watching at all.")
    baseline: Optional[float] = Field(None, description="Stop if the monitored value never beats this.")
    mode: Literal["auto", "min", "max"] = Field("auto", description="auto, min or max.")

    @model_validator(mode="after")
    def _finite_baseline(self) -> "EarlyStoppingSpec":
        if self.baseline is not None and not math.isfinite(self.baseline):
            raise ValueError("early_stopping.baseline must be a finite number")
        return self


class DiagnosticsSpec(_Model):
    """Extra measurements recorded with the run, for seeing what training does inside."""

    gradient_norms: bool = Field(
        False,
        description="Record the L2 norm of each Dense and Conv2D layer's kernel gradient (input side first) on "
        "one fixed batch of training data, before training and after every epoch: shows gradients vanishing toward "
        "the input in deep sigmoid stacks. Costs one extra forward and backward pass per epoch.",
    )


class LoggingSpec(_Model):
    """Where the run is written besides its own run log."""

    tensorboard: bool = Field(
        False,
        description="Also write the run live as TensorBoard event files, in the run folder's tensorboard/ "
        "(train/ and validation/ as Keras's TensorBoard callback writes them): `tensorboard --logdir runs/`.",
    )
    batch_stride: int = Field(
        1,
        ge=0,
        description="Read the batch loss every this many steps (1: every step; 0: epochs only, nothing read "
        "per batch). Reading it makes training wait for the device: on a GPU whose steps take less than "
        "about a millisecond, a stride of 10 or more, or 0, keeps recording free.",
    )


class Preset(_Model):
    """A complete, runnable description of one training run."""

    name: str = Field(
        min_length=1,
        max_length=100,
        description="Short name, used in run folder names and as the Keras model's name: ASCII letters, "
        "digits, spaces, '_', '.' and '-', starting with a letter or digit.",
    )
    description: str = Field("", max_length=MAX_DESCRIPTION, description="What this preset teaches.")

    @field_validator("name")
    @classmethod
    def _usable_name(cls, value: str) -> str:
        # The engine names the Keras model after the preset (model._model_name maps every character but
        # [A-Za-z0-9_] to '_'), and TensorFlow's root scope names must start with [A-Za-z0-9.]: a name that
        # starts otherwise, or holds non-ASCII or control characters, validated and then failed inside Keras.
        if not _NAME_RE.fullmatch(value):
            raise ValueError("name must be ASCII letters, digits, spaces, '_', '.' or '-', starting with a letter "
                             "or digit")
        return value
    seed: int = Field(42, ge=0, le=2**31 - 1, description="Seed for weights, shuffling and dropout.")
    data: DataSpec = Field(default_factory=DataSpec)
    layers: list[Layer] = Field(min_length=1, description="Layers from input to output; the last is the output layer.")
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    early_stopping: EarlyStoppingSpec = Field(default_factory=EarlyStoppingSpec)
    diagnostics: DiagnosticsSpec = Field(default_factory=DiagnosticsSpec)
    logging: LoggingSpec = Field(default_factory=LoggingSpec)

    @field_validator("layers", mode="before")
    @classmethod
    def _implied_types(cls, layers: Any) -> Any:
        # `[[layers]]` with `units` and no `type` is a dense layer (the kind a key implies).
        if isinstance(layers, list):
            return [
                {"type": implied_kind(l), **l} if isinstance(l, dict) and "type" not in l and implied_kind(l) else l
                for l in layers
            ]
        return layers

    @model_validator(mode="after")
    def _consistent(self) -> "Preset":
        last = self.layers[-1]
        if not last.OUTPUT:
            outputs = " or ".join(k for k, c in KINDS.items() if c.OUTPUT)
            raise FieldValueError(
                f"layers[{len(self.layers)}]", f"the last layer must be a {outputs} output layer, not {last.type}"
            )
        es = self.early_stopping
        if es.enabled and es.monitor.startswith("val_") and self.data.validation_split == 0:
            raise FieldValueError(
                "early_stopping.monitor",
                f"'{es.monitor}' needs validation data: set data.validation_split > 0 "
                "(the lesson uses 0.1) or monitor 'loss'",
            )
        known = {"loss", *self.training.metrics}  # Keras 3 logs a metric under the name it was given
        if es.enabled:
            base = es.monitor[4:] if es.monitor.startswith("val_") else es.monitor
            if base not in known:
                allowed = sorted(known | {"val_" + k for k in known}) if self.data.validation_split else sorted(known)
                raise FieldValueError(
                    "early_stopping.monitor", f"'{es.monitor}' is not logged; choose one of {', '.join(allowed)}"
                )
        return self

    def with_overrides(
        self, *, epochs: int | None = None, seed: int | None = None, data_path: str | None = None
    ) -> "Preset":
        """A validated copy with the CLI's overrides applied."""
        raw = self.model_dump(mode="json")
        if epochs is not None:
            raw["training"]["epochs"] = epochs
        if seed is not None:
            raw["seed"] = seed
        if data_path is not None:
            raw["data"]["path"] = data_path
        return parse_preset(raw, source="command line")


# --- loading and saving --------------------------------------------------------------------------


def _field_path(loc: tuple[Any, ...]) -> str:
    """Turn a pydantic error location into ``layers[2].activation`` (layers count from 1)."""
    out = ""
    items = list(loc)
    i = 0
    while i < len(items):
        part = items[i]
        if isinstance(part, int):
            out += f"[{part + 1}]"
            # a discriminated union puts the tag ('dense') after the index: drop it
            if i + 1 < len(items) and items[i + 1] in KINDS:
                i += 1
        elif part in ("function-after", "function-before") or str(part).startswith("literal["):
            pass
        else:
            out += ("." if out else "") + str(part)
        i += 1
    return out


def _one_line(err: dict[str, Any]) -> str:
    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    kinds = ", ".join(KINDS)
    if err.get("type") == "extra_forbidden":
        msg = "unknown key (check the spelling; see `tui-trainer presets show digits` for a full preset)"
    elif err.get("type") == "union_tag_invalid":
        msg = f"unknown layer type; choose one of {kinds}"
    elif err.get("type") == "union_tag_not_found":
        msg = f"each layer needs a type: one of {kinds} (a layer with units and no type is dense)"
    if "input" in err and err.get("type") not in ("missing", "union_tag_not_found") and not isinstance(
        err["input"], (dict, list)
    ):
        got = repr(err["input"])
        msg += f" (got {got if len(got) <= 80 else got[:79] + '…'})"  # a 50 MB description is not echoed
    elif err.get("type") == "union_tag_invalid" and isinstance(err.get("input"), dict):
        msg += f" (got {err['input'].get('type')!r})"
    return msg.replace("\n", " ")


def field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    """Every error of a pydantic ValidationError as a :class:`FieldError` (field path, one line).

    A validator that raised :class:`FieldValueError` puts its error at the field it
    names; a plain ValueError whose message starts with a field path below its
    location (``data.path is required ...``) is put at that field.
    """
    out: list[FieldError] = []
    for err in exc.errors():
        path = _field_path(tuple(err.get("loc", ())))
        message = _one_line(err)
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, FieldValueError):
            path = cause.field
        else:
            head = message.split(" ", 1)[0]
            if path and head.startswith(path + ".") and head.replace(".", "").replace("_", "").isalnum():
                path = head
        out.append(FieldError(prefix + path if path else prefix.rstrip("."), message))
    return out


def validate(raw: dict[str, Any]) -> tuple[Optional[Preset], list[FieldError]]:
    """Validate a dict as a preset, collecting every problem.

    Returns:
        The preset (``None`` if invalid) and the problems, each at its field path.
    """
    try:
        return Preset.model_validate(raw), []
    except ValidationError as exc:
        return None, field_errors(exc)


def validate_layer(raw: dict[str, Any]) -> tuple[Optional[LayerSpec], list[FieldError]]:
    """Validate one layer's dict (with its ``type``); errors name the layer's own fields (``units``)."""
    kind_name = raw.get("type")
    if kind_name not in KINDS:
        return None, [FieldError("type", f"unknown layer type {kind_name!r}; choose one of {', '.join(KINDS)}")]
    try:
        return KINDS[kind_name].model_validate(raw), []
    except ValidationError as exc:
        return None, field_errors(exc)


def parse_preset(raw: dict[str, Any], source: str | None = None) -> Preset:
    """Validate a dict as a preset.

    Raises:
        SpecError: naming the source and every invalid field with what is allowed.
    """
    preset, errors = validate(raw)
    if preset is None:
        raise SpecError(source=source, errors=errors)
    return preset


def loads_preset(text: str, source: str | None = None) -> Preset:
    """Parse TOML text as a preset."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"not valid TOML: {exc}", source=source) from None
    return parse_preset(raw, source=source)


def load_preset_file(path: str | Path) -> Preset:
    """Read and validate a preset file.

    Raises:
        SpecError: if the file can't be read or is not a valid preset.
    """
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("no such file", source=str(path)) from None
    except IsADirectoryError:
        raise SpecError("is a folder, not a preset file", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"can't read it: {exc}", source=str(path)) from None
    return loads_preset(text, source=str(path))


def _drop_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v != {}}


def dumps_preset(preset: Preset) -> str:
    """TOML text of a preset, defaults omitted so files stay short.

    The layer ``type`` is always written (it selects the layer kind), as are
    ``name`` and ``layers``.
    """
    raw = preset.model_dump(mode="json", exclude_defaults=True)
    raw["name"] = preset.name
    raw.pop("layers", None)
    # every section but the layers (written below); a section missing here would be lost on save and replay
    order = [k for k in Preset.model_fields if k != "layers"]
    text = tomli_w.dumps(_drop_empty({k: raw[k] for k in order if k in raw}))
    # Written by hand: tomli_w would inline short layer tables, and `[[layers]]`
    # blocks read better and diff better.
    for layer in preset.layers:
        fields = {"type": layer.type, **layer.model_dump(mode="json", exclude_defaults=True)}
        text += "\n[[layers]]\n" + tomli_w.dumps(fields)
    return text


def save_preset_file(preset: Preset, path: str | Path) -> Path:
    """Write a preset as TOML (defaults omitted)."""
    from .atomic import write_text_atomic  # a full disk leaves the previous file, not half of a new one

    p = Path(path).expanduser()
    p.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(p, dumps_preset(preset))


def output_shapes(preset: Preset, input_shape: Shape | int, source: Optional[str] = None) -> list[LayerRow]:
    """The model summary from the spec alone: output shape and parameters per layer.

    Shapes and counts equal Keras's own (``model.summary()``, ``count_params()``).
    A first row numbered 0 is the input adapter, when the data needs one (see
    :func:`tui_trainer.layers.input_adapter`).

    Args:
        preset: the preset.
        input_shape: what each sample looks like, as the model receives it
            (``Dataset.input_shape``); an int is a flat width.
        source: the preset's file, for the error.

    Raises:
        SpecError: a layer can't take its input (a conv layer on vectors, a dense
            layer on images with no flatten before it, a kernel larger than its
            input); names ``layers[N].field`` and the fix.
    """
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(int(d) for d in input_shape)
    rows, error = layer_rows(preset.layers, shape)
    if error is not None:
        field = f"layers[{error.number}]" + (f".{error.field}" if error.field else "")
        raise SpecError(error.message, source=source, field=field)
    return rows


def check_shapes(preset: Preset, input_shape: Shape | int, source: Optional[str] = None) -> None:
    """Raise :class:`SpecError` unless every layer fits the shape before it (see :func:`output_shapes`)."""
    output_shapes(preset, input_shape, source)


def param_counts(preset: Preset, input_shape: Shape | int) -> list[int]:
    """Parameters per preset layer (as ``count_params()`` counts them) for this input.

    Computed from the spec alone (no TensorFlow), so the builder can show it live.
    An int ``input_shape`` is a flat width (v0.1's signature).
    """
    return [row.params or 0 for row in output_shapes(preset, input_shape) if row.number > 0]
