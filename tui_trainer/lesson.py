"""Lessons: a few presets that differ in one thing, trained one after another, then read side by side.

A :class:`Lesson` is a base preset and its :class:`Variant` s (each an edit of the
base preset, and perhaps of its data), the metric its compare view opens on, the
facts it adds to the compare table, and a ``reading``: a paragraph written from the
*measured* numbers of the runs (see :mod:`tui_trainer.lessons`, where the five are
defined). ``tui-trainer lesson`` lists them; ``tui-trainer lesson NAME`` runs one.

This module lists and runs lessons; the types live in :mod:`tui_trainer.lessonbase` and the lessons
themselves in :mod:`tui_trainer.lessons`, so the three import in one direction only.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Callable, Optional

from .compare import ComparedRun
from .lessonbase import Lesson, LessonOutcome, Variant
from .lessons import LESSONS, vanishing_reading

__all__ = ["Lesson", "LessonOutcome", "Variant", "LESSONS", "get_lesson", "run_lesson", "reading"]


def get_lesson(name: str) -> Lesson:
    """The lesson called ``name``.

    Raises:
        KeyError: with a one-line message naming the lessons there are.
    """
    if name not in LESSONS:
        raise KeyError(f"{name}: no such lesson; choose one of {', '.join(LESSONS)}")
    return LESSONS[name]


def variant_preset(lesson: Lesson, variant: Variant, epochs: Optional[int] = None):
    """The validated preset of one variant.

    Raises:
        SpecError: the variant asks for something this build's spec rejects (e.g. a field of a newer build).
    """
    from . import presets
    from .spec import parse_preset

    base, _ = presets.load(variant.preset or lesson.base)
    raw = copy.deepcopy(base.model_dump(mode="json"))
    if variant.preset is None:
        raw["name"] = f"{lesson.name}-{variant.key}"
        raw["description"] = f"Lesson {lesson.name}: {variant.label}."
    if lesson.epochs is not None:
        raw["training"]["epochs"] = lesson.epochs
    variant.change(raw)
    if epochs is not None:
        raw["training"]["epochs"] = epochs
    return parse_preset(raw, source=f"lesson {lesson.name}, variant {variant.label}")


def variant_data(preset, variant: Variant):
    """The data set of one variant: the preset's, changed by the variant (None: the engine loads it)."""
    if variant.data is None:
        return None
    from .datasets import load_dataset

    data = variant.data(load_dataset(preset.data))
    note = f"{data.source}, {variant.data_note}" if variant.data_note else data.source
    return dataclasses.replace(data, source=note)


def run_lesson(
    name: str,
    *,
    epochs: Optional[int] = None,
    runs_dir: Optional[Path] = None,
    sink_for: Optional[Callable[[str], Callable]] = None,
    cancel=None,
) -> LessonOutcome:
    """Train every variant of a lesson, in order.

    Args:
        name: a lesson's name (see LESSONS).
        epochs: caps each variant's epochs (for a quick look, or a test).
        runs_dir: where the run folders go.
        sink_for: given a variant's label, the sink that receives that run's events (a printer).
        cancel: a threading.Event that stops the current run and the lesson.

    A variant whose preset this build rejects (a field from a newer build) is skipped, with the
    reason in ``skipped``; the others still run.
    """
    from .engine import train
    from .spec import SpecError

    lesson = get_lesson(name)
    outcome = LessonOutcome(lesson.name)
    for variant in lesson.variants:
        try:
            preset = variant_preset(lesson, variant, epochs)
        except SpecError as exc:
            why = exc.message.split(" (check")[0].split(" (and")[0]
            outcome.skipped.append((variant.label, f"this build's presets reject it ({exc.field}: {why})"))
            continue
        data = variant_data(preset, variant)
        result = train(preset, sink_for(variant.label) if sink_for else None, cancel, runs_dir=runs_dir,
                       source=f"lesson {lesson.name}", data=data)
        outcome.folders.append(result.run_dir)
        outcome.labels.append(variant.label)
        if cancel is not None and cancel.is_set():
            break
    return outcome


def reading(runs: list[ComparedRun], outcome: Optional[LessonOutcome] = None) -> str:
    """The vanishing-gradients lesson's paragraph (kept here for callers of the first lesson)."""
    return vanishing_reading(runs, outcome)
