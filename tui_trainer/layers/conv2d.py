"""conv2d: a 2-D convolution with its own activation."""

from __future__ import annotations

from typing import Literal, Optional, Sequence

from pydantic import Field, field_validator

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
from .base import EditorField, IntOrPair, LayerSpec, Shape, fmt_pair, pair, positive_pair, window_check, window_out

Padding = Literal["valid", "same"]


class Conv2DLayer(LayerSpec):
    """Slides ``filters`` small kernels over the image; each makes one output channel."""

    KIND = "conv2d"
    TITLE = "Conv2D"
    HELP = ("Slides small kernels over the image, one output channel per filter: "
            "kh * kw * channels_in * filters + filters parameters, the same wherever it looks.")
    KEY = "v"  # c cancels training app-wide
    HAS_KERNEL = True
    INPUT_RANK = 3
    FIELDS = (
        EditorField("filters", "int"),
        EditorField("kernel_size", "ints"),
        EditorField("strides", "ints"),
        EditorField("padding", "choice", ("valid", "same")),
        *ACTIVATION_FIELDS,
        *WEIGHT_FIELDS,
    )

    type: Literal["conv2d"] = Field("conv2d", description="Layer type.")
    filters: int = Field(gt=0, le=4096, description="Number of kernels = output channels.")
    kernel_size: IntOrPair = Field(3, description="Kernel height and width: 3, or [height, width].")
    strides: IntOrPair = Field(1, description="Step between kernel positions: 1, or [down, across].")
    padding: Padding = Field(
        "valid", description="valid: only where the kernel fits (the image shrinks); same: zero-pad to keep the size."
    )
    activation: Activation = activation_field()
    negative_slope: float = negative_slope_field()
    alpha: float = alpha_field()
    initializer: Initializer = initializer_field()
    l1: float = l1_field()
    l2: float = l2_field()

    _pairs = field_validator("kernel_size", "strides", mode="before")(positive_pair)

    def output_shape(self, input_shape: Shape) -> Shape:
        self.check_input(input_shape)
        (kh, kw), (sh, sw) = pair(self.kernel_size), pair(self.strides)
        window_check("kernel_size", "kernel", (kh, kw), input_shape, self.padding)
        h, w, _ = input_shape
        return (window_out(h, kh, sh, self.padding), window_out(w, kw, sw, self.padding), self.filters)

    def param_count(self, input_shape: Shape) -> int:
        kh, kw = pair(self.kernel_size)
        return kh * kw * input_shape[-1] * self.filters + self.filters

    def keras_layers(self, number: int, *, output_dtype: Optional[str] = None) -> list:
        import keras

        def make(activation, **out):
            return keras.layers.Conv2D(
                self.filters, pair(self.kernel_size), strides=pair(self.strides), padding=self.padding,
                activation=activation, name=f"conv2d_{number}", **weight_options(self), **out,
            )

        return with_activation(self, make, number, output_dtype)

    def details(self) -> str:
        stride = f" /{fmt_pair(self.strides)}" if pair(self.strides) != (1, 1) else ""
        pad = " same" if self.padding == "same" else ""
        return f"{self.filters} {fmt_pair(self.kernel_size)}{stride}{pad} {activation_details(self)}"

    def describe(self) -> str:
        return f"[b]conv2d[/b] {self.filters} filters {fmt_pair(self.kernel_size)}. " + describe_activation(self)

    @classmethod
    def new(cls, before: Sequence[LayerSpec]) -> LayerSpec:
        base = next((l for l in reversed(before) if isinstance(l, cls)), None)
        return base.model_copy() if base is not None else cls(filters=32, kernel_size=3, activation="relu")
