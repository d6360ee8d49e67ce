"""``tui-trainer serve``: the same app in a browser tab, through textual-serve.

textual-serve runs a small web server; each browser tab that connects starts
the app as a subprocess (``python -m tui_trainer ui ...``) under Textual's web
driver and relays its screen over a websocket. The server binds to loopback by
default: on a remote box, reach it through an SSH tunnel rather than opening a
port to the network.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Optional

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def app_command(preset: Optional[str], runs_dir: Optional[Path]) -> str:
    """The shell command textual-serve runs for each browser tab: this interpreter, this package."""
    parts = [sys.executable, "-m", "tui_trainer", "ui"]
    if preset:
        parts.append(preset)
    if runs_dir is not None:
        parts += ["--runs-dir", str(Path(runs_dir).expanduser().resolve())]
    return " ".join(shlex.quote(p) for p in parts)


def public_url(host: str, port: int) -> str:
    """The address the page's websocket connects back to.

    On loopback it is ``localhost``, which is also what the user's browser sees at the near end of
    ``ssh -L PORT:localhost:PORT``.
    """
    if host in LOOPBACK or host in ("", "0.0.0.0", "::"):
        name = "localhost" if host in LOOPBACK else _hostname()
    else:
        name = host
    if ":" in name:  # an IPv6 literal
        name = f"[{name}]"
    return f"http://{name}:{port}"


def _hostname() -> str:
    import socket

    return socket.gethostname()


def how_to_reach(host: str, port: int) -> str:
    """What ``serve`` prints first: the URL and, on loopback, the SSH tunnel that reaches it."""
    url = public_url(host, port)
    if host in LOOPBACK:
        return (f"Serving tui-trainer on {url} (loopback only).\n"
                f"From your own machine: ssh -L {port}:localhost:{port} <this-box>, then open http://localhost:{port}\n"
                "Ctrl-C stops the server.")
    return (f"Serving tui-trainer on {url} (listening on {host}: anyone who can reach this port gets the app).\n"
            "Ctrl-C stops the server.")


def serve(host: str, port: int, preset: Optional[str] = None, runs_dir: Optional[Path] = None) -> None:
    """Run the web server until Ctrl-C.

    Raises:
        OSError: the port can't be bound (in use, not allowed).
    """
    import logging

    from textual_serve.server import Server

    class _Server(Server):
        async def on_startup(self, app) -> None:  # our own lines instead of the package's logo
            print(how_to_reach(host, port), flush=True)

        def initialize_logging(self) -> None:
            super().initialize_logging()
            logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    server = _Server(app_command(preset, runs_dir), host=host, port=port, title="tui-trainer",
                     public_url=public_url(host, port))
    server.serve()


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
