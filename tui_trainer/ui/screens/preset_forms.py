"""The builder's data, training and EarlyStopping forms as one widget: :class:`PresetForms`.

The screen owns the preset and its validation; this widget owns the 18 fields' widgets: it makes
them, reads them (once per refresh, into the dict the screen validates), sets them, and shows the
errors the screen found. Which fields exist and how their text is read is in :mod:`builder_form`.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from rich.text import Text
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch

from ..widgets.layers import parse_number
from .builder_form import FIELDS, SECTIONS, FormField, data_field_shown, field_description, get_path, parse_size, put_path


def field_text(value: Any) -> str:
    """A preset value as a field shows it: ``28x28`` for a size, ``""`` for none, ``1e-05`` for small floats."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e-4 or value == 0 else repr(value)
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)  # image_size: 28x28
    return str(value)


def widget_value(widget: Widget, field: FormField) -> Any:
    """What a field's widget holds, as the preset takes it (text pydantic will name when it can't be read)."""
    if isinstance(widget, Select):
        return None if widget.is_blank() else widget.value
    if isinstance(widget, Switch):
        return widget.value
    assert isinstance(widget, Input)
    if field.kind == "text":
        return widget.value.strip() or None
    if field.kind == "size":
        return parse_size(widget.value)
    return parse_number(widget.value, field.kind)


def make_field_widget(field: FormField, value: Any, monitor_choices: Sequence[str]) -> Widget:
    """The widget of one field, showing ``value``; ``monitor_choices`` are the EarlyStopping monitor's options."""
    widget: Widget
    if field.kind == "select":
        options = field.options or tuple(monitor_choices)
        widget = Select([(o, o) for o in options], value=value, allow_blank=False, compact=True, id=field.id)
    elif field.kind == "switch":
        widget = Switch(bool(value), id=field.id)
    else:
        placeholder = "(none)" if field.kind == "text" else ""
        widget = Input(field_text(value), compact=True, id=field.id, placeholder=placeholder)
    widget.add_class("form-field")
    widget.tooltip = field_description(field.path)
    return widget


class PresetForms(VerticalScroll, can_focus=False):
    """The data, training and EarlyStopping fields of a preset, one row each, with their errors.

    Args:
        values: the preset as a dict (``Preset.model_dump(mode="json")``): what the fields show first.
        monitor_choices: what EarlyStopping can watch (depends on the preset's metrics).
        defer: leave the fields out until :meth:`mount_fields` (after the app's first frame: the 18
            fields are 80 widgets, and styling them took half of the time to the first frame).
    """

    DEFAULT_CSS = """
    PresetForms { height: 1fr; min-height: 4; padding: 0 1; }
    PresetForms .section { height: 1; text-style: bold; color: $accent; }
    PresetForms .section.-invalid { color: $error; }
    PresetForms .form-row { height: 1; }
    PresetForms .form-row > Label { width: 24; }
    PresetForms .form-row > Input, PresetForms .form-row > Select { width: 1fr; }
    PresetForms .form-row > Switch { border: none; height: 1; padding: 0; width: auto; }
    PresetForms .form-row > Switch.-invalid, PresetForms .form-row > Select.-invalid {
        background-tint: $error 30%;
    }
    PresetForms .field-error { color: $error; height: auto; padding: 0 0 0 24; }
    """

    def __init__(self, values: Mapping[str, Any], monitor_choices: Sequence[str], *, defer: bool = False,
                 **kwargs) -> None:
        self._values = values
        self._choices = list(monitor_choices)
        super().__init__(*([] if defer else self._field_widgets()), **kwargs)
        self.ready = not defer
        """Whether the fields are mounted (with ``defer``, only after :meth:`mount_fields`)."""
        self._mounting = False

    def _field_widgets(self) -> list[Widget]:
        # Made as the first refresh will show them (the rows the data set reads, no error lines), so the
        # frame between mounting and that refresh doesn't flash empty rows.
        widgets: list[Widget] = []
        dataset = get_path(self._values, "data.dataset")
        for section, fields in SECTIONS.items():
            widgets.append(Static(section, classes="section", id=f"section-{section.lower()}"))
            for field in fields:
                widget = make_field_widget(field, get_path(self._values, field.path), self._choices)
                row = Horizontal(Label(field.label), widget, classes="form-row", id="r" + field.id[1:])
                row.display = data_field_shown(field.path, dataset)
                error = Static("", classes="field-error", id="e" + field.id[1:])
                error.display = False
                widgets += [row, error]
        return widgets

    async def mount_fields(self) -> bool:
        """Mount the fields ``defer`` left out; ``False`` when they are already in (or on their way)."""
        if self.ready or self._mounting:
            return False
        self._mounting = True
        await self.mount_all(self._field_widgets())
        self.ready = True
        return True

    def read_into(self, raw: dict[str, Any]) -> None:
        """Put every field's value into ``raw`` (a preset dict): each widget is read once."""
        if not self.ready:
            return
        for field in FIELDS.values():
            put_path(raw, field.path, widget_value(self.query_one("#" + field.id), field))

    def set_values(self, values: Mapping[str, Any], monitor_choices: Sequence[str]) -> None:
        """Show another preset's values (``values`` as in the constructor)."""
        self._values = values
        self._choices = list(monitor_choices)
        if not self.ready:
            return  # mount_fields makes them with these values
        monitor = self.query_one("#" + FIELDS["early_stopping.monitor"].id, Select)
        monitor.set_options([(o, o) for o in self._choices])
        for field in FIELDS.values():
            value = get_path(values, field.path)
            widget = self.query_one("#" + field.id)
            if isinstance(widget, Select):
                widget.value = value
            elif isinstance(widget, Switch):
                widget.value = bool(value)
            elif isinstance(widget, Input):
                widget.value = field_text(value)

    def show(self, errors: Mapping[str, str], dataset: Any) -> None:
        """Mark the invalid fields with their messages and show the data fields ``dataset`` reads."""
        if not self.ready:
            return
        for field in SECTIONS["Data"]:
            # an invalid field stays in sight even where this data set ignores it, so it can be fixed
            shown = data_field_shown(field.path, dataset) or field.path in errors
            self.query_one("#r" + field.id[1:]).display = shown
        for section, fields in SECTIONS.items():
            bad = [f for f in fields if f.path in errors]
            title = self.query_one(f"#section-{section.lower()}", Static)
            title.set_class(bool(bad), "-invalid")
            title.update(f"{section}  ✗ {len(bad)} to fix" if bad else section)
            for field in fields:
                invalid = field.path in errors
                self.query_one("#" + field.id).set_class(invalid, "-invalid")
                error = self.query_one("#e" + field.id[1:], Static)
                error.update(Text(f"↳ {errors[field.path]}") if invalid else "")
                error.display = invalid
        focused = self.screen.focused
        if focused is not None and focused.parent is not None and focused.parent.has_class("form-row"):
            # an error line that just appeared under the field being typed into is brought into view
            self.call_after_refresh(self._bring_into_view, focused.parent)

    def mark_focused(self, focused: Optional[Widget]) -> None:
        """Mark the row of the focused field (its label shows where Tab went; app.tcss) and bring the
        row with its error line into view: at 80x24 the EarlyStopping form starts below the fold."""
        for row in self.query(".form-row"):
            here = focused is not None and focused.parent is row
            row.set_class(here, "-focused")
            if here:
                self._bring_into_view(row)

    def _bring_into_view(self, row: Widget) -> None:
        error = self.query_one("#e" + str(row.id)[1:])
        if error.display:
            self.scroll_to_widget(error, animate=False)
        self.scroll_to_widget(row, animate=False)  # the field itself wins when both don't fit
