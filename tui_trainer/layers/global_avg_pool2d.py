"""global_avg_pool2d: one average per channel, turning an image into a vector."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from .base import LayerSpec, Shape


class GlobalAvgPool2DLayer(LayerSpec):
    """Averages each channel over the whole image: (h, w, c) becomes (c,)."""

    KIND = "global_avg_pool2d"
    TITLE = "GlobalAveragePooling2D"
    HELP = "Averages each channel over the whole image, (h, w, c) -> (c,): a flatten with far fewer features."
    INPUT_RANK = 3

    type: Literal["global_avg_pool2d"] = Field("global_avg_pool2d", description="Layer type.")

    def output_shape(self, input_shape: Shape) -> Shape:
        self.check_input(input_shape)
        return (input_shape[-1],)

    def keras_layers(self, number: int, *, output_dtype: Optional[str] = None) -> list:
        import keras

        return [keras.layers.GlobalAveragePooling2D(name=f"global_avg_pool2d_{number}")]
