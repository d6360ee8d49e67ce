"""The model builder as a learner uses it: keys on the layer table, the layer editor, forms, save and open."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from textual import events
from textual.app import App
from textual.widgets import Input, OptionList, Static

from tui_trainer import presets
from tui_trainer.spec import load_preset_file
from tui_trainer.ui.screens.builder import BuilderScreen
from tui_trainer.ui.screens.preset_dialogs import OpenPresetScreen, SavePresetScreen
from tui_trainer.ui.widgets.layers import ACTIVATION_HELP, LayerEditor, LayerTable

SIZE = (100, 40)


class BuilderApp(App):
    """The builder alone, recording what it posts."""

    def __init__(self, name: str = "digits") -> None:
        super().__init__()
        self.preset, self.source = presets.load(name)
        self.changed: list = []
        self.train_requests: list = []

    def on_mount(self) -> None:
        self.push_screen(BuilderScreen(self.preset, self.source))

    def on_builder_screen_changed(self, message: BuilderScreen.Changed) -> None:
        self.changed.append(message.preset)

    def on_builder_screen_train_requested(self, message: BuilderScreen.TrainRequested) -> None:
        self.train_requests.append(message.preset)


def run(test) -> None:
    """Run ``test(app, pilot)`` against a fresh builder (pytest-asyncio is not installed)."""

    async def main() -> None:
        app = BuilderApp()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await test(app, pilot)

    asyncio.run(main())


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def rows(app) -> list[list[str]]:
    table = app.screen.query_one(LayerTable)
    return [[str(cell).strip() for cell in table.get_row_at(i)] for i in range(table.row_count)]


def notifications(app) -> list:
    return list(app._notifications)


async def type_into(pilot, widget: Input, value: str) -> None:
    """Focus an input, clear it and type, as a user would; long text (paths) is pasted.

    Every key the pilot presses costs about 0.1 s, so a path typed key by key would
    take seconds; a terminal paste arrives as one event, as it does here.
    """
    widget.focus()
    await pilot.pause()
    await pilot.press("home", "ctrl+k")
    if len(value) > 6:
        widget.post_message(events.Paste(value))
    else:
        await pilot.press(*value)
    await pilot.pause()


def field(app, path: str) -> Input:
    return app.screen.query_one("#f-" + path.replace(".", "-").replace("_", "-"))


def field_error(app, path: str) -> Static:
    return app.screen.query_one("#e-" + path.replace(".", "-").replace("_", "-"), Static)


# --- the layer table ---------------------------------------------------------------------------


def test_table_lists_layers_with_parameter_counts():
    async def test(app, pilot):
        assert rows(app) == [
            ["1", "dense", "(None, 128)", "8,320", "128 relu"],
            ["2", "dense", "(None, 10)", "1,290", "10 softmax"],
        ]
        assert text(app, "#total").startswith("Total: 9,610 parameters")
        assert "input: 64 features (8x8 digits, flattened)" in text(app, "#info")
        assert text(app, "#title").startswith("digits")
        # the selected layer's activation is explained
        assert "max(0, x)" in text(app, "#layer-help")
        assert app.screen.current_preset() == app.preset
        assert app.changed and app.changed[-1] == app.preset

    run(test)


def test_add_delete_and_move_layers_update_the_total():
    async def test(app, pilot):
        await pilot.press("a")  # copy of the selected 128-relu layer, after it
        assert [[r[0], r[1], r[4]] for r in rows(app)] == [["1", "dense", "128 relu"], ["2", "dense", "128 relu"],
                                                           ["3", "dense", "10 softmax"]]
        assert rows(app)[1][3] == "16,512"  # 128*128 + 128
        assert text(app, "#total").startswith("Total: 26,122 parameters")
        assert len(app.screen.current_preset().layers) == 3

        await pilot.press("x")  # deletes the new (selected) layer
        assert len(rows(app)) == 2
        assert text(app, "#total").startswith("Total: 9,610 parameters")

        app.screen.query_one(LayerTable).move_cursor(row=0)
        await pilot.press("p")  # dropout 0.2 after the first layer
        assert [r[1] for r in rows(app)] == ["dense", "dropout", "dense"]
        assert rows(app)[1][2:] == ["(None, 128)", "0", "rate 0.2"]
        assert text(app, "#total").startswith("Total: 9,610 parameters")

        await pilot.press("K")  # move the dropout up: it now comes first
        assert [r[1] for r in rows(app)] == ["dropout", "dense", "dense"]
        assert [r[3] for r in rows(app)] == ["0", "8,320", "1,290"]
        assert app.screen.current_preset().layers[0].type == "dropout"
        await pilot.press("J", "J")  # down twice: dropout last, which is invalid
        assert [r[1] for r in rows(app)] == ["dense", "dense", "dropout"]
        assert app.screen.current_preset() is None
        assert "last layer must be a dense" in text(app, "#layers-error")
        assert app.screen.query_one(LayerTable).has_class("-invalid")
        await pilot.press("ctrl+up")
        assert [r[1] for r in rows(app)] == ["dense", "dropout", "dense"]
        assert app.screen.current_preset() is not None
        assert not app.screen.query_one("#layers-error").display

    run(test)


def test_the_last_layer_cannot_be_deleted():
    async def test(app, pilot):
        await pilot.press("x", "x")
        assert len(rows(app)) == 1
        await pilot.press("x")
        await pilot.pause()
        assert len(rows(app)) == 1
        assert any("at least one layer" in n.message for n in notifications(app))

    run(test)


def test_layers_added_on_the_output_layer_go_before_it():
    async def test(app, pilot):
        app.screen.query_one(LayerTable).move_cursor(row=1)
        await pilot.press("p")
        assert [r[1] for r in rows(app)] == ["dense", "dropout", "dense"]
        await pilot.press("x", "up", "x")  # down to the output layer alone
        assert [r[4] for r in rows(app)] == ["10 softmax"]
        await pilot.press("a")  # a hidden layer, not a second output
        assert [r[4] for r in rows(app)] == ["64 relu", "10 softmax"]
        assert app.screen.current_preset() is not None

    run(test)


# --- the layer editor --------------------------------------------------------------------------


def test_editing_units_in_the_modal_changes_the_count():
    async def test(app, pilot):
        await pilot.press("e")
        editor = app.screen
        assert isinstance(editor, LayerEditor)
        units = editor.query_one("#units", Input)
        assert units.has_focus
        await pilot.press("home", "ctrl+k", "3", "2", "enter")
        await pilot.pause()
        assert isinstance(app.screen, BuilderScreen)
        assert rows(app)[0][2:] == ["(None, 32)", "2,080", "32 relu"]  # 64*32 + 32
        assert rows(app)[1][3] == "330"  # 32*10 + 10
        assert text(app, "#total").startswith("Total: 2,410 parameters")
        assert app.screen.current_preset().layers[0].units == 32

    run(test)


def test_an_invalid_unit_count_is_refused_in_the_modal():
    async def test(app, pilot):
        await pilot.press("e", "home", "ctrl+k", "0", "enter")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, LayerEditor)  # still open
        assert editor.query_one("#units", Input).has_class("-invalid")
        assert "greater than 0" in str(editor.query_one("#units-error", Static).render())
        await pilot.press("escape")
        assert isinstance(app.screen, BuilderScreen)
        assert rows(app)[0][4] == "128 relu"

    run(test)


def test_choosing_leaky_relu_shows_its_formula_with_the_slope():
    async def test(app, pilot):
        await pilot.press("e", "tab")  # from units to the activation list
        editor = app.screen
        assert editor.query_one(OptionList).has_focus
        await pilot.press("down")  # relu -> leaky_relu
        formula = str(editor.query_one("#formula", Static).render())
        assert "leaky_relu" in formula and "max(0.01x, x)" in formula
        assert ACTIVATION_HELP["leaky_relu"].note in formula
        assert editor.query_one("#negative_slope-row").display
        assert not editor.query_one("#alpha-row").display
        await type_into(pilot, editor.query_one("#negative_slope", Input), "0.1")
        assert "max(0.1x, x)" in str(editor.query_one("#formula", Static).render())
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BuilderScreen)
        assert rows(app)[0][3:] == ["8,320", "128 leaky_relu slope 0.1"]
        assert "max(0.1x, x)" in text(app, "#layer-help")
        layer = app.screen.current_preset().layers[0]
        assert (layer.activation, layer.negative_slope) == ("leaky_relu", 0.1)

    run(test)


# --- forms and validation ----------------------------------------------------------------------


def test_an_invalid_field_is_marked_where_it_is_and_fixing_it_restores_the_preset():
    async def test(app, pilot):
        screen = app.screen
        epochs = field(app, "training.epochs")
        await type_into(pilot, epochs, "0")
        assert epochs.has_class("-invalid")
        error = field_error(app, "training.epochs")
        assert error.display and "greater than 0" in str(error.render())
        assert screen.current_preset() is None
        assert screen.errors == {"training.epochs": "Input should be greater than 0 (got 0)"}
        assert screen.first_error().startswith("training.epochs: ")
        assert "training.epochs" in text(app, "#status")
        assert app.changed[-1] is None

        split = field(app, "data.validation_split")
        await type_into(pilot, split, "1.5")
        assert split.has_class("-invalid")
        assert "less than 1" in str(field_error(app, "data.validation_split").render())
        assert "(+1 more)" in text(app, "#status")

        await type_into(pilot, epochs, "20")
        await type_into(pilot, split, "0.2")
        assert not epochs.has_class("-invalid") and not split.has_class("-invalid")
        assert not field_error(app, "training.epochs").display
        preset = screen.current_preset()
        assert preset is not None and preset.training.epochs == 20 and preset.data.validation_split == 0.2
        assert app.changed[-1] == preset
        assert "valid" in text(app, "#status")

    run(test)


def test_a_cross_field_error_is_marked_at_the_field_it_names():
    async def test(app, pilot):
        await type_into(pilot, field(app, "data.validation_split"), "0")
        # monitor 'val_loss' needs validation data: the message names early_stopping.monitor
        assert field(app, "early_stopping.monitor").has_class("-invalid")
        assert "needs validation data" in str(field_error(app, "early_stopping.monitor").render())
        assert app.screen.current_preset() is None
        field(app, "early_stopping.monitor").value = "loss"
        await pilot.pause()
        assert app.screen.current_preset().early_stopping.monitor == "loss"

    run(test)


def test_a_file_data_set_shows_unknown_then_the_files_width(blobs_csv):
    async def test(app, pilot):
        field(app, "data.dataset").value = "csv"
        await pilot.pause()
        assert "data.path" in app.screen.errors  # required for csv
        assert rows(app)[0][3] == "?"
        assert rows(app)[1][3] == "1,290"  # the output layer's count doesn't depend on the file
        assert "input: from file" in text(app, "#info")
        await type_into(pilot, field(app, "data.path"), str(blobs_csv))
        assert app.screen.current_preset() is not None
        for _ in range(50):  # the file is read in a worker
            await pilot.pause(0.05)
            if rows(app)[0][3] != "?":
                break
        assert rows(app)[0][3] == "896"  # 6*128 + 128
        assert "input: 6 features" in text(app, "#info")
        assert "3 classes" in text(app, "#info")
        assert "10 units" in text(app, "#notes")  # 10 output units for 3 classes is flagged

    run(test)


def test_train_button_posts_train_requested_only_when_valid():
    async def test(app, pilot):
        await pilot.click("#train")
        await pilot.pause()
        assert app.train_requests == [app.preset]
        await type_into(pilot, field(app, "training.batch_size"), "xoa")  # letters are text here, not keys
        assert isinstance(app.screen, BuilderScreen) and len(rows(app)) == 2
        await pilot.click("#train")
        await pilot.pause()
        assert len(app.train_requests) == 1
        assert any("training.batch_size" in n.message for n in notifications(app))

    run(test)


# --- save and open ------------------------------------------------------------------------------


def test_ctrl_s_saves_a_preset_that_reads_back_equal(tmp_path, monkeypatch):
    monkeypatch.setenv("TUI_TRAINER_PRESETS", str(tmp_path / "mine"))

    async def test(app, pilot):
        await pilot.press("a")  # an edit worth saving
        await pilot.press("ctrl+s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SavePresetScreen)
        # digits is built in: a new name is proposed, so enter does not hide the built-in (test_keys_focus.py)
        assert dialog.query_one(Input).value == str(tmp_path / "mine" / "digits-2.toml")
        await pilot.press("enter")
        await pilot.pause()
        path = tmp_path / "mine" / "digits-2.toml"
        assert path.is_file() and not (tmp_path / "mine" / "digits.toml").exists()
        assert load_preset_file(path) == app.screen.current_preset()
        assert any(str(path) in n.message for n in notifications(app))
        assert "unsaved" not in text(app, "#status")

        # a bare name goes to the user folder, and the preset takes the file's name
        await pilot.press("ctrl+s")
        await pilot.pause()
        await type_into(pilot, app.screen.query_one(Input), "deeper")
        await pilot.press("enter")
        await pilot.pause()
        saved = load_preset_file(tmp_path / "mine" / "deeper.toml")
        assert saved.name == "deeper" and saved == app.screen.current_preset()
        assert presets.load("deeper")[0] == saved

    run(test)


def test_opening_a_bad_preset_shows_the_error_and_keeps_the_model(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[training]\nepochs = 0\n[[layers]]\ntype = "dense"\nunits = 3\n')

    async def test(app, pilot):
        before = app.screen.current_preset()
        said = []
        for ref in (str(tmp_path / "missing.toml"), str(bad)):
            await pilot.press("o")
            await pilot.pause()
            assert isinstance(app.screen, OpenPresetScreen)
            await type_into(pilot, app.screen.query_one(Input), ref)
            await pilot.press("enter")
            await pilot.pause()
            # said at the field (issue 19): the dialog stays for a fix; esc goes back with the model kept
            assert isinstance(app.screen, OpenPresetScreen)
            said.append(str(app.screen.query_one("#error").render()))
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, BuilderScreen)
            assert app.screen.current_preset() == before
            assert len(rows(app)) == 2
        assert "no such preset file" in said[0]
        assert "training.epochs" in said[1]

    run(test)


def test_opening_a_preset_replaces_what_is_shown():
    async def test(app, pilot):
        await pilot.press("a")  # an unsaved edit that opening discards
        await pilot.press("o")
        await pilot.pause()
        await type_into(pilot, app.screen.query_one(Input), "fashion-mnist")
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        expected, path = presets.load("fashion-mnist")
        assert screen.current_preset() == expected
        assert screen.source == path
        assert len(rows(app)) == len(expected.layers)
        assert "784 features" in text(app, "#info")
        assert field(app, "data.dataset").value == "fashion_mnist"

    run(test)


def test_the_builder_imports_no_tensorflow_and_no_charts():
    code = "import sys, tui_trainer.ui.screens.builder\nprint(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    for heavy in ("tensorflow", "keras", "plotext", "textual_plotext"):
        assert heavy not in loaded, heavy


# --- convolutional layers ----------------------------------------------------------------------


def test_a_cnn_built_by_keys_with_the_shape_column_updating():
    async def test(app, pilot):
        table = app.screen.query_one(LayerTable)
        await pilot.press("v")  # conv2d after the first dense layer...
        await pilot.press("K")  # ...moved up to come first
        assert [r[1] for r in rows(app)] == ["conv2d", "dense", "dense"]
        assert rows(app)[0][4] == "32 3x3 relu"
        # digits are flattened to 64 features: the conv layer can't take a vector, and says how to fix it
        assert app.screen.current_preset() is None
        assert rows(app)[0][2] == "✗ doesn't fit"
        assert table.has_class("-invalid")
        error = text(app, "#layers-error")
        assert "layers[1]: conv2d needs an image" in error and "set data.flatten = false" in error

        field(app, "data.flatten").value = False  # 8x8x1 images, as the conv layer wants them
        await pilot.pause()
        assert "input: 8x8x1 digits (not flattened)" in text(app, "#info")
        assert rows(app)[0][2:4] == ["(None, 6, 6, 32)", "320"]  # 3*3*1*32 + 32
        assert "layers[2]: dense needs a vector but gets (None, 6, 6, 32)" in text(app, "#layers-error")

        table.move_cursor(row=0)
        await pilot.press("n")  # the kind picker lists every kind
        picker = app.screen
        options = picker.query_one(OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)][:4] == [
            "dense", "dropout", "conv2d", "max_pool2d"]
        for _ in range(options.option_count):
            if options.highlighted is not None and options.get_option_at_index(options.highlighted).id == "flatten":
                break
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BuilderScreen)
        assert [r[1:4] for r in rows(app)] == [
            ["conv2d", "(None, 6, 6, 32)", "320"],
            ["flatten", "(None, 1152)", "0"],
            ["dense", "(None, 128)", "147,584"],  # 1152*128 + 128
            ["dense", "(None, 10)", "1,290"],
        ]
        preset = app.screen.current_preset()
        assert preset is not None and preset.data.flatten is False
        assert not app.screen.query_one("#layers-error").display

        # the conv layer's editor has the kind's own fields; the shape column follows the edit
        table.move_cursor(row=0)
        await pilot.press("e")
        editor = app.screen
        assert isinstance(editor, LayerEditor)
        for name in ("filters", "kernel_size", "strides", "padding", "activation", "initializer", "l1", "l2"):
            assert editor.query_one(f"#{name}")
        await type_into(pilot, editor.query_one("#filters", Input), "8")
        await type_into(pilot, editor.query_one("#kernel_size", Input), "9")
        await pilot.press("enter")
        await pilot.pause()
        # a 9x9 kernel is a valid conv2d, but not on 8x8 images: marked at the layer, with the fix
        assert isinstance(app.screen, BuilderScreen)
        assert rows(app)[0][2] == "✗ doesn't fit"
        assert "layers[1].kernel_size: the 9x9 kernel is larger than its 8x8 input" in text(app, "#layers-error")
        assert app.screen.current_preset() is None
        await pilot.press("e")
        await type_into(pilot, app.screen.query_one("#kernel_size", Input), "5")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BuilderScreen)
        assert rows(app)[0][2:5] == ["(None, 4, 4, 8)", "208", "8 5x5 relu"]  # 5*5*1*8 + 8
        assert rows(app)[2][3] == "16,512"  # 128*128 + 128
        assert text(app, "#total").startswith("Total: 18,010 parameters")

    run(test)


def test_a_refresh_reads_each_field_once(monkeypatch):
    """Issue 21: the preset is read from the widgets once per refresh (it was 6 reads of all 18 fields)."""
    from textual.widgets import Input

    from tui_trainer.ui.screens import builder, preset_forms
    from tui_trainer.ui.screens.builder_form import FIELDS

    reads, refreshes = [], []
    real_value, real_refresh = preset_forms.widget_value, builder.BuilderScreen._refresh
    monkeypatch.setattr(preset_forms, "widget_value", lambda w, f: reads.append(f.path) or real_value(w, f))
    monkeypatch.setattr(builder.BuilderScreen, "_refresh", lambda self: refreshes.append(1) or real_refresh(self))

    async def test(app, pilot):
        reads.clear(), refreshes.clear()
        epochs = app.screen.query_one("#f-training-epochs", Input)
        epochs.focus()
        await pilot.press("end", "0")
        await pilot.pause(0.3)
        assert epochs.value == "500" and refreshes
        assert len(reads) == len(FIELDS) * len(refreshes) and len(set(reads)) == len(FIELDS)

    run(test)
