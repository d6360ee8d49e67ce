"""The layer table of the model builder, its layer editor, and the activation texts.

Nothing here imports TensorFlow: parameter counts come from the spec
(:func:`tui_trainer.spec.param_counts`), so the builder paints at once.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple, Optional, Sequence, Union

from pydantic import ValidationError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ...spec import ACTIVATIONS, DenseLayer, DropoutLayer, _field_path, _one_line, param_counts

LayerSpec = Union[DenseLayer, DropoutLayer]


class ActivationHelp(NamedTuple):
    """What the builder says about one activation function."""

    formula: str
    note: str


# The lesson's claims, one line each; the monitor and other screens reuse them.
ACTIVATION_HELP: dict[str, ActivationHelp] = {
    "relu": ActivationHelp(
        "max(0, x)",
        "Passes positive inputs unchanged, so gradients don't shrink through deep stacks; "
        "the lesson's default for hidden layers.",
    ),
    "leaky_relu": ActivationHelp("max(0.01x, x)", "Negative inputs still pass a small gradient, so units can't die."),
    "elu": ActivationHelp(
        "x if x > 0 else alpha*(exp(x)-1)", "Smooth for negatives, mean activations closer to zero."
    ),
    "sigmoid": ActivationHelp(
        "1 / (1 + exp(-x))", "Saturates at 0 and 1; stacked deep, gradients vanish toward the input."
    ),
    "tanh": ActivationHelp(
        "(exp(x) - exp(-x)) / (exp(x) + exp(-x))",
        "Zero-centred but also saturates; deep stacks can make gradients vanish.",
    ),
    "softmax": ActivationHelp(
        "exp(x_i) / sum_j exp(x_j)", "Turns the output layer into class probabilities; use it on the last layer."
    ),
    "linear": ActivationHelp("x", "No non-linearity; on the output layer it yields logits (the loss is told so)."),
}

DROPOUT_HELP = "Zeroes that fraction of its inputs at random while training (scaling up the rest); off at test time."


def activation_formula(activation: str, *, negative_slope: float = 0.01, alpha: float = 1.0) -> str:
    """The formula of an activation with the layer's own parameter filled in, e.g. ``max(0.3x, x)``."""
    if activation == "leaky_relu":
        return f"max({negative_slope:g}x, x)"
    if activation == "elu":
        return f"x if x > 0 else {alpha:g}*(exp(x)-1)"
    return ACTIVATION_HELP[activation].formula


def describe_layer(layer: LayerSpec) -> str:
    """One or two lines on a layer's activation (or on dropout) for the help panel."""
    if isinstance(layer, DropoutLayer):
        return f"[b]dropout[/b] rate {layer.rate:g}: {DROPOUT_HELP}"
    help_ = ACTIVATION_HELP[layer.activation]
    formula = activation_formula(layer.activation, negative_slope=layer.negative_slope, alpha=layer.alpha)
    return f"[b]{layer.activation}[/b]: {formula} — {help_.note}"


def layer_details(layer: LayerSpec) -> str:
    """The parameter a layer has besides units and activation, e.g. ``slope 0.01``."""
    if isinstance(layer, DropoutLayer):
        return f"rate {layer.rate:g}"
    if layer.activation == "leaky_relu":
        return f"slope {layer.negative_slope:g}"
    if layer.activation == "elu":
        return f"alpha {layer.alpha:g}"
    return ""


def layer_param_counts(layers: Sequence[LayerSpec], input_dim: Optional[int]) -> list[Optional[int]]:
    """Trainable parameters per layer; ``None`` where the input width is not known yet.

    Delegates to :func:`tui_trainer.spec.param_counts` (it only reads ``.layers``)
    so there is one formula in the code base.
    """
    counts: list[Optional[int]] = list(param_counts(SimpleNamespace(layers=list(layers)), input_dim or 0))  # type: ignore[arg-type]
    if input_dim is None:
        # Only the first Dense layer depends on the input width; the rest are exact.
        for i, layer in enumerate(layers):
            if isinstance(layer, DenseLayer):
                counts[i] = None
                break
    return counts


def format_count(n: Optional[int]) -> str:
    return "?" if n is None else f"{n:,}"


class LayerTable(DataTable):
    """The model's layers, input side first, edited with single keys.

    Holds the layer specs itself; every edit posts :class:`LayerTable.Changed`.
    """

    DEFAULT_CSS = """
    LayerTable {
        height: auto;
        max-height: 12;
    }
    """

    BINDINGS = [
        Binding("a", "add_dense", "Add dense", tooltip="Add a Dense layer after the selected one"),
        Binding("p", "add_dropout", "Dropout", tooltip="Add a Dropout layer (rate 0.2) after the selected one"),
        Binding("x,delete", "delete_layer", "Delete", key_display="x"),
        # enter edits too; both are named on the builder's total line, to leave the footer room at 80 columns
        Binding("e", "edit_layer", "Edit", tooltip="Edit the selected layer (also enter)", show=False),
        Binding("K,ctrl+up", "move(-1)", "Move up", key_display="K", show=False),
        Binding("J,ctrl+down", "move(1)", "Move down", key_display="J", show=False),
    ]

    COLUMNS = ("#", "type", "units", "activation", "parameters", "details")

    class Changed(Message):
        """The layers were added to, removed, moved or edited."""

        def __init__(self, table: "LayerTable", layers: list[LayerSpec]) -> None:
            super().__init__()
            self.table = table
            self.layers = layers

        @property
        def control(self) -> "LayerTable":
            return self.table

    def __init__(
        self, layers: Sequence[LayerSpec] = (), input_dim: Optional[int] = None, **kwargs
    ) -> None:
        kwargs.setdefault("cursor_type", "row")
        super().__init__(**kwargs)
        self._layers: list[LayerSpec] = list(layers)
        self._input_dim = input_dim

    # -- data -------------------------------------------------------------------------------------

    @property
    def layer_specs(self) -> list[LayerSpec]:
        """A copy of the layer specs, input side first."""
        return list(self._layers)

    @property
    def input_dim(self) -> Optional[int]:
        return self._input_dim

    @input_dim.setter
    def input_dim(self, value: Optional[int]) -> None:
        if value != self._input_dim:
            self._input_dim = value
            self._fill()

    @property
    def counts(self) -> list[Optional[int]]:
        """Parameters per layer (``None``: not known until the data's width is)."""
        return layer_param_counts(self._layers, self._input_dim)

    @property
    def total(self) -> Optional[int]:
        """Total trainable parameters, ``None`` if the input width is unknown."""
        counts = self.counts
        return None if None in counts else sum(c for c in counts if c is not None)

    def total_text(self) -> str:
        """``Total: 9,610 parameters``, or what is known when the input width isn't."""
        total = self.total
        if total is not None:
            return f"Total: {total:,} parameters"
        rest = sum(c for c in self.counts if c is not None)
        return f"Total: ? parameters (layer 1 needs the file's width; the rest: {rest:,})"

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
        for i, (layer, count) in enumerate(zip(self._layers, self.counts), start=1):
            is_dense = isinstance(layer, DenseLayer)
            self.add_row(
                str(i),
                layer.type,
                str(layer.units) if is_dense else "",
                layer.activation if is_dense else "",
                Text(format_count(count), justify="right"),
                layer_details(layer),
                key=str(i),
            )
        if self._layers:
            self.move_cursor(row=min(max(cursor, 0), len(self._layers) - 1), animate=False)

    def on_mount(self) -> None:
        self._fill(0)

    # -- editing ----------------------------------------------------------------------------------

    def action_add_dense(self) -> None:
        i = self.selected_index
        at = i + 1
        if self._layers and i == len(self._layers) - 1:
            # After the output layer it would become the new output: a new hidden layer is meant.
            at = i
        base = next((l for l in reversed(self._layers[:at]) if isinstance(l, DenseLayer)), None)
        if base is None or base.activation in ("softmax", "linear"):
            new = DenseLayer(type="dense", units=64, activation="relu")
        else:
            new = base.model_copy()
        layers = self.layer_specs
        layers.insert(at, new)
        self.set_layers(layers, cursor=at)

    def action_add_dropout(self) -> None:
        i = self.selected_index
        at = i + 1
        if i == len(self._layers) - 1:
            # Dropout after the output layer can't be valid; put it in front of the output instead.
            at = i
            self.notify("Dropout added before the output layer (the last layer must be dense).", timeout=4)
        layers = self.layer_specs
        layers.insert(at, DropoutLayer(type="dropout", rate=0.2))
        self.set_layers(layers, cursor=at)

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


class LayerEditor(ModalScreen[Optional[LayerSpec]]):
    """Edit one layer: units (or rate), activation, and the activation's parameter.

    Dismisses with the new, validated layer, or ``None`` when cancelled.
    """

    DEFAULT_CSS = """
    LayerEditor {
        align: center middle;
    }
    LayerEditor > #editor {
        width: 100;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        padding: 0 1;
        background: $surface;
    }
    LayerEditor .row {
        height: 1;
    }
    LayerEditor .row > Label {
        width: 16;
    }
    LayerEditor .row > Input {
        width: 1fr;
    }
    LayerEditor #activation-row {
        height: auto;
    }
    LayerEditor #activation {
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

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, layer: LayerSpec, number: int) -> None:
        super().__init__()
        self.original = layer
        self.number = number

    @property
    def is_dense(self) -> bool:
        return isinstance(self.original, DenseLayer)

    def compose(self) -> ComposeResult:
        with Vertical(id="editor") as box:
            box.border_title = f"Layer {self.number}: {self.original.type}"
            box.border_subtitle = "enter OK · esc cancel"
            if isinstance(self.original, DenseLayer):
                with Horizontal(classes="row"):
                    yield Label("units")
                    yield Input(str(self.original.units), id="units", compact=True, type="integer")
                yield Static("", classes="field-error", id="units-error")
                yield Label("activation")
                # plotext is imported only when the editor opens: the builder's first frame doesn't wait for it
                from .activation_plot import ActivationPlot

                with Horizontal(id="activation-row"):
                    yield OptionList(
                        *(Option(f"{name:<11} {ACTIVATION_HELP[name].formula}", id=name) for name in ACTIVATIONS),
                        id="activation",
                    )
                    yield ActivationPlot(id="activation-plot")
                with Horizontal(classes="row", id="slope-row"):
                    yield Label("negative_slope")
                    yield Input(f"{self.original.negative_slope:g}", id="negative_slope", compact=True)
                yield Static("", classes="field-error", id="negative_slope-error")
                with Horizontal(classes="row", id="alpha-row"):
                    yield Label("alpha")
                    yield Input(f"{self.original.alpha:g}", id="alpha", compact=True)
                yield Static("", classes="field-error", id="alpha-error")
                yield Static("", id="formula")
            else:
                with Horizontal(classes="row"):
                    yield Label("rate")
                    yield Input(f"{self.original.rate:g}", id="rate", compact=True)
                yield Static("", classes="field-error", id="rate-error")
                yield Static(DROPOUT_HELP, id="formula")
            yield Static("", classes="field-error", id="form-error")
            with Horizontal(id="buttons"):
                yield Button("OK", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        if isinstance(self.original, DenseLayer):
            options = self.query_one("#activation", OptionList)
            options.highlighted = ACTIVATIONS.index(self.original.activation)
            self.query_one("#units", Input).focus()
        else:
            self.query_one("#rate", Input).focus()
        self._validate()

    # -- state ------------------------------------------------------------------------------------

    @property
    def activation(self) -> str:
        """The highlighted activation: highlighting one chooses it."""
        options = self.query_one("#activation", OptionList)
        if options.highlighted is None:
            return self.original.activation  # type: ignore[union-attr]
        return ACTIVATIONS[options.highlighted]

    def _raw(self) -> dict:
        def value(id_: str):
            text = self.query_one(f"#{id_}", Input).value.strip()
            for kind in (int, float):
                try:
                    return kind(text)
                except ValueError:
                    pass
            return text

        if isinstance(self.original, DenseLayer):
            raw = {"type": "dense", "units": value("units"), "activation": self.activation}
            # Only the parameter the chosen activation uses is checked; the other keeps its old value.
            raw["negative_slope"] = value("negative_slope") if self.activation == "leaky_relu" else self.original.negative_slope
            raw["alpha"] = value("alpha") if self.activation == "elu" else self.original.alpha
            return raw
        return {"type": "dropout", "rate": value("rate")}

    def _validate(self) -> Optional[LayerSpec]:
        """Validate the form, mark invalid fields, refresh the formula; the layer or None."""
        model = DenseLayer if self.is_dense else DropoutLayer
        errors: dict[str, str] = {}
        result: Optional[LayerSpec] = None
        try:
            result = model.model_validate(self._raw())
        except ValidationError as exc:
            for err in exc.errors():
                errors.setdefault(_field_path(tuple(err.get("loc", ()))) or "form", _one_line(err))
        fields = ("units", "negative_slope", "alpha") if self.is_dense else ("rate",)
        for name in fields:
            self.query_one(f"#{name}", Input).set_class(name in errors, "-invalid")
            error = self.query_one(f"#{name}-error", Static)
            error.update(f"↳ {errors[name]}" if name in errors else "")
            error.display = name in errors
        other = [f"{k}: {v}" for k, v in errors.items() if k not in fields]
        form_error = self.query_one("#form-error", Static)
        form_error.update("; ".join(other))
        form_error.display = bool(other)
        if self.is_dense:
            act = self.activation
            self.query_one("#slope-row").display = act == "leaky_relu"
            self.query_one("#alpha-row").display = act == "elu"
            if act != "leaky_relu":
                self.query_one("#negative_slope-error").display = False
            if act != "elu":
                self.query_one("#alpha-error").display = False
            slope = result.negative_slope if result is not None else self.original.negative_slope  # type: ignore[union-attr]
            alpha = result.alpha if result is not None else self.original.alpha  # type: ignore[union-attr]
            if "negative_slope" not in errors and act == "leaky_relu":
                try:
                    slope = float(self.query_one("#negative_slope", Input).value)
                except ValueError:
                    pass
            formula = activation_formula(act, negative_slope=slope, alpha=alpha)
            self.query_one("#formula", Static).update(
                f"[b]{act}[/b]: {formula}\n{ACTIVATION_HELP[act].note}"
            )
            self.query_one("#activation-plot").show(act, negative_slope=slope, alpha=alpha)
        return result

    # -- events -----------------------------------------------------------------------------------

    @on(Input.Changed)
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
