"""The ``tui-trainer`` command: thin typer commands over the modules that do the work.

Heavy imports (TensorFlow, Textual) happen inside the commands that need them,
so ``--help``, ``presets`` and ``--version`` answer at once.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__

app = typer.Typer(
    name="tui-trainer",
    help="Build, train and watch a Keras model from a terminal.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
presets_app = typer.Typer(help="List, show and validate presets.", no_args_is_help=True)
app.add_typer(presets_app, name="presets")


def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line to stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tui-trainer {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Build, train and watch a Keras model from a terminal. With no command, opens the app on digits."""
    if ctx.invoked_subcommand is None:
        ui(preset=None, runs_dir=None)


@app.command()
def ui(
    preset: Annotated[
        Optional[str], typer.Argument(help="Preset name or path to a .toml file (default: digits).")
    ] = None,
    runs_dir: Annotated[
        Optional[Path], typer.Option(help="Where run folders go (default $TUI_TRAINER_RUNS or ./runs).")
    ] = None,
) -> None:
    """Open the terminal app: build a model, press t to train, watch it live."""
    from . import presets
    from .runlog import default_runs_dir
    from .spec import SpecError

    try:
        spec, path = presets.load(preset)
    except SpecError as exc:
        raise _fail(str(exc)) from None
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise _fail("the app needs a terminal; use `tui-trainer train` for headless training")

    from .ui.app import TrainerApp
    from .ui.terminal import textual_owns_terminal

    runs = runs_dir or default_runs_dir()
    with textual_owns_terminal(runs / "tui-trainer-stderr.log"):
        TrainerApp(spec, path, runs).run()


# --- presets -------------------------------------------------------------------------------------


@presets_app.command("list")
def presets_list() -> None:
    """List the built-in and user presets with their descriptions."""
    from . import presets
    from .spec import SpecError, load_preset_file

    entries = presets.available()
    width = max((len(e.name) for e in entries), default=4)
    for e in entries:
        try:
            desc = load_preset_file(e.path).description
        except SpecError as exc:
            desc = f"(invalid: {exc})"
        first = desc.split(". ")[0].rstrip(".") if desc else ""
        tag = "" if e.origin == "built-in" else " [user]"
        typer.echo(f"{e.name:<{width}}  {first}{tag}")
    typer.echo(f"\nUser presets folder: {presets.user_dir()}")


@presets_app.command("show")
def presets_show(preset: Annotated[str, typer.Argument(help="Preset name or path to a .toml file.")]) -> None:
    """Print a preset's TOML."""
    from . import presets
    from .spec import SpecError

    try:
        path = presets.resolve(preset)
        presets.load(preset)
    except SpecError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"# {path}")
    typer.echo(path.read_text(encoding="utf-8").rstrip())


@presets_app.command("validate")
def presets_validate(
    files: Annotated[list[Path], typer.Argument(help="Preset files to check.", show_default=False)],
) -> None:
    """Check preset files; exit 2 at the first invalid one."""
    from .spec import SpecError, load_preset_file

    bad = 0
    for f in files:
        try:
            p = load_preset_file(f)
        except SpecError as exc:
            typer.echo(f"error: {exc}", err=True)
            bad += 1
        else:
            typer.echo(f"{f}: ok ({p.name}, {len(p.layers)} layers)")
    if bad:
        raise typer.Exit(code=2)


# --- train ---------------------------------------------------------------------------------------


class _Interrupts:
    """First Ctrl-C (or SIGTERM) cancels at the next batch; a second Ctrl-C aborts.

    A hang-up (the SSH session went away) is ignored, so a run started without
    nohup still finishes and closes its log.
    """

    def __init__(self, cancel: threading.Event):
        self.cancel = cancel
        self.saved: dict[int, object] = {}

    def __enter__(self) -> "_Interrupts":
        if threading.current_thread() is not threading.main_thread():
            return self
        self.saved[signal.SIGINT] = signal.signal(signal.SIGINT, self._on_signal)
        self.saved[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._on_signal)
        if hasattr(signal, "SIGHUP"):
            self.saved[signal.SIGHUP] = signal.signal(signal.SIGHUP, signal.SIG_IGN)
        return self

    def _on_signal(self, signum, frame) -> None:
        if self.cancel.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.cancel.set()
        try:
            print("\nCancelling after the current batch (Ctrl-C again to abort)...", file=sys.stderr, flush=True)
        except OSError:
            pass

    def __exit__(self, *exc) -> None:
        for signum, handler in self.saved.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]


@app.command()
def train(
    preset: Annotated[
        Optional[str], typer.Argument(help="Preset name or path to a .toml file (default: digits).")
    ] = None,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Override training.epochs.")] = None,
    seed: Annotated[Optional[int], typer.Option(min=0, help="Override the preset's seed.")] = None,
    data_path: Annotated[
        Optional[str], typer.Option(help="Local data file or folder (overrides data.path): mnist.npz, IDX folder, csv.")
    ] = None,
    runs_dir: Annotated[
        Optional[Path], typer.Option(help="Where run folders go (default $TUI_TRAINER_RUNS or ./runs).")
    ] = None,
) -> None:
    """Train a preset headless: one line per epoch, then the early-stopping verdict.

    Exit codes: 0 finished, 1 training failed, 2 bad input, 130 cancelled.
    """
    from . import presets
    from .console import ConsolePrinter
    from .data import DataError
    from .spec import SpecError

    try:
        spec, path = presets.load(preset)
        if epochs is not None or seed is not None or data_path is not None:
            spec = spec.with_overrides(epochs=epochs, seed=seed, data_path=data_path)
    except SpecError as exc:
        raise _fail(str(exc)) from None

    from .engine import train as run_training

    cancel = threading.Event()
    printer = ConsolePrinter(_SafeStdout())
    try:
        with _Interrupts(cancel):
            result = run_training(spec, printer, cancel, runs_dir=runs_dir, source=str(path))
    except (SpecError, DataError) as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        typer.echo("Aborted; the run log was closed as cancelled.", err=True)
        raise typer.Exit(code=130) from None
    if result.status == "failed":
        raise typer.Exit(code=1)
    if result.status == "cancelled":
        raise typer.Exit(code=130)


class _SafeStdout:
    """stdout that goes quiet instead of raising once the terminal is gone (SIGHUP, closed pipe)."""

    def __init__(self) -> None:
        self.dead = False

    def write(self, text: str) -> int:
        if not self.dead:
            try:
                return sys.stdout.write(text)
            except (OSError, ValueError):
                self.dead = True
        return len(text)

    def flush(self) -> None:
        if not self.dead:
            try:
                sys.stdout.flush()
            except (OSError, ValueError):
                self.dead = True


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
