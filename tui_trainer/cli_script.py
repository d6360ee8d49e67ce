"""The ``run`` command (your own Keras script under a Monitor), registered on :data:`tui_trainer.cli.app`.

Kept apart from cli.py so each module stays short; heavy imports stay inside the commands.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from .cli_common import RunsDirOption, SafeStdout, app, fail, has_terminal


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                               "allow_interspersed_args": False})
def run(
    ctx: typer.Context,
    script: Annotated[Path, typer.Argument(help="Your Keras script; what follows it is passed to it.",
                                           show_default=False)],
    no_ui: Annotated[bool, typer.Option("--no-ui", help="Print one line per epoch and the verdict instead "
                                                         "(for nohup or tmux on a GPU box).")] = False,
    runs_dir: RunsDirOption = None,
) -> None:
    """Run your own, unmodified Keras script with live charts: every fit it calls is recorded as a run.

    tui-trainer's options come before the script, the script's own after it:
    `tui-trainer run --no-ui train.py --epochs 20`. Exits with the script's exit code.
    """
    from .runlog import default_runs_dir

    if not script.is_file():
        raise fail(f"{script}: no such script" if not script.exists() else f"{script}: not a file")
    root = runs_dir or default_runs_dir()
    if no_ui or not has_terminal():
        code = _run_script_headless(script, list(ctx.args), root)
    else:
        from .ui.script_app import run_script_app

        code = run_script_app(script, list(ctx.args), root)
    if code:
        raise typer.Exit(code=code)


def _run_script_headless(script: Path, args: list[str], root: Path) -> int:
    """``run --no-ui``: the console lines of every fit, the script's output in each run's output.log."""
    from .console import ConsolePrinter
    from .runlog import OUTPUT
    from .scriptrun import ScriptRun, follow_runs

    script_run = ScriptRun(script, args, root)
    out = SafeStdout()

    def printer_for(run_dir: Path):
        typer.echo(f"Script output: {run_dir / OUTPUT}")
        return ConsolePrinter(out)

    def on_signal(signum, frame) -> None:
        first = not script_run.cancel_requested
        script_run.cancel()  # the first stops the fit after this batch, a second interrupts the script
        if first:
            with contextlib.suppress(OSError):
                print("\nCancelling after the current batch (Ctrl-C again to interrupt the script)...",
                      file=sys.stderr, flush=True)

    saved = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    if hasattr(signal, "SIGHUP"):
        saved[signal.SIGHUP] = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # outlive the SSH session
    try:
        script_run.start()
        code = follow_runs(script_run, printer_for)
    except OSError as exc:
        raise fail(f"could not start {script}: {exc}") from None
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        script_run.stop()
        script_run.cleanup()
    code = code if code is not None else 1
    if code == 0 and not script_run.run_dirs:  # never a silent exit 0 that recorded nothing
        typer.echo(f"{script.name} ran to the end (exit 0) without a recorded fit: nothing recorded; "
                   "its last lines:", err=True)
        for line in list(script_run.lines)[-25:]:
            typer.echo(f"  {line}", err=True)
    if code not in (0, 130):
        tail = list(script_run.lines)[-25:]
        where = "before any fit" if not script_run.run_dirs else f"(output in {script_run.run_dirs[-1] / OUTPUT})"
        typer.echo(f"{script} exited with code {code} {where}; its last lines:", err=True)
        for line in tail:
            typer.echo(f"  {line}", err=True)
    return code
