"""batch_norm: normalizes each channel (feature) with the batch's mean and variance."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from .base import EditorField, LayerSpec, Shape


class BatchNormLayer(LayerSpec):
    """Normalizes each channel with the batch's statistics, then scales and shifts it (gamma, beta)."""

    KIND = "batch_norm"
    TITLE = "BatchNormalization"
    HELP = ("Normalizes each channel (the last axis) with the batch's mean and variance, then learns a scale and "
            "a shift: 4 weights per channel, 2 of them trainable (the moving mean and variance are not).")
    FIELDS = (EditorField("momentum", "float"), EditorField("epsilon", "float"))

    type: Literal["batch_norm"] = Field("batch_norm", description="Layer type.")
    momentum: float = Field(0.99, ge=0, lt=1, description="Momentum of the moving mean and variance used at test time.")
    epsilon: float = Field(0.001, gt=0, le=1, description="Added to the variance to avoid dividing by zero.")

    def param_count(self, input_shape: Shape) -> int:
        return 4 * input_shape[-1]

    def trainable_count(self, input_shape: Shape) -> int:
        return 2 * input_shape[-1]

    def keras_layers(self, number: int, *, output_dtype: Optional[str] = None) -> list:
        import keras

        return [keras.layers.BatchNormalization(momentum=self.momentum, epsilon=self.epsilon,
                                                name=f"batch_norm_{number}")]

    def details(self) -> str:
        return f"momentum {self.momentum:g}" if self.momentum != 0.99 else ""
