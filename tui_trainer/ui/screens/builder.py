"""The model builder: layers, data, training and EarlyStopping settings of one preset.

Every edit re-validates the whole preset with pydantic; an invalid value is
marked at its field and :meth:`BuilderScreen.current_preset` is ``None`` until it
is fixed. Nothing here imports TensorFlow: output shapes and parameter counts
come from the spec, and the shape of a user's npz/csv file is read in a thread
worker; once the input shape is known, a layer that can't take its input is
marked like any other invalid field.

The screen holds the preset and its validation; the layers are in :class:`ModelPane`, the data,
training and EarlyStopping fields in :class:`PresetForms`. Each refresh reads the fields once
(:meth:`BuilderScreen.read_raw`) and hands the result to everything that shows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Select, Static, Switch

from ... import presets
from ...spec import Preset, SpecError
from ...text import one_line
from ..widgets.layers import LayerTable
from .builder_commands import BuilderCommands
from .builder_form import judge, monitor_options
from .builder_probe import FileProber, FileRead
from .model_pane import ModelPane
from .preset_dialogs import OpenPresetScreen, SavePresetScreen, resolve_save_path, save_preset_as, suggest_save_path
from .preset_forms import PresetForms

MAIN_ACTIONS = ("train", "train_anywhere", "cancel", "show_monitor", "show_runs", "quit", "focus_layers")
"""The app's keys the footer shows first: at 80 columns the layer keys after them are cut, not these."""

# In a field `r` and `q` are text: the footer names the keys that still work there (both are bound
# already: ctrl+q by Textual's App, escape by this screen); these copies only show them.
TYPING_KEYS = (Binding("ctrl+q", "quit", "Quit", tooltip="Quit (asks first when there are unsaved edits)"),
               Binding("escape", "focus_layers", "Layers", tooltip="Back to the layers, where r shows the runs"))


def footer_order(bindings: dict[str, ActiveBinding], typing_in: Optional[Screen]) -> dict[str, ActiveBinding]:
    """``bindings`` with :data:`MAIN_ACTIONS` first; with ``typing_in`` (the screen, while a field has
    focus) also the :data:`TYPING_KEYS`."""
    for key in TYPING_KEYS if typing_in is not None else ():
        namespace = typing_in.app if key.action == "quit" else typing_in
        bindings[key.key] = ActiveBinding(namespace, key, True, key.tooltip)
    main = {k: b for k, b in bindings.items() if b.binding.action in MAIN_ACTIONS}
    main = dict(sorted(main.items(), key=lambda item: MAIN_ACTIONS.index(item[1].binding.action)))
    return {**main, **{k: b for k, b in bindings.items() if k not in main}}


def title_text(name: str, description: str, modified: bool) -> Text:
    """``digits (modified) — The lesson's recipe ...``."""
    title = Text.assemble((name, "bold"), (" (modified)" if modified else "", "italic"))
    if description:
        title.append(" — " + description, style="dim")
    return title


def _monitor_choices(preset: Preset) -> list[str]:
    return monitor_options(list(preset.training.metrics), preset.early_stopping.monitor)


class PresetMessage(Message):
    """A message about the builder's preset; ``control`` is the screen, for ``@on`` selectors."""

    def __init__(self, screen: "BuilderScreen", preset: Optional[Preset]) -> None:
        super().__init__()
        self.screen = screen
        self.preset = preset

    @property
    def control(self) -> "BuilderScreen":
        return self.screen


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
    COMMANDS = {BuilderCommands}  # the layer and file keys by name in ctrl+p

    DEFAULT_CSS = """
    BuilderScreen #title, BuilderScreen #info {
        height: 1;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    BuilderScreen #info { color: $text-muted; }
    BuilderScreen #body { height: 1fr; }
    BuilderScreen.-narrow #forms { border-top: solid $panel; }
    BuilderScreen.-narrow.-short LayerTable { max-height: 7; }
    /* 24 rows: the layer's lesson text gets two lines, so the forms keep room under a deep model */
    BuilderScreen.-narrow.-short #layer-help { max-height: 2; text-overflow: ellipsis; }
    BuilderScreen.-wide #body { layout: horizontal; }
    BuilderScreen.-wide LayerTable { max-height: 70%; }
    BuilderScreen.-wide ModelPane { width: 1fr; height: 1fr; }
    BuilderScreen.-wide #forms { width: 1fr; max-width: 80; border-left: solid $panel; }
    BuilderScreen #statusbar { height: 1; }
    BuilderScreen #status { width: 1fr; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    BuilderScreen #status.-invalid { color: $error; text-style: bold; }
    BuilderScreen #status.-valid { color: $success; }
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", tooltip="Save as a preset file"),
        Binding("o", "open", "Open", tooltip="Open a preset by name or path", show=False),  # named on the keys line
        Binding("escape", "focus_layers", "Layers", show=False),
    ]

    class Changed(PresetMessage):
        """The preset changed: ``preset`` is the valid preset, or ``None`` while a field is invalid."""

    class TrainRequested(PresetMessage):
        """The user pressed the Train button with a valid preset."""

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
        self._prober = FileProber(self)  # reads the user's data file for its shape
        self._view = self._prober.view(self._base["data"])  # the data as of the last refresh
        self._refresh_pending = False

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

    @property
    def modified(self) -> bool:
        """Whether the preset differs from the one loaded or last saved."""
        return self.current_preset() != self._loaded

    def load_preset(self, preset: Preset, source: Optional[Path] = None) -> None:
        """Show another preset, replacing everything on the screen."""
        self._loaded = preset
        self._source = Path(source) if source else None
        self._base = preset.model_dump(mode="json")
        self._preset = preset
        if not self.is_mounted:
            return
        with self.app.batch_update():
            self.query_one(LayerTable).set_layers(preset.layers, cursor=0, post=False)
            self._forms.set_values(self._base, _monitor_choices(preset))
            self._refresh()

    def read_raw(self) -> dict[str, Any]:
        """The preset as edited, as a dict for pydantic to judge: each field's widget read once."""
        # One level of copying is enough: the forms only put values into the nested tables.
        raw = {key: dict(value) if isinstance(value, dict) else value for key, value in self._base.items()}
        if self.is_mounted:
            self._forms.read_into(raw)
            raw["layers"] = [{"type": layer.type, **layer.model_dump(mode="json")} for layer in self._layer_specs()]
        return raw


    # -- layout -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        view = self._view
        yield Header()
        yield Static(self._title_text(self._base), id="title")
        yield Static(Text(view.info_text(self._layer_specs())), id="info")
        with Vertical(id="body"):
            yield ModelPane(self._loaded, view)
            yield PresetForms(self._base, _monitor_choices(self._loaded), defer=self._defer_forms, id="forms")
        with Horizontal(id="statusbar"):
            yield Static(id="status")
            yield Button("Train (t)", id="train", variant="success", compact=True)
        yield Footer()

    @property
    def _forms(self) -> PresetForms:
        return self.query_one(PresetForms)

    @property
    def _forms_ready(self) -> bool:
        return self.is_mounted and self._forms.ready

    def mount_forms(self) -> None:
        """Fill in the forms that ``defer_forms`` left out (once; later calls do nothing): the app calls
        this after its first frame."""
        if self.is_mounted and not self._forms.ready:
            self.run_worker(self._mount_forms(), group="builder-forms")

    async def _mount_forms(self) -> None:
        if await self._forms.mount_fields():
            self._refresh()

    def on_mount(self) -> None:
        self._refresh()

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The keys as the footer shows them: the app's main keys first (train, runs, quit), so that a
        narrow terminal cuts the layer keys rather than these (all are listed under ctrl+p, Keys)."""
        return footer_order(super().active_bindings, self if isinstance(self.focused, Input) else None)

    # -- validation -------------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Read the fields, validate, then redraw everything that depends on the preset."""
        raw = self.read_raw()
        self._view = view = self._prober.view(raw["data"])
        self._preset, self.errors = judge(raw, view.input_shape)
        with self.app.batch_update():
            self._forms.show(self.errors, raw["data"]["dataset"])
            self.query_one(ModelPane).show(view, self.errors.get("layers"))
            self._show_status()
            self.query_one("#title", Static).update(self._title_text(raw))
            self.query_one("#info", Static).update(Text(view.info_text(self._layer_specs())))
        self._prober.schedule(view)
        current = self.current_preset()
        if current != self._posted:
            self._posted = current
            self.post_message(self.Changed(self, current))

    def _show_status(self) -> None:
        status = self.query_one("#status", Static)
        status.set_class(bool(self.errors), "-invalid")
        status.set_class(not self.errors, "-valid")
        if self.errors:
            more = len(self.errors) - 1
            status.update(Text(f"✗ {self.first_error()}" + (f"  (+{more} more)" if more else "")))
        else:
            status.update(Text("✓ valid" + ("  · unsaved changes (ctrl+s saves)" if self.modified else "")))

    def _layer_specs(self) -> list:
        """The layers as edited (the preset's until the table is mounted)."""
        return self.query_one(LayerTable).layer_specs if self.is_mounted else list(self._loaded.layers)

    def _title_text(self, raw: dict[str, Any]) -> Text:
        return title_text(raw["name"], self._base.get("description") or "", self.is_mounted and self.modified)

    @on(FileRead)
    def _on_file_read(self, message: FileRead) -> None:
        self._prober.keep(message)
        if message.key == self._view.key:
            self._refresh()  # the shapes may now show that a layer doesn't fit

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

    @on(events.DescendantFocus)
    @on(events.DescendantBlur)
    def _on_focus_moved(self) -> None:
        """Name the key that trains from where focus is (a field takes `t` as text, ctrl+t works
        anywhere), and show the focused field's row, its error line with it."""
        focused = self.focused
        self._forms.mark_focused(focused)
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

    def action_save(self, then: Optional[Callable[[bool], Any]] = None) -> None:
        """Ask where to save the preset, and save it; ``then(saved)`` is called once it is saved or not."""
        preset = self.current_preset()
        if preset is None:
            self.notify(f"Fix the marked fields before saving: {self.first_error()}", severity="error",
                        title="Can't save yet")
            if then is not None:
                then(False)
            return

        def done(text: Optional[str]) -> None:
            saved = self._save_to(text)
            if then is not None:
                then(saved)

        self.app.push_screen(SavePresetScreen(suggest_save_path(preset.name)), done)

    def _save_to(self, text: Optional[str]) -> bool:
        preset = self.current_preset()
        if not text or preset is None:
            return False
        try:
            preset, path, existed = save_preset_as(preset, text)
        except SpecError as exc:
            self.notify(str(exc), severity="error", title="Not saved")
            return False
        except OSError as exc:
            self.notify(f"{resolve_save_path(text)}: {exc.strerror or one_line(exc)}", severity="error",
                        title="Not saved")
            return False
        self._base["name"] = preset.name
        self._loaded = preset
        self._source = path
        self._refresh()
        self.notify(f"{'Replaced' if existed else 'Saved'} {path}", title=f"Preset '{preset.name}' saved")
        return True

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
