"""The model builder: layers, data, training and EarlyStopping settings of one preset.

Every edit re-validates the whole preset with pydantic; an invalid value is
marked at its field and :meth:`BuilderScreen.current_preset` is ``None`` until it
is fixed. Nothing here imports TensorFlow: output shapes and parameter counts
come from the spec, and the shape of a user's npz/csv file is read in a thread
worker; once the input shape is known, a layer that can't take its input is
marked like any other invalid field.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Optional

from pydantic import ValidationError
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static, Switch

from ... import presets
from ...layers import Shape
from ...spec import DataSpec, Preset, SpecError, check_shapes, parse_preset, save_preset_file, validate
from ..widgets.layers import LayerTable, describe_layer, parse_number
from .builder_form import (
    FIELDS,
    SECTIONS,
    FormField,
    data_field_shown,
    field_description,
    get_path,
    monitor_options,
    parse_size,
    put_path,
)
from .builder_data import DataView, Probe
from .preset_dialogs import OpenPresetScreen, SavePresetScreen, resolve_save_path, suggest_save_path

PROBE_DELAY_S = 0.4  # wait for the user to stop typing a path before reading the file


class BuilderScreen(Screen):
    """Build a model layer by layer and set data, training and EarlyStopping options.

    Args:
        preset: what to show first.
        source: the file it came from, if any.
        defer_forms: leave the forms empty until :meth:`mount_forms` is called (after the app's first frame).
    """

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    AUTO_FOCUS = "LayerTable"

    DEFAULT_CSS = """
    BuilderScreen #title, BuilderScreen #info, BuilderScreen #total {
        height: 1;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    BuilderScreen #info { color: $text-muted; }
    BuilderScreen #body { height: 1fr; }
    BuilderScreen #model-pane { height: auto; }
    BuilderScreen #layer-help, BuilderScreen #notes, BuilderScreen #layers-error {
        height: auto;
        padding: 0 1;
    }
    BuilderScreen #layer-help { color: $text-muted; }
    BuilderScreen #notes { color: $warning; }
    BuilderScreen #forms { height: 1fr; min-height: 4; padding: 0 1; }
    BuilderScreen.-narrow #forms { border-top: solid $panel; }
    BuilderScreen.-narrow.-short LayerTable { max-height: 7; }
    BuilderScreen.-wide #body { layout: horizontal; }
    BuilderScreen.-wide LayerTable { max-height: 70%; }
    BuilderScreen.-wide #model-pane { width: 1fr; height: 1fr; }
    BuilderScreen.-wide #forms { width: 1fr; max-width: 80; border-left: solid $panel; }
    BuilderScreen .section { height: 1; text-style: bold; color: $accent; margin: 0 0 0 0; }
    BuilderScreen .section.-invalid { color: $error; }
    BuilderScreen .form-row { height: 1; }
    BuilderScreen .form-row > Label { width: 24; }
    BuilderScreen .form-row > Input, BuilderScreen .form-row > Select { width: 1fr; }
    BuilderScreen .form-row > Switch { border: none; height: 1; padding: 0; width: auto; }
    BuilderScreen .form-row > Switch.-invalid, BuilderScreen .form-row > Select.-invalid {
        background-tint: $error 30%;
    }
    BuilderScreen .field-error { color: $error; height: auto; padding: 0 0 0 24; }
    BuilderScreen #layers-error { color: $error; }
    BuilderScreen LayerTable.-invalid { border-left: thick $error; }
    BuilderScreen #statusbar { height: 1; }
    BuilderScreen #status { width: 1fr; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    BuilderScreen #status.-invalid { color: $error; text-style: bold; }
    BuilderScreen #status.-valid { color: $success; }
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", tooltip="Save as a preset file"),
        Binding("o", "open", "Open", tooltip="Open a preset by name or path", show=False),  # named on the total line
        Binding("escape", "focus_layers", "Layers", show=False),
    ]

    class _PresetMessage(Message):
        """A message about the screen's preset; ``control`` is the screen, for ``@on`` selectors."""

        def __init__(self, screen: "BuilderScreen", preset: Optional[Preset]) -> None:
            super().__init__()
            self.screen = screen
            self.preset = preset

        @property
        def control(self) -> "BuilderScreen":
            return self.screen

    class Changed(_PresetMessage):
        """The preset changed: ``preset`` is the valid preset, or ``None`` while a field is invalid."""

    class TrainRequested(_PresetMessage):
        """The user pressed the Train button with a valid preset."""

    class _InputProbed(Message):
        """A data file was read in the worker: its input shape, or why it can't be read."""

        def __init__(self, key: tuple, shape: Optional[Shape], classes: Optional[int], error: Optional[str]) -> None:
            super().__init__()
            self.key = key
            self.shape = shape
            self.classes = classes
            self.error = error

    def __init__(self, preset: Preset, source: Optional[Path] = None, *, defer_forms: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        # The app's first frame shows the model and its parameter count; the forms follow (mount_forms).
        self._defer_forms = defer_forms
        self._loaded = preset  # as loaded or last saved, to tell whether there are unsaved edits
        self._source = Path(source) if source else None
        self._base: dict[str, Any] = preset.model_dump(mode="json")  # fields without a widget live here
        self._preset: Optional[Preset] = preset
        self.errors: dict[str, str] = {}
        """Invalid fields: field path (``training.epochs``, ``layers``) -> one-line message."""
        self._posted: Any = object()  # the last preset posted in Changed
        # probe key -> (input shape, number of classes, error) of the user's file
        self._probes: dict[tuple, Probe] = {}
        self._probe_timer: Optional[Timer] = None

    # -- public API -------------------------------------------------------------------------------

    @property
    def source(self) -> Optional[Path]:
        """The file the preset was loaded from or last saved to."""
        return self._source

    def current_preset(self) -> Optional[Preset]:
        """The preset as edited, or ``None`` while any field is invalid."""
        return None if self.errors else self._preset

    def first_error(self) -> Optional[str]:
        """``training.epochs: Input should be greater than 0 (got 0)``, or ``None`` if all is valid."""
        if not self.errors:
            return None
        field, message = next(iter(self.errors.items()))
        # model-level messages already name their field ("data.path is required when ...")
        return message if message.startswith(field) else f"{field}: {message}"

    def load_preset(self, preset: Preset, source: Optional[Path] = None) -> None:
        """Show another preset, replacing everything on the screen."""
        self._loaded = preset
        self._source = Path(source) if source else None
        self._base = preset.model_dump(mode="json")
        self._preset = preset
        if not self.is_mounted:
            return
        with self.app.batch_update():
            table = self.query_one(LayerTable)
            table.set_layers(preset.layers, cursor=0, post=False)
            if self._forms_ready:
                monitor = self.query_one("#" + FIELDS["early_stopping.monitor"].id, Select)
                opts = monitor_options(list(preset.training.metrics), preset.early_stopping.monitor)
                monitor.set_options([(o, o) for o in opts])
                for field in FIELDS.values():
                    self._set_widget(field, get_path(self._base, field.path))
            self._refresh()

    # -- layout -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The lines are composed with their text, not filled in on mount: what a widget gets after
        # the first layout waits for the next frame.
        preset = self._loaded
        view = self._data()
        table = LayerTable(preset.layers, input_shape=view.input_shape)
        yield Header()
        yield Static(self._title_text(), id="title")
        yield Static(Text(view.info_text(self._layer_specs())), id="info")
        with Vertical(id="body"):
            with Vertical(id="model-pane"):
                yield table
                yield Static(id="layers-error")
                yield Static(self._total_text(table), id="total")
                yield Static(id="notes")
                yield Static(id="layer-help")
            # With defer_forms, filled after the first frame (mount_forms): the 18 fields are 80 widgets,
            # and styling them took half of the time to the first frame.
            yield VerticalScroll(*([] if self._defer_forms else self._form_widgets()), id="forms", can_focus=False)
        self._forms_ready = not self._defer_forms
        with Horizontal(id="statusbar"):
            yield Static(id="status")
            yield Button("Train (t)", id="train", variant="success", compact=True)
        yield Footer()

    def _form_widgets(self) -> list[Widget]:
        """The data, training and EarlyStopping forms, with the values of the preset shown."""
        widgets: list[Widget] = []
        for section, fields in SECTIONS.items():
            widgets.append(Static(section, classes="section", id=f"section-{section.lower()}"))
            for field in fields:
                widget = self._make_widget(field, get_path(self._base, field.path))
                widgets.append(Horizontal(Label(field.label), widget, classes="form-row", id="r" + field.id[1:]))
                widgets.append(Static("", classes="field-error", id="e" + field.id[1:]))
        return widgets

    def mount_forms(self) -> None:
        """Fill in the forms that ``defer_forms`` left out (once; later calls do nothing): the app calls
        this after its first frame."""
        if self._forms_ready or self._forms_mounting or not self.is_mounted:
            return
        self._forms_mounting = True
        self.run_worker(self._mount_forms(), group="builder-forms")

    async def _mount_forms(self) -> None:
        await self.query_one("#forms", VerticalScroll).mount_all(self._form_widgets())
        self._forms_ready = True
        self._refresh()

    def _make_widget(self, field: FormField, value: Any) -> Widget:
        widget: Widget
        if field.kind == "select":
            options = field.options or tuple(
                monitor_options(list(self._loaded.training.metrics), self._loaded.early_stopping.monitor)
            )
            widget = Select([(o, o) for o in options], value=value, allow_blank=False, compact=True, id=field.id)
        elif field.kind == "switch":
            widget = Switch(bool(value), id=field.id)
        else:
            widget = Input(self._text(value), compact=True, id=field.id, placeholder="(none)" if field.kind == "text" else "")
        widget.add_class("form-field")
        widget.tooltip = field_description(field.path)
        return widget

    @staticmethod
    def _text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:g}" if abs(value) >= 1e-4 or value == 0 else repr(value)
        if isinstance(value, (list, tuple)):
            return "x".join(str(v) for v in value)  # image_size: 28x28
        return str(value)

    def _set_widget(self, field: FormField, value: Any) -> None:
        widget = self.query_one("#" + field.id)
        if isinstance(widget, Select):
            widget.value = value
        elif isinstance(widget, Switch):
            widget.value = bool(value)
        elif isinstance(widget, Input):
            widget.value = self._text(value)

    def _widget_value(self, field: FormField) -> Any:
        widget = self.query_one("#" + field.id)
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

    _refresh_pending = False
    _forms_ready = False
    _forms_mounting = False

    def on_mount(self) -> None:
        self._refresh()

    # -- validation -------------------------------------------------------------------------------

    def _raw(self) -> dict[str, Any]:
        """The preset as a dict, from the widgets, for pydantic to judge."""
        raw = copy.deepcopy(self._base)
        if self._forms_ready:
            for field in FIELDS.values():
                put_path(raw, field.path, self._widget_value(field))
        if self.is_mounted:
            raw["layers"] = [{"type": layer.type, **layer.model_dump(mode="json")} for layer in self._layer_specs()]
        return raw

    @staticmethod
    def _target(path: str) -> str:
        """The widget an error belongs to: its form field, the layer table, or the preset as a whole."""
        if path in FIELDS:
            return path
        if path.startswith("layers"):
            return "layers"
        return path or "preset"

    def _validate(self) -> None:
        preset, problems = validate(self._raw())
        if preset is not None:
            shape = self._data().input_shape
            if shape is not None:
                try:
                    check_shapes(preset, shape)
                except SpecError as exc:
                    problems = exc.errors
        errors: dict[str, str] = {}
        for problem in problems:
            target = self._target(problem.field)
            # a layer's error names its layer and field: "layers[3].kernel_size: ..."
            message = problem.line() if target == "layers" and problem.field != "layers" else problem.message
            errors.setdefault(target, message)
        self.errors = errors
        self._preset = preset if not errors else None

    def _refresh(self) -> None:
        """Validate, then redraw everything that depends on the preset."""
        self._validate()
        with self.app.batch_update():
            self._show_data_fields()
            self._show_errors()
            self._show_model()
            self._show_header()
        self._maybe_probe()
        current = self.current_preset()
        if current != self._posted:
            self._posted = current
            self.post_message(self.Changed(self, current))

    def _show_data_fields(self) -> None:
        if not self._forms_ready:
            return
        dataset = self._widget_value(FIELDS["data.dataset"])
        for field in SECTIONS["Data"]:
            # an invalid field stays in sight even where this data set ignores it, so it can be fixed
            shown = data_field_shown(field.path, dataset) or field.path in self.errors
            self.query_one("#r" + field.id[1:]).display = shown

    def _show_errors(self) -> None:
        for section, fields in SECTIONS.items() if self._forms_ready else ():
            bad = [f for f in fields if f.path in self.errors]
            title = self.query_one(f"#section-{section.lower()}", Static)
            title.set_class(bool(bad), "-invalid")
            title.update(f"{section}  ✗ {len(bad)} to fix" if bad else section)
            for field in fields:
                invalid = field.path in self.errors
                self.query_one("#" + field.id).set_class(invalid, "-invalid")
                error = self.query_one("#e" + field.id[1:], Static)
                error.update(Text(f"↳ {self.errors[field.path]}") if invalid else "")
                error.display = invalid
        layer_error = self.errors.get("layers")
        self.query_one(LayerTable).set_class(layer_error is not None, "-invalid")
        box = self.query_one("#layers-error", Static)
        box.update(Text(f"✗ {layer_error}") if layer_error else "")
        box.display = layer_error is not None
        status = self.query_one("#status", Static)
        status.set_class(bool(self.errors), "-invalid")
        status.set_class(not self.errors, "-valid")
        if self.errors:
            more = len(self.errors) - 1
            status.update(Text(f"✗ {self.first_error()}" + (f"  (+{more} more)" if more else "")))
        else:
            status.update(Text("✓ valid" + ("  · unsaved changes (ctrl+s saves)" if self.modified else "")))

    @property
    def modified(self) -> bool:
        """Whether the preset differs from the one loaded or last saved."""
        return self.current_preset() != self._loaded

    def _layer_specs(self) -> list:
        """The layers as edited (the preset's until the table is mounted)."""
        return self.query_one(LayerTable).layer_specs if self.is_mounted else list(self._loaded.layers)

    def _title_text(self) -> Text:
        name = get_path(self._raw(), "name")
        title = Text.assemble((name, "bold"), (" (modified)" if self.is_mounted and self.modified else "", "italic"))
        description = self._base.get("description") or ""
        if description:
            title.append(" — " + description, style="dim")
        return title

    def _show_header(self) -> None:
        self.query_one("#title", Static).update(self._title_text())
        self.query_one("#info", Static).update(Text(self._data().info_text(self._layer_specs())))

    # -- the data ---------------------------------------------------------------------------------

    def _data(self) -> DataView:
        """The data the preset (as edited) names, with what the registry or a read of the file tells of it."""
        return DataView.of(self._raw()["data"], self._probes)

    def _maybe_probe(self) -> None:
        key = self._data().key
        if key is None or key in self._probes:
            return
        if self._probe_timer is not None:
            self._probe_timer.stop()
        self._probe_timer = self.set_timer(PROBE_DELAY_S, self._start_probe)

    def _start_probe(self) -> None:
        view = self._data()
        key = view.key
        if key is None or key in self._probes:
            return
        try:
            spec = DataSpec.model_validate(view.data)
        except ValidationError:
            return
        self._probe(spec, key)

    @work(thread=True, exclusive=True, group="builder-probe", exit_on_error=False)
    def _probe(self, spec: DataSpec, key: tuple) -> None:
        # Deferred import: numpy and the readers are not needed for the first frame.
        from ...datasets import load_dataset

        try:
            dataset = load_dataset(spec)
        except Exception as exc:  # DataError, or anything a strange file raises: shown, never fatal
            self.post_message(self._InputProbed(key, None, None, str(exc)))
            return
        self.post_message(self._InputProbed(key, tuple(dataset.input_shape), dataset.num_classes, None))

    @on(_InputProbed)
    def _on_probed(self, message: _InputProbed) -> None:
        self._probes[message.key] = (message.shape, message.classes, message.error)
        if message.key == self._data().key:
            self._refresh()  # the shapes may now show that a layer doesn't fit

    # -- model pane -------------------------------------------------------------------------------

    def _show_model(self) -> None:
        table = self.query_one(LayerTable)
        view = self._data()
        table.input_shape = view.input_shape
        self.query_one("#total", Static).update(self._total_text(table))
        self._show_layer_help()
        notes = view.output_note(table.layer_specs)
        box = self.query_one("#notes", Static)
        box.update(Text(notes))
        box.display = bool(notes)

    @staticmethod
    def _total_text(table: LayerTable) -> Text:
        total = Text(table.total_text(), style="bold")
        total.append("   enter/e edit · n add layer · K/J move · o open", style="not bold dim")
        return total

    def _show_layer_help(self) -> None:
        table = self.query_one(LayerTable)
        layer = table.selected_layer
        self.query_one("#layer-help", Static).update(describe_layer(layer) if layer is not None else "")

    @on(DataTable.RowHighlighted)
    def _on_row_highlighted(self) -> None:
        self._show_layer_help()

    # -- events -----------------------------------------------------------------------------------

    @on(LayerTable.Changed)
    @on(Input.Changed, ".form-field")
    @on(Select.Changed, ".form-field")
    @on(Switch.Changed, ".form-field")
    def _on_edit(self) -> None:
        # Coalesced: mounting the form fires a Changed per field, and a paste fires several;
        # validating and redrawing once for all of them keeps the first frame fast.
        if not self._refresh_pending:
            self._refresh_pending = True
            self.call_later(self._coalesced_refresh)

    def _coalesced_refresh(self) -> None:
        self._refresh_pending = False
        self._refresh()

    @on(Input.Submitted, ".form-field")
    def _on_submitted(self) -> None:
        self.focus_next()

    def on_descendant_focus(self, event) -> None:
        self._label_train_key()

    def on_descendant_blur(self, event) -> None:
        self._label_train_key()

    def _label_train_key(self) -> None:
        """Name the key that trains from where focus is: a field takes `t` as text, ctrl+t works anywhere.

        Also marks the focused field's row (its label shows where Tab went; app.tcss).
        """
        focused = self.focused
        for row in self.query(".form-row"):
            row.set_class(focused is not None and focused.parent is row, "-focused")
        typing = isinstance(focused, Input)
        self.query_one("#train", Button).label = "Train (ctrl+t)" if typing else "Train (t)"

    @on(Button.Pressed, "#train")
    def _on_train(self) -> None:
        preset = self.current_preset()
        if preset is None:
            self.notify(f"Fix the marked fields first: {self.first_error()}", severity="error", title="Can't train yet")
            return
        self.post_message(self.TrainRequested(self, preset))

    def action_focus_layers(self) -> None:
        self.query_one(LayerTable).focus()

    # -- save and open ----------------------------------------------------------------------------

    def action_save(self) -> None:
        preset = self.current_preset()
        if preset is None:
            self.notify(f"Fix the marked fields before saving: {self.first_error()}", severity="error",
                        title="Can't save yet")
            return
        self.app.push_screen(SavePresetScreen(suggest_save_path(preset.name)), self._save_to)

    def _save_to(self, text: Optional[str]) -> None:
        preset = self.current_preset()
        if not text or preset is None:
            return
        path = resolve_save_path(text)
        name = path.stem
        try:
            if name != preset.name:
                # The file's name is the preset's name (`presets list`, run folders): keep them one.
                preset = parse_preset({**preset.model_dump(mode="json"), "name": name}, source=str(path))
            existed = path.exists()
            save_preset_file(preset, path)
        except SpecError as exc:
            self.notify(str(exc), severity="error", title="Not saved")
            return
        except OSError as exc:
            self.notify(f"{path}: {exc.strerror or exc}", severity="error", title="Not saved")
            return
        self._base["name"] = preset.name
        self._loaded = preset
        self._source = path
        self._refresh()
        self.notify(f"{'Replaced' if existed else 'Saved'} {path}", title=f"Preset '{preset.name}' saved")

    def action_open(self) -> None:
        self.app.push_screen(OpenPresetScreen(), self._open)

    def _open(self, ref: Optional[str]) -> None:
        if not ref:
            return
        try:
            preset, path = presets.load(ref)
        except SpecError as exc:
            self.notify(str(exc), severity="error", title="Can't open preset", timeout=8)
            return
        self.load_preset(preset, path)
        self.notify(f"{path}", title=f"Opened '{preset.name}'")
