"""The palette's screenshot on a box without ~/Downloads (usual over SSH): saved, and the toast says where."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tui_trainer import presets
from tui_trainer.ui.app import TrainerApp


@pytest.fixture
def no_downloads(tmp_path, monkeypatch):
    """A home with no Downloads folder and no user-dirs.dirs naming one; the current folder ``cwd``."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return tmp_path


async def _screenshot_from_palette(app: TrainerApp) -> str:
    """Take a screenshot as a user does (ctrl+p, "Screenshot", enter); the toasts shown, joined."""
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Screenshot")
        await pilot.pause(0.3)
        await pilot.press("enter")
        for _ in range(100):  # the save runs in Textual's thread, then posts its toast
            await pilot.pause(0.05)
            toasts = " | ".join(str(n.message) for n in app._notifications)
            if "screenshot" in toasts.lower():
                break
        return toasts


def _svgs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.svg"))


def test_screenshot_goes_to_the_runs_folder_without_downloads(no_downloads):
    runs = no_downloads / "runs"
    runs.mkdir()
    spec, path = presets.load(None)
    toasts = asyncio.run(_screenshot_from_palette(TrainerApp(spec, path, runs)))
    saved = _svgs(runs)
    assert len(saved) == 1 and "<svg" in saved[0].read_text()
    assert "Saved screenshot to" in toasts and str(saved[0]) in toasts
    assert "Failed" not in toasts


def test_screenshot_goes_to_the_current_folder_when_the_runs_folder_is_missing(no_downloads):
    runs = no_downloads / "no-runs-yet"
    spec, path = presets.load(None)
    toasts = asyncio.run(_screenshot_from_palette(TrainerApp(spec, path, runs)))
    saved = _svgs(no_downloads / "cwd")
    assert len(saved) == 1 and str(saved[0]) in toasts
    assert not runs.exists()  # a screenshot makes no runs folder


def test_screenshot_still_goes_to_downloads_when_it_exists(no_downloads):
    downloads = no_downloads / "home" / "Downloads"
    downloads.mkdir()
    runs = no_downloads / "runs"
    runs.mkdir()
    spec, path = presets.load(None)
    toasts = asyncio.run(_screenshot_from_palette(TrainerApp(spec, path, runs)))
    assert len(_svgs(downloads)) == 1 and not _svgs(runs)
    assert str(_svgs(downloads)[0]) in toasts
