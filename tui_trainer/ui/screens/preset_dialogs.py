"""The builder's two dialogs: where to save the preset, and which preset to open."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from ... import presets
from ...spec import _NAME_RE, Preset, SpecError, parse_preset, save_preset_file


def default_save_path(name: str) -> Path:
    """``<user presets dir>/<name>.toml``, the name made safe as a file name."""
    stem = re.sub(r"[^\w.-]+", "-", name).strip("-.") or "preset"
    return presets.user_dir() / f"{stem}.toml"


def is_builtin_name(name: str) -> bool:
    """Whether ``name`` is a built-in preset's name (a user preset of that name hides the built-in)."""
    return (presets.builtin_dir() / f"{name}.toml").is_file()


def shadows_builtin(path: Path) -> bool:
    """Whether saving to ``path`` would replace a built-in preset for this user (`tui-trainer NAME`)."""
    return path.parent == presets.user_dir() and path.suffix.lower() == ".toml" and is_builtin_name(path.stem)


def suggest_save_path(name: str) -> Path:
    """Where the save dialog proposes to save: a built-in's name becomes ``NAME-2`` (or the next free one),
    so that a plain enter never hides the built-in preset."""
    path = default_save_path(name)
    n = 2
    while shadows_builtin(path) or (n > 2 and path.exists()):
        path = default_save_path(f"{name}-{n}")
        n += 1
    return path


def resolve_save_path(text: str) -> Path:
    """A bare name goes to the user presets folder; anything with a ``/`` (or ``~``) is a path.

    ``.toml`` is added when the name has no suffix. Never raises; :func:`save_path_problem` says
    whether the result can be written.
    """
    text = text.strip()
    p = Path(text).expanduser() if ("/" in text or text.startswith("~")) else presets.user_dir() / text
    if not p.name or p.name in (".", ".."):  # '/', 'dir/', '~': a folder; with_name() would raise
        return p
    return p if p.suffix.lower() == ".toml" else p.with_name(p.name + ".toml")


def save_preset_as(preset: Preset, text: str) -> tuple[Preset, Path, bool]:
    """Write ``preset`` where the save dialog's ``text`` says: the preset as saved, its file, whether
    the file was there before.

    Raises:
        SpecError: the preset can't take the file's name.
        OSError: the file can't be written.
    """
    path = resolve_save_path(text)
    if path.stem != preset.name:
        # The file's name is the preset's name (`presets list`, run folders): keep them one.
        preset = parse_preset({**preset.model_dump(mode="json"), "name": path.stem}, source=str(path))
    existed = path.exists()
    save_preset_file(preset, path)
    return preset, path, existed


def save_path_problem(text: str) -> Optional[str]:
    """Why the preset can't be saved where ``text`` says, in one line; None if it can.

    Refused: no name, a folder, a name whose suffix isn't .toml, a link (never written through), a
    device or FIFO, a name that isn't a valid preset name, a folder that can't be written.
    """
    text = text.strip()
    if not text:
        return "Give a file name (saved in the presets folder) or a path ending in .toml."
    raw = Path(text).expanduser()
    typed_path = "/" in text or text.startswith("~")
    if not raw.name or raw.name in (".", "..") or text.endswith("/") or (typed_path and raw.is_dir()):
        return f"{raw} is a folder: add a file name, e.g. {raw / 'my-model.toml'}"
    if raw.suffix and raw.suffix.lower() != ".toml" and raw.suffix[1:].isalpha():
        return f"{raw.name} is not a .toml file: presets are saved as NAME.toml"
    path = resolve_save_path(text)
    if path.is_symlink():
        return f"{path} is a symbolic link; links are not written through: give another name"
    if path.is_dir():
        return f"{path} is a folder: give a file name in it, e.g. {path / 'my-model.toml'}"
    if path.exists() and not path.is_file():
        return f"{path} is not a regular file (a device, FIFO or socket): give another name"
    if not _NAME_RE.fullmatch(path.stem) or len(path.stem) > 100:
        return (f"{path.stem!r} can't be a preset's name (the file's name is): use ASCII letters, digits, "
                "spaces, '_', '.' or '-', starting with a letter or digit")
    return _folder_problem(path.parent)


def _folder_problem(folder: Path) -> Optional[str]:
    """Why files can't be created in ``folder`` (made if missing); None if they can."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():  # a dangling link on the way
            return f"{existing} is a broken symbolic link"
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"no permission to write in {existing}"
    return None


def open_problem(ref: str) -> Optional[str]:
    """Why ``ref`` (a preset name or a path) can't be opened, in one line; None if it can."""
    ref = ref.strip()
    if not ref:
        return "Give a preset's name (listed below) or a path to a .toml file."
    raw = Path(ref).expanduser()
    if raw.is_symlink():
        return f"{raw} is a symbolic link; links are not followed: give the file itself"
    if raw.is_dir():
        return f"{raw} is a folder: give a .toml file in it"
    try:
        path = presets.resolve(ref)
        if path.suffix.lower() != ".toml":
            return f"{path} is not a .toml file: a preset is a NAME.toml file"
        presets.load_file(path)
    except SpecError as exc:
        return " ".join(str(exc).split())
    except OSError as exc:
        return f"{raw}: can't read it ({exc.strerror or exc})"
    return None


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
    _AskScreen .error { color: $error; height: auto; }
    _AskScreen OptionList { height: auto; max-height: 10; margin: 1 0 0 0; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)

    def problem(self, text: str) -> Optional[str]:
        """Why ``text`` can't be accepted (shown at the field); None to dismiss with it."""
        return None if text.strip() else "Type something, or press esc to cancel."

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = self.problem(event.value)
        if problem:
            self.show_problem(problem)
            return
        self.dismiss(event.value.strip())

    def show_problem(self, problem: Optional[str]) -> None:
        """Mark the field and say what is wrong under it (or clear both)."""
        self.query_one(Input).set_class(bool(problem), "-invalid")
        error = self.query_one("#error", Static)
        error.update(Text(f"✗ {problem}" if problem else ""))
        error.display = bool(problem)


class SavePresetScreen(_AskScreen):
    """Ask where to save the preset."""

    def __init__(self, default: Path) -> None:
        super().__init__()
        self.default = default
        self._confirmed: Optional[str] = None  # the built-in name the user was asked about

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Save preset as"
            box.border_subtitle = "enter save · esc cancel"
            yield Input(str(self.default), id="path")
            yield Static("", classes="error", id="error")
            yield Static("", classes="hint", id="hint")

    def on_mount(self) -> None:
        self._hint(self.query_one(Input).value)
        self.show_problem(None)

    def problem(self, text: str) -> Optional[str]:
        problem = save_path_problem(text)
        if problem is None and shadows_builtin(resolve_save_path(text)) and self._confirmed != text.strip():
            # Asked once: a second enter on the same name is the yes.
            self._confirmed = text.strip()
            stem = resolve_save_path(text).stem
            return (f"'{stem}' is a built-in preset: saving here replaces it for you (`tui-trainer {stem}`, "
                    f"`summary {stem}`). Press enter again to replace it, or give another name.")
        return problem

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._confirmed = None
        self._hint(event.value)
        self.show_problem(None)

    def _hint(self, text: str) -> None:
        hint = f"A bare name is saved in {presets.user_dir()}; the file's name becomes the preset's name."
        if text.strip() and Path(text.strip()).expanduser().name:
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
            yield Static("", classes="error", id="error")
            yield OptionList(*(Option(f"{e.name}  [dim]{e.origin}: {e.path}[/dim]", id=e.name) for e in entries))

    def on_mount(self) -> None:
        self.show_problem(None)

    def problem(self, text: str) -> Optional[str]:
        return open_problem(text)

    @on(Input.Changed)
    def _changed(self) -> None:
        self.show_problem(None)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        problem = open_problem(str(event.option.id))  # a listed preset can still be broken
        if problem:
            self.show_problem(problem)
            return
        self.dismiss(event.option.id)


SaveThen = Callable[[Callable[[bool], Any]], Any]
"""Saves the preset (asking where), then calls its argument with whether it was saved."""


class QuitConfirmScreen(ModalScreen[str]):
    """Ask before quitting with unsaved or invalid edits: dismisses with "discard" or "cancel".

    Save asks where to save (``save``, by default the app's builder's ``action_save``) and then quits:
    it dismisses with "saved" and asks the app to quit again, which finds nothing unsaved. When the save
    is cancelled or fails, it dismisses with "cancel": the app stays, with the edits.
    """

    DEFAULT_CSS = """
    QuitConfirmScreen { align: center middle; }
    QuitConfirmScreen > Vertical {
        width: 64; max-width: 100%; height: auto; border: round $warning; background: $surface; padding: 0 1;
    }
    QuitConfirmScreen Horizontal { height: auto; margin: 1 0 0 0; }
    QuitConfirmScreen Button { margin: 0 1 0 0; }
    """

    BINDINGS = [
        Binding("s", "pick('save')", "Save", show=False),
        Binding("d", "pick('discard')", "Discard", show=False),
        Binding("escape,c", "pick('cancel')", "Cancel", show=False),
    ]

    def __init__(self, why: str, can_save: bool, save: Optional[SaveThen] = None) -> None:
        super().__init__()
        self.why = why
        self.can_save = can_save
        self._save = save

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Quit?"
            box.border_subtitle = ("s save and quit · " if self.can_save else "") + "d discard · esc cancel"
            yield Static(Text(self.why))
            with Horizontal():
                yield Button("Save and quit (s)", id="save", variant="primary", disabled=not self.can_save)
                yield Button("Discard (d)", id="discard", variant="error")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # enter keeps the work: the safe default

    def action_pick(self, choice: str) -> None:
        if choice == "save":
            save = self._saver()
            if self.can_save and save is not None:
                save(self._after_save)
            return
        self.dismiss(choice)

    def _saver(self) -> Optional[SaveThen]:
        if self._save is not None:
            return self._save
        builder = getattr(self.app, "builder", None)  # ui/app.py makes this screen without a saver
        return getattr(builder, "action_save", None)

    def _after_save(self, saved: bool) -> None:
        self.dismiss("saved" if saved else "cancel")
        if saved:  # the quit goes on: nothing is unsaved now, so the app asks nothing more
            self.app.call_later(self.app.action_quit)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_pick(str(event.button.id))
