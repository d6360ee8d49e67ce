"""max_pool2d: keeps the largest value of each window, per channel."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .pool import Pool2DLayer


class MaxPool2DLayer(Pool2DLayer):
    """Keeps the largest value of each window: halves height and width at the default 2x2."""

    KIND = "max_pool2d"
    TITLE = "MaxPooling2D"
    HELP = "Keeps the largest value of each window per channel: 2x2 halves height and width; no parameters."
    KERAS_CLASS = "MaxPooling2D"

    type: Literal["max_pool2d"] = Field("max_pool2d", description="Layer type.")
