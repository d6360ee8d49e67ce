"""The builder's model pane: the layer table, its total, the keys that edit it and the selected layer's help."""

from __future__ import annotations

from typing import Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from ...spec import Preset
from ..widgets.layers import LayerTable, describe_layer
from .builder_data import DataView

KEYS_HINT = "enter edit · n add · K/J move · o open · ctrl+s save · ctrl+p all keys"
"""The keys the footer has no room for at 80 columns (it shows train, runs and quit first)."""


class ModelPane(Vertical):
    """The layers of the preset being built, with what the data tells of them.

    Args:
        preset: whose layers to show first.
        view: the data the preset names (for the input shape and the output-layer note).
    """

    DEFAULT_CSS = """
    ModelPane { height: auto; }
    ModelPane #total { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ModelPane #keys, ModelPane #layer-help, ModelPane #notes, ModelPane #layers-error { height: auto; padding: 0 1; }
    ModelPane #keys, ModelPane #layer-help { color: $text-muted; }
    ModelPane #notes { color: $warning; }
    ModelPane #layers-error { color: $error; }
    ModelPane LayerTable.-invalid { border-left: thick $error; }
    """

    def __init__(self, preset: Preset, view: DataView, **kwargs) -> None:
        super().__init__(**kwargs)
        self._preset = preset
        self._view = view

    def compose(self) -> ComposeResult:
        # The lines are composed with their text, not filled in on mount: what a widget gets after
        # the first layout waits for the next frame.
        table = LayerTable(self._preset.layers, input_shape=self._view.input_shape)
        yield table
        yield Static(id="layers-error")
        yield Static(Text(table.total_text(), style="bold"), id="total")
        yield Static(KEYS_HINT, id="keys")
        yield Static(id="notes")
        yield Static(id="layer-help")

    @property
    def table(self) -> LayerTable:
        return self.query_one(LayerTable)

    def show(self, view: DataView, layer_error: Optional[str]) -> None:
        """Redraw for the data ``view`` and mark the layers' error, if any."""
        table = self.table
        table.input_shape = view.input_shape
        table.set_class(layer_error is not None, "-invalid")
        box = self.query_one("#layers-error", Static)
        box.update(Text(f"✗ {layer_error}") if layer_error else "")
        box.display = layer_error is not None
        self.query_one("#total", Static).update(Text(table.total_text(), style="bold"))
        self._show_layer_help()
        notes = view.output_note(table.layer_specs)
        box = self.query_one("#notes", Static)
        box.update(Text(notes))
        box.display = bool(notes)

    def _show_layer_help(self) -> None:
        layer = self.table.selected_layer
        self.query_one("#layer-help", Static).update(describe_layer(layer) if layer is not None else "")

    @on(DataTable.RowHighlighted)
    def _on_row_highlighted(self) -> None:
        self._show_layer_help()
