"""Keys and focus in the app: a train key that works from any field, keys that don't type into fields."""

from __future__ import annotations

import asyncio

from textual.widgets import Button, Footer, Input

from tui_trainer.spec import load_preset_file
from tui_trainer.ui.app import TrainerApp

from ..conftest import tiny_preset_toml


def _app(tmp_path, blobs_csv, **kw):
    p = tmp_path / "p.toml"
    p.write_text(tiny_preset_toml(blobs_csv, **kw))
    return TrainerApp(load_preset_file(p), None, tmp_path / "runs")


def _learning_rate(app) -> Input:
    return app.builder.query_one("#f-training-learning-rate", Input)


def _footer_keys(app) -> list[str]:
    """The key labels the footer shows now."""
    return [str(k.key_display) for k in app.screen.query_one(Footer).query("FooterKey")]


def test_ctrl_t_trains_from_a_field_and_leaves_its_value(tmp_path, blobs_csv):
    async def main():
        app = _app(tmp_path, blobs_csv, epochs=2)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            lr = _learning_rate(app)
            before = lr.value
            lr.focus()
            await pilot.pause()
            assert str(app.builder.query_one("#train", Button).label) == "Train (ctrl+t)"
            await pilot.press("ctrl+t")
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            assert _learning_rate(app).value == before  # no "t" typed into it
            (run_dir,) = (tmp_path / "runs").iterdir()
            assert (run_dir / "summary.json").exists()
            assert app.screen.id == "monitor"
    asyncio.run(main())


def test_t_in_a_field_types_and_the_footer_names_ctrl_t(tmp_path, blobs_csv):
    async def main():
        app = _app(tmp_path, blobs_csv, epochs=2)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            assert str(app.builder.query_one("#train", Button).label) == "Train (t)"
            assert "t" in _footer_keys(app) and "^t" not in _footer_keys(app)
            _learning_rate(app).focus()
            await pilot.pause()
            keys = _footer_keys(app)
            assert "^t" in keys and "t" not in keys, keys
            await pilot.press("t")
            await pilot.pause()
            assert not app.training and not (tmp_path / "runs").exists()
    asyncio.run(main())


def _add_a_layer(app):
    from tui_trainer.ui.widgets.layers import LayerTable

    table = app.builder.query_one(LayerTable)
    table.focus()
    return table


def test_q_with_unsaved_changes_asks_and_cancel_keeps_the_app(tmp_path, blobs_csv):
    from tui_trainer.ui.screens.preset_dialogs import QuitConfirmScreen

    async def main():
        app = _app(tmp_path, blobs_csv)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            table = _add_a_layer(app)
            await pilot.press("a")  # a copy of the selected layer: the model is now modified
            await pilot.pause()
            assert len(table.layer_specs) == 3 and app.builder.modified
            await pilot.press("q")
            await pilot.pause()
            assert isinstance(app.screen, QuitConfirmScreen)
            assert "unsaved changes" in str(app.screen.query_one("Static").render())
            await pilot.press("escape")  # Cancel
            await pilot.pause()
            assert app.is_running and app.screen is app.builder
            assert len(table.layer_specs) == 3  # the edit is kept
            await pilot.press("q")
            await pilot.pause()
            await pilot.click("#discard")
            await pilot.pause()
            assert app.return_code == 0  # exit() was called (it stays None while the app runs)
    asyncio.run(main())


def test_q_unmodified_quits_at_once(tmp_path, blobs_csv):
    async def main():
        app = _app(tmp_path, blobs_csv)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            await pilot.press("q")
            await pilot.pause()
            assert app.return_code == 0  # None had the app not called exit()
    asyncio.run(main())


def test_q_with_an_invalid_field_asks_without_offering_save(tmp_path, blobs_csv):
    from tui_trainer.ui.screens.preset_dialogs import QuitConfirmScreen

    async def main():
        app = _app(tmp_path, blobs_csv)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            _learning_rate(app).focus()
            await pilot.press("end", "x")  # "0.05x": invalid
            await pilot.pause()
            assert app.builder.current_preset() is None
            await pilot.press("escape")  # focus back to the layers, so q is a key, not text
            await pilot.pause()
            await pilot.press("q")
            await pilot.pause()
            assert isinstance(app.screen, QuitConfirmScreen)
            assert app.screen.query_one("#save").disabled
            await pilot.press("s")  # can't save invalid fields: nothing happens
            await pilot.pause()
            assert isinstance(app.screen, QuitConfirmScreen)
            await pilot.press("d")
            await pilot.pause()
            assert app.return_code == 0
    asyncio.run(main())


def test_saving_over_a_builtin_preset_asks_and_proposes_a_new_name(tmp_path, monkeypatch):
    from tui_trainer import presets
    from tui_trainer.ui.screens.preset_dialogs import SavePresetScreen

    monkeypatch.delenv("TUI_TRAINER_PRESETS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    mine = tmp_path / "config" / "tui-trainer" / "presets"

    async def main():
        digits, path = presets.load("digits")
        app = TrainerApp(digits, path, tmp_path / "runs")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            await pilot.press("ctrl+s")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, SavePresetScreen)
            assert dialog.query_one(Input).value == str(mine / "digits-2.toml")
            dialog.query_one(Input).value = "digits"  # the user insists on the built-in's name
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is dialog  # asked, not saved
            assert "built-in preset" in str(dialog.query_one("#error").render())
            assert not (mine / "digits.toml").exists()
            await pilot.press("escape")  # no yes: nothing written
            await pilot.pause()
            assert not (mine / "digits.toml").exists()
            assert presets.load("digits")[1] == path  # the built-in is still the one found

            await pilot.press("ctrl+s")
            await pilot.pause()
            app.screen.query_one(Input).value = "digits"
            await pilot.pause()
            await pilot.press("enter", "enter")  # asked, then the yes
            await pilot.pause()
            assert (mine / "digits.toml").is_file()
    asyncio.run(main())


def test_the_focused_field_is_marked(tmp_path, blobs_csv):
    async def main():
        app = _app(tmp_path, blobs_csv)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            lr = _learning_rate(app)
            other = app.builder.query_one("#f-training-epochs", Input)
            label = lr.parent.query_one("Label")
            plain_bg, plain_label = lr.styles.background, label.styles.color
            assert other.styles.background == plain_bg
            lr.focus()
            await pilot.pause()
            assert lr.styles.background != plain_bg  # tinted
            assert other.styles.background == plain_bg
            assert label.styles.color != plain_label and label.styles.text_style.reverse
    asyncio.run(main())


def _quit_and_pick_save(app, pilot):
    from tui_trainer.ui.screens.preset_dialogs import QuitConfirmScreen, SavePresetScreen

    async def go():
        table = _add_a_layer(app)
        await pilot.press("a")  # the model is now modified
        await pilot.pause()
        assert len(table.layer_specs) == 3
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, QuitConfirmScreen)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SavePresetScreen)
        return app.screen
    return go()


def test_quit_prompt_save_saves_then_quits(tmp_path, blobs_csv):
    from tui_trainer.spec import load_preset_file

    async def main():
        app = _app(tmp_path, blobs_csv)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            dialog = await _quit_and_pick_save(app, pilot)
            dialog.query_one(Input).value = str(tmp_path / "kept.toml")
            await pilot.press("enter")
            await pilot.pause(0.3)
            assert len(load_preset_file(tmp_path / "kept.toml").layers) == 3  # the edit is in the file
            assert app.return_code == 0  # and the app quit
    asyncio.run(main())


def test_quit_prompt_save_cancelled_stays_with_the_edits(tmp_path, blobs_csv):
    async def main():
        app = _app(tmp_path, blobs_csv)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            await _quit_and_pick_save(app, pilot)
            await pilot.press("escape")  # no file named: nothing saved
            await pilot.pause(0.3)
            assert app.is_running and app.return_code is None
            assert app.screen is app.builder and app.builder.modified
            assert "unsaved changes" in str(app.builder.query_one("#status").render())
    asyncio.run(main())


def test_quit_prompt_save_that_fails_stays(tmp_path, blobs_csv):
    async def main():
        app = _app(tmp_path, blobs_csv)
        (tmp_path / "file").write_text("not a folder")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            dialog = await _quit_and_pick_save(app, pilot)
            # A path whose folder is a file: the dialog itself may refuse it, or the write fails.
            dialog.query_one(Input).value = str(tmp_path / "file" / "x.toml")
            await pilot.press("enter")
            await pilot.pause(0.3)
            if app.screen is dialog:  # refused in the dialog: cancel it
                await pilot.press("escape")
                await pilot.pause(0.3)
            assert app.is_running and app.return_code is None
            assert app.builder.modified
    asyncio.run(main())


def test_tab_reaches_every_field_in_view_at_80x24(tmp_path, blobs_csv):
    """At 80x24 the EarlyStopping form starts below the fold: each field Tab reaches is scrolled into view."""
    async def main():
        app = _app(tmp_path, blobs_csv)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            forms = app.builder.query_one("#forms")
            _add_a_layer(app)
            await pilot.pause()
            seen = []
            for _ in range(40):
                await pilot.press("tab")
                await pilot.pause()
                focused = app.focused
                if focused is None or "form-field" not in focused.classes or focused.id in seen:
                    continue
                seen.append(focused.id)
                row = focused.parent
                assert forms.region.contains_region(row.region), (focused.id, row.region, forms.region)
                assert row.has_class("-focused")
            shown = [w.id for w in app.builder.query(".form-field") if w.parent.display]
            assert seen == shown  # every field shown, in order, among them the EarlyStopping ones
            assert "f-early-stopping-start-from-epoch" in seen
    asyncio.run(main())
