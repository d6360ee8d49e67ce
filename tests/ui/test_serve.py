"""`tui-trainer serve`: only the token's holder gets the app, only from its own page, with nothing from elsewhere.

Real servers on 127.0.0.1 (one per module, plus one read-only), probed as a browser, a hostile page and
another local user would; the app in a real browser (headless Chromium); the web driver without a TTY.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tui_trainer.serve import Gate, app_command, how_to_reach, new_token, page_url, public_url, token_problem

ROOT = Path(__file__).resolve().parents[2]
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"  # what textual-serve sets in the app's environment
# Where the browser's screenshot is kept after the test: $TUI_TRAINER_ARTIFACTS or <tmp>/tui-trainer-artifacts.
ARTIFACTS = Path(os.environ.get("TUI_TRAINER_ARTIFACTS") or Path(tempfile.gettempdir()) / "tui-trainer-artifacts")
TOKEN = "test-token-" + "x7Qp2" * 6  # the module server's, given through $TUI_TRAINER_TOKEN
URL = re.compile(r"\b(?:https?|wss?)://[^\s\"'<>);]+", re.I)


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


# --- a real server ---------------------------------------------------------------------------------


class Served:
    """A ``tui-trainer serve`` subprocess: its port, token, banner and the lines it logs after it."""

    def __init__(self, tmp: Path, *args: str, token: str | None = None) -> None:
        self.port = _free_port()
        env = _env()
        env.pop("TUI_TRAINER_TOKEN", None)
        if token:
            env["TUI_TRAINER_TOKEN"] = token
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui_trainer", "serve", "--port", str(self.port),
             "--runs-dir", str(tmp / "runs"), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=tmp, text=True)
        self.log: list[str] = []  # every line it prints, read on so a full pipe never stalls the server
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 60
        while not any("Ctrl-C stops" in line for line in self.log):  # printed once the port listens
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"serve printed no banner: {self.log}")
            time.sleep(0.05)
        self.banner = self.log[:next(i for i, line in enumerate(self.log) if "Ctrl-C stops" in line) + 1]
        found = re.search(r"/\?token=([A-Za-z0-9._~-]+)", "\n".join(self.banner))
        assert found, self.banner
        self.token = found.group(1)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.log.append(line.rstrip("\n"))

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def children(self) -> list[int]:
        """The processes the server started (textual-serve starts one app per websocket)."""
        kids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                kids.append(int(stat.parent.name))
        return kids

    def get(self, path: str, host: str | None = None, origin: str | None = None):
        """GET ``path`` with this Host (default the server's own) and Origin: (status, headers, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.putrequest("GET", path, skip_host=True)
            conn.putheader("Host", host or f"localhost:{self.port}")
            if origin:
                conn.putheader("Origin", origin)
            conn.endheaders()
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def upgrade(self, path: str, host: str | None = None, origin: str | None = None) -> int:
        """A websocket handshake as a browser (or a hostile client) sends it; the status it gets (101: upgraded)."""
        lines = [f"GET {path} HTTP/1.1", f"Host: {host or f'localhost:{self.port}'}", "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
        if origin:
            lines.append(f"Origin: {origin}")
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
            s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            head = b""
            while b"\r\n" not in head:
                chunk = s.recv(1024)
                if not chunk:
                    break
                head += chunk
        return int(head.split(b" ", 2)[1])


async def _session_text(ws_url: str, origin: str, want: str, timeout_s: float = 90) -> str:
    """Open the app's websocket as the page does and collect what it draws until ``want`` appears."""
    import aiohttp

    text = ""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{ws_url}?width=100&height=30", origin=origin) as ws:
            deadline = time.monotonic() + timeout_s
            while want not in text and time.monotonic() < deadline:
                try:
                    msg = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    break
                if msg.type == aiohttp.WSMsgType.BINARY:
                    text += msg.data.decode("utf-8", "replace")
                elif msg.type == aiohttp.WSMsgType.TEXT:
                    text += msg.data
                else:
                    break
    return text


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    served = Served(tmp_path_factory.mktemp("serve"), token=TOKEN)
    yield served
    served.stop()


# --- what it prints, what it accepts ---------------------------------------------------------------


def test_serve_says_how_to_reach_it_through_a_tunnel_with_the_token():
    token = new_token()
    assert token_problem(token) is None and len(token) >= 43 and token != new_token()
    text = how_to_reach("127.0.0.1", 8000, token)
    # the URL, and the tunnel line's URL, both carry the token
    assert text.count(f"http://localhost:8000/?token={token}") == 2
    assert "ssh -L 8000:localhost:8000" in text and "trains, and reads and writes presets and runs" in text
    assert "Read-only: recorded runs only" in how_to_reach("127.0.0.1", 8000, token, read_only=True)
    assert public_url("127.0.0.1", 8123) == "http://localhost:8123"
    assert page_url("10.0.0.5", 80, token) == f"http://10.0.0.5:80/?token={token}"
    assert " -m tui_trainer ui digits --runs-dir " in app_command("digits", Path("runs"))
    assert app_command(None, None, read_only=True).endswith(" -m tui_trainer ui --read-only")


def test_the_gate_knows_this_servers_names_and_origins():
    gate = Gate("127.0.0.1", TOKEN)
    for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST:9000", "localhost"):
        assert gate.host_ok(host), host  # any port: ssh -L 9000:localhost:8000 changes it
    for host in ("evil.example:8000", "localhost.evil.example:8000", "evil.example@localhost:8000",
                 "localhost:8000/x", "127.0.0.2:8000", "10.0.0.5:8000", "", "localhost:99999", "[::1"):
        assert not gate.host_ok(host), host
    assert gate.origin_ok("http://localhost:8000", "localhost:8000")
    assert gate.origin_ok("http://localhost", "localhost:80")
    for origin in ("http://evil.example", "http://localhost:8001", "https://localhost:8000", "null", "",
                   None, "http://localhost:8000/path", "http://127.0.0.1:8000"):
        assert not gate.origin_ok(origin, "localhost:8000"), origin
    assert gate.token_ok(TOKEN) and not gate.token_ok(TOKEN[:-1] + "y") and not gate.token_ok("é" * 40)
    every = Gate("0.0.0.0", TOKEN)  # on every address: any IP address names it; a rebound name does not
    assert every.host_ok("10.1.2.3:8000") and every.host_ok("[fe80::1]:8000")
    assert not every.host_ok("evil.example:8000")
    one = Gate("10.0.0.5", TOKEN)
    assert one.host_ok("10.0.0.5:8000") and not one.host_ok("10.0.0.6:8000")


def test_serve_bad_input_is_one_line():
    from typer.testing import CliRunner

    from tui_trainer.cli import app

    r = CliRunner().invoke(app, ["serve", "nope"])
    assert r.exit_code == 2 and r.output.startswith("error: nope: no preset of that name")
    for args, line in (
        (["--token", "short"], "error: --token: the token is 5 characters long; give at least 16 "
                               "(or leave it out for a random one)"),
        (["--token", "a token with spaces in it"],
         "error: --token: the token may hold only letters, digits and . _ ~ - (at most 256 of them)"),
        (["--read-only", "digits"], "error: --read-only shows recorded runs and has no builder: give no preset"),
    ):
        r = CliRunner().invoke(app, ["serve", *args])
        assert r.exit_code == 2 and r.output.strip().splitlines() == [line], r.output
    r = CliRunner().invoke(app, ["serve"], env={"TUI_TRAINER_TOKEN": "tiny"})
    assert r.exit_code == 2 and "--token: the token is 4 characters long" in r.output
    with socket.socket() as s:  # a port already taken
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = CliRunner().invoke(app, ["serve", "--port", str(port)])
        assert r.exit_code == 2
        assert r.output.strip().splitlines() == [
            f"error: can't listen on 127.0.0.1:{port} (Address already in use); choose another with --port"]
        r = CliRunner().invoke(app, ["serve", "--port", str(port), "--token", TOKEN])  # said, whatever follows
        assert r.output.strip().splitlines()[0] == ("warning: --token is visible to every user of this machine "
                                                    "(ps); set TUI_TRAINER_TOKEN instead")
        r = CliRunner().invoke(app, ["serve", "--port", str(port)], env={"TUI_TRAINER_TOKEN": TOKEN})
        assert "warning" not in r.output and r.exit_code == 2


# --- the page ----------------------------------------------------------------------------------------


def test_the_page_needs_the_token(server):
    assert server.token == TOKEN  # the one given in $TUI_TRAINER_TOKEN
    assert server.banner[1].endswith(f"then open http://localhost:{server.port}/?token={TOKEN}")
    status, _, body = server.get("/")
    assert status == 401 and "needs its token" in body and "/?token=" in body and TOKEN not in body
    wrong = TOKEN[:-1] + ("a" if TOKEN[-1] != "a" else "b")
    for path in (f"/?token={wrong}", "/?token=", f"/?token={TOKEN[:-1]}", f"/?token={TOKEN}x"):
        status, _, body = server.get(path)
        assert status in (401, 403) and "app" not in body.lower() and TOKEN not in body, path
    assert server.children() == []  # no app was started for any of them
    status, headers, body = server.get(f"/?token={TOKEN}")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert f'data-session-websocket-url="ws://localhost:{server.port}/ws/{TOKEN}"' in body
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert any("401 index from 127.0.0.1" in line for line in server.log)  # the owner sees the attempts


def test_the_page_refuses_a_foreign_host_or_origin(server):
    # DNS rebinding: evil.example resolved to 127.0.0.1; the browser then sends its own name as the Host
    status, _, body = server.get(f"/?token={TOKEN}", host=f"evil.example:{server.port}")
    assert status == 403 and "Host" in body
    status, _, _ = server.get(f"/?token={TOKEN}", origin="http://evil.example")
    assert status == 403
    # through a tunnel on another local port (ssh -L 9000:localhost:PORT) the page still works, and its
    # websocket goes back the way it came
    status, _, body = server.get(f"/?token={TOKEN}", host="127.0.0.1:9000")
    assert status == 200 and f'"ws://127.0.0.1:9000/ws/{TOKEN}"' in body


def test_the_page_loads_nothing_from_elsewhere(server):
    status, headers, body = server.get(f"/?token={TOKEN}")
    assert status == 200
    outside = [u for u in URL.findall(body) if not re.match(rf"(http|ws)://localhost:{server.port}/", u)]
    assert outside == [], outside
    # every resource it names is on this server, and is there (the font too: no Google Fonts)
    refs = re.findall(r"""(?:src|href)="([^"]+)"|url\("([^"]+)"\)""", body)
    paths = sorted({a or b for a, b in refs})
    assert "/static/js/textual.js" in paths and any(p.endswith(".ttf") for p in paths), paths
    for path in paths:
        assert path.startswith("/") and not path.startswith("//"), path
        assert server.get(path)[0] == 200, path
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert set(URL.findall(csp)) == {f"ws://localhost:{server.port}"}  # the page's own websocket only


# --- the websocket -----------------------------------------------------------------------------------


def test_the_websocket_needs_the_token_its_own_page_and_this_servers_name(server):
    own, host = server.origin, f"localhost:{server.port}"
    wrong = TOKEN[:-1] + ("a" if TOKEN[-1] != "a" else "b")
    cases = [
        (f"/ws/{wrong}", host, own, 403),  # a wrong token
        ("/ws/", host, own, 404),  # none
        ("/ws", host, own, 404),  # textual-serve's own address: not served
        (f"/ws/{TOKEN}", host, "http://evil.example", 403),  # a page elsewhere, in the user's browser
        (f"/ws/{TOKEN}", host, f"http://localhost:{server.port + 1}", 403),  # another local server's page
        (f"/ws/{TOKEN}", host, None, 403),  # no Origin: not a browser on our page
        (f"/ws/{TOKEN}", f"evil.example:{server.port}", f"http://evil.example:{server.port}", 403),  # rebinding
    ]
    for path, h, origin, expected in cases:
        assert server.upgrade(path, h, origin) == expected, (path, h, origin)
    assert server.children() == []  # none of them started an app
    assert sum("websocket from 127.0.0.1" in line for line in server.log) >= 5

    # the same handshake from the page's own origin, with the token: the app starts and draws the builder
    text = asyncio.run(_session_text(f"ws://localhost:{server.port}/ws/{TOKEN}", own, "Total:"))
    assert "Total:" in text and "parameters" in text, text[-500:]


def _user(name: str):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser") or _user("nobody") is None
                    or not Path("/usr/bin/python3").exists(),
                    reason="needs root, runuser, the user nobody and /usr/bin/python3 to act as a second local user")
def test_another_local_user_finds_no_token_and_gets_no_app(server):
    """As `nobody`, while a session is open: read every command line and environment it can, then knock."""
    probe = f"""
import http.client, pathlib
seen, readable = "", 0
for p in pathlib.Path("/proc").glob("[0-9]*"):
    for name in ("cmdline", "environ"):
        try:
            seen += (p / name).read_bytes().decode("utf-8", "replace") + "\\n"
            readable += name == "cmdline"
        except OSError:
            pass
print("FOUND" if {TOKEN!r} in seen else "absent", readable, "--port {server.port}" in seen.replace("\\0", " "))
for path in ("/", "/?token=guess-guess-guess-guess"):
    c = http.client.HTTPConnection("127.0.0.1", {server.port}, timeout=30)
    c.request("GET", path)
    print(c.getresponse().status)
"""

    async def main() -> str:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            url = f"ws://localhost:{server.port}/ws/{TOKEN}?width=80&height=24"
            async with session.ws_connect(url, origin=server.origin) as ws:
                await ws.receive(timeout=60)  # the app is running: its command line is in /proc too
                assert server.children()
                # the probe on stdin: its own command line must not hold the token it looks for
                r = await asyncio.to_thread(subprocess.run, ["runuser", "-u", "nobody", "--", "/usr/bin/python3",
                                                             "-"], input=probe, capture_output=True, text=True,
                                            timeout=120, cwd="/")
        return r.stdout + r.stderr

    out = asyncio.run(main()).split()
    assert out[0] == "absent" and int(out[1]) > 0, out
    assert out[2] == "True", out  # it did read the server's command line: the token just isn't there
    assert out[3:5] == ["401", "403"], out


def test_serve_read_only_with_a_random_token(tmp_path):
    served = Served(tmp_path, "--read-only")
    try:
        assert len(served.token) >= 43 and served.token != TOKEN  # made for this start
        assert any(line.startswith("Read-only: recorded runs only") for line in served.banner)
        status, _, body = served.get(f"/?token={served.token}")
        assert status == 200 and "<title>tui-trainer (read-only)</title>" in body
        assert served.get(f"/?token={TOKEN}")[0] == 403  # another server's token
        # the tab's app opens on the (empty) runs folder, not on the builder
        text = asyncio.run(_session_text(f"ws://localhost:{served.port}/ws/{served.token}", served.origin,
                                         "No runs in"))
        assert "No runs in" in text and "Total:" not in text, text[-500:]
        assert not (tmp_path / "runs").exists()  # nothing written
    finally:
        served.stop()


# --- the app under the web driver ------------------------------------------------------------------


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


# --- a real browser ------------------------------------------------------------------------------------


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_chromium_with_the_token_reaches_the_builder_and_nothing_elsewhere(server):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright-python is not installed")
    frames: list[str] = []
    sockets: list[str] = []
    outside: list[str] = []
    console: list[str] = []
    shot = ARTIFACTS / "serve-builder.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    local = re.compile(rf"^(http|ws)://localhost:{server.port}/")

    def route(r) -> None:  # never the network: anything elsewhere is recorded, and refused
        if local.match(r.request.url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.route("**/*", route)
            page.on("console", lambda m: console.append(m.text))
            page.on("websocket", lambda ws: (sockets.append(ws.url), ws.on(
                "framereceived", lambda f: frames.append(f if isinstance(f, str) else f.decode("utf-8", "replace")))))

            # without the token: the refusal, in words, and no socket
            response = page.goto(f"{server.origin}/")
            assert response.status == 401 and "needs its token" in page.content()
            page.wait_for_timeout(300)
            assert sockets == []

            page.goto(page_url("127.0.0.1", server.port, TOKEN))  # as printed: http://localhost:PORT/?token=...
            deadline = time.monotonic() + 90
            while not any("Total:" in f for f in frames) and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            page.wait_for_timeout(500)  # let xterm.js paint what arrived
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    print(f"screenshot: {shot}")
    text = "".join(frames)
    assert "Total:" in text and "parameters" in text, text[-1000:]  # the builder's first screen arrived
    assert len(sockets) == 1 and sockets[0].startswith(f"ws://localhost:{server.port}/ws/{TOKEN}?width="), sockets
    assert outside == [], outside  # no font, script or anything else asked of another host
    assert not [m for m in console if "Content Security Policy" in m], console
    assert shot.stat().st_size > 5_000
