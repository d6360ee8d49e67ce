"""The layer table of the model builder, its layer editor and the kind picker.

Everything about a layer kind comes from its module in :mod:`tui_trainer.layers`
(fields, help, shapes, parameter counts); nothing here branches on kind names.
Nothing here imports TensorFlow, so the builder paints at once.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from ...layers import (
    ACTIVATION_HELP,
    KINDS,
    ActivationHelp,
    LayerRow,
    LayerShapeError,
    LayerSpec,
    Shape,
    activation_formula,
    layer_rows,
)
from ...spec import validate_layer

__all__ = [
    "ACTIVATION_HELP",
    "ActivationHelp",
    "KindPicker",
    "LayerEditor",
    "LayerTable",
    "activation_formula",
    "describe_layer",
    "format_count",
    "layer_details",
]


def describe_layer(layer: LayerSpec) -> str:
    """One or two lines on a layer (its activation's formula, or what the layer does) for the help panel."""
    return layer.describe()


def layer_details(layer: LayerSpec) -> str:
    """A layer's settings in a few words, e.g. ``128 leaky_relu slope 0.01``."""
    return layer.details()


def format_count(n: Optional[int]) -> str:
    return "?" if n is None else f"{n:,}"


def _add_bindings() -> list[Binding]:
    """A key for each kind that has one (dense: a, dropout: p); the picker (n) offers them all."""
    out = []
    for name, cls in KINDS.items():
        if cls.KEY:
            label = f"Add {name}" if cls.OUTPUT else cls.TITLE
            out.append(Binding(cls.KEY, f"add('{name}')", label, tooltip=f"Add a {name} layer after the selected one"))
    return out


class LayerTable(DataTable):
    """The model's layers, input side first, edited with single keys.

    Holds the layer specs itself; every edit posts :class:`LayerTable.Changed`.
    The output shape and parameter columns need the data's input shape
    (:attr:`input_shape`); until it is known they show ``?`` where they depend on it.
    """

    DEFAULT_CSS = """
    LayerTable {
        height: auto;
        max-height: 12;
    }
    """

    BINDINGS = [
        *_add_bindings(),
        Binding("n", "pick_kind", "Add layer…", tooltip="Pick a layer kind (conv2d, pooling, ...) to add"),
        Binding("x,delete", "delete_layer", "Delete", key_display="x"),
        # enter edits too; both are named on the builder's total line, to leave the footer room at 80 columns
        Binding("e", "edit_layer", "Edit", tooltip="Edit the selected layer (also enter)", show=False),
        Binding("K,ctrl+up", "move(-1)", "Move up", key_display="K", show=False),
        Binding("J,ctrl+down", "move(1)", "Move down", key_display="J", show=False),
    ]

    COLUMNS = ("#", "type", "output shape", "parameters", "details")

    class Changed(Message):
        """The layers were added to, removed, moved or edited."""

        def __init__(self, table: "LayerTable", layers: list[LayerSpec]) -> None:
            super().__init__()
            self.table = table
            self.layers = layers

        @property
        def control(self) -> "LayerTable":
            return self.table

    def __init__(self, layers: Sequence[LayerSpec] = (), input_shape: Optional[Shape] = None, **kwargs) -> None:
        kwargs.setdefault("cursor_type", "row")
        super().__init__(**kwargs)
        self._layers: list[LayerSpec] = list(layers)
        self._input_shape = tuple(input_shape) if input_shape is not None else None

    # -- data -------------------------------------------------------------------------------------

    @property
    def layer_specs(self) -> list[LayerSpec]:
        """A copy of the layer specs, input side first."""
        return list(self._layers)

    @property
    def input_shape(self) -> Optional[Shape]:
        """What each sample looks like to the model; ``None`` until the data is known."""
        return self._input_shape

    @input_shape.setter
    def input_shape(self, value: Optional[Shape]) -> None:
        value = tuple(value) if value is not None else None
        if value != self._input_shape:
            self._input_shape = value
            self._fill()

    def summary(self) -> tuple[list[LayerRow], Optional[LayerShapeError]]:
        """The rows of the model summary (an input adapter first, numbered 0) and the first shape error."""
        return layer_rows(self._layers, self._input_shape)

    @property
    def shape_error(self) -> Optional[LayerShapeError]:
        """The first layer that can't take its input, or ``None``."""
        return self.summary()[1]

    @property
    def counts(self) -> list[Optional[int]]:
        """Parameters per layer (``None``: not known until the data's shape is)."""
        return [row.params for row in self.summary()[0] if row.number > 0]

    @property
    def total(self) -> Optional[int]:
        """Total parameters, ``None`` if any layer's count is unknown."""
        counts = self.counts
        return None if None in counts else sum(c for c in counts if c is not None)

    def total_text(self) -> str:
        """``Total: 9,610 parameters``, or what is known when the input shape isn't."""
        total = self.total
        if total is not None:
            return f"Total: {total:,} parameters"
        rest = sum(c for c in self.counts if c is not None)
        return f"Total: ? parameters (the first layers need the data's shape; the rest: {rest:,})"

    @property
    def selected_index(self) -> int:
        if not self._layers:
            return 0
        return min(max(self.cursor_row, 0), len(self._layers) - 1)

    @property
    def selected_layer(self) -> Optional[LayerSpec]:
        return self._layers[self.selected_index] if self._layers else None

    def set_layers(self, layers: Sequence[LayerSpec], *, cursor: Optional[int] = None, post: bool = True) -> None:
        """Replace all layers, keeping (or moving) the cursor; posts Changed unless ``post`` is False."""
        self._layers = list(layers)
        self._fill(cursor)
        if post:
            self.post_message(self.Changed(self, self.layer_specs))

    def _fill(self, cursor: Optional[int] = None) -> None:
        if cursor is None:
            cursor = self.cursor_row if self.row_count else 0
        if not self.columns:
            for name in self.COLUMNS:
                self.add_column(Text(name, justify="right") if name == "parameters" else name, key=name)
        self.clear()
        rows, error = self.summary()
        # The input adapter (a Flatten or Reshape the data needs) is described on the builder's info
        # line; the table's rows are the preset's layers, so the cursor is the layer's index.
        for row, layer in zip((r for r in rows if r.number > 0), self._layers):
            bad = error is not None and error.number == row.number
            self.add_row(
                str(row.number),
                Text(layer.type, style="bold red" if bad else ""),
                Text("✗ doesn't fit" if bad else row.shape_text, style="red" if bad else ""),
                Text(format_count(row.params), justify="right"),
                layer.details(),
                key=str(row.number),
            )
        if self._layers:
            self.move_cursor(row=min(max(cursor, 0), len(self._layers) - 1), animate=False)

    def on_mount(self) -> None:
        self._fill(0)

    # -- editing ----------------------------------------------------------------------------------

    def action_add(self, kind_name: str) -> None:
        """Insert a new layer of that kind after the selected one (before it, on the output layer)."""
        cls = KINDS[kind_name]
        i = self.selected_index
        at = i + 1
        if self._layers and i == len(self._layers) - 1:
            # After the output layer it would become the new output: a new hidden layer is meant.
            at = i
            if not cls.OUTPUT:
                self.notify(f"{kind_name} added before the output layer (the last layer must be dense).", timeout=4)
        layers = self.layer_specs
        layers.insert(at, cls.new(layers[:at]))
        self.set_layers(layers, cursor=at)

    def action_pick_kind(self) -> None:
        def done(kind_name: Optional[str]) -> None:
            if kind_name:
                self.action_add(kind_name)

        self.app.push_screen(KindPicker(), done)

    def action_delete_layer(self) -> None:
        if len(self._layers) <= 1:
            self.notify("A model needs at least one layer: this is the last one.", severity="warning")
            return
        i = self.selected_index
        layers = self.layer_specs
        del layers[i]
        self.set_layers(layers, cursor=min(i, len(layers) - 1))

    def action_move(self, delta: int) -> None:
        i = self.selected_index
        j = i + delta
        if not self._layers or not 0 <= j < len(self._layers):
            return
        layers = self.layer_specs
        layers[i], layers[j] = layers[j], layers[i]
        self.set_layers(layers, cursor=j)

    def action_select_cursor(self) -> None:
        # enter edits the layer in place
        self.action_edit_layer()

    def action_edit_layer(self) -> None:
        layer = self.selected_layer
        if layer is None:
            return
        i = self.selected_index

        def done(result: Optional[LayerSpec]) -> None:
            if result is not None and result != self._layers[i]:
                layers = self.layer_specs
                layers[i] = result
                self.set_layers(layers, cursor=i)

        self.app.push_screen(LayerEditor(layer, i + 1), done)


class _Modal(ModalScreen):
    DEFAULT_CSS = """
    _Modal {
        align: center middle;
    }
    _Modal > #editor {
        width: 100;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        padding: 0 1;
        background: $surface;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)


class KindPicker(_Modal):
    """Pick the kind of layer to add: every registered kind with its one-line help."""

    DEFAULT_CSS = """
    KindPicker OptionList { height: auto; max-height: 14; }
    """

    def compose(self) -> ComposeResult:
        with Vertical(id="editor") as box:
            box.border_title = "Add layer"
            box.border_subtitle = "enter add · esc cancel"
            yield OptionList(
                *(Option(Text.assemble((f"{name:<18}", "bold"), cls.HELP), id=name) for name, cls in KINDS.items()),
                id="kinds",
            )

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


def parse_number(text: str, kind: str) -> Any:
    """The number typed (``kind`` ``int``, or ``float`` taking ints too), or the text itself so that
    pydantic names what is wrong with it. The builder's forms read numbers the same way."""
    text = text.strip()
    for convert in ((int,) if kind == "int" else (int, float)):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _value(text: str, kind: str) -> Any:
    """The number(s) typed (``ints``: one, or two as ``3x5``/``3,5``), else as :func:`parse_number`."""
    if kind == "ints":
        parts = [p for p in text.strip().replace("x", ",").split(",") if p.strip()]
        if len(parts) == 2:
            return [parse_number(p, "int") for p in parts]
        kind = "int"
    return parse_number(text, kind)


def _text(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class LayerEditor(_Modal):
    """Edit one layer: the fields its kind's module lists (``LayerSpec.FIELDS``).

    Dismisses with the new, validated layer, or ``None`` when cancelled.
    """

    DEFAULT_CSS = """
    LayerEditor .row {
        height: 1;
    }
    LayerEditor .row > Label {
        width: 16;
    }
    LayerEditor .row > Input, LayerEditor .row > Select {
        width: 1fr;
    }
    LayerEditor .activation-row {
        height: auto;
    }
    LayerEditor .activation-row > OptionList {
        height: auto;
        max-height: 11;
        width: 1fr;
    }
    LayerEditor #activation-plot {
        width: 44;
        height: 11;
    }
    LayerEditor #formula {
        height: auto;
        margin: 1 0 0 0;
    }
    LayerEditor .field-error {
        color: $error;
        height: auto;
    }
    LayerEditor #buttons {
        height: 1;
        margin: 1 0 0 0;
        align-horizontal: right;
    }
    LayerEditor #buttons Button {
        margin: 0 0 0 2;
    }
    """

    def __init__(self, layer: LayerSpec, number: int) -> None:
        super().__init__()
        self.original = layer
        self.number = number
        self.fields = type(layer).FIELDS

    def compose(self) -> ComposeResult:
        with Vertical(id="editor") as box:
            box.border_title = f"Layer {self.number}: {self.original.type}"
            box.border_subtitle = "enter OK · esc cancel"
            for field in self.fields:
                value = getattr(self.original, field.name)
                if field.kind == "activation":
                    yield Label(field.name)
                    # plotext is imported only when the editor opens: the builder's first frame doesn't wait for it
                    from .activation_plot import ActivationPlot

                    with Horizontal(classes="activation-row", id=f"{field.name}-row"):
                        yield OptionList(
                            *(Option(f"{name:<11} {ACTIVATION_HELP[name].formula}", id=name) for name in field.options),
                            id=field.name,
                        )
                        yield ActivationPlot(id="activation-plot")
                    continue
                with Horizontal(classes="row", id=f"{field.name}-row"):
                    yield Label(field.name)
                    if field.kind == "choice":
                        yield Select([(o, o) for o in field.options], value=value, allow_blank=False, compact=True,
                                     id=field.name)
                    else:
                        yield Input(_text(value), id=field.name, compact=True,
                                    type="integer" if field.kind == "int" else "text")
                yield Static("", classes="field-error", id=f"{field.name}-error")
            yield Static("", id="formula")
            yield Static("", classes="field-error", id="form-error")
            with Horizontal(id="buttons"):
                yield Button("OK", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        for field in self.fields:
            if field.kind == "activation":
                self.query_one(f"#{field.name}", OptionList).highlighted = field.options.index(
                    getattr(self.original, field.name))
        first = next((f for f in self.fields), None)
        if first is not None:
            self.query_one(f"#{first.name}").focus()
        self._validate()

    # -- state ------------------------------------------------------------------------------------

    def _widget_value(self, field) -> Any:
        widget = self.query_one(f"#{field.name}")
        if isinstance(widget, OptionList):
            i = widget.highlighted  # highlighting an activation chooses it
            return getattr(self.original, field.name) if i is None else field.options[i]
        if isinstance(widget, Select):
            return getattr(self.original, field.name) if widget.is_blank() else widget.value
        assert isinstance(widget, Input)
        return _value(widget.value, field.kind)

    def _active(self, field, raw: dict) -> bool:
        """Whether a field applies (``negative_slope`` only while the activation is leaky_relu)."""
        return field.when is None or raw.get(field.when[0]) == field.when[1]

    def _raw(self) -> dict:
        raw: dict[str, Any] = {"type": self.original.type}
        for field in self.fields:
            # Only the fields that apply are checked; the others keep their old values.
            raw[field.name] = (
                self._widget_value(field) if self._active(field, raw) else getattr(self.original, field.name)
            )
        return raw

    def _validate(self) -> Optional[LayerSpec]:
        """Validate the form, mark invalid fields, refresh the help; the layer or None."""
        raw = self._raw()
        result, problems = validate_layer(raw)
        errors: dict[str, str] = {}
        for problem in problems:
            errors.setdefault(problem.field.split(".")[0] or "form", problem.message)
        names = {f.name for f in self.fields}
        for field in self.fields:
            active = self._active(field, raw)
            self.query_one(f"#{field.name}-row").display = active
            if field.kind == "activation":
                continue
            bad = active and field.name in errors
            self.query_one(f"#{field.name}").set_class(bad, "-invalid")
            error = self.query_one(f"#{field.name}-error", Static)
            error.update(f"↳ {errors[field.name]}" if bad else "")
            error.display = bad
        other = [f"{k}: {v}" for k, v in errors.items() if k not in names]
        form_error = self.query_one("#form-error", Static)
        form_error.update("; ".join(other))
        form_error.display = bool(other)
        # The help shows what is typed, as far as it is valid: an invalid field keeps its old value.
        shown = result or self.original.model_copy(
            update={k: v for k, v in raw.items() if k not in errors and k != "type"})
        self.query_one("#formula", Static).update(shown.describe())
        if any(f.kind == "activation" for f in self.fields):
            self.query_one("#activation-plot").show(
                shown.activation, negative_slope=shown.negative_slope, alpha=shown.alpha)  # type: ignore[attr-defined]
        return result

    # -- events -----------------------------------------------------------------------------------

    @on(Input.Changed)
    @on(Select.Changed)
    @on(OptionList.OptionHighlighted)
    def _changed(self) -> None:
        self._validate()

    @on(Input.Submitted)
    @on(OptionList.OptionSelected)
    @on(Button.Pressed, "#ok")
    def action_ok(self) -> None:
        result = self._validate()
        if result is None:
            self.notify("Fix the marked value first.", severity="error", timeout=3)
            return
        self.dismiss(result)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
