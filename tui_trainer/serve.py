"""``tui-trainer serve``: the same app in a browser tab, through textual-serve, for the token's holder only.

textual-serve runs a small web server; each browser tab that connects starts
the app as a subprocess (``python -m tui_trainer ui ...``) under Textual's web
driver and relays its screen over a websocket. The server binds to loopback by
default: on a remote box, reach it through an SSH tunnel rather than opening a
port to the network.

Loopback is not private on a shared box: every local user can connect to it, and
a web page in the user's own browser can try to. So, like Jupyter:

- a random token is made at each start (or given with ``--token`` or
  ``$TUI_TRAINER_TOKEN``) and printed in the URL; the page and the websocket
  need it (compared in constant time), and without it no app is started;
- every request's ``Host`` must name this server (loopback names, or the
  address given with ``--host``), which defeats DNS rebinding; the websocket's
  ``Origin`` must be the page's own origin, so a page elsewhere can't drive it;
- the page loads nothing from elsewhere (textual-serve's own page asks Google
  for its font; ours uses the Roboto Mono textual-serve ships), and a
  Content-Security-Policy keeps it so.

No cookie carries the token: browsers send a cookie for ``localhost`` to every
port of it, so another user's server on the same box would receive it.
"""

from __future__ import annotations

import hmac
import html
import ipaddress
import logging
import re
import secrets
import shlex
import string
import sys
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

from .text import printable

LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARD = ("", "0.0.0.0", "::")
TOKEN_ENV = "TUI_TRAINER_TOKEN"
# What a given token may hold: it is printed in a URL and sent in the websocket's path, so only characters
# that need no escaping there; at least 16 of them, so it can't be guessed in any number of tries that matters.
_TOKEN = re.compile(r"[A-Za-z0-9._~-]{16,256}")
# A Host header (or an Origin's host): a name or IPv4 address, or a bracketed IPv6 address, then maybe a port.
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?")
PAGE = Path(__file__).with_name("serve_page.html")

log = logging.getLogger("tui-trainer.serve")


def new_token() -> str:
    """A fresh random token: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def token_problem(token: str) -> Optional[str]:
    """None when ``token`` can be used, else what is wrong with it, in words."""
    if _TOKEN.fullmatch(token):
        return None
    if len(token) < 16:
        return f"the token is {len(token)} characters long; give at least 16 (or leave it out for a random one)"
    return "the token may hold only letters, digits and . _ ~ - (at most 256 of them)"


def app_command(preset: Optional[str], runs_dir: Optional[Path], read_only: bool = False) -> str:
    """The shell command textual-serve runs for each browser tab: this interpreter, this package.

    It never holds the token: a command line is visible to every local user (``ps``).
    """
    parts = [sys.executable, "-m", "tui_trainer", "ui"]
    if preset:
        parts.append(preset)
    if runs_dir is not None:
        parts += ["--runs-dir", str(Path(runs_dir).expanduser().resolve())]
    if read_only:
        parts.append("--read-only")
    return " ".join(shlex.quote(p) for p in parts)


def public_url(host: str, port: int) -> str:
    """The address to open, without the token.

    On loopback it is ``localhost``, which is also what the user's browser sees at the near end of
    ``ssh -L PORT:localhost:PORT``.
    """
    if host in LOOPBACK or host in WILDCARD:
        name = "localhost" if host in LOOPBACK else _hostname()
    else:
        name = host
    if ":" in name:  # an IPv6 literal
        name = f"[{name}]"
    return f"http://{name}:{port}"


def page_url(host: str, port: int, token: str) -> str:
    """The URL to open: the server's address and the token."""
    return f"{public_url(host, port)}/?token={token}"


def _hostname() -> str:
    import socket

    return socket.gethostname()


def how_to_reach(host: str, port: int, token: str, read_only: bool = False) -> str:
    """What ``serve`` prints first: the URL with its token and, on loopback, the SSH tunnel that reaches it."""
    url = page_url(host, port, token)
    if host in LOOPBACK:
        lines = [f"Serving tui-trainer on {url} (loopback only).",
                 f"From your own machine: ssh -L {port}:localhost:{port} <this-box>, then open "
                 f"http://localhost:{port}/?token={token}"]
    else:
        lines = [f"Serving tui-trainer on {url} (listening on {host or 'every address'}: "
                 "anyone who can reach this port and has the token gets the app)."]
    if read_only:
        lines.append("Read-only: recorded runs only (replay, compare, results); no training, nothing written.")
    else:
        lines.append("Whoever has the token uses the app as you: trains, and reads and writes presets and runs.")
    lines.append("Ctrl-C stops the server.")
    return "\n".join(lines)


def _host_and_port(value: str, default_port: int = 80) -> Optional[tuple[str, int]]:
    """``name[:port]`` as (lower-case name without brackets, port); None when it is not one."""
    if not _HOST.fullmatch(value):
        return None
    try:
        parts = urlsplit(f"//{value}")
        port = parts.port
    except ValueError:  # a port past 65535, an unclosed bracket
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower(), port if port is not None else default_port


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class Gate:
    """Who gets in: the token's holder, asking by a name of this server, from this server's own page.

    Args:
        host: The address the server listens on (``--host``).
        token: The token a page or websocket request must carry.
    """

    def __init__(self, host: str, token: str) -> None:
        self._token = token.encode("ascii")
        self.names = {"localhost", "127.0.0.1", "::1"}
        """The names a request's Host may give: loopback ones, and the address listened on."""
        self.any_ip = host in WILDCARD
        """Listening on every address: any IP address is a name of this server (none can be rebound)."""
        if host in WILDCARD:
            import socket

            self.names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        elif host not in LOOPBACK:
            self.names.add(host.lower().strip("[]"))

    def token_ok(self, given: str) -> bool:
        """Whether ``given`` is the token, compared in constant time."""
        return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), self._token)

    def host_ok(self, host: str) -> bool:
        """Whether a Host header names this server. A name that resolves here only by DNS rebinding
        (``evil.example`` pointed at 127.0.0.1) is refused; the port is not checked, since a tunnel
        (``ssh -L 9000:localhost:8000``) may change it."""
        parsed = _host_and_port(host)
        return parsed is not None and (parsed[0] in self.names or (self.any_ip and _is_ip(parsed[0])))

    @staticmethod
    def origin_ok(origin: Optional[str], host: str) -> bool:
        """Whether ``origin`` is the origin of a page from this server: ``http://`` and the very Host asked."""
        if not origin:
            return False
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        if parts.scheme.lower() != "http" or parts.path or parts.query or parts.fragment:
            return False
        mine = _host_and_port(host)
        theirs = _host_and_port(parts.netloc)
        return mine is not None and mine == theirs

    def refusal(self, route: Optional[str], headers: Any, token: Optional[str]) -> Optional[tuple[int, str]]:
        """None to let a request through, else (HTTP status, why in one line).

        Args:
            route: The request's route: ``index`` (the page), ``websocket``, or another (static files,
                downloads: no token needed, these hold nothing of the user's).
            headers: The request's headers.
            token: The token the request carries (the page's ``?token=``, the websocket's path), if any.
        """
        host = headers.get("Host", "")
        if not self.host_ok(host):
            return 403, "refused: the Host asked for is not a name of this server (DNS rebinding?)"
        origin = headers.get("Origin")
        # A browser sends Origin with every websocket; on anything else only with a cross-origin request.
        if (route == "websocket" or origin is not None) and not self.origin_ok(origin, host):
            return 403, "refused: the request comes from a page that this server did not send"
        if route not in ("index", "websocket"):
            return None
        if not token:
            return 401, ("this tui-trainer server needs its token: open the URL that `tui-trainer serve` "
                         "printed (it ends in /?token=...)")
        if not self.token_ok(token):
            return 403, "wrong token: open the URL that `tui-trainer serve` printed"
        return None


def _one_line_for_aiohttp(record: logging.LogRecord) -> bool:
    """A logging filter: an aiohttp error with a traceback becomes one line (its message, shortened)."""
    if record.name.startswith("aiohttp") and record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        text = printable(" ".join(str(exc).split()))[:160]
        record.msg, record.args = f"{record.getMessage()}: {type(exc).__name__}: {text}", ()
        record.exc_info = record.exc_text = None
    return True


def _csp(host: str) -> str:
    """The page's Content-Security-Policy: everything from this server, the websocket back to it, no framing."""
    return ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self'; worker-src 'self' blob:; "
            f"connect-src 'self' ws://{host}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def _guard_middleware(gate: "Gate"):
    """The aiohttp middleware that asks ``gate`` about every request before textual-serve sees it."""
    from aiohttp import web

    @web.middleware
    async def guard(request: web.Request, handler):
        route = request.match_info.route.name
        given = request.query.get("token") if route == "index" else request.match_info.get("token")
        refused = gate.refusal(route, request.headers, given)
        if refused is not None:
            status, why = refused
            log.warning("%s %s from %s: %s", status, route or "request", request.remote, why)
            return web.Response(status=status, text=why + "\n")
        return await handler(request)

    return guard


async def _secure_headers(request, response) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")  # the page's URL holds the token
    response.headers.setdefault("X-Frame-Options", "DENY")


def make_server(host: str, port: int, token: str, preset: Optional[str] = None, runs_dir: Optional[Path] = None,
                read_only: bool = False):
    """The textual-serve Server, with the gate in front of it and our page instead of its own."""
    import asyncio
    import signal

    from aiohttp import web
    from textual_serve.server import Server, to_int

    page = string.Template(PAGE.read_text(encoding="utf-8"))
    title = "tui-trainer (read-only)" if read_only else "tui-trainer"

    guard = _guard_middleware(Gate(host, token))

    class _Server(Server):
        def initialize_logging(self) -> None:
            """textual-serve's log lines, without the local variables of a traceback (the token is one), and
            aiohttp's complaints about malformed requests (anyone can send them) in one line each."""
            from rich.logging import RichHandler

            handler = RichHandler(show_path=False, show_time=False, rich_tracebacks=True,
                                  tracebacks_show_locals=False, console=self.console)
            handler.addFilter(_one_line_for_aiohttp)
            logging.basicConfig(level="DEBUG" if self.debug else "INFO", format="%(message)s", handlers=[handler])

        async def _make_app(self) -> web.Application:
            app = web.Application(middlewares=[guard])
            app.add_routes([
                web.get("/", self.handle_index, name="index"),
                web.get("/ws/{token}", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),  # keys are random, per tab
                web.static("/static", self.statics_path, name="static"),
            ])
            app.on_response_prepare.append(_secure_headers)
            app.on_startup.append(self.on_startup)
            app.on_shutdown.append(self.on_shutdown)
            return app

        async def on_startup(self, app: web.Application) -> None:  # our banner, once listening (below)
            pass

        async def handle_index(self, request: web.Request) -> web.Response:  # type: ignore[override]
            where = request.headers["Host"]  # checked by the gate; the tab's own address, through any tunnel
            text = page.substitute(
                title=html.escape(title),
                websocket_url=html.escape(f"ws://{where}/ws/{token}"),
                font_size=max(6, min(64, to_int(request.query.get("fontsize", "16"), 16))),
            )
            return web.Response(text=text, content_type="text/html", headers={
                "Cache-Control": "no-store", "Content-Security-Policy": _csp(where)})

        def serve(self, debug: bool = False) -> None:
            """textual-serve's serve(), printing our banner once the port listens, with no access log
            (its lines would hold the token)."""
            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(signum, self.request_exit)
                except (NotImplementedError, RuntimeError):
                    pass
            banner = how_to_reach(host, port, token, read_only)
            web.run_app(self._make_app(), host=host, port=port, handle_signals=False, loop=loop,
                        access_log=None, print=lambda *_: print(banner, flush=True))

    return _Server(app_command(preset, runs_dir, read_only), host=host, port=port, title=title,
                   public_url=public_url(host, port))


def serve(host: str, port: int, preset: Optional[str] = None, runs_dir: Optional[Path] = None,
          token: Optional[str] = None, read_only: bool = False) -> None:
    """Run the web server until Ctrl-C.

    Args:
        token: The token to require; None for a new random one.

    Raises:
        OSError: the port can't be bound (in use, not allowed).
    """
    import os

    os.environ.pop(TOKEN_ENV, None)  # the apps it starts (and any script they run) need not know it
    make_server(host, port, token or new_token(), preset, runs_dir, read_only).serve()


def port_free(host: str, port: int) -> Optional[str]:
    """None when ``host:port`` can be bound, else why not, in words."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as exc:
        return exc.strerror or str(exc)
    return None
