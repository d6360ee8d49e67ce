"""The ``results``, ``predict`` and ``lesson`` commands, registered on :data:`tui_trainer.cli.app`.

Kept apart from cli.py so each module stays short; heavy imports stay inside the commands.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli_common import Interrupts, RunsDirOption, SafeStdout, app, complete_run, fail, has_terminal, resolve_run


@app.command()
def lesson(
    name: Annotated[Optional[str], typer.Argument(help="The lesson; without one, lists them.")] = None,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Cap each preset's epochs (a quick look).")] = None,
    runs_dir: RunsDirOption = None,
    no_ui: Annotated[bool, typer.Option("--no-ui", help="Print the comparison instead of opening it.")] = False,
) -> None:
    """Train a lesson's variants one after another, then show them side by side with a reading of the numbers."""
    from .compare import facts_table, format_table
    from .console import ConsolePrinter
    from .lesson import LESSONS, get_lesson, run_lesson

    if name is None:
        width = max(len(n) for n in LESSONS)
        for lesson_ in LESSONS.values():
            typer.echo(f"{lesson_.name:<{width}}  {lesson_.summary}")
        typer.echo("\nRun one: tui-trainer lesson NAME  (--epochs 3 --no-ui for a quick printed look)")
        return
    try:
        chosen = get_lesson(name)
    except KeyError as exc:
        raise fail(str(exc.args[0])) from None
    cancel = threading.Event()
    printer_out = SafeStdout()

    def sink_for(label: str):
        typer.echo(f"\n== {label} ==")
        return ConsolePrinter(printer_out)

    with Interrupts(cancel):
        outcome = run_lesson(chosen.name, epochs=epochs, runs_dir=runs_dir, sink_for=sink_for, cancel=cancel)
    if cancel.is_set():
        typer.echo("Lesson cancelled.", err=True)
        raise typer.Exit(code=130)
    for label, why in outcome.skipped:
        typer.echo(f"\n== {label} == skipped: {why}")
    runs = outcome.load() if len(outcome.folders) >= 2 else []
    text = chosen.reading(runs, outcome) if runs else "Too few variants ran to compare."
    if no_ui or not has_terminal() or not runs:
        table = format_table(facts_table(runs, chosen.facts)) if runs else ""
        typer.echo("\n" + table + "\n\n" + text)
        return
    from .ui.compare_app import CompareApp

    CompareApp(runs, chosen.metric, reading=text, facts=chosen.facts).run()


@app.command()
def results(
    run: Annotated[Path, typer.Argument(help="A run folder, e.g. runs/20260101-120000-digits, or its id.",
                                        autocompletion=complete_run)],
) -> None:
    """What a run got right and wrong on its test split: metrics, confusion matrix, per-class numbers, features."""
    from .results import ResultsError, format_results, load_results

    run = resolve_run(run)  # an id, as completion offers it and every other run argument takes it
    try:
        res = load_results(run)
    except ResultsError as exc:
        raise fail(str(exc)) from None
    typer.echo(format_results(res))


@app.command()
def predict(
    run: Annotated[Path, typer.Argument(help="A run folder with a model.keras.")],
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="An image file, an .npz with an x array, "
                                                                      "or a .csv of samples.")],
    top: Annotated[int, typer.Option(min=1, help="How many classes to show per sample.")] = 3,
) -> None:
    """Classify new samples with a run's model, prepared as its training data was (reshape, min-max range)."""
    from .predict import PredictError, format_predictions
    from .predict import predict as classify

    try:
        preds = classify(run, input_path, top=top)
    except PredictError as exc:
        raise fail(str(exc)) from None
    typer.echo(format_predictions(preds))
