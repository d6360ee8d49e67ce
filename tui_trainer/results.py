"""What a run got right and wrong on its test split: saved by the engine, read by `results` and the app.

After evaluating, the engine calls :func:`save_predictions`: the run folder gets
``predictions.npz`` (test labels, predicted probabilities, the misclassified test
images, the first layer's weights; compressed, a few hundred kB at most) and
``preprocessing.json`` (how inputs were shaped and scaled, which ``predict`` repeats).
:func:`load_results` reads them back (or recomputes them from ``model.keras`` for
older runs) into :class:`Results`: the confusion matrix, per-class precision and
recall, the most confused pairs in words, and the first layer's features as images.

Headless: numpy only; keras only when recomputing (in a worker thread in the app).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .runlog import MODEL, PREDICTIONS, PREPROCESSING, PRESET, RunLogError, load_run
from .text import one_line, printable
from .verdict import num, percent
MAX_IMAGES = 300  # misclassified test images kept for the gallery...
MAX_IMAGE_BYTES = 2_000_000  # ...fewer when they are large (64x64 rgb: 162 of them)
MAX_UNITS = 256  # first-layer units (or filters) whose weights are kept
MAX_KERNEL_BYTES = 8_000_000
# Test inputs per call of the model when predicting: a few calls instead of model.predict, whose
# tf.function tracing and per-batch steps took 0.2 s for 10,000 MNIST images (1.5 % of a 2-epoch run),
# against 0.04 s; small enough that a CNN's activations stay in the low hundreds of MB.
PREDICT_CHUNK_BYTES = 4_000_000

__all__ = ["PREDICTIONS", "PREPROCESSING", "Results", "ResultsError", "load_results", "format_results",
           "save_predictions", "image_shape_for", "first_layer_features"]


class ResultsError(ValueError):
    """A run's results can't be shown; ``str()`` is one line naming the run and why."""


def image_shape_for(data: dict[str, Any], input_shape: tuple[int, ...]) -> Optional[tuple[int, int, int]]:
    """The (height, width, channels) of one input sample as an image, or None when it isn't one.

    Inputs kept whole are images as they are; flattened inputs of image data sets get their
    shape back from the data set (digits 8x8, MNIST 28x28, an image folder's ``image_size``).
    """
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) == 3:
        return input_shape  # type: ignore[return-value]
    if len(input_shape) == 2:
        return (input_shape[0], input_shape[1], 1)
    from .datasets import SOURCES, known_input_shape

    source = SOURCES.get(str(data.get("dataset")))
    if source is None or not source.images or len(input_shape) != 1:  # the source says whether it holds images
        return None

    shape = known_input_shape({**data, "flatten": False})
    if shape and len(shape) == 3 and math.prod(shape) == input_shape[0]:
        return tuple(int(d) for d in shape)  # type: ignore[return-value]
    side = math.isqrt(input_shape[0])
    return (side, side, 1) if side * side == input_shape[0] else None


def preprocessing_of(preset, data) -> dict[str, Any]:
    """What ``predict`` needs to prepare inputs as this run's training data was prepared."""
    import numpy as np

    spec = preset.data
    if data.scale_range is not None:
        raw = list(data.scale_range)
    else:  # unscaled: the inputs are the raw values; keep their range for image files
        raw = [float(np.min(data.x_train)), float(np.max(data.x_train))] if len(data.x_train) else [0.0, 1.0]
    dumped = spec.model_dump(mode="json")
    return {
        "dataset": data.name,
        "input_shape": [int(d) for d in data.input_shape],
        "image_shape": list(image_shape_for(dumped, data.input_shape) or []) or None,
        "flatten": bool(spec.flatten),
        "scale": data.scale_range is not None,
        "raw_range": raw,
        "class_names": [str(c) for c in (data.class_names or range(data.num_classes))],
    }


def save_predictions(model, data, preset, run_dir: Path, batch_size: int = 256, outputs=None) -> None:
    """Predict the test split and save what the results need in ``run_dir`` (called by the engine).

    Args:
        model: the trained keras model, with the weights the run ended with.
        data: the run's :class:`~tui_trainer.datasets.Dataset`.
        preset: the run's preset.
        run_dir: the run folder.
        batch_size: prediction batch size.
        outputs: the model's outputs for the test split when the caller has them (the engine's one
            forward pass, which gave its test metrics too); None: predicted here.
    """
    import io

    import numpy as np

    from .atomic import write_bytes_atomic

    prep = preprocessing_of(preset, data)
    arrays = _prediction_arrays(model, data.x_test, data.y_test, prep, batch_size, outputs)
    # Each file whole or not at all (a kill mid-write must not leave a cut file that reads as results).
    # A unique temporary name each (mkstemp), removed on a failure (a full disk), never a link followed.
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    write_bytes_atomic(run_dir / PREPROCESSING, (json.dumps(prep, indent=2) + "\n").encode(), run_file=True)
    write_bytes_atomic(run_dir / PREDICTIONS, buf.getvalue(), run_file=True)


def _prediction_arrays(model, x_test, y_test, prep: dict[str, Any], batch_size: int,
                       outputs=None) -> dict[str, Any]:
    import numpy as np

    probs = as_probabilities(predict_in_chunks(model, x_test, batch_size) if outputs is None else outputs)
    y_true = np.asarray(y_test).astype(np.int64)
    y_pred = probs.argmax(axis=1)
    per_image = math.prod(prep.get("image_shape") or [1])
    wrong = np.flatnonzero(y_pred != y_true)[:max(1, min(MAX_IMAGES, MAX_IMAGE_BYTES // per_image))]
    # y_pred from the float32 probabilities: float16 rounding can tie two close classes
    arrays: dict[str, Any] = {"y_true": y_true.astype(np.int32), "y_pred": y_pred.astype(np.int32),
                              "probs": probs.astype(np.float16), "wrong_index": wrong.astype(np.int32)}
    if prep.get("image_shape"):
        imgs = np.asarray(x_test)[wrong].reshape((len(wrong), *prep["image_shape"]))
        if not prep.get("scale"):  # raw values: bring them to 0..1 with the training range
            lo, hi = prep["raw_range"]
            imgs = (imgs - lo) / ((hi - lo) or 1.0)
        arrays["wrong_images"] = (np.clip(imgs, 0, 1) * 255).round().astype(np.uint8)
    kernel, name = _first_kernel(model)
    if kernel is not None:
        kernel = kernel[..., :MAX_UNITS]
    if kernel is not None and kernel.size * 2 <= MAX_KERNEL_BYTES:
        arrays["first_kernel"] = kernel.astype(np.float16)
        arrays["first_layer"] = np.array(name)
    return arrays


def predict_in_chunks(model, x, batch_size: int = 256):
    """The model's outputs for ``x`` as float32, the same values ``model.predict`` gives, called eagerly on
    chunks of about :data:`PREDICT_CHUNK_BYTES` (never fewer than ``batch_size`` samples)."""
    import numpy as np

    x = np.asarray(x)
    if len(x) == 0:  # one call on the empty array gives the (0, classes) shape (model.predict raises)
        return np.asarray(model(x, training=False), dtype=np.float32)
    chunk = max(batch_size, PREDICT_CHUNK_BYTES // max(1, x[:1].nbytes))
    return np.concatenate([np.asarray(model(x[i:i + chunk], training=False), dtype=np.float32)
                           for i in range(0, len(x), chunk)])


def as_probabilities(out):
    """Class probabilities from a model's outputs: softmax outputs as they are, logits (a linear output
    layer: negative values, or rows that don't sum to 1) through a softmax."""
    import numpy as np

    if out.ndim != 2 or not out.size or (out.min() >= 0 and np.allclose(out.sum(axis=1), 1, atol=1e-3)):
        return out
    z = out - out.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _first_kernel(model) -> tuple[Any, str]:
    """The first layer with a kernel (:func:`tui_trainer.model.has_kernel`): its weights and ``"name (Class)"``."""
    from .model import has_kernel  # the caller holds a Keras model: Keras is imported already

    for layer in model.layers:
        if has_kernel(layer, trainable=False):  # a frozen first layer is still worth seeing
            import numpy as np

            kernel = layer.kernel
            return np.asarray(kernel.numpy() if hasattr(kernel, "numpy") else kernel), \
                f"{layer.name} ({type(layer).__name__})"
    return None, ""


@dataclass
class Results:
    """A run's test predictions and what follows from them.

    Attributes:
        run_dir: the run folder.
        class_names: the name of each class number.
        y_true: the test labels.
        probs: predicted probabilities, one row per test sample.
        test_metrics: what ``model.evaluate`` returned.
        wrong_index: test indices of the misclassified samples kept (up to MAX_IMAGES).
        predicted: the predicted classes as saved (None: argmax of ``probs``).
        wrong_images: those samples as images, uint8 (N, H, W, C), or None for non-image data.
        first_kernel: the first layer's kernel, or None.
        first_layer: its name and class, e.g. ``dense_1 (Dense)``.
        image_shape: one input as an image (H, W, C), or None.
        recomputed: True when the predictions came from model.keras, not the run folder.
    """

    run_dir: Path
    class_names: list[str]
    y_true: Any
    probs: Any
    test_metrics: dict[str, float] = field(default_factory=dict)
    wrong_index: Any = None
    predicted: Any = None
    wrong_images: Any = None
    first_kernel: Any = None
    first_layer: str = ""
    image_shape: Optional[tuple[int, int, int]] = None
    recomputed: bool = False

    @property
    def y_pred(self):
        """The predicted class of each test sample."""
        return self.predicted if self.predicted is not None else self.probs.argmax(axis=1)

    @property
    def n_test(self) -> int:
        return int(len(self.y_true))

    def name(self, k: int) -> str:
        """Class ``k``'s name, safe to print: a class folder named with escape codes can't reach the terminal."""
        return printable(self.class_names[k]) if 0 <= k < len(self.class_names) else str(k)

    def confusion(self):
        """``m[i, j]``: test samples of class i predicted as j (rows sum to each class's support)."""
        import numpy as np

        n = max(len(self.class_names), int(self.probs.shape[1]))
        m = np.zeros((n, n), dtype=np.int64)
        np.add.at(m, (self.y_true.astype(np.int64), self.y_pred.astype(np.int64)), 1)
        return m

    def per_class(self) -> list[tuple[str, float, float, float, int]]:
        """(name, precision, recall, f1, support) per class, as scikit-learn's classification_report.

        A class never predicted has precision 0 (scikit-learn's ``zero_division`` default, without its
        warning); a class with no test samples has recall 0.
        """
        m = self.confusion()
        rows = []
        for k in range(len(m)):
            tp, predicted, support = int(m[k, k]), int(m[:, k].sum()), int(m[k].sum())
            p = tp / predicted if predicted else 0.0
            r = tp / support if support else 0.0
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            rows.append((self.name(k), p, r, f1, support))
        return rows

    def confused_pairs(self, top: int = 5) -> list[tuple[int, int, int, int]]:
        """The most frequent mistakes: (true class, predicted class, count, test samples of the true class)."""
        m = self.confusion()
        pairs = [(i, j, int(m[i, j]), int(m[i].sum())) for i in range(len(m)) for j in range(len(m))
                 if i != j and m[i, j]]
        pairs.sort(key=lambda p: (-p[2], p[0], p[1]))
        return pairs[:top]

    def pair_sentence(self, pair: tuple[int, int, int, int]) -> str:
        """``4 is read as 9 in 31 of 982 test images`` (samples, for data that are not images)."""
        i, j, count, support = pair
        what = "test images" if self.image_shape else "test samples"
        return f"{self.name(i)} is read as {self.name(j)} in {count} of {support} {what}"


def first_layer_features(res: Results, limit: Optional[int] = None) -> list[Any]:
    """The first layer's learned features as 2-D float arrays (weights; negative and positive).

    A Dense layer on image inputs: each unit's incoming weights in the input's shape (channels
    averaged). A Conv2D layer: each filter (kh, kw), averaged over its input channels. Empty when
    the first layer's weights aren't images (a Dense layer on tabular data) or weren't saved.
    """
    import numpy as np

    k = res.first_kernel
    if k is None:
        return []
    k = np.asarray(k, dtype=np.float32)
    if k.ndim == 4:  # Conv2D: (kh, kw, in, out)
        images = [k[:, :, :, u].mean(axis=2) for u in range(k.shape[3])]
    elif k.ndim == 2 and res.image_shape and k.shape[0] == math.prod(res.image_shape):
        h, w, c = res.image_shape
        images = [k[:, u].reshape(h, w, c).mean(axis=2) for u in range(k.shape[1])]
    else:
        return []
    return images[:limit] if limit else images


def load_results(run_dir: str | Path, *, recompute: bool = True) -> Results:
    """Read a run's saved predictions, or recompute them from model.keras and the preset's data.

    Raises:
        ResultsError: one line: not a run, a script's run (no test data), a failed run, no model.
    """
    run_dir = Path(run_dir)
    from .sources import is_foreign, not_our_run

    if is_foreign(run_dir):
        raise ResultsError(not_our_run(run_dir, "results"))
    try:
        run = load_run(run_dir)
    except RunLogError as exc:
        raise ResultsError(str(exc)) from None
    started = run.started
    if started is None:
        raise ResultsError(f"{run_dir}: not a run yet (no run_started event)")
    finished = run.finished
    metrics = dict(finished.test_metrics) if finished else {}
    prep = _read_prep(run_dir)
    names = [str(c) for c in (prep or {}).get("class_names") or started.class_names or range(started.num_classes)]
    shape = (prep or {}).get("image_shape") or image_shape_for((started.preset or {}).get("data") or {},
                                                              tuple(started.input_shape))
    if (run_dir / PREDICTIONS).is_file():
        import numpy as np

        try:
            with np.load(run_dir / PREDICTIONS, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except Exception as exc:  # a cut or corrupt file: say which
            raise ResultsError(f"{run_dir / PREDICTIONS}: can't read it ({one_line(exc)})") from None
        return _from_arrays(run_dir, arrays, names, metrics, shape, recomputed=False)
    if started.origin == "script":
        raise ResultsError(f"{run_dir}: recorded from a script, so tui-trainer has no test data for it; "
                           "results need a run trained from a preset")
    if finished is None:
        raise ResultsError(f"{run_dir}: still running (or killed); results come once it has finished")
    if finished.status == "failed":
        raise ResultsError(f"{run_dir}: the run failed ({finished.reason or 'see its events'}); it has no results")
    if not recompute:
        raise ResultsError(f"{run_dir}: recorded before results were saved; opening it recomputes them "
                           f"from {MODEL}")
    return _recompute(run_dir, names, metrics, shape)


def _read_prep(run_dir: Path) -> Optional[dict[str, Any]]:
    try:
        return json.loads((run_dir / PREPROCESSING).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _from_arrays(run_dir, arrays, names, metrics, shape, recomputed) -> Results:
    import numpy as np

    try:
        y_true, probs = arrays["y_true"].astype(np.int64), arrays["probs"].astype(np.float32)
    except KeyError as exc:
        raise ResultsError(f"{run_dir / PREDICTIONS}: no {exc.args[0]} array in it") from None
    if probs.ndim != 2 or len(probs) != len(y_true):
        raise ResultsError(f"{run_dir / PREDICTIONS}: probs has shape {probs.shape} for {len(y_true)} labels")
    names = names + [str(k) for k in range(len(names), probs.shape[1])]
    layer = arrays.get("first_layer")
    predicted = arrays.get("y_pred")
    if predicted is not None and predicted.shape != y_true.shape:
        predicted = None
    return Results(run_dir=run_dir, class_names=names, y_true=y_true, probs=probs, test_metrics=metrics,
                   predicted=predicted.astype(np.int64) if predicted is not None else None,
                   wrong_index=arrays.get("wrong_index"), wrong_images=arrays.get("wrong_images"),
                   first_kernel=arrays.get("first_kernel"), first_layer=str(layer) if layer is not None else "",
                   image_shape=tuple(shape) if shape else None, recomputed=recomputed)


def _recompute(run_dir: Path, names, metrics, shape) -> Results:
    """Predictions of an older run: its model.keras on its preset's data (imports keras)."""
    from .datasets import DataError, load_dataset
    from .spec import SpecError, load_preset_file

    if not (run_dir / MODEL).is_file():
        raise ResultsError(f"{run_dir}: no {MODEL} to recompute the results from (the run saved no model)")
    try:
        preset = load_preset_file(run_dir / PRESET)
        data = load_dataset(preset.data)
    except (SpecError, DataError) as exc:
        raise ResultsError(f"{run_dir}: can't recompute the results: {exc}") from None
    from .tfenv import quiet_tensorflow

    try:  # TensorFlow's native lines go to a scratch file: not on the terminal, nor over the app's screen
        with quiet_tensorflow():
            import keras

            model = keras.models.load_model(run_dir / MODEL)
            prep = preprocessing_of(preset, data)
            arrays = _prediction_arrays(model, data.x_test, data.y_test, prep, 256)
    except Exception as exc:
        raise ResultsError(f"{run_dir / MODEL}: can't recompute the results ({one_line(exc)})") from None
    return _from_arrays(run_dir, arrays, names or list(data.class_names), metrics,
                        prep.get("image_shape") or shape, recomputed=True)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
            for r in [header, *rows]]


def format_results(res: Results) -> str:
    """The results as text: test metrics, confusion matrix, per-class numbers, confusions, features."""
    lines = [f"Results of {printable(res.run_dir.name)} on {res.n_test} test samples"
             + (" (recomputed from model.keras)" if res.recomputed else "")]
    if res.test_metrics:
        lines.append("Test: " + "  ".join(
            f"{k} {percent(v) if k.endswith('accuracy') else num(v)}"
            for k, v in sorted(res.test_metrics.items(), key=lambda kv: (kv[0] != "loss", kv[0]))))
    m = res.confusion()
    lines += ["", "Confusion matrix (rows: true class, columns: predicted)"]
    short = [res.name(k)[:8] for k in range(len(m))]
    lines += ["  " + line for line in _table(["true \\ pred", *short],
                                             [[short[i], *(str(int(v)) for v in m[i])] for i in range(len(m))])]
    lines += ["", "Per class"]
    rows = [[name, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", str(s)] for name, p, r, f, s in res.per_class()]
    lines += ["  " + line for line in _table(["class", "precision", "recall", "f1", "support"], rows)]
    pairs = res.confused_pairs()
    lines += ["", "Most confused" if pairs else "No mistakes on the test split."]
    lines += [f"  {res.pair_sentence(p)}" for p in pairs]
    lines += ["", features_summary(res)]
    return "\n".join(lines)


def features_summary(res: Results) -> str:
    """One or two sentences on the first layer's weights."""
    import numpy as np

    if res.first_kernel is None:
        return "First layer: its weights were not saved."
    k = np.asarray(res.first_kernel, dtype=np.float32)
    feats = first_layer_features(res)
    where = f"{res.first_layer}: " if res.first_layer else ""
    if not feats:
        return (f"First layer {where}{k.shape[-1]} units on {k.shape[0]} input features (not images); "
                f"weights {num(float(k.min()))} to {num(float(k.max()))}.")
    h, w = feats[0].shape
    strength = np.array([float(np.abs(f).mean()) for f in feats])
    top = ", ".join(str(int(u) + 1) for u in np.argsort(-strength)[:3])
    what = "filters" if k.ndim == 4 else "units, each a weighting of the whole input"
    return (f"First layer {where}{len(feats)} {what}, drawn as {h}x{w} images in the app's results view (v); "
            f"weights {num(float(k.min()))} to {num(float(k.max()))}; the strongest "
            f"{'filters' if k.ndim == 4 else 'units'}: {top}.")
