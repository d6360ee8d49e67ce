"""The builder at 80x24 and 120x40: SVG snapshots, and the keys a newcomer needs always in the footer.

Update after an intended change with:
PYTHONPATH=$PWD python -m pytest tests/ui/test_builder_snapshot.py --snapshot-update
(then look at the SVGs: ``rsvg-convert x.svg -o x.png``).
"""

from __future__ import annotations

import asyncio
import time

import pytest
from textual.widgets import Footer

from tui_trainer import presets
from tui_trainer.ui.app import TrainerApp


def make_app(tmp_path):
    digits, _ = presets.load("digits")
    return TrainerApp(digits, None, tmp_path / "runs")  # source None: the absolute path would differ between machines


async def forms_in(pilot, timeout_s: float = 20.0) -> None:
    """Wait until the builder's forms are mounted and shown (the app mounts them after its first frame)."""
    deadline = time.monotonic() + timeout_s
    while not pilot.app.builder._forms_ready:
        assert time.monotonic() < deadline, "the builder's forms never arrived"
        await pilot.pause(0.05)
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_builder_snapshot(snap_compare, tmp_path, size):
    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=forms_in)


def test_builder_snapshot_80x24_with_an_invalid_early_stopping_field(snap_compare, tmp_path):
    """Below the fold at 80x24: the focused EarlyStopping field is scrolled into view with its error line."""
    async def run_before(pilot):
        await forms_in(pilot)
        patience = pilot.app.builder.query_one("#f-early-stopping-patience")
        patience.focus()
        await pilot.pause()
        await pilot.press("end", "backspace", "-", "1")  # -1: invalid
        await pilot.pause(0.3)

    assert snap_compare(make_app(tmp_path), terminal_size=(80, 24), run_before=run_before)


def _visible_footer_keys(app) -> dict[str, str]:
    """Description -> key of the footer keys that are on the screen (not cut off at its right edge)."""
    footer = app.screen.query_one(Footer)
    keys = {}
    for key in footer.query("FooterKey"):
        region = key.region
        if region.width and footer.region.contains_region(region):
            keys[key.description] = key.key_display
    return keys


def test_footer_shows_train_runs_and_quit_at_80x24(tmp_path):
    async def main():
        app = make_app(tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await forms_in(pilot)
            keys = _visible_footer_keys(app)
            assert keys.get("Train") == "t" and keys.get("Runs") == "r" and keys.get("Quit") == "q", keys
            # in a field t, r and q type: the footer names the keys that work there, in sight
            app.builder.query_one("#f-training-epochs").focus()
            await pilot.pause()
            keys = _visible_footer_keys(app)
            assert keys.get("Train") == "^t" and keys.get("Quit") == "^q" and keys.get("Layers") == "esc", keys
            await pilot.press("escape")  # back to the layers: r shows the runs again
            await pilot.pause()
            assert _visible_footer_keys(app).get("Runs") == "r"
            app.builder.query_one("#f-training-epochs").focus()
            await pilot.pause()
            await pilot.press("ctrl+q")  # the key the footer named quits from the field (nothing unsaved)
            await pilot.pause()
            assert app.return_code == 0
            # the keys the footer has no room for are named on the screen
            hint = str(app.builder.query_one("#keys").render())
            assert "ctrl+p all keys" in hint and "ctrl+s save" in hint
    asyncio.run(main())


def test_layer_keys_cut_from_the_footer_at_80x24_are_in_the_palette(tmp_path):
    from textual.command import CommandPalette

    from tui_trainer.ui.widgets.layers import LayerTable

    async def main():
        app = make_app(tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await forms_in(pilot)
            assert "Delete" not in _visible_footer_keys(app)  # no room for it at 80 columns
            table = app.builder.query_one(LayerTable)
            assert len(table.layer_specs) == 2
            await pilot.press("ctrl+p")
            await pilot.pause(0.3)
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*"dropout")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await pilot.pause(0.3)
            assert app.screen is app.builder
            assert [layer.type for layer in table.layer_specs] == ["dense", "dropout", "dense"]
    asyncio.run(main())
