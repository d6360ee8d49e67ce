"""What a lesson is: a base preset and its :class:`Variant` s, and what running one gave (:class:`LessonOutcome`).

The types only, so that :mod:`tui_trainer.lessons` (where the lessons are defined) and
:mod:`tui_trainer.lesson` (which lists and runs them) both import them and neither imports the other back.
A new lesson goes in :mod:`tui_trainer.lessons`: a :class:`Lesson` and its reading, added to ``LESSONS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from .compare import ComparedRun, load_runs

__all__ = ["Lesson", "LessonOutcome", "Variant"]


@dataclass(frozen=True)
class Variant:
    """One run of a lesson.

    Attributes:
        key: short name, the end of the run's preset name (``overfitting-dropout``).
        label: what the compare view calls it, e.g. ``dropout 0.5``.
        change: edits the base preset (a dict, as in the TOML) into this variant's.
        data: turns the base data set into this variant's (a subset, another pixel range), or None.
        data_note: what ``data`` did, in words, recorded as the run's data source.
        preset: a preset to start from instead of the lesson's base (by name).
    """

    key: str
    label: str
    change: Callable[[dict[str, Any]], None] = lambda raw: None
    data: Optional[Callable[[Any], Any]] = None
    data_note: str = ""
    preset: Optional[str] = None


@dataclass(frozen=True)
class Lesson:
    """A claim of the lesson, made runnable.

    Attributes:
        name: what ``tui-trainer lesson NAME`` takes.
        summary: one line for the list.
        base: the preset every variant starts from (by name).
        variants: the runs, in order.
        reading: writes the paragraph from the loaded runs (labelled with the variants' labels).
        metric: what the compare chart shows first.
        facts: extra rows of the compare table: (title, run -> text or None).
        epochs: the lesson's default epochs (None: the presets' own).
    """

    name: str
    summary: str
    base: str
    variants: tuple[Variant, ...]
    reading: Callable[[list[ComparedRun], "LessonOutcome"], str]
    metric: str = "val_loss"
    facts: tuple[tuple[str, Callable[[ComparedRun], Optional[str]]], ...] = ()
    epochs: Optional[int] = None


@dataclass
class LessonOutcome:
    """What :func:`run_lesson` did: the run folders, their variants' labels, the variants skipped and why."""

    lesson: str
    folders: list[Path] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def load(self) -> list[ComparedRun]:
        """The runs, loaded for comparing, each labelled with its variant's label."""
        runs = load_runs(self.folders)
        for run, label in zip(runs, self.labels):
            run.label = label
        return runs
