"""What the builder knows about the data a preset names: its input shape and classes, and the line saying so.

From the data-set registry when it knows them (digits, mnist, ...), else from reading the user's file
(the builder reads it in a thread worker and keeps each read under its :func:`probe_key`). Pure Python:
no Textual here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from ...datasets import SOURCES, known_input_shape
from ...layers import Shape, input_adapter

Probe = tuple[Optional[Shape], Optional[int], Optional[str]]
"""A read of the user's file: its input shape and number of classes, or why it can't be read."""


def frozen(value: Any) -> Any:
    """A form value as part of a dict key (``image_size`` is a list)."""
    return tuple(value) if isinstance(value, list) else value


def probe_key(data: Mapping[str, Any]) -> Optional[tuple]:
    """What a read of the user's file depends on; ``None`` when the registry knows the shape (or no file is named)."""
    source = SOURCES.get(data["dataset"])
    if source is None or not data.get("path") or known_input_shape(data) is not None:
        return None
    return (source.name, data["path"], *(frozen(data.get(o)) for o in source.options if o != "path"))


@dataclass(frozen=True)
class DataView:
    """The preset's ``data`` table with what is known of it."""

    data: Mapping[str, Any]
    key: Optional[tuple]  # see probe_key
    probe: Optional[Probe]  # the read of the file under ``key``, once it is done

    @classmethod
    def of(cls, data: Mapping[str, Any], probes: Mapping[tuple, Probe]) -> "DataView":
        key = probe_key(data)
        return cls(data, key, probes.get(key) if key else None)

    @property
    def input_shape(self) -> Optional[Shape]:
        """The model's input shape: from the registry when it knows it, else from the file once read."""
        shape = known_input_shape(self.data)
        if shape is not None:
            return shape
        return self.probe[0] if self.probe else None

    @property
    def num_classes(self) -> Optional[int]:
        source = SOURCES.get(self.data["dataset"])
        if source is not None and source.class_names is not None:
            return len(source.class_names)
        return self.probe[1] if self.probe else None

    def info_text(self, layers: Sequence) -> str:
        """``data: digits · input: 64 features (8x8 digits, flattened) · 10 classes``."""
        data = self.data
        dataset = data["dataset"]
        where = f" ({data['path']})" if data.get("path") else ""
        source = SOURCES.get(dataset)
        sample = source.shape(data) if source is not None else None
        probed = self.probe
        if source is not None and sample is not None:
            size = "x".join(str(d) for d in sample[:2])  # HxW; the channel count shows when kept whole
            if data.get("flatten", True):
                input_ = f"input: {math.prod(sample)} features ({size} {source.samples}, flattened)"
            else:
                input_ = (f"input: {'x'.join(str(d) for d in sample)} {source.samples} "
                          f"(not flattened{_adapter_text(layers, sample)})")
        elif probed is None:
            input_ = "input: from file" + (" (reading it...)" if self.key else "")
        elif probed[2]:
            input_ = f"input: from file (can't read it: {probed[2]})"
        elif len(probed[0]) == 1:
            input_ = f"input: {probed[0][0]} features (from the file)"
        else:
            input_ = f"input: {'x'.join(map(str, probed[0]))} (from the file{_adapter_text(layers, probed[0])})"
        classes = self.num_classes
        return f"data: {dataset}{where} · {input_}" + (f" · {classes} classes" if classes else "")

    def output_note(self, layers: Sequence) -> str:
        """A hint that doesn't make the preset invalid but would surprise at training time; "" when none."""
        out = layers[-1] if layers else None
        if out is None or not out.OUTPUT:
            return ""
        classes = self.num_classes
        if classes and out.units < classes:
            return f"! The output layer has {out.units} units but the data has {classes} classes: training will fail."
        if classes and out.units > classes:
            return f"! The output layer has {out.units} units; the data has {classes} classes."
        if out.activation not in ("softmax", "linear"):
            return f"! The output layer uses {out.activation}: the loss expects softmax probabilities or linear logits."
        return ""


def _adapter_text(layers: Sequence, shape: Shape) -> str:
    adapter = input_adapter(layers, shape)
    return {"flatten": "; a Flatten layer feeds the first dense layer",
            "channels": ", a channel axis added"}.get(adapter or "", "")
