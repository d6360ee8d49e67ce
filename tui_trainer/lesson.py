"""Lessons: several presets trained one after another, then read side by side.

``vanishing-gradients`` trains the same deep stack (8 hidden layers of 64 units,
on digits) with five activations and says, from the run logs, what the numbers show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from .compare import ComparedRun

LESSONS: dict[str, tuple[str, ...]] = {
    "vanishing-gradients": ("deep-sigmoid", "deep-tanh", "deep-relu", "deep-leaky-relu", "deep-elu"),
}


def run_lesson(
    name: str,
    *,
    epochs: Optional[int] = None,
    runs_dir: Optional[Path] = None,
    sink_for: Optional[Callable[[str], Callable]] = None,
    cancel=None,
) -> list[Path]:
    """Train every preset of a lesson, in order; returns the run folders.

    Args:
        name: a key of LESSONS.
        epochs: caps each preset's epochs (for a quick look, or a test).
        runs_dir: where the run folders go.
        sink_for: given a preset name, the sink that receives that run's events (a printer).
        cancel: a threading.Event that stops the current run and the lesson.
    """
    from . import presets
    from .engine import train

    folders = []
    for preset_name in LESSONS[name]:
        preset, path = presets.load(preset_name)
        if epochs is not None:
            preset = preset.with_overrides(epochs=epochs)
        result = train(preset, sink_for(preset_name) if sink_for else None, cancel, runs_dir=runs_dir,
                       source=str(path))
        folders.append(result.run_dir)
        if cancel is not None and cancel.is_set():
            break
    return folders


def _activation(run: ComparedRun) -> str:
    layers = (run.state.started.preset or {}).get("layers", []) if run.state.started else []
    hidden = [layer.get("activation") for layer in layers[:-1] if layer.get("type") == "dense"]
    return hidden[0] if hidden else "?"


def reading(runs: list[ComparedRun]) -> str:
    """One paragraph saying what the lesson's numbers show, from the runs themselves."""
    rows = []
    for run in runs:
        _, ratios = run.state.grad_ratio_series()
        start = ratios[0] if ratios else None
        test = (run.state.finished.test_metrics.get("accuracy") if run.state.finished else None)
        best = run.state.early_stopping.best_value if run.state.early_stopping else None
        rows.append((_activation(run), start, best, test))
    if not rows:
        return ""
    measured = [r for r in rows if r[1] is not None]
    parts = []
    if measured:
        worst = min(measured, key=lambda r: r[1])
        healthy = [r for r in measured if r[1] >= 0.1]
        parts.append(
            f"Before training, the first of 8 {worst[0]} layers got {worst[1]:.0e} of the output layer's gradient"
            + (f", while with {', '.join(r[0] for r in healthy)} it got "
               f"{min(r[1] for r in healthy):.2g} to {max(r[1] for r in healthy):.2g} of it." if healthy else ".")
        )
        if worst[1] < 1e-3:
            parts.append(f"That is the vanishing gradient: {worst[0]}'s derivative is at most "
                         f"{'0.25' if worst[0] == 'sigmoid' else '1'} and shrinks the signal layer after layer, so "
                         "the layers near the input barely learn.")
    scored = [r for r in rows if r[3] is not None]
    if scored:
        best = max(scored, key=lambda r: r[3])
        low = min(scored, key=lambda r: r[3])
        parts.append(f"After training, {best[0]} reached {best[3]:.1%} test accuracy and {low[0]} {low[3]:.1%}.")
    tanh = next((r for r in measured if r[0] == "tanh"), None)
    if tanh is not None and tanh[1] >= 0.1:
        parts.append("Tanh, zero-centred and with Glorot initialisation, does not vanish at this depth; "
                     "it saturates on larger inputs.")
    parts.append("This is why the lesson recommends ReLU (or Leaky ReLU / ELU) for hidden layers.")
    return " ".join(parts)
