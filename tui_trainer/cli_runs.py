"""The commands on recorded runs: ``runs list``, ``replay``, ``watch``, ``compare`` and ``export``.

Registered on :data:`tui_trainer.cli.app`; heavy imports stay inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli_common import HELP_OPTIONS, RunsDirOption, app, complete_run, fail, needs_terminal, resolve_run, warn
from .text import printable

PatienceOption = Annotated[
    int, typer.Option(min=1, help="For a TensorBoard log: the patience of the what-if EarlyStopping drawn on it.")
]
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
    from .runlog import RunLogError, empty_run_message
    from .sources import load

    run = resolve_run(run)
    try:
        loaded = load(run)  # our run folder or a TensorBoard log
    except RunLogError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{run}: can't read it ({exc.strerror or exc})") from None
    for problem in loaded.warnings:
        warn(problem)
    if loaded.started is None and loaded.summary is None:
        raise fail(empty_run_message(run))
    return loaded


@app.command()
def replay(
    run: Annotated[
        Path, typer.Argument(help="A run folder, e.g. runs/20260101-120000-digits, or its id.", autocompletion=complete_run)
    ],
    speed: Annotated[float, typer.Option(min=0, help="Epochs a second; 0 shows the whole run at once.")] = 0,
    patience: PatienceOption = 5,
) -> None:
    """Replay a recorded run or a TensorBoard log in the monitor screen (keys: space pause, n step, r restart)."""
    from .appopen import open_replay  # launch answers the plain `replay RUN` with it too, without typer

    code = open_replay(run, speed, patience)
    if code:
        raise typer.Exit(code=code)


@app.command()
def watch(
    run: Annotated[
        Optional[Path],
        typer.Argument(help="A run folder or id (default: the newest in the runs dir).", autocompletion=complete_run),
    ] = None,
    runs_dir: RunsDirOption = None,
    patience: PatienceOption = 5,
) -> None:
    """Follow a run another process is writing (`tui-trainer train` under tmux or nohup, or any TensorBoard writer)."""
    from .runlog import EVENTS
    from .runs import newest_run

    if run is not None:
        run = resolve_run(run, runs_dir)
    if run is not None and _watch_tensorboard(run, patience):
        return
    if run is None:
        run = newest_run(runs_dir)
        if run is None:
            raise fail(f"no runs in {runs_dir or 'the runs folder'} to watch; start one with `tui-trainer train`")
    elif not run.is_dir():
        raise fail(f"{run}: no such run folder")
    elif not (run / EVENTS).exists() and not (run / "preset.toml").exists():
        raise fail(f"{run}: not a run folder (no {EVENTS})")
    from .inputs import file_problem

    problem = file_problem(run / EVENTS, what=f"a run log ({EVENTS})")
    if problem:  # a FIFO would block the app for good
        raise fail(f"{run / EVENTS}: {problem}")
    needs_terminal()
    from .ui.viewer import WatchApp

    WatchApp(run).run()


def _watch_tensorboard(run: Path, patience: int) -> bool:
    """Follow a TensorBoard log (a folder of event files, maybe empty yet) if ``run`` is one; False if not."""
    from .runlog import EVENTS
    from .sources import TBSource, discover, is_tb_run

    if (run / EVENTS).exists() or (run / "preset.toml").exists() or not is_tb_run(run):
        if run.is_dir() and not (run / EVENTS).exists() and len(discover(run, 2)) > 1:
            raise fail(f"{run}: holds several TensorBoard runs; watch one of them")
        return False
    needs_terminal()
    from .ui.viewer import WatchApp

    WatchApp(run, source=TBSource(run, patience)).run()
    return True


@app.command()
def compare(
    runs: Annotated[
        list[Path], typer.Argument(help="Two or more run folders or ids.", show_default=False, autocompletion=complete_run)
    ],
    metric: Annotated[str, typer.Option(help="What to overlay: val_loss, loss, accuracy, val_accuracy.")] = "val_loss",
    no_ui: Annotated[bool, typer.Option("--no-ui", help="Print what differs between the runs and their early-stopping facts, and exit.")] = False,
) -> None:
    """Overlay the curves of two or more runs, with each run's best and stop epochs and the facts side by side."""
    from .compare import facts_table, format_differences, format_table, load_runs
    from .runlog import RunLogError

    try:
        loaded = load_runs([resolve_run(r) for r in runs])
    except (RunLogError, ValueError) as exc:
        raise fail(str(exc)) from None
    for run in loaded:
        for problem in run.run.warnings:
            warn(problem)
    if no_ui:
        typer.echo(printable(format_differences(loaded), newlines=True))
        typer.echo()
        typer.echo(printable(format_table(facts_table(loaded)), newlines=True))
        return
    needs_terminal()
    from .ui.compare_app import CompareApp

    CompareApp(loaded, metric).run()


@app.command()
def export(
    run: Annotated[Path, typer.Argument(help="A run folder or id.", autocompletion=complete_run)],
    csv_path: Annotated[
        Optional[str], typer.Option("--csv", help="Write one row per epoch to this file ('-' for stdout).")
    ] = None,
    summary: Annotated[bool, typer.Option("--json", help="Print the run's summary as JSON to stdout.")] = False,
    tensorboard: Annotated[
        Optional[Path], typer.Option("--tensorboard", help="Write the run as TensorBoard event files into DIR/<run id>.")
    ] = None,
) -> None:
    """Export a run's per-epoch metrics as CSV, its summary as JSON, or its curves to TensorBoard.
    With no option: CSV to stdout. RUN may be a TensorBoard log."""
    from .atomic import error_text, write_text_atomic
    from .export import epochs_csv, inside, summary_json, to_tensorboard

    loaded = _load_run_or_fail(run)
    if tensorboard is not None:
        if inside(tensorboard.expanduser(), loaded.dir):
            raise fail(f"{tensorboard}: inside the run folder {loaded.dir}; choose a folder outside it")
        try:
            target = to_tensorboard(loaded, tensorboard.expanduser())
        except OSError as exc:
            raise fail(f"{tensorboard}: can't write it ({error_text(exc)})") from None
        typer.echo(f"Wrote {printable(target)}; view it with `tensorboard --logdir {printable(tensorboard)}`")
        if csv_path is None and not summary:
            return
    if csv_path is None and not summary:
        csv_path = "-"
    if csv_path is not None:
        text = epochs_csv(loaded)
        if csv_path == "-":
            typer.echo(text, nl=False)
        else:
            target = Path(csv_path).expanduser()
            if inside(target, loaded.dir):
                raise fail(f"{csv_path}: inside the run folder {loaded.dir}; export writes outside a run, "
                            "never over its own files (choose another path)")
            if target.is_dir():
                raise fail(f"{csv_path}: is a folder; give a file name for the CSV")
            try:
                write_text_atomic(target, text)
            except OSError as exc:
                raise fail(f"{csv_path}: can't write it ({error_text(exc)})") from None
            typer.echo(f"Wrote {text.count(chr(10)) - 1} epochs to {printable(csv_path)}", err=summary)
    if summary:
        typer.echo(summary_json(loaded))
