"""dropout: randomly zeroes a fraction of its inputs while training."""

from __future__ import annotations

from typing import Literal, Optional, Sequence

from pydantic import Field

from .base import EditorField, LayerSpec


class DropoutLayer(LayerSpec):
    """Randomly zeroes a fraction of its inputs while training."""

    KIND = "dropout"
    TITLE = "Dropout"
    HELP = "Zeroes that fraction of its inputs at random while training (scaling up the rest); off at test time."
    KEY = "p"
    FIELDS = (EditorField("rate", "float"),)

    type: Literal["dropout"] = Field("dropout", description="Layer type.")
    rate: float = Field(0.5, ge=0, lt=1, description="Fraction of inputs dropped, 0 <= rate < 1.")

    def keras_layers(self, number: int, *, output_dtype: Optional[str] = None) -> list:
        import keras

        return [keras.layers.Dropout(self.rate, name=f"dropout_{number}")]

    def details(self) -> str:
        return f"rate {self.rate:g}"

    def describe(self) -> str:
        return f"[b]dropout[/b] rate {self.rate:g}: {self.HELP}"

    @classmethod
    def new(cls, before: Sequence[LayerSpec]) -> LayerSpec:
        return cls(rate=0.2)
