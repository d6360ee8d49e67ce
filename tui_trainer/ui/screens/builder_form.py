"""The builder's forms: which preset fields have a widget, of what kind, and the text <-> value rules."""

from __future__ import annotations

import re
from typing import Any, NamedTuple, Optional

from pydantic import BaseModel

from ...datasets import SOURCES, source_names
from ...layers import Shape
from ...spec import COLOR_MODES, OPTIMIZERS, Preset, SpecError, check_shapes, validate


class FormField(NamedTuple):
    path: str  # field path in the preset, as SpecError names it: "training.epochs"
    kind: str  # select, text, int, float, switch, size ([height, width] typed as "28x28" or "28, 28")
    options: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return "f-" + self.path.replace(".", "-").replace("_", "-")

    @property
    def label(self) -> str:
        return self.path.rsplit(".", 1)[-1]


SECTIONS: dict[str, tuple[FormField, ...]] = {
    "Data": (
        FormField("data.dataset", "select", source_names()),
        # Shown only for the data sets whose source reads them (DataSource.options).
        FormField("data.path", "text"),
        FormField("data.flatten", "switch"),  # off for conv layers: images keep their height and width
        FormField("data.image_size", "size"),
        FormField("data.color_mode", "select", COLOR_MODES),
        FormField("data.label_column", "text"),
        FormField("data.validation_split", "float"),
    ),
    "Training": (
        FormField("training.optimizer", "select", OPTIMIZERS),
        FormField("training.learning_rate", "float"),
        FormField("training.batch_size", "int"),
        FormField("training.epochs", "int"),
        FormField("seed", "int"),
    ),
    "EarlyStopping": (
        FormField("early_stopping.enabled", "switch"),
        FormField("early_stopping.monitor", "select"),  # options depend on the preset's metrics
        FormField("early_stopping.min_delta", "float"),
        FormField("early_stopping.patience", "int"),
        FormField("early_stopping.restore_best_weights", "switch"),
        FormField("early_stopping.start_from_epoch", "int"),
    ),
}
FIELDS: dict[str, FormField] = {f.path: f for fields in SECTIONS.values() for f in fields}


def get_path(raw: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        raw = raw[part]
    return raw


def put_path(raw: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        raw = raw.setdefault(part, {})
    raw[last] = value


def field_description(path: str) -> str:
    """The pydantic ``Field(description=...)`` of a field path, for tooltips."""
    model: type[BaseModel] = Preset
    *parents, last = path.split(".")
    for part in parents:
        model = model.model_fields[part].annotation  # type: ignore[assignment]
    return model.model_fields[last].description or ""


def parse_size(text: str) -> Any:
    """``[28, 28]`` from "28x28" or "28, 28"; ``None`` when empty; else the text, for pydantic to name."""
    parts = [p for p in re.split(r"[\sx×,]+", text.strip().strip("[]()")) if p]
    if not parts:
        return None
    return [int(p) for p in parts] if all(p.isdigit() for p in parts) else text.strip()


def data_field_shown(path: str, dataset: Any) -> bool:
    """Whether the data form shows a field for a data set: the ones its source reads."""
    option = path.removeprefix("data.")
    if not path.startswith("data.") or option in ("dataset", "validation_split"):
        return True
    source = SOURCES.get(dataset)
    return source is not None and option in source.options


def monitor_options(metrics: list[str], current: str) -> list[str]:
    """What EarlyStopping can watch: the loss and the metrics, with and without ``val_``."""
    names = ["loss", *metrics]
    options = [*(f"val_{n}" for n in names), *names]
    options.sort(key=lambda o: (not o.startswith("val_"), o != "val_loss", o))
    if current not in options:
        options.append(current)
    return list(dict.fromkeys(options))


def error_target(path: str) -> str:
    """Where an error is shown: its form field, the layer table ("layers"), or the preset as a whole."""
    if path in FIELDS:
        return path
    if path.startswith("layers"):
        return "layers"
    return path or "preset"


def judge(raw: dict[str, Any], input_shape: Optional[Shape]) -> tuple[Optional[Preset], dict[str, str]]:
    """The preset a builder's fields make, or ``None``, and its errors: :func:`error_target` -> one line.

    Args:
        raw: the preset as a dict, as the fields hold it.
        input_shape: the data's input shape when known: then a layer that can't take its input is an error.
    """
    preset, problems = validate(raw)
    if preset is not None and input_shape is not None:
        try:
            check_shapes(preset, input_shape)
        except SpecError as exc:
            problems = exc.errors
    errors: dict[str, str] = {}
    for problem in problems:
        target = error_target(problem.field)
        # a layer's error names its layer and field: "layers[3].kernel_size: ..."
        message = problem.line() if target == "layers" and problem.field != "layers" else problem.message
        errors.setdefault(target, message)
    return (preset if not errors else None), errors
