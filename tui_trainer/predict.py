"""``tui-trainer predict RUN INPUT``: classify new samples with a run's model and its own preprocessing.

INPUT is an image file (png, jpg, ... read with Pillow), an ``.npz`` file with an
``x`` array, or a ``.csv`` file of samples (one row each; a header row is skipped).
Each sample is shaped and scaled as the run's training data was: reshaped to the
model's input, then min-max scaled with the training split's range (recorded in
the run's ``preprocessing.json``). Images are decoded to 0..255 (16-bit ones scaled, not clipped;
over 50 megapixels refused, see ``datasets.files.MAX_IMAGE_PIXELS``), and those pixels are
first mapped onto the range of the training data's raw values (digits: 0..16).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .datasets.csv import is_number
from .results import PREPROCESSING, as_probabilities, predict_in_chunks, preprocessing_of
from .runlog import MODEL, PRESET
from .text import one_line, printable

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


class PredictError(ValueError):
    """Bad input for predict; ``str()`` is one line naming the file and what is valid."""


@dataclass
class Prediction:
    """One sample's class and its most probable classes: ``[(name, probability), ...]``."""

    index: int
    label: str
    top: list[tuple[str, float]]


def read_preprocessing(run_dir: Path) -> dict[str, Any]:
    """The run's preprocessing.json, or, for older runs, the same worked out from its preset's data."""
    try:
        return json.loads((run_dir / PREPROCESSING).read_text(encoding="utf-8"))
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        raise PredictError(f"{run_dir / PREPROCESSING}: can't read it ({exc})") from None
    if not (run_dir / PRESET).is_file():
        raise PredictError(f"{run_dir}: no {PREPROCESSING} and no {PRESET} (a script's run?): "
                           "predict can't tell how its inputs were prepared")
    from .datasets import DataError, load_dataset
    from .spec import SpecError, load_preset_file

    try:
        preset = load_preset_file(run_dir / PRESET)
        return preprocessing_of(preset, load_dataset(preset.data))
    except (SpecError, DataError) as exc:
        raise PredictError(f"{run_dir}: can't tell its preprocessing: {exc}") from None


def read_input(path: Path, prep: dict[str, Any]):
    """The samples of ``path`` as a float array (N, *input_shape), preprocessed like the training data.

    Raises:
        PredictError: unreadable file, unknown kind, or samples of the wrong size.
    """
    import numpy as np

    if not path.is_file():
        raise PredictError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        x = _read_image(path, prep)
        lo, hi = prep["raw_range"]
        x = lo + x / 255.0 * (hi - lo)  # 8-bit pixels onto the training data's raw range
    elif suffix == ".npz":
        x = _read_npz(path)
    elif suffix == ".csv":
        x = _read_csv(path)
    else:
        raise PredictError(f"{path}: unknown kind of file; give an image ({', '.join(IMAGE_SUFFIXES[:3])}, ...), "
                           "an .npz file with an x array, or a .csv file of samples")
    input_shape = tuple(prep["input_shape"])
    size = math.prod(input_shape)
    image = prep.get("image_shape")
    if x.ndim == 0:
        raise PredictError(f"{path}: x is a single number; expected samples of {size} values")
    if x.shape == input_shape or (image and x.shape in (tuple(image), tuple(image[:2]))):
        x = x[np.newaxis]  # one sample
    if len(x) == 0:
        raise PredictError(f"{path}: no samples in it")
    if math.prod(x.shape[1:]) != size:
        want = f"{size} values ({'x'.join(map(str, image[:2]))} images)" if image else f"{size} values"
        raise PredictError(f"{path}: samples of shape {tuple(x.shape[1:])} ({math.prod(x.shape[1:])} values); "
                           f"this run's model takes {want} per sample")
    x = x.reshape((len(x), *input_shape)).astype(np.float32)
    if not np.isfinite(x).all():
        raise PredictError(f"{path}: holds NaN or infinite values")
    if prep.get("scale"):
        lo, hi = prep["raw_range"]
        x = (x - lo) / ((hi - lo) or 1.0)
    return x


def _read_image(path: Path, prep: dict[str, Any]):
    image = prep.get("image_shape")
    if not image:
        raise PredictError(f"{path}: this run was trained on {prep.get('dataset', 'data')} samples, not images; "
                           "give an .npz or .csv file of samples")
    try:
        import PIL  # noqa: F401
    except ImportError:  # pragma: no cover - Pillow comes with the package's dependencies
        raise PredictError(f"{path}: reading images needs Pillow (pip install pillow)") from None
    from .datasets.files import ImageError, decode_image  # the image folders' own decoder

    h, w, c = image
    try:
        x = decode_image(path, "L" if c == 1 else "RGB", (h, w))
    except ImageError as exc:
        raise PredictError(f"{path}: can't read it as an image ({exc})") from None
    return x.astype("float32").reshape(h, w, c)


def _read_npz(path: Path):
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            if "x" not in z.files:
                found = ", ".join(z.files) or "none"
                raise PredictError(f"{path}: no x array in it (found: {found}); save the samples as x")
            x = z["x"]
    except PredictError:
        raise
    except Exception as exc:
        raise PredictError(f"{path}: can't read it as an .npz file ({one_line(exc)})") from None
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise PredictError(f"{path}: x has dtype {x.dtype}; expected numbers")
    return x.astype(np.float64)


def _read_csv(path: Path):
    import numpy as np

    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [row for row in csv.reader(fh) if row and any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise PredictError(f"{path}: can't read it as CSV ({exc})") from None
    if rows and not any(is_number(c) for c in rows[0]):
        rows = rows[1:]  # a header row: names, no numbers
    if not rows:
        raise PredictError(f"{path}: no samples in it")
    width = len(rows[0])
    values = []
    for n, row in enumerate(rows, start=1):
        if len(row) != width:
            raise PredictError(f"{path}: sample {n} has {len(row)} values, the first has {width}")
        bad = next((c for c in row if not is_number(c)), None)
        if bad is not None:
            raise PredictError(f"{path}: sample {n} holds {bad.strip()[:20]!r}, not a number")
        values.append([float(c) for c in row])
    return np.asarray(values, dtype=np.float64)


def predict(run_dir: str | Path, input_path: str | Path, top: int = 3) -> list[Prediction]:
    """Classify every sample of ``input_path`` with the run's model.

    Raises:
        PredictError: one line: not a run with a model, bad input.
    """
    import numpy as np

    run_dir, input_path = Path(run_dir), Path(input_path)
    from .sources import is_foreign, not_our_run

    if is_foreign(run_dir):
        raise PredictError(not_our_run(run_dir, "predict"))
    if not (run_dir / MODEL).is_file():
        raise PredictError(f"{run_dir}: no {MODEL} in it; give a run folder of a finished run"
                           if run_dir.is_dir() else f"{run_dir}: no such run folder")
    prep = read_preprocessing(run_dir)
    x = read_input(input_path, prep)
    from .tfenv import quiet_tensorflow

    # TensorFlow's native lines (CUDA probes, op determinism) go to a scratch file, not under the answer.
    with quiet_tensorflow():
        import keras

        try:
            model = keras.models.load_model(run_dir / MODEL)
        except Exception as exc:
            raise PredictError(f"{run_dir / MODEL}: can't load the model ({type(exc).__name__})") from None
        probs = as_probabilities(predict_in_chunks(model, x).astype(np.float64))
    names = [printable(n) for n in prep.get("class_names") or []]  # folder names: no escape codes printed
    names += [str(k) for k in range(len(names), probs.shape[1])]
    out = []
    for i, p in enumerate(probs):
        order = np.argsort(-p)[:top]
        out.append(Prediction(i + 1, names[int(order[0])], [(names[int(k)], float(p[k])) for k in order]))
    return out


def format_predictions(preds: list[Prediction], source: Optional[str] = None) -> str:
    """One line per sample: ``sample 1: 3  (3 97.12%, 8 1.50%, 5 0.90%)``."""
    from .verdict import percent

    width = len(str(len(preds)))
    return "\n".join(f"sample {p.index:>{width}}: {p.label}  ("
                     + ", ".join(f"{name} {percent(prob)}" for name, prob in p.top) + ")" for p in preds)
