"""What max_pool2d and avg_pool2d share: a window sliding over each channel, no weights."""

from __future__ import annotations

from typing import ClassVar, Literal, Optional

from pydantic import Field, field_validator

from .base import EditorField, IntOrPair, LayerSpec, Shape, fmt_pair, pair, positive_pair, window_check, window_out


class Pool2DLayer(LayerSpec):
    """Base of the 2-D pooling kinds (not a kind itself: it has no ``KIND``)."""

    INPUT_RANK = 3
    FIELDS = (
        EditorField("pool_size", "ints"),
        EditorField("strides", "ints"),
        EditorField("padding", "choice", ("valid", "same")),
    )
    KERAS_CLASS: ClassVar[str] = ""  # keras.layers.<this>

    pool_size: IntOrPair = Field(2, description="Window height and width: 2, or [height, width].")
    strides: Optional[IntOrPair] = Field(None, description="Step between windows; unset: the pool size.")
    padding: Literal["valid", "same"] = Field("valid", description="valid: only whole windows; same: zero-pad.")

    _pairs = field_validator("pool_size", "strides", mode="before")(
        lambda v: v if v is None else positive_pair(v))

    def _strides(self) -> tuple[int, int]:
        return pair(self.strides if self.strides is not None else self.pool_size)

    def output_shape(self, input_shape: Shape) -> Shape:
        self.check_input(input_shape)
        (ph, pw), (sh, sw) = pair(self.pool_size), self._strides()
        window_check("pool_size", "pool window", (ph, pw), input_shape, self.padding)
        h, w, c = input_shape
        return (window_out(h, ph, sh, self.padding), window_out(w, pw, sw, self.padding), c)

    def keras_layers(self, number: int, *, output_dtype: Optional[str] = None) -> list:
        import keras

        make = getattr(keras.layers, self.KERAS_CLASS)
        return [make(pair(self.pool_size), strides=self._strides(), padding=self.padding, name=f"{self.KIND}_{number}")]

    def details(self) -> str:
        stride = f" /{fmt_pair(self.strides)}" if self.strides is not None else ""
        return fmt_pair(self.pool_size) + stride + (" same" if self.padding == "same" else "")
