"""The save and open dialogs check what is typed at the field, and the app never dies on it."""

from __future__ import annotations

import asyncio
import os

import pytest

from tui_trainer import presets
from tui_trainer.ui.app import TrainerApp
from tui_trainer.ui.screens.preset_dialogs import (OpenPresetScreen, SavePresetScreen, open_problem,
                                                   resolve_save_path, save_path_problem)


@pytest.fixture(autouse=True)
def _state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def run(test, tmp_path):
    preset, path = presets.load("digits")

    async def main():
        app = TrainerApp(preset, path, runs_dir=tmp_path / "runs")
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.pause()
            await test(app, pilot)
        return app

    return asyncio.run(main())


def field_error(app) -> str:
    return str(app.screen.query_one("#error").render())


def test_ctrl_s_ctrl_u_slash_enter_says_it_is_a_folder_and_the_app_stays(tmp_path):
    async def test(app, pilot):
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("ctrl+u", "slash", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SavePresetScreen)  # still open, the text kept for fixing
        assert "/ is a folder: add a file name" in field_error(app)
        assert app.screen.query_one("#path").has_class("-invalid")
        await pilot.press("ctrl+u", "a", "enter")  # a bare name: saved in the user presets folder
        await pilot.pause()
        assert app.screen is app.builder

    app = run(test, tmp_path)
    assert app.return_code in (None, 0)
    assert (tmp_path / "user-presets" / "a.toml").is_file()


def test_open_refuses_a_folder_at_the_field(tmp_path):
    async def test(app, pilot):
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OpenPresetScreen)
        app.screen.query_one("#ref").value = str(tmp_path)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, OpenPresetScreen)
        assert "is a folder" in field_error(app)

    run(test, tmp_path)


@pytest.mark.parametrize("typed, said", [
    ("", "Give a file name"),
    ("/", "is a folder"),
    ("~", "is a folder"),
    ("sub/", "is a folder"),
    ("notes.txt", "is not a .toml file"),
    ("-bad", "can't be a preset's name"),
])
def test_save_paths_that_cannot_be_written_are_said(typed, said):
    assert said in save_path_problem(typed)


def test_save_refuses_links_folders_devices_and_a_file_as_folder(tmp_path):
    (tmp_path / "target.toml").write_text("x")
    os.symlink(tmp_path / "target.toml", tmp_path / "link.toml")
    (tmp_path / "dir.toml").mkdir()
    (tmp_path / "file").write_text("x")
    assert "symbolic link" in save_path_problem(str(tmp_path / "link.toml"))
    assert "is a folder" in save_path_problem(str(tmp_path / "dir.toml"))
    assert "is a file, not a folder" in save_path_problem(str(tmp_path / "file" / "p.toml"))
    assert save_path_problem(str(tmp_path / "new" / "ok.toml")) is None
    assert resolve_save_path("/") is not None  # never raises


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_save_refuses_a_folder_without_permission(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert "no permission to write in" in save_path_problem(str(locked / "p.toml"))


def test_open_problems(tmp_path):
    (tmp_path / "notes.txt").write_text("name = 'x'")
    (tmp_path / "real.toml").write_text("name = 'x'")
    os.symlink(tmp_path / "real.toml", tmp_path / "link.toml")
    assert "Give a preset's name" in open_problem("  ")
    assert "not a .toml file" in open_problem(str(tmp_path / "notes.txt"))
    assert "symbolic link" in open_problem(str(tmp_path / "link.toml"))
    assert "no such preset file" in open_problem(str(tmp_path / "missing.toml"))
    assert open_problem(str(tmp_path / "real.toml"))  # not a valid preset: said, not raised
    assert open_problem("digits") is None
