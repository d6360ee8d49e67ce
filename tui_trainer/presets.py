"""Find built-in and user presets by name or path."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .inputs import MAX_PRESET_BYTES, file_problem
from .spec import Preset, SpecError, load_preset_file

DEFAULT_PRESET = "digits"


def builtin_dir() -> Path:
    """Folder of the built-in presets.

    In a wheel they ship as ``tui_trainer/_presets``; in a source checkout (or an
    editable install) they are the top-level ``presets/`` folder.
    """
    packaged = Path(__file__).parent / "_presets"
    if packaged.is_dir():
        return packaged
    return Path(__file__).parent.parent / "presets"


def user_dir() -> Path:
    """Folder of the user's own presets: ``$TUI_TRAINER_PRESETS`` or the XDG config folder."""
    env = os.environ.get("TUI_TRAINER_PRESETS")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or "~/.config"
    return Path(base).expanduser() / "tui-trainer" / "presets"


@dataclass(frozen=True)
class PresetEntry:
    """A preset file found on disk."""

    name: str
    path: Path
    origin: str  # "built-in" or "user"
    shadows: Optional[Path] = None  # a user preset named like a built-in one: the built-in file it replaces


def available() -> list[PresetEntry]:
    """Built-in presets, then the user's; a user preset with a built-in's name shadows it (``shadows``)."""
    found: dict[str, PresetEntry] = {}
    for origin, folder in (("built-in", builtin_dir()), ("user", user_dir())):
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                before = found.get(path.stem)
                shadows = before.path if before is not None and before.origin == "built-in" else None
                found[path.stem] = PresetEntry(path.stem, path, origin, shadows)
    return sorted(found.values(), key=lambda e: (e.origin != "built-in", e.name))


def shadowed(path: Path) -> Optional[Path]:
    """The built-in preset file that the user preset at ``path`` replaces (same name), or None."""
    for entry in available():
        if entry.shadows is not None and entry.path == path:
            return entry.shadows
    return None


def resolve(name_or_path: str | None) -> Path:
    """Path of a preset given by name (built-in or user) or by file path.

    Raises:
        SpecError: if nothing matches; the message lists the names that exist.
    """
    ref = name_or_path or DEFAULT_PRESET
    as_path = Path(ref).expanduser()
    looks_like_path = ref.endswith(".toml") or os.sep in ref or "/" in ref
    if as_path.is_file():
        return as_path
    if as_path.exists() and not as_path.is_dir():  # a device, FIFO or socket: load_file says which
        return as_path
    if looks_like_path:
        raise SpecError("no such preset file", source=ref)
    for entry in available():
        if entry.name == ref:
            return entry.path
    names = ", ".join(e.name for e in available()) or "(none found)"
    raise SpecError(f"no preset of that name; choose one of {names}, or give a path to a .toml file", source=ref)


def load(name_or_path: str | None) -> tuple[Preset, Path]:
    """Load and validate a preset by name or path; returns the preset and its file."""
    path = resolve(name_or_path)
    return load_file(path), path


def load_file(path: str | Path) -> Preset:
    """Read and validate a preset file, refusing devices, FIFOs, sockets and files over 1 MB first.

    Raises:
        SpecError: one line naming the file and what is wrong.
    """
    problem = file_problem(Path(path).expanduser(), max_bytes=MAX_PRESET_BYTES, what="a preset (.toml) file")
    if problem:
        raise SpecError(problem, source=str(path))
    try:
        return load_preset_file(path)
    except RecursionError:  # arrays nested a hundred thousand deep
        raise SpecError("not valid TOML: nested too deeply", source=str(path)) from None


def load_for_training(
    ref: str | Path | None, *, epochs: int | None = None, seed: int | None = None, data_path: str | None = None
) -> tuple[Preset, Path, list[str]]:
    """The preset ``train`` runs: by name or path (a run's preset.toml for ``--replay``), with the overrides.

    Returns:
        ``(preset, its file, warnings)``; a warning says when ``data_path`` does not apply to the
        preset's data set (digits takes no path).

    Raises:
        SpecError: the preset can't be found, read or validated.
    """
    from .datasets import SOURCES, get_source

    if isinstance(ref, Path):
        spec, path = load_file(ref), ref
    else:
        spec, path = load(ref)
    if epochs is not None or seed is not None or data_path is not None:
        spec = spec.with_overrides(epochs=epochs, seed=seed, data_path=data_path)
    warnings = []
    if data_path is not None and "path" not in get_source(spec.data.dataset).options:
        takes = ", ".join(name for name, source in SOURCES.items() if "path" in source.options)
        warnings.append(f"--data-path {data_path} is ignored: the data set '{spec.data.dataset}' takes no path "
                        f"(it applies to {takes})")
    return spec, path, warnings
