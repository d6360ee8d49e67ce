"""``tui-trainer presets list|show|validate``, registered on :data:`tui_trainer.cli.app`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli_common import HELP_OPTIONS, app, complete_preset, fail
from .text import printable

presets_app = typer.Typer(help="List, show and validate presets.", no_args_is_help=True,
                          context_settings=HELP_OPTIONS)
app.add_typer(presets_app, name="presets")


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
        raise fail(str(exc)) from None
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
