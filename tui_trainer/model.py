"""Spec -> keras.Model. Imported only where TensorFlow is wanted."""

from __future__ import annotations

import re
from typing import Sequence

import keras

from .layers import input_adapter
from .spec import Preset


def build_model(preset: Preset, input_shape: Sequence[int], num_classes: int) -> keras.Model:
    """A ``keras.Sequential`` for the preset, its input shape taken from the data.

    Each preset layer builds its own Keras layers (``LayerSpec.keras_layers``), named
    ``<kind>_<number>`` with the layer's number in the preset, from 1. When the data
    doesn't have the rank the first layer needs, an input adapter goes first:
    a Flatten layer named ``flatten`` when images meet a dense layer (v0.1's
    behaviour with ``data.flatten = false``), or a Reshape named ``channels`` adding the
    grayscale channel axis when 2-D images meet a conv/pool layer. The shapes and
    counts of :func:`tui_trainer.spec.output_shapes` include the same adapter.
    """
    shape = tuple(int(d) for d in input_shape)
    layers: list[keras.layers.Layer] = [keras.Input(shape=shape)]
    adapter = input_adapter(preset.layers, shape)
    if adapter == "flatten":
        layers.append(keras.layers.Flatten(name="flatten"))
    elif adapter == "channels":
        layers.append(keras.layers.Reshape((*shape, 1), name="channels"))
    # Under mixed precision (mixed_float16) the output layer stays float32: softmax and the loss
    # in float16 lose precision and can overflow (Keras's mixed-precision guide does the same).
    mixed = keras.config.dtype_policy().name.startswith("mixed")
    for i, spec in enumerate(preset.layers, start=1):
        output_dtype = "float32" if mixed and i == len(preset.layers) else None
        layers.extend(spec.keras_layers(i, output_dtype=output_dtype))
    return keras.Sequential(layers, name=_model_name(preset.name))


def _model_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)[:60] or "model"


def compile_model(model: keras.Model, preset: Preset) -> None:
    """Compile with the preset's optimizer, learning rate, loss and metrics."""
    t = preset.training
    optimizers = {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
        "adamw": keras.optimizers.AdamW,
        "nadam": keras.optimizers.Nadam,
        "adagrad": keras.optimizers.Adagrad,
    }
    # A linear output layer produces logits: tell the loss so, instead of
    # feeding logits to a loss that expects probabilities.
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=preset.layers[-1].activation == "linear")
    model.compile(optimizer=optimizers[t.optimizer](learning_rate=t.learning_rate), loss=loss, metrics=list(t.metrics))


def has_kernel(layer, *, trainable: bool = True) -> bool:
    """Whether a Keras layer holds a ``kernel`` weight (Dense, Conv1D/2D/3D, EinsumDense...).

    By the weight, not by the class, so a layer kind we add (``LayerSpec.HAS_KERNEL``) or a user's own
    layer in a script is found without a list to keep. ``trainable``: only a kernel training updates
    (a frozen one has no gradient to measure).
    """
    kernel = getattr(layer, "kernel", None)
    if kernel is None or not trainable:
        return kernel is not None
    return any(kernel is w for w in getattr(layer, "trainable_weights", ()))


def kernel_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers with a trainable kernel (:func:`has_kernel`), input side first."""
    return [layer for layer in model.layers if has_kernel(layer)]
