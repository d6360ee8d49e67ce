"""Opening a run from the workspace that is still being written: the monitor follows it, as `watch` does."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ...runlog import EVENTS, LogTail
from ...runs import liveness

FOLLOW_S = 0.5  # how often the opened run's log is read while it is written


def follow_live(app, run_dir: Path, seen: int) -> None:
    """Keep feeding ``app``'s monitor the events ``run_dir`` gets after the ``seen`` already replayed,
    until the run finishes or another run is shown (the app's run token moves on)."""
    app.run_worker(_follow(app, Path(run_dir), seen, app._run_token), group="workspace-follow", exclusive=True)


async def _follow(app, run_dir: Path, seen: int, token: int) -> None:
    tail = LogTail(run_dir / EVENTS)
    skip = seen
    app.monitor.state.live = True
    app.monitor.set_note("following: running")
    while token == app._run_token:
        events = tail.read()
        fresh, skip = events[skip:], max(0, skip - len(events))
        for event in fresh:
            app.handle_event(event)
        state = app.monitor.state
        alive = liveness(state, run_dir)
        if alive != "running":
            state.live = False
            app.monitor.set_note("recorded run" if alive == "finished" else f"following: {alive}")
            if alive == "finished":
                return
        await asyncio.sleep(FOLLOW_S)
