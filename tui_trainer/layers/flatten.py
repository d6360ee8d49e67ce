"""flatten: reshapes each sample to a vector, so dense layers can follow conv layers."""

from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import Field

from .base import LayerSpec, Shape


class FlattenLayer(LayerSpec):
    """Reshapes each sample to a vector: (h, w, c) becomes (h * w * c,)."""

    KIND = "flatten"
    TITLE = "Flatten"
    HELP = "Reshapes each sample to a vector, (h, w, c) -> (h*w*c,), so dense layers can follow; no parameters."

    type: Literal["flatten"] = Field("flatten", description="Layer type.")

    def output_shape(self, input_shape: Shape) -> Shape:
        return (math.prod(input_shape),)

    def keras_layers(self, number: int, *, output_dtype: Optional[str] = None) -> list:
        import keras

        return [keras.layers.Flatten(name=f"flatten_{number}")]
