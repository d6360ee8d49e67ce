"""The five lessons: each claim of the lesson on hidden layers, as runs that differ in one thing.

Every reading is written from the measured numbers of the runs it is given; where
the numbers disagree with the lesson's claim, the reading says so. Everything runs
offline on scikit-learn's digits.

A new lesson: its variants' edits and its reading here, and a :class:`~.lessonbase.Lesson` in
``LESSONS``; ``tui-trainer lesson`` and the app's lessons screen list it from there.
"""

from __future__ import annotations

from typing import Any, Optional

from .compare import GAP, ComparedRun, metric_series, run_facts
from .lessonbase import Lesson, LessonOutcome, Variant
from .verdict import HEALTHY_RATIO, VANISHING_RATIO, num, percent

__all__ = ["LESSONS", "gap_series", "vanishing_reading"]

# --- measuring a run -------------------------------------------------------------------------------


def measured_accuracy(run: ComparedRun) -> Optional[float]:
    return run_facts(run)["test accuracy"]


def gap_series(run: ComparedRun) -> tuple[list[int], list[float]]:
    """val_loss minus loss per epoch: how much worse the model does on data it did not train on."""
    return metric_series(run.state, GAP)


def _min_val_loss(run: ComparedRun) -> tuple[Optional[int], Optional[float]]:
    xs, ys = run.state.series("val_loss")
    if not ys:
        return None, None
    i = min(range(len(ys)), key=ys.__getitem__)
    return xs[i], ys[i]


def _epochs(run: ComparedRun) -> int:
    return int(run_facts(run)["epochs run"] or 0)


def _first(run: ComparedRun, metric: str) -> Optional[float]:
    _, ys = run.state.series(metric)
    return ys[0] if ys else None


def _epochs_to(run: ComparedRun, metric: str, target: float) -> Optional[int]:
    xs, ys = run.state.series(metric)
    return next((x for x, y in zip(xs, ys) if y >= target), None)


def _n(count: int, noun: str) -> str:
    """``1 epoch``, ``3 epochs``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _points(a: float, b: float) -> str:
    """The difference of two accuracies in percentage points, signed: ``+1.39 points``."""
    return f"{100 * (a - b):+.2f} points"


def _by_label(runs: list[ComparedRun]) -> dict[str, ComparedRun]:
    return {run.label: run for run in runs}


def _skipped(outcome: Optional[LessonOutcome]) -> list[str]:
    return [f"The variant {label!r} was skipped: {why}." for label, why in (outcome.skipped if outcome else [])]


# --- hidden-layers ---------------------------------------------------------------------------------

DENSE = {"type": "dense", "activation": "relu"}
OUTPUT = {"type": "dense", "units": 10, "activation": "softmax"}


def _layers(*hidden: int):
    def change(raw: dict[str, Any]) -> None:
        raw["layers"] = [dict(DENSE, units=u) for u in hidden] + [dict(OUTPUT)]
    return change


def _first_layer_fact(run: ComparedRun) -> Optional[str]:
    started = run.state.started
    if not started or not started.layers:
        return None
    first = started.layers[0]
    shape = "x".join(str(d) for d in started.input_shape)
    return f"{first.get('units')} units on {shape}"


def hidden_layers_reading(runs: list[ComparedRun], outcome: Optional[LessonOutcome] = None) -> str:
    scored = [(run.label, measured_accuracy(run)) for run in runs]
    parts = []
    known = [(label, acc) for label, acc in scored if acc is not None]
    if known:
        parts.append("Test accuracy: " + ", ".join(f"{label} {percent(acc)}" for label, acc in known) + ".")
        for (la, a), (lb, b) in zip(known, known[1:]):
            change = (f"gained {_points(b, a)[1:]}" if b > a else f"lost {_points(a, b)[1:]}" if b < a
                      else "changed nothing")
            parts.append(f"Going from {la} to {lb} {change}.")
        best_label, best_acc = max(known, key=lambda r: r[1])
        if known[0][1] == best_acc:
            parts.append(f"Here {known[0][0]} did as well as any deeper model: on 8x8 digits the raw pixels "
                         "already separate the classes well, so the numbers do not show the benefit the lesson "
                         "claims.")
        elif best_label != known[-1][0]:
            parts.append(f"The deepest model was not the best: {best_label} was ({percent(best_acc)}), so on this "
                         "data the extra layer did not pay off.")
    parts.append("With no hidden layer the first layer is the output layer: each of its 10 units is a template "
                 "of one class. A hidden layer's units are new features the next layer combines; see them as "
                 "8x8 images with `tui-trainer results RUN` or the app's results view (v).")
    return " ".join(parts + _skipped(outcome))


# --- scaling ---------------------------------------------------------------------------------------


def _stretch(data):
    """digits' raw pixels are 0..16: stretch them to 0..255, the 8-bit range of MNIST's pixels."""
    import numpy as np

    factor = np.float32(255.0 / 16.0)
    x_train, x_test = data.x_train * factor, data.x_test * factor
    x_train.flags.writeable = x_test.flags.writeable = False
    import dataclasses

    return dataclasses.replace(data, x_train=x_train, x_test=x_test)


def _unscaled(raw: dict[str, Any]) -> None:
    raw["data"]["scale"] = False


TARGET_ACC = 0.9


def _epochs_to_target(run: ComparedRun) -> Optional[str]:
    e = _epochs_to(run, "val_accuracy", TARGET_ACC)
    return str(e) if e is not None else "never"


def _first_loss_fact(run: ComparedRun) -> Optional[str]:
    return num(_first(run, "loss"), none="—")


def scaling_reading(runs: list[ComparedRun], outcome: Optional[LessonOutcome] = None) -> str:
    by = _by_label(runs)
    raw, scaled = by.get("raw 0..255"), by.get("min-max 0..1")
    parts = []
    if raw is None or scaled is None:
        return " ".join(["Both variants are needed to compare scaling."] + _skipped(outcome))
    for run in (raw, scaled):
        e = _epochs_to(run, "val_accuracy", TARGET_ACC)
        best_e, best_v = _min_val_loss(run)
        parts.append(
            f"{run.label}: epoch-1 loss {num(_first(run, 'loss'))}, "
            + (f"{int(TARGET_ACC * 100)}% validation accuracy at epoch {e}" if e is not None else
               f"never reached {int(TARGET_ACC * 100)}% validation accuracy in {_n(_epochs(run), 'epoch')}")
            + f", best val_loss {num(best_v)} (epoch {best_e}), test accuracy {percent(measured_accuracy(run))}.")
    er = _epochs_to(raw, "val_accuracy", TARGET_ACC)
    es_ = _epochs_to(scaled, "val_accuracy", TARGET_ACC)
    ar, as_ = measured_accuracy(raw), measured_accuracy(scaled)
    target = f"{int(TARGET_ACC * 100)}% validation accuracy"
    if es_ is not None and (er is None or er > es_):
        parts.append(f"Scaled inputs reached {target} sooner ({es_} epochs against "
                     f"{er if er is not None else 'more than ' + str(_epochs(raw))}), as the lesson says.")
    elif er is not None and es_ is not None:
        parts.append(f"By epochs to {target} the two do not differ as the lesson says ({er} raw against {es_} "
                     "scaled).")
    _, vr = _min_val_loss(raw)
    _, vs = _min_val_loss(scaled)
    if vr is not None and vs is not None and vs > 0:
        if vr > vs:
            parts.append(f"But the raw run settled on a best val_loss {vr / vs:.1f}x the scaled run's "
                         f"({num(vr)} against {num(vs)}): it converged to a worse model.")
        else:
            parts.append(f"The raw run's best val_loss was no worse ({num(vr)} against {num(vs)}).")
    if ar is not None and as_ is not None:
        better = "scaled is better" if as_ > ar else ("raw is better, against the lesson" if ar > as_ else "a tie")
        parts.append(f"Test accuracy: scaled minus raw is {_points(as_, ar)} ({better}).")
    fr, fs = _first(raw, "loss"), _first(scaled, "loss")
    if fr is not None and fs is not None and fr > fs:
        parts.append(f"The first epoch's loss, {num(fr)} raw against {num(fs)} scaled, shows the cost: large inputs "
                     "make large first-layer activations, and the first steps go to undoing the scale.")
    return " ".join(parts + _skipped(outcome))


# --- overfitting -----------------------------------------------------------------------------------

SUBSET = 500  # training samples kept: 300 to fit, 200 to validate (validation_split 0.4)
WIDE = 256  # units of each of the two hidden layers: 84,000 weights for 300 images


def _subset(data):
    import dataclasses

    return dataclasses.replace(data, x_train=data.x_train[:SUBSET], y_train=data.y_train[:SUBSET])


def _wide(raw: dict[str, Any]) -> None:
    raw["layers"] = [dict(DENSE, units=WIDE), dict(DENSE, units=WIDE), dict(OUTPUT)]
    raw["data"]["validation_split"] = 0.4
    raw["training"]["learning_rate"] = 0.001
    raw["early_stopping"]["enabled"] = False


def _with_dropout(raw: dict[str, Any]) -> None:
    _wide(raw)
    drop = {"type": "dropout", "rate": 0.5}
    raw["layers"] = [raw["layers"][0], dict(drop), raw["layers"][1], dict(drop), raw["layers"][2]]


L2 = 1e-3


def _with_l2(raw: dict[str, Any]) -> None:
    _wide(raw)
    for layer in raw["layers"][:-1]:
        layer["l2"] = L2  # the dense layer's l2 field (newer builds); rejected where it does not exist


def _with_early_stopping(raw: dict[str, Any]) -> None:
    _wide(raw)
    raw["early_stopping"].update(enabled=True, patience=5, restore_best_weights=True)


def _last_gap(run: ComparedRun) -> Optional[float]:
    _, ys = gap_series(run)
    return ys[-1] if ys else None


def _kept_epoch(run: ComparedRun) -> Optional[int]:
    """The epoch whose weights the model ended with."""
    return run.state.restored_epoch or (_epochs(run) or None)


def _gap_at(run: ComparedRun, epoch: Optional[int]) -> Optional[float]:
    xs, ys = gap_series(run)
    return next((y for x, y in zip(xs, ys) if x == epoch), None)


def _kept_gap_fact(run: ComparedRun) -> Optional[str]:
    gap = _gap_at(run, _kept_epoch(run))
    return None if gap is None else f"{num(gap)} (epoch {_kept_epoch(run)})"


def _max_gap_fact(run: ComparedRun) -> Optional[str]:
    xs, ys = gap_series(run)
    if not ys:
        return None
    i = max(range(len(ys)), key=ys.__getitem__)
    return f"{num(ys[i])} (epoch {xs[i]})"


def overfitting_reading(runs: list[ComparedRun], outcome: Optional[LessonOutcome] = None) -> str:
    by = _by_label(runs)
    none = by.get("no remedy")
    parts = []
    rows = []
    for run in runs:
        kept = _kept_epoch(run)
        rows.append((run.label, kept, _gap_at(run, kept), measured_accuracy(run)))
    if none is not None:
        _, gaps = gap_series(none)
        if gaps:
            side = "above" if gaps[-1] >= 0 else "below"  # a short run can end with val_loss under loss
            parts.append(f"With no remedy, a network of two {WIDE}-unit layers on {SUBSET} digits (300 to fit) "
                         f"ended epoch {_epochs(none)} with val_loss {num(abs(gaps[-1]))} {side} loss "
                         f"(largest gap {num(max(gaps))}); test accuracy {percent(measured_accuracy(none))}.")
    base_gap = _gap_at(none, _kept_epoch(none)) if none is not None else None
    for label, kept, gap, acc in rows:
        if label == "no remedy" or gap is None:
            continue
        where = f"kept epoch {kept}'s weights" if label == "early stopping" else f"ended at epoch {kept}"
        text = f"{label.capitalize()} {where} with a gap of {num(gap)}, test accuracy {percent(acc)}"
        if base_gap is not None:
            text += (" — a narrower gap than no remedy" if gap < base_gap else
                     " — no narrower than no remedy: here it did not reduce overfitting")
        parts.append(text + ".")
    scored = [r for r in rows if r[3] is not None]
    gapped = [r for r in rows if r[2] is not None]
    if scored and gapped:
        top = max(r[3] for r in scored)
        best = [r[0] for r in scored if r[3] == top]
        least = min(gapped, key=lambda r: r[2])
        parts.append(f"Smallest gap: {least[0]} ({num(least[2])}); best test accuracy: {' and '.join(best)} "
                     f"({percent(top)}).")
        if none is not None and "no remedy" in best:
            parts.append(("No remedy tied for the best" if len(best) > 1 else "No remedy scored best")
                         + " on the test split here: a narrower gap did not buy test accuracy at this size and "
                         "length of training.")
    return " ".join(parts + _skipped(outcome))


# --- early-stopping --------------------------------------------------------------------------------


def _es(restore: bool, patience: int):
    def change(raw: dict[str, Any]) -> None:
        raw["early_stopping"].update(enabled=True, restore_best_weights=restore, patience=patience)
    return change


def early_stopping_reading(runs: list[ComparedRun], outcome: Optional[LessonOutcome] = None) -> str:
    by = _by_label(runs)
    off, on = by.get("restore off, patience 5"), by.get("patience 5")
    parts = []
    if off is not None and on is not None:
        a_off, a_on = measured_accuracy(off), measured_accuracy(on)
        last = _epochs(off)
        _, vals = off.state.series("val_loss")
        end_v = vals[-1] if vals else None
        best_e, best_v = _min_val_loss(off)
        parts.append(f"Without restoring, the model kept epoch {last}'s weights (val_loss {num(end_v)}; the best was "
                     f"{num(best_v)} at epoch {best_e}) and scored {percent(a_off)} on the test split; restoring "
                     f"the best weights scored {percent(a_on)}.")
        if a_off is not None and a_on is not None:
            diff = a_on - a_off
            n = on.state.started.n_test if on.state.started else 0
            images = f" ({round(abs(diff) * n)} of {n} test images)" if n else ""
            if diff > 0:
                parts.append(f"So restore_best_weights=True was worth {_points(a_on, a_off)}{images} of test "
                             "accuracy here.")
            elif diff == 0:
                parts.append("Here restoring made no difference to test accuracy: the last epochs' weights were "
                             "as good on the test split as the best epoch's.")
            else:
                parts.append(f"Here restoring cost {_points(a_off, a_on)[1:]}{images} of test accuracy: the best "
                             "val_loss "
                             "epoch was not the best on the test split (144 validation images are few); the "
                             "lesson's claim does not hold in this run.")
    pats = [(p, by.get(f"patience {p}")) for p in (2, 5, 10)]
    pats = [(p, r) for p, r in pats if r is not None]
    if pats:
        bits = []
        for p, run in pats:
            be, bv = _min_val_loss(run)
            bits.append(f"patience {p} ran {_n(_epochs(run), 'epoch')}, best val_loss {num(bv)} (epoch {be})")
        parts.append("; ".join(bits).capitalize() + ".")
        if len(pats) >= 2:
            (p0, r0), (p1, r1) = pats[0], pats[-1]
            _, v0 = _min_val_loss(r0)
            _, v1 = _min_val_loss(r1)
            more = _epochs(r1) - _epochs(r0)
            if v0 is not None and v1 is not None:
                if v1 < v0:
                    parts.append(f"Patience {p1} spent {_n(more, 'more epoch')} than patience {p0} and found a "
                                 "val_loss "
                                 f"lower by {num(v0 - v1)}.")
                else:
                    parts.append(f"Patience {p1} spent {_n(more, 'more epoch')} than patience {p0} without finding a "
                                 "lower val_loss: the extra patience bought nothing here.")
    return " ".join(parts + _skipped(outcome))


# --- vanishing-gradients ---------------------------------------------------------------------------


def _activation(run: ComparedRun) -> str:
    layers = (run.state.started.preset or {}).get("layers", []) if run.state.started else []
    hidden = [layer.get("activation") for layer in layers[:-1] if layer.get("type") == "dense"]
    return hidden[0] if hidden else "?"


def vanishing_reading(runs: list[ComparedRun], outcome: Optional[LessonOutcome] = None) -> str:
    """One paragraph saying what the vanishing-gradient numbers show, from the runs themselves."""
    rows = []
    for run in runs:
        _, ratios = run.state.grad_ratio_series()
        rows.append((_activation(run), ratios[0] if ratios else None, measured_accuracy(run)))
    if not rows:
        return ""
    measured = [r for r in rows if r[1] is not None]
    parts = []
    if measured:
        worst = min(measured, key=lambda r: r[1])
        healthy = [r for r in measured if r[1] >= HEALTHY_RATIO]
        parts.append(
            f"Before training, the first of 8 {worst[0]} layers got {worst[1]:.0e} of the output layer's gradient"
            + (f", while with {', '.join(r[0] for r in healthy)} it got "
               f"{min(r[1] for r in healthy):.2g} to {max(r[1] for r in healthy):.2g} of it." if healthy else ".")
        )
        if worst[1] < VANISHING_RATIO:
            parts.append(f"That is the vanishing gradient: {worst[0]}'s derivative is at most "
                         f"{'0.25' if worst[0] == 'sigmoid' else '1'} and shrinks the signal layer after layer, so "
                         "the layers near the input barely learn.")
        else:
            parts.append("No activation fell below the vanishing threshold "
                         f"({VANISHING_RATIO:.0e}) here, so these numbers do not show a vanishing gradient.")
    scored = [r for r in rows if r[2] is not None]
    if scored:
        best = max(scored, key=lambda r: r[2])
        low = min(scored, key=lambda r: r[2])
        parts.append(f"After training, {best[0]} reached {best[2]:.1%} test accuracy and {low[0]} {low[2]:.1%}.")
    tanh = next((r for r in measured if r[0] == "tanh"), None)
    if tanh is not None and tanh[1] >= HEALTHY_RATIO:
        parts.append("Tanh, zero-centred and with Glorot initialisation, does not vanish at this depth; "
                     "it saturates on larger inputs.")
    if measured and min(r[1] for r in measured) < VANISHING_RATIO:
        parts.append("This is why the lesson recommends ReLU (or Leaky ReLU / ELU) for hidden layers.")
    return " ".join(parts + _skipped(outcome))


def _grad_start(run: ComparedRun) -> Optional[str]:
    _, ratios = run.state.grad_ratio_series()
    return f"{ratios[0]:.1e}" if ratios else None


# --- the registry ----------------------------------------------------------------------------------

LESSONS: dict[str, Lesson] = {
    lesson.name: lesson
    for lesson in (
        Lesson(
            name="hidden-layers",
            summary="no hidden layer (softmax regression) vs one vs two: test accuracy and the first layer's "
                    "features",
            base="digits",
            variants=(Variant("0-hidden", "no hidden layer", _layers()),
                      Variant("1-hidden", "1 hidden layer", _layers(128)),
                      Variant("2-hidden", "2 hidden layers", _layers(128, 128))),
            reading=hidden_layers_reading,
            metric="val_accuracy",
            facts=(("first layer", _first_layer_fact),),
        ),
        Lesson(
            name="scaling",
            summary="the same model on raw 0..255 pixels vs min-max scaled to 0..1: loss curves and epochs to "
                    "converge",
            base="digits",
            variants=(Variant("raw", "raw 0..255", _unscaled, data=_stretch,
                              data_note="pixels stretched from 0..16 to 0..255 (MNIST's range)"),
                      Variant("scaled", "min-max 0..1")),
            reading=scaling_reading,
            metric="loss",
            facts=(("epoch-1 loss", _first_loss_fact),
                   (f"epochs to {int(TARGET_ACC * 100)}% val acc", _epochs_to_target)),
        ),
        Lesson(
            name="overfitting",
            summary="a wide network on a small training subset: no remedy vs Dropout vs L2 vs early stopping; "
                    "the train/val gap per epoch",
            base="digits",
            variants=(Variant("none", "no remedy", _wide, data=_subset, data_note=f"first {SUBSET} training samples"),
                      Variant("dropout", "dropout 0.5", _with_dropout, data=_subset,
                              data_note=f"first {SUBSET} training samples"),
                      Variant("l2", f"L2 {L2:g}", _with_l2, data=_subset,
                              data_note=f"first {SUBSET} training samples"),
                      Variant("early-stopping", "early stopping", _with_early_stopping, data=_subset,
                              data_note=f"first {SUBSET} training samples")),
            reading=overfitting_reading,
            metric=GAP,
            facts=(("gap at kept epoch", _kept_gap_fact), ("largest gap", _max_gap_fact)),
            epochs=40,
        ),
        Lesson(
            name="early-stopping",
            summary="restore_best_weights false vs true (test accuracy) and patience 2 / 5 / 10 (epochs spent vs "
                    "best val_loss)",
            base="digits",
            variants=(Variant("no-restore", "restore off, patience 5", _es(False, 5)),
                      Variant("patience-2", "patience 2", _es(True, 2)),
                      Variant("patience-5", "patience 5", _es(True, 5)),
                      Variant("patience-10", "patience 10", _es(True, 10))),
            reading=early_stopping_reading,
            metric="val_loss",
        ),
        Lesson(
            name="vanishing-gradients",
            summary="8 hidden layers of sigmoid, tanh, relu, leaky_relu, elu: the first layer's share of the "
                    "gradient",
            base="deep-relu",
            variants=tuple(Variant(p, p.removeprefix("deep-"), preset=p)
                           for p in ("deep-sigmoid", "deep-tanh", "deep-relu", "deep-leaky-relu", "deep-elu")),
            reading=vanishing_reading,
            metric="val_loss",
        ),
    )
}
