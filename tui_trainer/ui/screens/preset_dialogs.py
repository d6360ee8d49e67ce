"""The builder's two dialogs: where to save the preset, and which preset to open."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ... import presets


def default_save_path(name: str) -> Path:
    """``<user presets dir>/<name>.toml``, the name made safe as a file name."""
    stem = re.sub(r"[^\w.-]+", "-", name).strip("-.") or "preset"
    return presets.user_dir() / f"{stem}.toml"


def resolve_save_path(text: str) -> Path:
    """A bare name goes to the user presets folder; anything with a ``/`` (or ``~``) is a path."""
    text = text.strip()
    p = Path(text).expanduser() if ("/" in text or text.startswith("~")) else presets.user_dir() / text
    return p if p.suffix == ".toml" else p.with_name(p.name + ".toml")


class _AskScreen(ModalScreen[Optional[str]]):
    """A small dialog with one Input; dismisses with its text or None."""

    DEFAULT_CSS = """
    _AskScreen { align: center middle; }
    _AskScreen > Vertical {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    _AskScreen Input { margin: 1 0 0 0; }
    _AskScreen .hint { color: $text-muted; height: auto; }
    _AskScreen OptionList { height: auto; max-height: 10; margin: 1 0 0 0; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())


class SavePresetScreen(_AskScreen):
    """Ask where to save the preset."""

    def __init__(self, default: Path) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Save preset as"
            box.border_subtitle = "enter save · esc cancel"
            yield Input(str(self.default), id="path")
            yield Static("", classes="hint", id="hint")

    def on_mount(self) -> None:
        self._hint(self.query_one(Input).value)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._hint(event.value)

    def _hint(self, text: str) -> None:
        hint = f"A bare name is saved in {presets.user_dir()}; the file's name becomes the preset's name."
        if text.strip():
            path = resolve_save_path(text)
            hint = f"→ {path}" + ("  (exists: enter replaces it)" if path.exists() else "") + "\n" + hint
        self.query_one("#hint", Static).update(Text(hint))


class OpenPresetScreen(_AskScreen):
    """Ask for a preset name or a path; lists the presets there are."""

    def compose(self) -> ComposeResult:
        entries = presets.available()
        with Vertical() as box:
            box.border_title = "Open preset"
            box.border_subtitle = "enter open · esc cancel"
            yield Input(
                placeholder="name or path to a .toml file",
                suggester=SuggestFromList([e.name for e in entries], case_sensitive=False),
                id="ref",
            )
            yield OptionList(*(Option(f"{e.name}  [dim]{e.origin}: {e.path}[/dim]", id=e.name) for e in entries))

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
