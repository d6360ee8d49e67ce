"""Spec -> keras.Model. Imported only where TensorFlow is wanted."""

from __future__ import annotations

import re
from typing import Sequence

import keras

from .spec import DenseLayer, Preset

# The activation functions that take a parameter get their own layer, so the
# parameter is explicit and the model saves and loads without custom objects.
# Keras's LeakyReLU defaults to negative_slope=0.3; the lesson's is 0.01 and
# comes from the spec, always passed.


def build_model(preset: Preset, input_shape: Sequence[int], num_classes: int) -> keras.Model:
    """A ``keras.Sequential`` for the preset, its input shape taken from the data.

    Non-flat inputs (``data.flatten = false``) get a Flatten layer first, so Dense
    layers see vectors either way.
    """
    layers: list[keras.layers.Layer] = [keras.Input(shape=tuple(input_shape))]
    if len(input_shape) > 1:
        layers.append(keras.layers.Flatten(name="flatten"))
    # Under mixed precision (mixed_float16) the output layer stays float32: softmax and the loss
    # in float16 lose precision and can overflow (Keras's mixed-precision guide does the same).
    mixed = keras.config.dtype_policy().name.startswith("mixed")
    for i, spec in enumerate(preset.layers, start=1):
        if isinstance(spec, DenseLayer):
            out = {"dtype": "float32"} if mixed and i == len(preset.layers) else {}
            if spec.activation in ("leaky_relu", "elu"):
                layers.append(keras.layers.Dense(spec.units, activation=None, name=f"dense_{i}", **out))
                if spec.activation == "leaky_relu":
                    layers.append(
                        keras.layers.LeakyReLU(negative_slope=spec.negative_slope, name=f"leaky_relu_{i}", **out))
                else:
                    layers.append(keras.layers.ELU(alpha=spec.alpha, name=f"elu_{i}", **out))
            else:
                layers.append(keras.layers.Dense(spec.units, activation=spec.activation, name=f"dense_{i}", **out))
        else:
            layers.append(keras.layers.Dropout(spec.rate, name=f"dropout_{i}"))
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


def dense_layers(model: keras.Model) -> list[keras.layers.Dense]:
    """The model's Dense layers, input side first."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
