"""UI test helpers: run the app headless and feed it recorded events."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_trainer.runlog import iter_events

RECORDINGS = Path(__file__).parent.parent / "recordings"


def recorded(name: str):
    """The events of a recorded run (see tests/recordings/make_recordings.py)."""
    return list(iter_events(RECORDINGS / f"{name}.jsonl"))


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch):
    """A blinking cursor makes screenshots differ from run to run."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False, raising=False)


async def charts_shown(app, pilot, timeout_s: float = 20.0) -> None:
    """Wait until the monitor's charts are in: replay and watch add them after their first frame."""
    import time

    deadline = time.monotonic() + timeout_s
    while not app.monitor.charts_ready:
        assert time.monotonic() < deadline, "the monitor's charts never arrived"
        await pilot.pause(0.05)
    await pilot.pause()
