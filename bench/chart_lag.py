"""Benchmark: how many epochs the epoch chart trails the header in `watch` while a run is written.

Not a test (it measures this machine). A writer thread appends a recorded run's events to a run
folder's events.jsonl as a live fit would (a batch chunk and an epoch every 0.25 s: two epochs a second); a
WatchApp (headless, 120x40) follows it. Every 0.2 s it samples the epochs the header knows and the
newest epoch the loss chart has drawn. ``--burn`` adds a thread that holds the GIL like a
training thread in the same process (a notebook's fit, ``serve``).

    python bench/chart_lag.py [--burn]
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from tui_trainer.runlog import now_iso

RECORDING = Path(__file__).resolve().parents[1] / "tests" / "recordings" / "early_stopped.jsonl"


def write_run(run_dir: Path, stop: threading.Event) -> None:
    """Append the recording's lines to run_dir/events.jsonl at a live fit's pace, as this process."""
    lines = RECORDING.read_text().splitlines()
    with open(run_dir / "events.jsonl", "w") as out:
        for line in lines:
            if stop.is_set():
                return
            event = json.loads(line)
            if event["event"] == "run_started":  # this process writes it: `watch` sees it alive
                event.update(host=socket.gethostname(), pid=os.getpid(), started_at=now_iso())
            if event["event"] == "run_finished":
                return  # stay running: the live path
            out.write(json.dumps(event) + "\n")
            out.flush()
            time.sleep({"batches": 0.25, "epoch": 0.25}.get(event["event"], 0.0))


def burn(stop: threading.Event) -> None:
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


async def main(burning: bool) -> None:
    from tui_trainer.ui.viewer import WatchApp
    from tui_trainer.ui.widgets.charts import EpochChart

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        run_dir.mkdir()
        (run_dir / "events.jsonl").write_text("")
        stop = threading.Event()
        app = WatchApp(run_dir)
        lags: list[int] = []
        async with app.run_test(size=(120, 40)) as pilot:
            threading.Thread(target=write_run, args=(run_dir, stop), daemon=True).start()
            if burning:
                threading.Thread(target=burn, args=(stop,), daemon=True).start()
            end = time.monotonic() + 30
            while time.monotonic() < end:
                await pilot.pause(0.2)
                if not app.monitor.charts_ready:
                    continue
                chart = app.monitor.query_one("#epoch-chart", EpochChart)
                header = len(app.monitor.state.epochs)
                drawn = getattr(chart, "drawn_to", None)  # older trees: one point per epoch drawn
                shown = int(max(drawn.values())) if drawn else chart.__dict__.get("plotted", {}).get("loss", 0)
                if header:
                    lags.append(header - shown)
                if header >= 32:
                    break
            stop.set()
        print(f"burn={burning} samples={len(lags)} max lag={max(lags)} epochs, "
              f"mean lag={sum(lags) / len(lags):.2f} epochs, last header epoch={header}")


if __name__ == "__main__":
    asyncio.run(main("--burn" in sys.argv))
