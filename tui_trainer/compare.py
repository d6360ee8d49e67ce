"""Comparing runs: load several run folders and put their early-stopping facts side by side.

Headless (no textual, no plotext): ``tui-trainer compare --no-ui`` prints
:func:`format_table` of :func:`facts_table`, and the compare screen draws the
same rows in a DataTable and the same :class:`~tui_trainer.runstate.RunState`
series in its chart.

The table has one row per fact and one column per run, so two or three runs
read side by side even on an 80-column terminal::

    fact            20260101-000000-relu  20260101-000100-sigmoid
    hidden layers   relu                  sigmoid x8
    stopped epoch   33                    —
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

from .presets import builtin_dir, load_file
from .runlog import EVENTS, LoadedRun, RunLogError, default_runs_dir, empty_run_message
from .runs import fold, liveness
from .runstate import RunState
from .setup import differences, format_value, group_repeats, labels_by_difference, setup_of
from .sources import load as load_source
from .verdict import num, percent, sci

__all__ = [
    "ComparedRun",
    "FACTS",
    "METRIC_ORDER",
    "available_metrics",
    "facts_table",
    "format_cell",
    "format_table",
    "hidden_activations",
    "load_runs",
    "metric_series",
    "GAP",
    "run_facts",
    "what_differs",
    "format_differences",
]

# The per-epoch quantities the compare chart cycles through, in this order, when logged.
METRIC_ORDER = ("loss", "val_loss", "accuracy", "val_accuracy")


@dataclass
class ComparedRun:
    """One run of a comparison.

    Attributes:
        id: The run folder's name, e.g. ``20260101-000000-relu``.
        label: What the legend and the table call it: what differs between the runs compared
            (``lr 0.01``), else the id, made unique within the comparison.
        path: The run folder.
        run: The folder read back (events, summary).
        state: The events folded into a RunState: what the chart draws.
    """

    id: str
    label: str
    path: Path
    run: LoadedRun
    state: RunState
    setup: dict[str, Any] = field(default_factory=dict)  # tui_trainer.setup.setup_of(state.started)


def _resolve(path: str | Path, runs_dir: Optional[Path]) -> Path:
    p = Path(path).expanduser()
    if p.is_file() and p.name == EVENTS:  # `compare runs/a/events.jsonl ...` means the folder
        return p.parent
    if not p.exists() and not p.is_absolute():
        # A bare run id, as `tui-trainer runs list` prints it.
        candidate = Path(runs_dir if runs_dir is not None else default_runs_dir()).expanduser() / p
        if candidate.is_dir():
            return candidate
    return p


def load_runs(paths: Sequence[str | Path], runs_dir: Optional[Path] = None,
              label_by_setup: bool = True) -> list[ComparedRun]:
    """Read the run folders to compare, in the order given.

    Args:
        paths: Run folders (or their events.jsonl, or bare run ids found in ``runs_dir``).
        runs_dir: Where bare run ids are looked up; default ``$TUI_TRAINER_RUNS`` or ``./runs``.
        label_by_setup: Label the runs by what differs in their setups (see
            :func:`tui_trainer.setup.labels_by_difference`); False: by run id.

    Raises:
        ValueError: fewer than two paths.
        RunLogError: a path is not a run folder, or its log holds no run yet; the one-line
            message starts with the path as given.
    """
    paths = list(paths)
    if len(paths) < 2:
        got = f"got only {paths[0]}" if paths else "got none"
        raise ValueError(f"compare needs at least two runs ({got}); pass two or more run folders")
    runs: list[ComparedRun] = []
    seen: dict[str, int] = {}
    for given in paths:
        d = _resolve(given, runs_dir)
        try:
            loaded = load_source(d)  # our run folder or a TensorBoard log
        except RunLogError as exc:
            # load_run names the resolved folder; say it with the path the user typed.
            raise RunLogError(str(exc).replace(str(d), str(given), 1)) from None
        except OSError as exc:
            raise RunLogError(f"{given}: can't read it ({exc.strerror or exc})") from None
        state = fold(loaded)
        if state.started is None:
            raise RunLogError(empty_run_message(given))
        run_id = loaded.dir.name
        n = seen.get(run_id, 0) + 1
        seen[run_id] = n
        label = run_id if n == 1 else f"{run_id} ({n})"
        runs.append(ComparedRun(id=run_id, label=label, path=loaded.dir, run=loaded, state=state,
                                setup=setup_of(state.started)))
    if label_by_setup:
        for run, text in zip(runs, labels_by_difference([r.setup for r in runs], [r.label for r in runs])):
            run.label = text
    return runs


def what_differs(runs: Sequence[ComparedRun]) -> list[tuple[str, list[str]]]:
    """The setup fields whose values differ between the runs, each with its value per run as text
    (``not recorded`` where a run's log doesn't hold it), e.g. ``("learning rate", ["0.001", "0.01"])``."""
    return [(key, [format_value(v) for v in values]) for key, values in differences([r.setup for r in runs])]


def format_differences(runs: Sequence[ComparedRun]) -> str:
    """The "what differs" section as text: one line per field, values in the runs' order."""
    diffs = what_differs(runs)
    if not diffs:
        return "What differs: nothing recorded differs between these runs."
    return "\n".join(["What differs:"] + [f"  {key}: {' | '.join(values)}" for key, values in diffs])


def hidden_activations(preset: dict[str, Any]) -> Optional[str]:
    """The activations of the hidden Dense layers, e.g. ``relu``, ``sigmoid x8``, ``relu x2, tanh``.

    Hidden means every Dense layer but the last (the output layer); Dropout has no activation.
    Consecutive equal activations are counted rather than repeated. ``none`` only for a model of one
    layer; None (shown ``?``) when the layers weren't recorded or no hidden Dense layer has one.
    """
    given = preset.get("layers") if isinstance(preset, dict) else None
    given = given if isinstance(given, (list, tuple)) else []  # a hand-edited log: anything may be here
    rows = [layer for layer in given if isinstance(layer, dict)]
    if not rows:
        return None  # no layers recorded: nothing to say, not "none"
    # A preset's rows say "dense", a Monitor's the Keras class name "Dense".
    dense = [layer for layer in rows if str(layer.get("type", "dense")).lower() == "dense"]
    hidden = [str(layer["activation"]) for layer in dense[:-1] if layer.get("activation") is not None]
    if not hidden:
        return "none" if len(rows) == 1 else None  # hidden layers that aren't Dense: see "what differs"
    return group_repeats(hidden)


# What makes a model "the built-in preset": the rest (name, seed, logging) changes no result.
_MODEL_FIELDS = ("data", "layers", "training", "early_stopping")


@functools.lru_cache(maxsize=16)
def _builtin_model(name: str) -> Optional[tuple[type, dict[str, Any]]]:
    """The built-in preset called ``name`` (its class and model fields), or None when there is none."""
    path = builtin_dir() / f"{name}.toml"
    try:
        if not path.is_file() or path.is_symlink():
            return None
        preset = load_file(path)
    except Exception:  # a broken install: say the name as recorded
        return None
    dumped = preset.model_dump(mode="json")
    return type(preset), {k: dumped.get(k) for k in _MODEL_FIELDS}


def preset_said(name: Optional[str], recorded: Any) -> Optional[str]:
    """The preset's name as the facts table says it: ``digits``, or ``digits (edited)`` when the run's
    model (layers, data, training, early stopping) is not the built-in preset of that name."""
    builtin = _builtin_model(name) if name and isinstance(recorded, dict) and recorded else None
    if builtin is None:
        return name
    cls, model = builtin
    try:
        dumped = cls.model_validate(recorded).model_dump(mode="json")
    except Exception:  # an old or hand-edited log: nothing to tell
        return name
    return name if all(dumped.get(k) == model[k] for k in _MODEL_FIELDS) else f"{name} (edited)"


def _test_accuracy(metrics: dict[str, float]) -> Optional[float]:
    if "accuracy" in metrics:
        return metrics["accuracy"]
    return next((v for k, v in metrics.items() if k.endswith("accuracy") and "top_k" not in k), None)


def run_facts(run: ComparedRun) -> dict[str, Any]:
    """The facts of one run, keyed by the titles in :data:`FACTS`, as plain values (None: not known)."""
    state = run.state
    started = state.started
    es = state.early_stopping
    if state.finished is not None:
        status = state.finished.status
        epochs_run = state.finished.epochs_run
    else:
        status = liveness(state, run.path)  # running, gone or stalled
        epochs_run = len(state.epochs)
    if es is not None:
        best_value = es.best_value
    else:
        best_value = next((e.best_value for e in reversed(state.epochs) if e.best_epoch is not None), None)
    preset = started.preset if started and started.preset else {"layers": list(started.layers) if started else []}
    test = state.finished.test_metrics if state.finished is not None else {}
    return {
        "preset": preset_said(started.preset_name, started.preset) if started else None,
        "hidden layers": hidden_activations(preset),
        "status": status,
        "epochs run": epochs_run,
        "monitor": started.monitor if started else None,
        "best epoch": state.best_epoch,
        "best value": best_value,
        "stopped epoch": state.stopped_epoch,
        "restored epoch": state.restored_epoch,
        "test accuracy": _test_accuracy(test or {}),
        "grad first/last, start": _ratio_at(state, first=True),
        "grad first/last, end": _ratio_at(state, first=False),
    }


def _ratio_at(state: RunState, first: bool) -> Optional[float]:
    """The first/last gradient-norm ratio before training (``first``) or at the last measured epoch."""
    _, ratios = state.grad_ratio_series()
    if not ratios:
        return None
    return ratios[0] if first else ratios[-1]


def _number(value: Any) -> str:
    return num(value) if isinstance(value, float) else str(value)


def _percent(value: Any) -> str:
    return percent(value, none=str(value))


# Every fact: its title (the row's name) and how it is shown; None shows as the third item.
FACTS: tuple[tuple[str, Callable[[Any], str], str], ...] = (
    ("preset", str, "?"),
    ("hidden layers", str, "?"),
    ("status", str, "?"),
    ("epochs run", str, "0"),
    ("monitor", str, "off"),  # early stopping off
    ("best epoch", str, "—"),
    ("best value", _number, "—"),
    ("stopped epoch", str, "did not stop"),
    ("restored epoch", str, "not restored"),
    ("test accuracy", _percent, "—"),
    ("grad first/last, start", sci, "not measured"),  # diagnostics.gradient_norms
    ("grad first/last, end", sci, "not measured"),
)
_FORMAT = {title: (fmt, none) for title, fmt, none in FACTS}


Fact = tuple[str, Callable[[ComparedRun], Optional[str]]]


def facts_table(runs: Sequence[ComparedRun], extra: Sequence[Fact] = ()) -> list[dict[str, Any]]:
    """The early-stopping facts of every run side by side: one row per fact, one column per run.

    Each row is ``{"fact": title, <run label>: value, ...}`` with the runs in the order given and
    plain values (ints, floats, strings; None when not known). Show a value with
    :func:`format_cell`. ``extra`` adds rows after these: (title, run -> text or None), e.g. a
    lesson's own measurements.
    """
    per_run = [(run.label, run_facts(run)) for run in runs]
    rows = []
    if any(run.label != run.id for run in runs):  # labelled by what differs: say which run is which
        rows.append({"fact": "run", **{run.label: run.id for run in runs}})
    for title, _, _ in FACTS:
        row: dict[str, Any] = {"fact": title}
        for label, facts in per_run:
            row[label] = facts[title]
        rows.append(row)
    for title, measure in extra:
        rows.append({"fact": title, **{run.label: measure(run) for run in runs}})
    return rows


def format_cell(fact: str, value: Any) -> str:
    """One value of the facts table as text: ``0.03035``, ``98.33%``, ``did not stop``."""
    fmt, none = _FORMAT.get(fact, (_number, "—"))
    return none if value is None else fmt(value)


def format_table(rows: Iterable[dict[str, Any]]) -> str:
    """The facts table as aligned plain text (no trailing newline), for a terminal or a test."""
    rows = list(rows)
    if not rows:
        return ""
    columns = list(rows[0].keys())
    cells = [columns] + [[str(row["fact"])] + [format_cell(row["fact"], row.get(c)) for c in columns[1:]]
                         for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ["  ".join(text.ljust(w) for text, w in zip(line, widths)).rstrip() for line in cells]
    return "\n".join(lines)


# A derived per-epoch quantity: how much worse the model does on data it did not train on. The
# overfitting lesson opens its chart on it.
GAP = "val_loss - loss"


def metric_series(state: RunState, name: str) -> tuple[list[int], list[float]]:
    """Epochs and values of a logged quantity, or of :data:`GAP` (val_loss minus loss, per epoch)."""
    if name != GAP:
        return state.series(name)
    xs, ys = [], []
    for e in state.epochs:
        v, t = e.metrics.get("val_loss"), e.metrics.get("loss")
        if v is not None and t is not None:
            xs.append(e.epoch)
            ys.append(v - t)
    return xs, ys


def available_metrics(runs: Iterable[ComparedRun]) -> list[str]:
    """The per-epoch quantities logged by at least one run: loss, val_loss, accuracy, val_accuracy first."""
    present: list[str] = []
    for run in runs:
        for e in run.state.epochs:
            for k in e.metrics:
                if k not in present and k != "learning_rate":
                    present.append(k)
    ordered = [m for m in METRIC_ORDER if m in present]
    return ordered + [m for m in present if m not in ordered]
