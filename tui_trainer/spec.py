"""Preset specification: pydantic models of a preset, TOML load and save.

This module never imports TensorFlow, Textual or plotext: the CLI validates
presets and the UI edits them without paying for those imports.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import tomli_w

# The allowed values, written once: the models validate against these types, and the
# tuples (for the builder's pickers) are read from them.
Activation = Literal["relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "linear"]
# The names of tui_trainer.datasets.SOURCES, written out so that pydantic lists them in its
# messages and type checkers see them; a test checks that the two agree.
DatasetName = Literal["digits", "mnist", "fashion_mnist", "npz", "csv", "image_folder"]
ColorMode = Literal["grayscale", "rgb"]
Optimizer = Literal["adam", "sgd", "rmsprop", "adamw", "nadam", "adagrad"]
Metric = Literal["accuracy", "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy"]

ACTIVATIONS: tuple[str, ...] = get_args(Activation)
DATASETS: tuple[str, ...] = get_args(DatasetName)
OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
COLOR_MODES: tuple[str, ...] = get_args(ColorMode)
MAX_DESCRIPTION = 10_000  # characters; a description is copied into every run's log
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]*")
MAX_IMAGE_SIDE = 4096  # pixels; a larger side is a typo, and memory would not hold many such images


class SpecError(ValueError):
    """A preset is invalid. ``str()`` is one line: file, field path, what is allowed."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.source = source
        self.field = field
        self.message = message
        parts = [p for p in (source, field) if p]
        super().__init__(": ".join(parts + [message]))


class _Model(BaseModel):
    # Unknown keys are typos more often than not: reject them, naming the key.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DenseLayer(_Model):
    """A fully connected layer with its own activation."""

    type: Literal["dense"] = Field(description="Layer type.")
    units: int = Field(gt=0, le=65536, description="Number of neurons.")
    activation: Activation = Field("relu", description="Activation function applied to the output.")
    negative_slope: float = Field(
        0.01,
        ge=0,
        lt=1,
        description="leaky_relu only: f(x) = max(negative_slope * x, x). The lesson uses 0.01 "
        "(Keras's own default is 0.3, so it is always passed explicitly).",
    )
    alpha: float = Field(1.0, gt=0, description="elu only: f(x) = alpha * (exp(x) - 1) for x < 0.")


class DropoutLayer(_Model):
    """Randomly zeroes a fraction of its inputs while training."""

    type: Literal["dropout"] = Field(description="Layer type.")
    rate: float = Field(0.5, ge=0, lt=1, description="Fraction of inputs dropped, 0 <= rate < 1.")


Layer = Annotated[Union[DenseLayer, DropoutLayer], Field(discriminator="type")]


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
        from .datasets import get_source  # the registry imports nothing heavy

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
        description="Record the L2 norm of each Dense layer's kernel gradient (input side first) on one fixed "
        "batch of training data, before training and after every epoch: shows gradients vanishing toward "
        "the input in deep sigmoid stacks. Costs one extra forward and backward pass per epoch.",
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

    @model_validator(mode="after")
    def _consistent(self) -> "Preset":
        if self.layers[-1].type != "dense":
            raise ValueError("the last layer must be a dense output layer, not dropout")
        es = self.early_stopping
        if es.enabled and es.monitor.startswith("val_") and self.data.validation_split == 0:
            raise ValueError(
                f"early_stopping.monitor '{es.monitor}' needs validation data: set data.validation_split > 0 "
                "(the lesson uses 0.1) or monitor 'loss'"
            )
        known = {"loss", *self.training.metrics}  # Keras 3 logs a metric under the name it was given
        if es.enabled:
            base = es.monitor[4:] if es.monitor.startswith("val_") else es.monitor
            if base not in known:
                allowed = sorted(known | {"val_" + k for k in known}) if self.data.validation_split else sorted(known)
                raise ValueError(f"early_stopping.monitor '{es.monitor}' is not logged; choose one of {', '.join(allowed)}")
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
            if i + 1 < len(items) and items[i + 1] in ("dense", "dropout"):
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
    if err.get("type") == "extra_forbidden":
        msg = "unknown key (check the spelling; see `tui-trainer presets show digits` for a full preset)"
    elif err.get("type") == "union_tag_invalid":
        msg = "layer type must be 'dense' or 'dropout'"
    elif err.get("type") == "union_tag_not_found":
        msg = "each layer needs type = 'dense' or type = 'dropout'"
    if "input" in err and err.get("type") not in ("missing", "union_tag_not_found") and not isinstance(
        err["input"], (dict, list)
    ):
        got = repr(err["input"])
        msg += f" (got {got if len(got) <= 80 else got[:79] + '…'})"  # a 50 MB description is not echoed
    return msg.replace("\n", " ")


def parse_preset(raw: dict[str, Any], source: str | None = None) -> Preset:
    """Validate a dict as a preset.

    Raises:
        SpecError: naming the source, the first invalid field and what is allowed.
    """
    try:
        return Preset.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err.get("loc", ()))
        field = _field_path(loc) or None
        msg = _one_line(err)
        more = exc.error_count() - 1
        if more:
            msg += f" (and {more} more error{'s' if more > 1 else ''})"
        raise SpecError(msg, source=source, field=field) from None


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
    order = ["name", "description", "seed", "data", "training", "early_stopping", "diagnostics"]
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


def param_counts(preset: Preset, input_dim: int) -> list[int]:
    """Trainable parameters per layer for a flat input of ``input_dim`` features.

    Computed from the spec alone (no TensorFlow), so the builder can show it live.
    """
    counts = []
    width = input_dim
    for layer in preset.layers:
        if isinstance(layer, DenseLayer):
            counts.append(width * layer.units + layer.units)
            width = layer.units
        else:
            counts.append(0)
    return counts
