"""`tui-trainer serve`: the app in a real browser (headless Chromium), and the web driver without a TTY."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tui_trainer.serve import app_command, how_to_reach, public_url

ROOT = Path(__file__).resolve().parents[2]
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"  # what textual-serve sets in the app's environment
# Where the browser's screenshot is kept after the test: $TUI_TRAINER_ARTIFACTS or <tmp>/tui-trainer-artifacts.
ARTIFACTS = Path(os.environ.get("TUI_TRAINER_ARTIFACTS") or Path(tempfile.gettempdir()) / "tui-trainer-artifacts")


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_serve_says_how_to_reach_it_through_a_tunnel():
    text = how_to_reach("127.0.0.1", 8000)
    assert "ssh -L 8000:localhost:8000" in text and "http://localhost:8000" in text
    assert public_url("127.0.0.1", 8123) == "http://localhost:8123"
    assert public_url("10.0.0.5", 80) == "http://10.0.0.5:80"
    assert "--runs-dir" in app_command("digits", Path("runs")) and " -m tui_trainer ui digits" in app_command(
        "digits", Path("runs"))


def test_serve_bad_input_is_one_line():
    from typer.testing import CliRunner

    from tui_trainer.cli import app

    r = CliRunner().invoke(app, ["serve", "nope"])
    assert r.exit_code == 2 and r.output.startswith("error: nope: no preset of that name")
    with socket.socket() as s:  # a port already taken
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = CliRunner().invoke(app, ["serve", "--port", str(port)])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        f"error: can't listen on 127.0.0.1:{port} (Address already in use); choose another with --port"]


def test_app_runs_under_the_web_driver_without_a_tty(tmp_path):
    """As textual-serve starts it: pipes, no terminal, TEXTUAL_DRIVER naming the web driver."""
    proc = subprocess.Popen([sys.executable, "-m", "tui_trainer", "ui", "--runs-dir", str(tmp_path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env(TEXTUAL_DRIVER=WEB_DRIVER, COLUMNS="100", ROWS="30"), cwd=tmp_path)
    out = b""
    try:
        os.set_blocking(proc.stdout.fileno(), False)
        deadline = time.monotonic() + 60
        while b"Total:" not in out and time.monotonic() < deadline and proc.poll() is None:
            chunk = proc.stdout.read(65536)
            if chunk:
                out += chunk
            else:
                time.sleep(0.05)
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=30)
    assert b"the app needs a terminal" not in err, err.decode()
    assert b"Total:" in out, (out[-500:], err.decode()[-2000:])  # the builder's parameter count: drawn


def test_without_a_tty_or_web_driver_the_app_refuses_in_one_line(tmp_path):
    env = _env()
    env.pop("TEXTUAL_DRIVER", None)
    r = subprocess.run([sys.executable, "-m", "tui_trainer", "ui"], stdin=subprocess.DEVNULL, capture_output=True,
                       env=env, cwd=tmp_path, timeout=60)
    assert r.returncode == 2
    assert r.stderr.decode().strip().splitlines() == [
        "error: the app needs a terminal; use `tui-trainer train` for headless training, "
        "or `tui-trainer serve` for a browser"]


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_serve_shows_the_builder_in_headless_chromium(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright-python is not installed")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tui_trainer", "serve", "--port", str(port), "--runs-dir", str(tmp_path / "runs")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_env(), cwd=tmp_path, text=True)
    try:
        banner = server.stdout.readline() + server.stdout.readline()
        assert f"http://localhost:{port}" in banner and f"ssh -L {port}:localhost:{port}" in banner, banner
        frames: list[str] = []
        shot = ARTIFACTS / "serve-builder.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                local = re.compile(rf"^(http|ws)://(localhost|127\.0\.0\.1):{port}/")
                # never the network: the page asks for a web font, which is refused here
                page.route("**/*", lambda r: r.continue_() if local.match(r.request.url) else r.abort())
                page.on("websocket", lambda ws: ws.on(
                    "framereceived", lambda f: frames.append(f if isinstance(f, str) else f.decode("utf-8", "replace"))))
                page.goto(f"http://localhost:{port}/")
                deadline = time.monotonic() + 60
                while not any("Total:" in f for f in frames) and time.monotonic() < deadline:
                    page.wait_for_timeout(200)
                page.wait_for_timeout(500)  # let xterm.js paint what arrived
                page.screenshot(path=str(shot))
            finally:
                browser.close()
        print(f"screenshot: {shot}")
        text = "".join(frames)
        assert "Total:" in text and "parameters" in text, text[-1000:]  # the builder's first screen arrived
        assert shot.stat().st_size > 5_000
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
