"""Issue 20's "Done when", in a real browser through `tui-trainer serve`: the workspace overlays three runs
told apart by what differs, and an early-stopped run opened from it shows its stop and restored marks
without `z`, at 1200×800 and at a viewport the size of an 80×24 terminal.

Headless Chromium (driven by playwright) against a real server over recorded runs; no training, no
network (every request elsewhere is refused). What the browser shows is read from the websocket's frames,
replayed onto a character grid as xterm.js would paint them; the screenshots are kept under ARTIFACTS.
"""

from __future__ import annotations

import re
import time

import pytest

from tui_trainer.serve import page_url

from ..unit.test_compare import make_run_dir
from .test_serve import ARTIFACTS, Served, _chromium

TOKEN = "walk-token-" + "Hq3v9" * 6
# Three recorded runs that differ by their hidden layer's activation only, newest first in the table.
RUNS = {"relu": "early_stopped", "sigmoid": "act_sigmoid", "tanh": "act_tanh"}
WAIT_S = 60  # how long a step waits for the screen before the test fails (a shared, slow machine)
# ESC [ params letter (CSI), ESC ] ... BEL/ST (OSC), or one character.
_TOKENS = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.|([^\x1b])", re.S)


class Grid:
    """The terminal as xterm.js draws it from Textual's output: cursor moves (CSI H) and text; styles ignored."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], str] = {}
        self.row = self.col = 0

    def feed(self, data: str) -> None:
        for m in _TOKENS.finditer(data):
            params, final, char = m.group(1), m.group(2), m.group(3)
            if final == "H":
                row, _, col = (params or "1;1").partition(";")
                self.row, self.col = int(row or 1) - 1, int(col or 1) - 1
            elif char == "\n":
                self.row += 1
            elif char == "\r":
                self.col = 0
            elif char is not None:
                self.cells[self.row, self.col] = char
                self.col += 1

    def lines(self) -> list[str]:
        if not self.cells:
            return []
        rows, cols = max(r for r, _ in self.cells) + 1, max(c for _, c in self.cells) + 1
        return ["".join(self.cells.get((r, c), " ") for c in range(cols)).rstrip() for r in range(rows)]

    def text(self) -> str:
        return "\n".join(self.lines())


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("walk")
    for i, (name, recording) in enumerate(RUNS.items()):
        make_run_dir(tmp / "runs", f"20260101-00000{i}-{name}", recording)
    server = Served(tmp, token=TOKEN)
    yield server
    server.stop()


class Walk:
    """One browser tab on the served app: keys in, the screen (as a grid) and screenshots out."""

    def __init__(self, page, server: Served) -> None:
        self.page, self.grid, self.sockets = page, Grid(), []
        page.on("websocket", self._socket)
        page.goto(page_url("127.0.0.1", server.port, TOKEN))

    def _socket(self, ws) -> None:
        self.sockets.append(ws.url)
        ws.on("framereceived", lambda f: self.grid.feed(f if isinstance(f, str) else f.decode("utf-8", "replace")))

    def until(self, what, why: str) -> str:
        """Wait until ``what(screen text)`` holds; fail saying ``why`` with the screen as it is."""
        deadline = time.monotonic() + WAIT_S
        while not what(self.grid.text()):
            assert time.monotonic() < deadline, f"{why}; the screen:\n{self.grid.text()}"
            self.page.wait_for_timeout(100)
        return self.grid.text()

    def press(self, *keys: str) -> None:
        for key in keys:
            self.page.keyboard.press(key)
            self.page.wait_for_timeout(150)  # one key at a time, as a person types

    def shot(self, name: str):
        self.page.wait_for_timeout(500)  # let xterm.js paint what arrived
        path = ARTIFACTS / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))
        print(f"screenshot: {path}")
        return path


# A viewport of 1200×800 pixels, and one that the page turns into an 80×24 terminal.
VIEWPORTS = {"1200x800": ({"width": 1200, "height": 800}, None), "80x24": ({"width": 728, "height": 512}, (80, 24))}


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_workspace_overlay_and_early_stop_marks_in_the_browser(served, viewport):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright-python is not installed")
    size, cells = VIEWPORTS[viewport]
    outside: list[str] = []
    local = re.compile(rf"^(http|ws)://localhost:{served.port}/")

    def route(r) -> None:  # never the network: anything elsewhere is recorded, and refused
        if local.match(r.request.url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=size)
            page.route("**/*", route)
            walk = Walk(page, served)
            walk.until(lambda s: "Total:" in s, "the builder never arrived")
            if cells:
                assert f"width={cells[0]}&height={cells[1]}" in walk.sockets[0], walk.sockets
            page.focus("textarea.xterm-helper-textarea")  # the terminal takes the keys, as after a click

            walk.press("r")
            walk.until(lambda s: "3 runs in" in s, "r did not open the workspace")
            walk.press(" ", " ", " ")  # space selects the run under the cursor and moves down
            screen = walk.until(lambda s: "3 marked" in s and all(re.search(rf"[─━]\S[─━] {a}\b", s) for a in RUNS),
                                "three runs selected are not all in the overlay's legend")
            shot = walk.shot(f"serve-workspace-{viewport}.png")
            # The legend names each run by what differs (its activation), not by its timestamp id.
            legend = [line for line in screen.splitlines() if re.search(r"[─━]\S[─━] ", line)]
            named = " ".join(legend)
            for activation in RUNS:
                assert re.search(rf"[─━]\S[─━] {activation}\b", named), (activation, legend)  # "─•─ tanh"
            assert "2026" not in named, legend

            walk.press("Enter")  # the cursor is on the last row: the relu run, stopped early
            screen = walk.until(lambda s: "stop 33" in s and "restored 28" in s,
                                "the monitor did not show the stop and restored marks unzoomed")
            monitor_shot = walk.shot(f"serve-monitor-{viewport}.png")
            assert "zoomed" not in screen and "loss per epoch" in screen  # the monitor as it opens: no z pressed
            assert "Early stopping at epoch 33" in screen and "restored from epoch 28" in screen, screen
        finally:
            browser.close()
    assert outside == [], outside
    assert shot.stat().st_size > 5_000 and monitor_shot.stat().st_size > 5_000
