"""The layer kinds: one module each, and the registry the rest of the code iterates.

Adding a kind = one new module with a :class:`~.base.LayerSpec` subclass, listed
in ``_KINDS_IN_ORDER`` below, plus its tests. The preset's ``layers`` union, the model
builder, the builder's table, picker and editor all read :data:`KINDS`.

Nothing here imports TensorFlow; each kind imports Keras inside ``keras_layers``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

from .activations import ACTIVATION_HELP, ACTIVATIONS, INITIALIZERS, ActivationHelp, activation_formula
from .base import EditorField, LayerSpec, Shape, ShapeError, fmt_shape
from .avg_pool2d import AvgPool2DLayer
from .batch_norm import BatchNormLayer
from .conv2d import Conv2DLayer
from .dense import DenseLayer
from .dropout import DropoutLayer
from .flatten import FlattenLayer
from .global_avg_pool2d import GlobalAvgPool2DLayer
from .max_pool2d import MaxPool2DLayer

# One line per kind: adding a kind = its module, this line, its tests.
_KINDS_IN_ORDER: tuple[type[LayerSpec], ...] = (
    DenseLayer,
    DropoutLayer,
    Conv2DLayer,
    MaxPool2DLayer,
    AvgPool2DLayer,
    GlobalAvgPool2DLayer,
    FlattenLayer,
    BatchNormLayer,
)

KINDS: dict[str, type[LayerSpec]] = {cls.KIND: cls for cls in _KINDS_IN_ORDER}
"""Every layer kind by its ``type`` value, in the order the builder's picker lists them."""

OUTPUT_KINDS: tuple[str, ...] = tuple(name for name, cls in KINDS.items() if cls.OUTPUT)


def kind(name: str) -> type[LayerSpec]:
    """The spec class of a kind.

    Raises:
        KeyError: naming the kinds there are, for an unknown name (never a fall-through).
    """
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown layer type {name!r}; choose one of {', '.join(KINDS)}") from None


def implied_kind(raw: dict) -> Optional[str]:
    """The kind a layer table without ``type`` implies by its keys (``units``: dense), or ``None``."""
    found = [name for name, cls in KINDS.items() if cls.IMPLIED_BY and any(k in raw for k in cls.IMPLIED_BY)]
    return found[0] if len(found) == 1 else None


# --- input adapters and shapes ------------------------------------------------------------------------


def input_adapter(layers: Sequence[LayerSpec], input_shape: Shape) -> Optional[str]:
    """How the data's samples are made to fit the first layer that cares about rank.

    Returns:
        ``"flatten"`` when images meet a dense layer first (the lesson's models with
        ``data.flatten = false``, as v0.1 did: a Flatten layer in front);
        ``"channels"`` when 2-D images (height, width) meet a conv/pool layer first
        (a Reshape adds the grayscale channel axis); ``None`` when they fit as they are.
    """
    first = next((l for l in layers if l.INPUT_RANK is not None), None)
    if first is None:
        return None
    if first.INPUT_RANK == 1 and len(input_shape) > 1:
        return "flatten"
    if first.INPUT_RANK == 3 and len(input_shape) == 2:
        return "channels"
    return None


def adapted_shape(adapter: Optional[str], input_shape: Shape) -> Shape:
    """The shape the first layer receives after :func:`input_adapter`'s adapter."""
    if adapter == "flatten":
        return (math.prod(input_shape),)
    if adapter == "channels":
        return (*input_shape, 1)
    return tuple(input_shape)


@dataclass(frozen=True)
class LayerRow:
    """One line of the model summary.

    Attributes:
        number: the layer's position in the preset, from 1; 0 for an input adapter.
        kind: the layer's ``type`` (``"flatten"``/``"reshape"`` for an adapter).
        output_shape: per sample, without the batch axis; ``None`` when unknown.
        params: weights as Keras counts them (``count_params()``); ``None`` when unknown.
        trainable: trainable weights; ``None`` when unknown.
    """

    number: int
    kind: str
    output_shape: Optional[Shape]
    params: Optional[int]
    trainable: Optional[int]

    @property
    def shape_text(self) -> str:
        """``(None, 26, 26, 32)``, as ``model.summary()`` writes it."""
        return fmt_shape(self.output_shape)


@dataclass(frozen=True)
class LayerShapeError:
    """Where the shapes stop fitting: the layer (from 1), its field (or None) and the message."""

    number: int
    field: Optional[str]
    message: str


def layer_rows(
    layers: Sequence[LayerSpec], input_shape: Optional[Shape]
) -> tuple[list[LayerRow], Optional[LayerShapeError]]:
    """Output shape and parameters of every layer, from the spec alone.

    With ``input_shape`` unknown (``None``), rows hold what does not depend on it
    (a dropout's 0 parameters, a dense layer's shape after the first, ...). From a
    layer that doesn't fit on, shapes and counts are unknown.

    Returns:
        The rows (an adapter row first if the data needs one) and the first shape
        error, or ``None``.
    """
    rows: list[LayerRow] = []
    shape: Optional[Shape] = None
    if input_shape is not None:
        adapter = input_adapter(layers, input_shape)
        shape = adapted_shape(adapter, input_shape)
        if adapter is not None:
            rows.append(LayerRow(0, "flatten" if adapter == "flatten" else "reshape", shape, 0, 0))
    error: Optional[LayerShapeError] = None
    for number, layer in enumerate(layers, start=1):
        out: Optional[Shape] = None
        params = trainable = None
        if error is None and shape is not None:
            try:
                out = layer.output_shape(shape)
                params, trainable = layer.param_count(shape), layer.trainable_count(shape)
            except ShapeError as exc:
                error = LayerShapeError(number, exc.field, exc.message)
                out = None
        elif error is None:
            # Input unknown (a file not read yet): some layers know their output anyway (dense: its units),
            # and a weightless layer has 0 parameters whatever it is given.
            out = layer.fixed_output_shape()
            if type(layer).param_count is LayerSpec.param_count:
                params = trainable = 0
        rows.append(LayerRow(number, layer.KIND, out, params, trainable))
        shape = out
    return rows, error


def summary_lines(rows: Sequence[LayerRow]) -> list[str]:
    """The model summary as text, one line per layer then the totals, like ``model.summary()``.

    Columns: the layer's number, its Keras name (``conv2d_1``; ``flatten``/``channels``
    for an input adapter), type, output shape and parameters.
    """
    names = {"flatten": "flatten", "reshape": "channels"}
    table = [("#", "layer", "type", "output shape", "params")]
    for row in rows:
        name = f"{row.kind}_{row.number}" if row.number else names.get(row.kind, row.kind)
        kind_text = row.kind if row.number else f"({row.kind} input)"
        table.append((str(row.number or "-"), name, kind_text, row.shape_text,
                      "?" if row.params is None else f"{row.params:,}"))
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    out = [
        "  ".join(cell.rjust(w) if i in (0, 4) else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths))).rstrip()
        for r in table
    ]
    known = [r for r in rows if r.params is not None]
    if len(known) == len(rows):
        total = sum(r.params or 0 for r in rows)
        trainable = sum(r.trainable or 0 for r in rows)
        out.append(f"Total params: {total:,} (trainable {trainable:,}, non-trainable {total - trainable:,})")
    return out


__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_HELP",
    "INITIALIZERS",
    "KINDS",
    "OUTPUT_KINDS",
    "ActivationHelp",
    "AvgPool2DLayer",
    "BatchNormLayer",
    "Conv2DLayer",
    "DenseLayer",
    "DropoutLayer",
    "FlattenLayer",
    "GlobalAvgPool2DLayer",
    "MaxPool2DLayer",
    "EditorField",
    "LayerRow",
    "LayerShapeError",
    "LayerSpec",
    "Shape",
    "ShapeError",
    "activation_formula",
    "adapted_shape",
    "fmt_shape",
    "implied_kind",
    "input_adapter",
    "kind",
    "layer_rows",
    "summary_lines",
]
