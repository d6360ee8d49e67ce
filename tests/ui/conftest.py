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
