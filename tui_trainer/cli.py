"""The ``tui-trainer`` command: thin typer commands over the modules that do the work.

Heavy imports (TensorFlow, Textual) happen inside the commands that need them,
so ``--help``, ``presets`` and ``--version`` answer at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .text import printable

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="tui-trainer",
    help="Build, train and watch a Keras model from a terminal.",
    no_args_is_help=False,
    add_completion=True,  # --install-completion / --show-completion; presets and run folders complete
    pretty_exceptions_enable=False,
    context_settings=HELP_OPTIONS,
)
presets_app = typer.Typer(help="List, show and validate presets.", no_args_is_help=True,
                          context_settings=HELP_OPTIONS)
app.add_typer(presets_app, name="presets")


def complete_preset(incomplete: str) -> list[str]:
    """Shell completion: preset names (built-in and the user's) starting with what was typed."""
    from . import presets

    return [e.name for e in presets.available() if e.name.startswith(incomplete)]


def complete_run(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion: runs in the runs folder (``--runs-dir``, ``$TUI_TRAINER_RUNS`` or ./runs).

    A bare start (``2026``) completes to run ids, which every run argument accepts; a start with a
    slash (``runs/2026``) completes to folder paths.
    """
    from .runlog import EVENTS, default_runs_dir

    root = Path((ctx.params.get("runs_dir") if ctx is not None else None) or default_runs_dir())
    try:
        folders = sorted(p for p in root.iterdir() if (p / EVENTS).is_file())
    except OSError:
        return []
    shown = [str(p) for p in folders] if "/" in incomplete else [p.name for p in folders]
    return [s for s in shown if s.startswith(incomplete)]


def _resolve_run(run: Path, runs_dir: Optional[Path] = None) -> Path:
    from .launch import resolve_run

    return resolve_run(run, runs_dir)


RunsDirOption = Annotated[
    Optional[Path],
    typer.Option(envvar="TUI_TRAINER_RUNS", show_envvar=True, help="Where run folders are (default ./runs)."),
]
PresetArgument = Annotated[
    Optional[str],
    typer.Argument(help="Preset name or path to a .toml file (default: digits).", autocompletion=complete_preset),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print the message to stderr, ``error: `` before each of its lines, and return the Exit to raise.

    One line, except for a preset with several problems: one line each (SpecError). The message often
    echoes a file's content or a name a user chose: control characters and escape sequences are taken
    out first (:func:`~tui_trainer.text.printable`).
    """
    for line in str(message).splitlines() or [""]:
        typer.echo(f"error: {printable(line)}", err=True)
    return typer.Exit(code=code)


def _warn(message: str) -> None:
    typer.echo(f"warning: {printable(message)}", err=True)


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
) -> None:
    """Open the terminal app: build a model, press t to train, watch it live."""
    from .launch import open_app

    code = open_app(preset, runs_dir)
    if code:
        raise typer.Exit(code=code)


# --- presets -------------------------------------------------------------------------------------


@presets_app.command("list")
def presets_list() -> None:
    """List the built-in and user presets with their descriptions."""
    from . import presets
    from .spec import SpecError

    entries = presets.available()
    width = max((len(printable(e.name)) for e in entries), default=4)
    for e in entries:
        try:
            desc = presets.load_file(e.path).description
        except SpecError as exc:
            desc = f"(invalid: {exc})"
        first = desc.split(". ")[0].rstrip(".") if desc else ""
        first = first if len(first) <= 200 else first[:199] + "…"
        tag = "" if e.origin == "built-in" else " [user]"
        if e.shadows is not None:
            tag = f" [user; replaces the built-in {e.shadows}]"
        typer.echo(f"{printable(e.name):<{width}}  {printable(first)}{tag}")
    typer.echo(f"\nUser presets folder: {presets.user_dir()}")


@presets_app.command("show")
def presets_show(
    preset: Annotated[str, typer.Argument(help="Preset name or path to a .toml file.", autocompletion=complete_preset)],
) -> None:
    """Print a preset's TOML."""
    from . import presets
    from .spec import SpecError

    try:
        path = presets.resolve(preset)
        presets.load(preset)
    except SpecError as exc:
        raise _fail(str(exc)) from None
    shadowed = presets.shadowed(path)
    typer.echo(f"# {printable(path)}")
    if shadowed is not None:
        typer.echo(f"# (your preset; it replaces the built-in one in {printable(shadowed)})")
    typer.echo(printable(path.read_text(encoding="utf-8").rstrip(), newlines=True))


@presets_app.command("validate")
def presets_validate(
    files: Annotated[list[Path], typer.Argument(help="Preset files to check.", show_default=False)],
) -> None:
    """Check preset files, printing every problem; exit 2 if any is invalid."""
    from . import presets
    from .spec import SpecError

    bad = 0
    for f in files:
        try:
            p = presets.load_file(f)
        except SpecError as exc:
            for line in str(exc).splitlines():  # every problem of the file, one line each
                typer.echo(f"error: {printable(line)}", err=True)
            bad += 1
        else:
            typer.echo(f"{printable(f)}: ok ({printable(p.name)}, {len(p.layers)} layers)")
    if bad:
        raise typer.Exit(code=2)


# --- train ---------------------------------------------------------------------------------------


class _Interrupts:
    """First Ctrl-C (or SIGTERM) cancels at the next batch; a second Ctrl-C aborts.

    A hang-up (the SSH session went away) is ignored, so a run started without
    nohup still finishes and closes its log.
    """

    def __init__(self, cancel: threading.Event, *, abort_until_training: bool = False):
        self.cancel = cancel
        self.saved: dict[int, object] = {}
        self._terminal: Optional[int] = None  # fd 2 as it is now: training points fd 2 at stderr.log
        # train: until the first batch nothing checks ``cancel`` (data loading, TensorFlow's import,
        # building the model), so a signal then interrupts at once instead of waiting for training
        self.abort_now = abort_until_training

    def __enter__(self) -> "_Interrupts":
        if threading.current_thread() is not threading.main_thread():
            return self
        with contextlib.suppress(OSError):
            self._terminal = os.dup(2)
        self.saved[signal.SIGINT] = signal.signal(signal.SIGINT, self._on_signal)
        self.saved[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._on_signal)
        if hasattr(signal, "SIGHUP"):
            self.saved[signal.SIGHUP] = signal.signal(signal.SIGHUP, signal.SIG_IGN)
        return self

    def training_started(self) -> None:
        """From now on the training callback checks ``cancel`` after every batch."""
        self.abort_now = False

    def _on_signal(self, signum, frame) -> None:
        if self.abort_now:
            self.cancel.set()
            raise KeyboardInterrupt
        if self.cancel.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.cancel.set()
        if self._terminal is not None:  # on the terminal, not into the run's stderr.log
            with contextlib.suppress(OSError):
                os.write(self._terminal, b"\nCancelling after the current batch (Ctrl-C again to abort)...\n")

    def __exit__(self, *exc) -> None:
        for signum, handler in self.saved.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        if self._terminal is not None:
            with contextlib.suppress(OSError):
                os.close(self._terminal)
            self._terminal = None


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
) -> None:
    """Train a preset headless: one line per epoch, then the early-stopping verdict.

    Exit codes: 0 finished, 1 training failed, 2 bad input, 130 cancelled.
    """
    from . import presets
    from .console import ConsolePrinter
    from .datasets import DataError
    from .events import RunResumed, RunStarted
    from .runlog import PRESET, RunDirError, not_replayable
    from .spec import SpecError

    if replay is not None and preset is not None:
        raise _fail("give a preset or --replay RUN, not both")
    if resume is not None and (preset is not None or replay is not None or seed is not None or data_path is not None):
        raise _fail("--resume RUN goes on with the run's own preset and seed; give only --epochs with it")
    if replay is not None and not (replay / PRESET).is_file():
        raise _fail(not_replayable(replay))
    cancel = threading.Event()
    interrupts = _Interrupts(cancel, abort_until_training=True)
    plan = None
    try:
        with interrupts:  # a Ctrl-C or SIGTERM from here on ends the command at once, with exit 130
            if resume is not None:
                from .resume import ResumeError, plan_resume

                try:
                    plan = plan_resume(resume, epochs)
                except ResumeError as exc:
                    raise _fail(str(exc)) from None
                spec, path, warnings = plan.preset, resume / PRESET, []
            else:
                spec, path, warnings = presets.load_for_training(
                    replay / PRESET if replay is not None else preset, epochs=epochs, seed=seed, data_path=data_path)
    except SpecError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        raise _cancelled_before_training() from None
    for warning in warnings:
        _warn(warning)

    from .distribute import worker_role
    from .engine import train as run_training

    try:
        role = worker_role(spec, source=str(path))  # multi_worker: only the chief prints and records
    except SpecError as exc:
        raise _fail(str(exc)) from None
    if role is not None and not role.is_chief:
        typer.echo(role.silent_message())
    printer = ConsolePrinter(_SafeStdout())
    if plan is not None:
        printer.catch_up(plan.previous_events)

    def sink(event) -> None:
        if isinstance(event, (RunStarted, RunResumed)):  # fit begins: from now on the callback stops after a batch
            interrupts.training_started()
        printer(event)

    try:
        with interrupts:
            result = run_training(spec, sink, cancel, runs_dir=runs_dir, source=str(path),
                                  replay_of=replay.resolve().name if replay is not None else None, resume=plan)
    except (SpecError, DataError, RunDirError) as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        if interrupts.abort_now:
            raise _cancelled_before_training() from None
        typer.echo("Aborted; the run log was closed as cancelled.", err=True)
        raise typer.Exit(code=130) from None
    if result.silent_worker:
        why = f": {result.summary.reason}" if result.summary.reason else ""
        typer.echo(f"{result.silent_worker}: {result.status.replace('_', ' ')} after {result.summary.epochs_run} "
                   f"epochs{why}")
    if result.late_error:
        raise _fail(result.late_error, code=1)
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
        raise _fail(str(exc)) from None
    typer.echo(f"Model: {spec.name}  (input {fmt_shape(data.input_shape)}: {data.name}, {data.num_classes} classes)")
    for line in summary_lines(rows):
        typer.echo(line)


# --- runs: list, replay, watch, compare, export ---------------------------------------------------

runs_app = typer.Typer(help="List recorded runs.", no_args_is_help=True, context_settings=HELP_OPTIONS)
app.add_typer(runs_app, name="runs")



@runs_app.command("list")
def runs_list(runs_dir: RunsDirOption = None) -> None:
    """One line per run: id, status, epochs, stop epoch, best epoch, best value, test accuracy, preset."""
    from .runlog import default_runs_dir
    from .runs import RUN_COLUMNS, find_runs, run_cells

    root = runs_dir or default_runs_dir()
    infos = find_runs(root)
    if not infos:
        typer.echo(f"No runs in {root}. Make one with `tui-trainer train`.")
        return
    header = tuple(title for _, title in RUN_COLUMNS)
    rows = [tuple(printable(c) for c in run_cells(i)) for i in infos]
    widths = [max(len(r[c]) for r in rows + [header]) for c in range(len(header))]
    for r in [header, *rows]:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    hints = [i for i in infos if i.hint]
    if hints:
        typer.echo("")
    for i in hints:  # killed or cancelled runs that can go on
        typer.echo(f"{printable(i.id)}: {printable(i.hint)}")


def _load_run_or_fail(run: Path):
    """A run folder read back, its warnings printed; one line and exit 2 when it is not a run or is empty."""
    from .runlog import RunLogError, empty_run_message, load_run

    run = _resolve_run(run)
    try:
        loaded = load_run(run)
    except RunLogError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{run}: can't read it ({exc.strerror or exc})") from None
    for problem in loaded.warnings:
        _warn(problem)
    if loaded.started is None and loaded.summary is None:
        raise _fail(empty_run_message(run))
    return loaded


def _has_terminal() -> bool:
    from .launch import has_terminal  # a TTY, or Textual's web driver under `tui-trainer serve`

    return has_terminal()


def _needs_terminal() -> None:
    if not _has_terminal():
        raise _fail("this command draws in a terminal; for text use `tui-trainer export` or `runs list`")


@app.command()
def replay(
    run: Annotated[
        Path, typer.Argument(help="A run folder, e.g. runs/20260101-120000-digits, or its id.", autocompletion=complete_run)
    ],
    speed: Annotated[float, typer.Option(min=0, help="Epochs a second; 0 shows the whole run at once.")] = 0,
) -> None:
    """Replay a recorded run in the monitor screen (keys: space pause, n step, r restart)."""
    from .launch import open_replay  # the plain `replay RUN` is answered there without typer

    code = open_replay(run, speed)
    if code:
        raise typer.Exit(code=code)


@app.command()
def watch(
    run: Annotated[
        Optional[Path],
        typer.Argument(help="A run folder or id (default: the newest in the runs dir).", autocompletion=complete_run),
    ] = None,
    runs_dir: RunsDirOption = None,
) -> None:
    """Follow a run another process is writing (e.g. `tui-trainer train` under tmux or nohup on this box)."""
    from .runlog import EVENTS
    from .runs import newest_run

    if run is not None:
        run = _resolve_run(run, runs_dir)
    if run is None:
        run = newest_run(runs_dir)
        if run is None:
            raise _fail(f"no runs in {runs_dir or 'the runs folder'} to watch; start one with `tui-trainer train`")
    elif not run.is_dir():
        raise _fail(f"{run}: no such run folder")
    elif not (run / EVENTS).exists() and not (run / "preset.toml").exists():
        raise _fail(f"{run}: not a run folder (no {EVENTS})")
    from .inputs import file_problem

    problem = file_problem(run / EVENTS, what=f"a run log ({EVENTS})")
    if problem:  # a FIFO would block the app for good
        raise _fail(f"{run / EVENTS}: {problem}")
    _needs_terminal()
    from .ui.viewer import WatchApp

    WatchApp(run).run()


@app.command()
def compare(
    runs: Annotated[
        list[Path], typer.Argument(help="Two or more run folders or ids.", show_default=False, autocompletion=complete_run)
    ],
    metric: Annotated[str, typer.Option(help="What to overlay: val_loss, loss, accuracy, val_accuracy.")] = "val_loss",
    no_ui: Annotated[bool, typer.Option("--no-ui", help="Print the early-stopping facts side by side and exit.")] = False,
) -> None:
    """Overlay the curves of two or more runs, with each run's best and stop epochs and the facts side by side."""
    from .compare import facts_table, format_table, load_runs
    from .runlog import RunLogError

    try:
        loaded = load_runs([_resolve_run(r) for r in runs])
    except (RunLogError, ValueError) as exc:
        raise _fail(str(exc)) from None
    for run in loaded:
        for problem in run.run.warnings:
            _warn(problem)
    if no_ui:
        typer.echo(printable(format_table(facts_table(loaded)), newlines=True))
        return
    _needs_terminal()
    from .ui.compare_app import CompareApp

    CompareApp(loaded, metric).run()


@app.command()
def export(
    run: Annotated[Path, typer.Argument(help="A run folder or id.", autocompletion=complete_run)],
    csv_path: Annotated[
        Optional[str], typer.Option("--csv", help="Write one row per epoch to this file ('-' for stdout).")
    ] = None,
    summary: Annotated[bool, typer.Option("--json", help="Print the run's summary as JSON to stdout.")] = False,
) -> None:
    """Export a run's per-epoch metrics as CSV, or its summary as JSON. With no option: CSV to stdout."""
    from .atomic import error_text, write_text_atomic
    from .export import epochs_csv, inside, summary_json

    loaded = _load_run_or_fail(run)
    if csv_path is None and not summary:
        csv_path = "-"
    if csv_path is not None:
        text = epochs_csv(loaded)
        if csv_path == "-":
            typer.echo(text, nl=False)
        else:
            target = Path(csv_path).expanduser()
            if inside(target, loaded.dir):
                raise _fail(f"{csv_path}: inside the run folder {loaded.dir}; export writes outside a run, "
                            "never over its own files (choose another path)")
            if target.is_dir():
                raise _fail(f"{csv_path}: is a folder; give a file name for the CSV")
            try:
                write_text_atomic(target, text)
            except OSError as exc:
                raise _fail(f"{csv_path}: can't write it ({error_text(exc)})") from None
            typer.echo(f"Wrote {text.count(chr(10)) - 1} epochs to {printable(csv_path)}", err=summary)
    if summary:
        typer.echo(summary_json(loaded))


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
    preset: PresetArgument = None,
    host: Annotated[str, typer.Option(help="Address to listen on; loopback unless you mean to share it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    runs_dir: RunsDirOption = None,
) -> None:
    """Serve the app to a browser tab (textual-serve), on loopback unless --host says otherwise.

    On a remote box: ssh -L 8000:localhost:8000 gpu-box, then open http://localhost:8000.
    """
    from . import presets
    from .serve import port_free, serve as run_server
    from .spec import SpecError

    try:
        presets.load(preset)  # a bad preset is one line here, not an error page in every browser tab
    except SpecError as exc:
        raise _fail(str(exc)) from None
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        raise _fail("serve needs the textual-serve package: pip install textual-serve") from None
    why = port_free(host, port)
    if why is not None:
        raise _fail(f"can't listen on {host}:{port} ({why}); choose another with --port")
    run_server(host, port, preset, runs_dir)


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


# results, predict and lesson live in their own module (this one stays under 600 lines); importing it
# registers them on `app`.
from . import cli_results, cli_script  # noqa: E402,F401


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
