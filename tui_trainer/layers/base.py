"""What every layer kind shares: the spec base class, editor fields, shapes.

A layer kind is one pydantic model (a subclass of :class:`LayerSpec`) in its own
module. The class is the whole kind: its fields are the preset's keys, its class
attributes say how the builder shows it, and its methods compute the output
shape and parameter count in pure Python (no TensorFlow) and build the Keras
layers (importing Keras only then).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Optional, Sequence, Union

from pydantic import BaseModel, ConfigDict

Shape = tuple[int, ...]
"""A per-sample shape, without the batch axis: ``(784,)`` or ``(28, 28, 1)``."""

IntOrPair = Union[int, tuple[int, int]]


class ShapeError(ValueError):
    """A layer can't take the shape it is given.

    Attributes:
        field: the layer's own field the problem belongs to (``kernel_size``), or
            ``None`` for the layer as a whole.
        message: what is wrong and the fix, one line.
    """

    def __init__(self, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class EditorField:
    """One input of the layer editor.

    Attributes:
        name: the spec field (and the widget id).
        kind: ``int``, ``float``, ``ints`` (an int or ``h,w``), ``choice`` or
            ``activation`` (a choice drawn with its curve).
        options: the values of a ``choice``/``activation``.
        when: ``(field, value)``: shown and checked only while that field has that
            value (``negative_slope`` only for ``leaky_relu``).
    """

    name: str
    kind: str
    options: tuple[str, ...] = ()
    when: Optional[tuple[str, str]] = None


class LayerSpec(BaseModel):
    """Base of every layer kind's spec; subclasses set the class attributes below."""

    # Unknown keys are typos more often than not: reject them, naming the key.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    KIND: ClassVar[str] = ""
    """The preset's ``type`` value, e.g. ``"conv2d"``."""
    TITLE: ClassVar[str] = ""
    """Its Keras class name, for the footer and the picker, e.g. ``"Conv2D"``."""
    HELP: ClassVar[str] = ""
    """One line for the builder's help panel and the kind picker."""
    KEY: ClassVar[Optional[str]] = None
    """The builder key that adds one directly, if any (the others are in the picker)."""
    INPUT_RANK: ClassVar[Optional[int]] = None
    """1: needs vectors; 3: needs (height, width, channels); None: takes any shape."""
    OUTPUT: ClassVar[bool] = False
    """Whether it can be the model's output layer."""
    FIELDS: ClassVar[tuple[EditorField, ...]] = ()
    """The editor's inputs, in order."""
    IMPLIED_BY: ClassVar[tuple[str, ...]] = ()
    """Keys that make a ``[[layers]]`` entry without ``type`` this kind (dense: ``units``)."""
    HAS_KERNEL: ClassVar[bool] = False
    """Its Keras layer holds a trainable ``kernel`` (dense, conv2d): the gradients panel measures that
    kernel's gradient and the results view draws the first one. The model side finds such layers with
    :func:`tui_trainer.model.has_kernel`; a test checks every kind's declaration against it."""

    type: str

    # -- shapes -----------------------------------------------------------------------------------

    def output_shape(self, input_shape: Shape) -> Shape:
        """The per-sample output shape, as Keras computes it.

        Raises:
            ShapeError: the layer can't take ``input_shape``.
        """
        self.check_input(input_shape)
        return tuple(input_shape)

    def fixed_output_shape(self) -> Optional[Shape]:
        """The output shape when it doesn't depend on the input (dense: ``(units,)``), else ``None``."""
        return None

    def param_count(self, input_shape: Shape) -> int:
        """All weights, as ``layer.count_params()`` counts them (non-trainable included)."""
        return 0

    def trainable_count(self, input_shape: Shape) -> int:
        """Trainable weights only."""
        return self.param_count(input_shape)

    def check_input(self, input_shape: Shape) -> None:
        """Raise :class:`ShapeError` unless the input has the rank this kind needs."""
        rank = self.INPUT_RANK
        if rank == 3 and len(input_shape) != 3:
            got = f"a vector of {input_shape[0]}" if len(input_shape) == 1 else f"shape {fmt_shape(input_shape)}"
            raise ShapeError(
                f"{self.KIND} needs an image (height, width, channels) but gets {got}: set data.flatten = false, "
                "and put no flatten or dense layer before it"
            )
        if rank == 1 and len(input_shape) != 1:
            raise ShapeError(
                f"{self.KIND} needs a vector but gets {fmt_shape(input_shape)}: add a flatten (or global_avg_pool2d) "
                "layer before it"
            )

    # -- Keras ------------------------------------------------------------------------------------

    def keras_layers(self, number: int, *, output_dtype: Optional[str] = None) -> list:
        """The Keras layers of this spec layer, named ``<kind>_<number>``.

        Args:
            number: the layer's position in the preset, from 1.
            output_dtype: ``"float32"`` for the output layer under mixed precision.
        """
        raise NotImplementedError

    # -- the builder ------------------------------------------------------------------------------

    def details(self) -> str:
        """Its settings in a few words for the layer table, e.g. ``128 relu``."""
        return ""

    def describe(self) -> str:
        """One or two lines (Rich markup) for the help panel."""
        return f"[b]{self.KIND}[/b]: {self.HELP}"

    @classmethod
    def new(cls, before: Sequence["LayerSpec"]) -> "LayerSpec":
        """A fresh layer of this kind to insert after ``before`` (may copy a similar one)."""
        return cls(type=cls.KIND)


# --- helpers for the kinds --------------------------------------------------------------------------


def pair(value: IntOrPair) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; a pair stays a pair."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def fmt_pair(value: IntOrPair) -> str:
    """``3`` or ``(3, 3)`` -> ``3x3``."""
    h, w = pair(value)
    return f"{h}x{w}"


def fmt_shape(shape: Optional[Sequence[int]]) -> str:
    """``(None, 26, 26, 32)`` the way ``model.summary()`` writes it; ``?`` when unknown."""
    if shape is None:
        return "?"
    return "(" + ", ".join(["None", *(str(d) for d in shape)]) + ")"


def window_out(size: int, window: int, stride: int, padding: str) -> int:
    """Output length of a conv/pool window along one axis (Keras's formula)."""
    if padding == "same":
        return math.ceil(size / stride)
    return (size - window) // stride + 1


def positive_pair(value: Any) -> Any:
    """Validator (``mode="before"``) of int-or-pair fields: an int >= 1, or two of them.

    One clear message instead of pydantic's one per union member.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value
    ):
        return tuple(value)
    raise ValueError(f"must be a positive integer or two of them as [height, width], e.g. 3 or [3, 5]")


def window_check(kind_field: str, what: str, window: tuple[int, int], input_shape: Shape, padding: str) -> None:
    """Raise :class:`ShapeError` when a 'valid' window (kernel, pool) is larger than its input."""
    h, w = input_shape[0], input_shape[1]
    if padding == "valid" and (window[0] > h or window[1] > w):
        raise ShapeError(
            f"the {window[0]}x{window[1]} {what} is larger than its {h}x{w} input: use a smaller {kind_field}, "
            "padding = 'same', or fewer pooling/strided layers before it",
            field=kind_field,
        )

__all__ = [
    "EditorField",
    "IntOrPair",
    "LayerSpec",
    "Shape",
    "ShapeError",
    "fmt_pair",
    "fmt_shape",
    "pair",
    "positive_pair",
    "window_check",
    "window_out",
]
