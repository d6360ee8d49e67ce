"""The ``tui-trainer`` command: thin typer commands over the modules that do the work.

The commands here (``ui``, ``train``, ``summary``, ``doctor``, ``serve``) and those of the ``cli_*``
modules register on the one typer app of :mod:`tui_trainer.cli_common`, which holds what they share
(options, one-line errors, Ctrl-C handling); this module imports the others so every command is there.

Heavy imports (TensorFlow, Textual) happen inside the commands that need them,
so ``--help``, ``presets`` and ``--version`` answer at once.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .cli_common import Interrupts, PresetArgument, RunsDirOption, SafeStdout, app, fail, warn

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
    preset: PresetArgument = None,
    runs_dir: RunsDirOption = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Open on the runs: replay, compare, results; "
                                               "no training, no builder, nothing written.")
    ] = False,
) -> None:
    """Open the terminal app: build a model, press t to train, watch it live."""
    from .appopen import open_app

    if read_only and preset:
        raise fail("--read-only shows recorded runs and has no builder: give no preset")
    code = open_app(preset, runs_dir, read_only=read_only)
    if code:
        raise typer.Exit(code=code)


# --- train ---------------------------------------------------------------------------------------


@app.command()
def train(
    preset: PresetArgument = None,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Override training.epochs.")] = None,
    seed: Annotated[Optional[int], typer.Option(min=0, help="Override the preset's seed.")] = None,
    data_path: Annotated[
        Optional[str], typer.Option(help="Local data file or folder (overrides data.path): mnist.npz, IDX folder, csv.")
    ] = None,
    runs_dir: RunsDirOption = None,
    replay: Annotated[
        Optional[Path],
        typer.Option("--replay", help="Re-run exactly the preset and seed a recorded run used (a run folder)."),
    ] = None,
    resume: Annotated[
        Optional[Path],
        typer.Option("--resume", help="Go on with a killed or cancelled run from its last finished epoch, "
                                      "in its own folder (--epochs raises its total)."),
    ] = None,
    batch_stride: Annotated[
        Optional[int],
        typer.Option(min=0, help="Override logging.batch_stride: read the batch loss every N steps "
                                 "(0: epochs only; for GPUs whose steps take under a millisecond)."),
    ] = None,
) -> None:
    """Train a preset headless: one line per epoch, then the early-stopping verdict.

    Exit codes: 0 finished, 1 training failed, 2 bad input, 130 cancelled.
    """
    from .console import ConsolePrinter
    from .datasets import DataError
    from .distribute import worker_role
    from .events import RunResumed, RunStarted
    from .runlog import RunDirError
    from .spec import SpecError

    cancel = threading.Event()
    interrupts = Interrupts(cancel, abort_until_training=True)
    if batch_stride is not None and resume is not None:
        raise fail("--resume RUN goes on with the run's own preset; --batch-stride can't change it")
    spec, path, plan = _training_preset(preset, epochs, seed, data_path, replay, resume, interrupts)
    if batch_stride is not None:
        spec = spec.model_copy(update={"logging": spec.logging.model_copy(update={"batch_stride": batch_stride})})
    try:
        role = worker_role(spec, source=str(path))  # multi_worker: only the chief prints and records
    except SpecError as exc:
        raise fail(str(exc)) from None
    if role is not None and not role.is_chief:
        typer.echo(role.silent_message())
    printer = ConsolePrinter(SafeStdout())
    if plan is not None:
        printer.catch_up(plan.previous_events)

    def sink(event) -> None:
        if isinstance(event, (RunStarted, RunResumed)):  # fit begins: from now on the callback stops after a batch
            interrupts.training_started()
        printer(event)

    from .engine import train as run_training

    try:
        with interrupts:
            result = run_training(spec, sink, cancel, runs_dir=runs_dir, source=str(path),
                                  replay_of=replay.resolve().name if replay is not None else None, resume=plan)
    except (SpecError, DataError, RunDirError) as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        if interrupts.abort_now:
            raise _cancelled_before_training() from None
        typer.echo("Aborted; the run log was closed as cancelled.", err=True)
        raise typer.Exit(code=130) from None
    _exit_as(result)


def _training_preset(preset, epochs, seed, data_path, replay, resume, interrupts: Interrupts):
    """The preset ``train`` runs, its path and the resume plan (None unless ``--resume``), warnings printed.

    Raises the one-line exit 2 for conflicting options or a bad preset, exit 130 on a Ctrl-C meanwhile.
    """
    from . import presets
    from .runlog import PRESET, not_replayable
    from .spec import SpecError

    if replay is not None and preset is not None:
        raise fail("give a preset or --replay RUN, not both")
    if resume is not None and (preset is not None or replay is not None or seed is not None or data_path is not None):
        raise fail("--resume RUN goes on with the run's own preset and seed; give only --epochs with it")
    if replay is not None and not (replay / PRESET).is_file():
        raise fail(not_replayable(replay))
    plan = None
    try:
        with interrupts:  # a Ctrl-C or SIGTERM from here on ends the command at once, with exit 130
            if resume is not None:
                from .resume import ResumeError, plan_resume

                try:
                    plan = plan_resume(resume, epochs)
                except ResumeError as exc:
                    raise fail(str(exc)) from None
                spec, path, warnings = plan.preset, resume / PRESET, []
            else:
                spec, path, warnings = presets.load_for_training(
                    replay / PRESET if replay is not None else preset, epochs=epochs, seed=seed, data_path=data_path)
    except SpecError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise _cancelled_before_training() from None
    for warning in warnings:
        warn(warning)
    return spec, path, plan


def _exit_as(result) -> None:
    """Exit with the code the run's end calls for (0 finished, 1 failed, 130 cancelled)."""
    if result.silent_worker:
        why = f": {result.summary.reason}" if result.summary.reason else ""
        typer.echo(f"{result.silent_worker}: {result.status.replace('_', ' ')} after {result.summary.epochs_run} "
                   f"epochs{why}")
    if result.late_error:
        raise fail(result.late_error, code=1)
    if result.status == "failed":
        raise typer.Exit(code=1)
    if result.status == "cancelled":
        raise typer.Exit(code=130)


def _cancelled_before_training() -> typer.Exit:
    typer.echo("Cancelled before training began.", err=True)
    return typer.Exit(code=130)


@app.command()
def summary(
    preset: PresetArgument = None,
    data_path: Annotated[
        Optional[str], typer.Option(help="Local data file or folder (overrides data.path): mnist.npz, IDX folder, csv.")
    ] = None,
) -> None:
    """Print the model's layers, output shapes and parameters, like Keras's model.summary(), without training.

    Loads the data set to learn its input shape. Exit 2 on a bad preset, data or shape.
    """
    from . import presets
    from .data import DataError, load_dataset
    from .layers import fmt_shape, summary_lines
    from .spec import SpecError, output_shapes

    try:
        spec, path = presets.load(preset)
        if data_path is not None:
            spec = spec.with_overrides(data_path=data_path)
        data = load_dataset(spec.data)
        rows = output_shapes(spec, data.input_shape, source=str(path))
    except (SpecError, DataError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"Model: {spec.name}  (input {fmt_shape(data.input_shape)}: {data.name}, {data.num_classes} classes)")
    for line in summary_lines(rows):
        typer.echo(line)


@app.command()
def doctor(
    runs_dir: Annotated[
        Optional[Path], typer.Option(envvar="TUI_TRAINER_RUNS", show_envvar=True,
                                     help="The runs folder to check (default ./runs).")
    ] = None,
) -> None:
    """Check this machine: versions, the devices TensorFlow sees (and why not a GPU), offline data, runs folder."""
    from .doctor import format_checks, run_checks

    rows = run_checks(runs_dir)
    typer.echo(format_checks(rows))
    warnings = sum(r.status == "warn" for r in rows)
    typer.echo(f"\n{warnings} warning{'s' if warnings != 1 else ''}." if warnings else "\nAll checks ok.")


@app.command()
def serve(
    ctx: typer.Context,
    preset: PresetArgument = None,
    host: Annotated[str, typer.Option(help="Address to listen on; loopback unless you mean to share it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    runs_dir: RunsDirOption = None,
    token: Annotated[
        Optional[str], typer.Option(envvar="TUI_TRAINER_TOKEN", show_envvar=True,
                                    help="The token the URL must carry (default: a new random one each start). "
                                         "Prefer the environment variable: a command line is visible in ps.")
    ] = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Recorded runs only (replay, compare, results): "
                                               "no training, no builder, nothing written.")
    ] = False,
) -> None:
    """Serve the app to a browser tab (textual-serve), for the holder of the token it prints.

    On loopback unless --host says otherwise. On a remote box: ssh -L 8000:localhost:8000 gpu-box, then open
    the http://localhost:8000/?token=... it prints.
    """
    from . import presets
    from .serve import port_free, serve as run_server, token_problem
    from .spec import SpecError

    if token is not None and (why := token_problem(token)) is not None:
        raise fail(f"--token: {why}")
    if read_only and preset:
        raise fail("--read-only shows recorded runs and has no builder: give no preset")
    # by name: typer ships its own copy of click, whose ParameterSource is another class than click's
    if token is not None and getattr(ctx.get_parameter_source("token"), "name", "") == "COMMANDLINE":
        warn("--token is visible to every user of this machine (ps); set TUI_TRAINER_TOKEN instead")
    try:
        presets.load(preset)  # a bad preset is one line here, not an error page in every browser tab
    except SpecError as exc:
        raise fail(str(exc)) from None
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        raise fail("serve needs the textual-serve package: pip install textual-serve") from None
    why = port_free(host, port)
    if why is not None:
        raise fail(f"can't listen on {host}:{port} ({why}); choose another with --port")
    run_server(host, port, preset, runs_dir, token=token, read_only=read_only)


# The other commands live in modules of their own, one room each; importing them registers them on `app`
# (in this order in --help): presets, recorded runs, results/predict/lesson, your own script.
from . import cli_presets, cli_runs, cli_results, cli_script  # noqa: E402,F401


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
