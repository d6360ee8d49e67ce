"""The app's edge: an error no handler caught is shown, logged and survived; the builder's edits are kept."""

from __future__ import annotations

import asyncio

import pytest

from tui_trainer import presets
from tui_trainer.ui.app import TrainerApp
from tui_trainer.ui.screens import preset_dialogs
from tui_trainer.ui.screens.builder import BuilderScreen
from tui_trainer.ui.widgets.layers import LayerTable


@pytest.fixture(autouse=True)
def _state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "tui-trainer"


def run(test, tmp_path):
    preset, path = presets.load("digits")

    async def main():
        app = TrainerApp(preset, path, runs_dir=tmp_path / "runs")
        app.RERAISE_IN_TESTS = False  # the errors here are the point
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.pause()
            await test(app, pilot)
            await pilot.press("q")
            await pilot.pause()
            if type(app.screen).__name__ == "QuitConfirmScreen":  # unsaved edits: q asks first
                await pilot.press("d")
                await pilot.pause()
        return app

    return asyncio.run(main())


def last_note(app) -> str:
    return list(app._notifications)[-1].message


def test_an_error_in_a_key_action_is_shown_logged_and_the_unsaved_model_kept(tmp_path, monkeypatch, _state):
    def broken_save(self):
        raise RuntimeError("injected failure")

    async def test(app, pilot):
        app.builder.query_one(LayerTable).focus()
        await pilot.press("a")  # an unsaved edit: a third layer
        await pilot.pause()
        monkeypatch.setattr(BuilderScreen, "action_save", broken_save)
        await pilot.press("ctrl+s")
        await pilot.pause()
        note = last_note(app)
        assert "RuntimeError: injected failure" in note
        assert f"Details in {_state / 'errors.log'}" in note
        assert f"Your unsaved model is kept in {_state / 'autosave'}" in note
        assert app.is_running and app.screen is app.builder
        monkeypatch.undo()
        await pilot.press("ctrl+s")  # the app still answers keys
        await pilot.pause()
        assert isinstance(app.screen, preset_dialogs.SavePresetScreen)
        await pilot.press("escape")

    app = run(test, tmp_path)
    assert app.return_code == 0
    assert "RuntimeError: injected failure" in (_state / "errors.log").read_text()
    (saved,) = (_state / "autosave").glob("builder-*.toml")
    kept, _ = presets.load(str(saved))
    assert len(kept.layers) == 3  # the edit, not the preset as loaded


def test_an_error_in_a_dialog_handler_leaves_the_dialog_answering(tmp_path, monkeypatch, _state):
    def broken_check(self, text):
        raise KeyError("injected in the dialog")

    async def test(app, pilot):
        await pilot.press("ctrl+s")
        await pilot.pause()
        monkeypatch.setattr(preset_dialogs.SavePresetScreen, "problem", broken_check)
        await pilot.press("enter")
        await pilot.pause()
        assert "KeyError: 'injected in the dialog'" in last_note(app)
        assert "unsaved model" not in last_note(app)  # nothing was edited: nothing to keep
        await pilot.press("escape")  # the dialog's own loop still runs
        await pilot.pause()
        assert app.screen is app.builder

    assert run(test, tmp_path).return_code == 0


def test_an_error_on_every_tick_is_notified_once_and_logged_each_time(tmp_path, _state):
    async def test(app, pilot):
        def failing_tick():
            raise ValueError("every tick")

        before = len(app._notifications)
        app.set_interval(0.02, failing_tick)
        await pilot.pause(0.3)
        notes = [n for n in list(app._notifications)[before:] if "every tick" in n.message]
        assert len(notes) == 1
        assert app.is_running

    run(test, tmp_path)
    assert (_state / "errors.log").read_text().count("ValueError: every tick") > 3


def test_under_run_test_a_caught_error_still_fails_the_test(tmp_path, monkeypatch):
    """Other UI tests keep seeing their handlers' bugs: the edge re-raises when the test's app closes."""
    monkeypatch.setattr(BuilderScreen, "action_save", lambda self: 1 / 0)
    preset, path = presets.load("digits")

    async def main():
        app = TrainerApp(preset, path, runs_dir=tmp_path / "runs")
        async with app.run_test() as pilot:
            await pilot.pause()
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.is_running  # survived, but the test hears of it

    with pytest.raises(ZeroDivisionError):
        asyncio.run(main())


def test_the_served_app_survives_the_same_keystrokes(tmp_path):
    """As ``serve`` runs it (textual-serve's web driver, no terminal): ctrl+s, ctrl+u, /, enter."""
    import os
    import subprocess
    import sys
    import time

    env = dict(os.environ, TEXTUAL_DRIVER="textual.drivers.web_driver:WebDriver", COLUMNS="100", ROWS="30",
               XDG_STATE_HOME=str(tmp_path / "state"))
    proc = subprocess.Popen([sys.executable, "-m", "tui_trainer", "ui", "--runs-dir", str(tmp_path / "runs")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=tmp_path)
    out = bytearray()

    def wait_for(text: bytes, timeout_s: float = 60) -> bool:
        deadline = time.monotonic() + timeout_s
        while text not in out and time.monotonic() < deadline and proc.poll() is None:
            chunk = proc.stdout.read(65536)
            if chunk:
                out.extend(chunk)
            else:
                time.sleep(0.05)
        return text in out

    def keys(data: bytes) -> None:  # one stdin packet of the web driver's protocol: type, size, payload
        proc.stdin.write(b"D" + len(data).to_bytes(4, "big") + data)
        proc.stdin.flush()

    try:
        os.set_blocking(proc.stdout.fileno(), False)
        assert wait_for(b"Total:"), bytes(out[-500:])
        keys(b"\x13")  # ctrl+s
        assert wait_for(b"Save preset as")
        keys(b"\x15")  # ctrl+u
        time.sleep(0.3)
        keys(b"/")
        time.sleep(0.3)
        keys(b"\r")
        assert wait_for(b"is a folder"), bytes(out[-2000:])
        assert proc.poll() is None  # still serving
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=30)
    assert b"Traceback" not in err, err.decode()[-2000:]
