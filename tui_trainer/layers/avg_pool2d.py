"""avg_pool2d: averages each window, per channel."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .pool import Pool2DLayer


class AvgPool2DLayer(Pool2DLayer):
    """Averages each window: a smoother downsampling than max pooling."""

    KIND = "avg_pool2d"
    TITLE = "AveragePooling2D"
    HELP = "Averages each window per channel: 2x2 halves height and width; no parameters."
    KERAS_CLASS = "AveragePooling2D"

    type: Literal["avg_pool2d"] = Field("avg_pool2d", description="Layer type.")
