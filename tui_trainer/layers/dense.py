"""dense: a fully connected layer with its own activation."""

from __future__ import annotations

from typing import Literal, Optional, Sequence

from pydantic import Field

from .activations import (
    ACTIVATION_FIELDS,
    WEIGHT_FIELDS,
    Activation,
    Initializer,
    activation_details,
    activation_field,
    alpha_field,
    describe_activation,
    initializer_field,
    l1_field,
    l2_field,
    negative_slope_field,
    weight_options,
    with_activation,
)
from .base import EditorField, LayerSpec, Shape


class DenseLayer(LayerSpec):
    """A fully connected layer with its own activation."""

    KIND = "dense"
    TITLE = "Dense"
    HELP = "Every output unit sees every input: units * (inputs + 1) parameters."
    KEY = "a"
    HAS_KERNEL = True
    INPUT_RANK = 1
    OUTPUT = True
    IMPLIED_BY = ("units",)
    FIELDS = (EditorField("units", "int"), *ACTIVATION_FIELDS, *WEIGHT_FIELDS)

    type: Literal["dense"] = Field("dense", description="Layer type.")
    units: int = Field(gt=0, le=65536, description="Number of neurons.")
    activation: Activation = activation_field()
    negative_slope: float = negative_slope_field()
    alpha: float = alpha_field()
    initializer: Initializer = initializer_field()
    l1: float = l1_field()
    l2: float = l2_field()

    def output_shape(self, input_shape: Shape) -> Shape:
        self.check_input(input_shape)
        return (self.units,)

    def fixed_output_shape(self) -> Optional[Shape]:
        return (self.units,)

    def param_count(self, input_shape: Shape) -> int:
        return input_shape[-1] * self.units + self.units

    def keras_layers(self, number: int, *, output_dtype: Optional[str] = None) -> list:
        import keras

        def make(activation, **out):
            return keras.layers.Dense(self.units, activation=activation, name=f"dense_{number}",
                                      **weight_options(self), **out)

        return with_activation(self, make, number, output_dtype)

    def details(self) -> str:
        return f"{self.units} {activation_details(self)}"

    def describe(self) -> str:
        return describe_activation(self)

    @classmethod
    def new(cls, before: Sequence[LayerSpec]) -> LayerSpec:
        base = next((l for l in reversed(before) if isinstance(l, cls)), None)
        if base is None or base.activation in ("softmax", "linear"):
            return cls(units=64, activation="relu")
        return base.model_copy()
