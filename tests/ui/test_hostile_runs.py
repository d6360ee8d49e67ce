"""The app's runs screen over hostile run folders: malformed lines of every kind, an empty log, escape codes."""

from __future__ import annotations

import asyncio
import re

from tui_trainer import presets
from tui_trainer.ui.app import TrainerApp
from tui_trainer.ui.widgets.status import EarlyStopBanner

from ..unit.test_hostile_input import MALFORMED
from .conftest import RECORDINGS


def test_runs_screen_lists_and_opens_runs_with_malformed_lines(tmp_path):
    runs = tmp_path / "runs"
    bad = runs / "20260101-000100-bad"
    bad.mkdir(parents=True)
    lines = (RECORDINGS / "early_stopped.jsonl").read_text().splitlines(keepends=True)
    text = "".join(lines[:3]) + "".join(line + "\n" for line in MALFORMED.values()) + "".join(lines[3:])
    (bad / "events.jsonl").write_text(text.replace('"preset_name":"digits"', '"preset_name":"d\\u001b]0;t\\u0007x"'))
    empty = runs / "20260101-000000-empty"
    empty.mkdir()
    (empty / "events.jsonl").write_bytes(b"")
    markup = runs / "20260101-000050-[bold]x"  # Rich markup in a folder name and a preset name
    markup.mkdir()
    (markup / "events.jsonl").write_text((RECORDINGS / "completed.jsonl").read_text().replace(
        '"preset_name":"digits"', '"preset_name":"[/y] [bold]"'))

    async def main():
        digits, path = presets.load("digits")
        app = TrainerApp(digits, path, runs)
        async with app.run_test(size=(110, 30)) as pilot:
            await pilot.press("r")
            await pilot.pause(0.3)
            assert type(app.screen).__name__ == "RunsScreen"
            assert [i.id for i in app.screen.infos] == [bad.name, markup.name, empty.name]
            assert [i.status for i in app.screen.infos] == ["early_stopped", "completed", "empty"]
            await pilot.press("space", "space", "c")  # compare the two that ran
            await pilot.pause(0.3)
            assert type(app.screen).__name__ == "CompareScreen"
            await pilot.press("escape")
            await pilot.pause(0.2)
            await pilot.press("space", "c")  # and the empty one: a toast says why not
            await pilot.pause(0.2)
            assert type(app.screen).__name__ == "RunsScreen"
            await pilot.press("up", "up", "enter")  # the run with the malformed lines
            await pilot.pause(0.3)
            assert app.screen.id == "monitor"
            assert str(app.screen.query_one(EarlyStopBanner).render()).startswith("Early stopping at epoch 33")
            await pilot.press("r")
            await pilot.pause(0.3)
            await pilot.press("down", "enter")  # the run whose preset name is markup
            await pilot.pause(0.3)
            assert app.screen.id == "monitor"
            assert str(app.screen.query_one("#run-title").render()).startswith("[/y] [bold]  ·  ")

    asyncio.run(main())


def test_replay_draws_a_log_whose_last_epochs_are_broken(tmp_path):
    """The early-stopping facts name epochs 28 and 33; the epoch lines after 10 were broken (skipped)."""
    from tui_trainer.runlog import load_run
    from tui_trainer.ui.viewer import ReplayApp

    run = tmp_path / "run"
    run.mkdir()
    lines = (RECORDINGS / "early_stopped.jsonl").read_text().splitlines()
    broken = [re.sub(r'"epoch":(\d+)', r'"epoch":"\1"', line, count=1) if '"event":"epoch"' in line and i > 25
              else line for i, line in enumerate(lines)]
    (run / "events.jsonl").write_text("\n".join(broken) + "\n")
    loaded = load_run(run)
    assert loaded.warnings and all("epoch must be a whole number" in w for w in loaded.warnings)

    async def main():
        app = ReplayApp(loaded.dir, loaded.events, 0, loaded.warnings)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.3)
            await pilot.press("z")
            await pilot.pause(0.2)
            assert str(app.screen.query_one(EarlyStopBanner).render()).startswith("Early stopping at epoch 33")

    asyncio.run(main())
