"""Data sets and the lesson's preprocessing: reshape to vectors, min-max scale to 0..1.

``load_dataset(spec)`` turns a :class:`~tui_trainer.spec.DataSpec` into a
:class:`Dataset` of float32 features and int64 labels, whatever the source:

* ``digits``: scikit-learn's 8x8 digits, shipped with scikit-learn (always offline);
* ``mnist`` / ``fashion_mnist``: an mnist.npz-style file or a folder of the four
  IDX files given as ``path``; for Fashion-MNIST Debian's ``dataset-fashion-mnist``
  folder; else Keras's own download (cached in ``~/.keras/datasets``);
* ``npz`` / ``csv``: the user's own data.

Every failure is a :class:`DataError` whose ``str()`` is one line naming the data
set, the absolute path it looked at and, when the data is missing, what to do
offline. This module never imports textual or plotext, and imports keras only
in the one branch that downloads.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
import pickle
import socket
import struct
import threading
import warnings
import zipfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable, Optional

import numpy as np

from tui_trainer.spec import DataSpec

# Debian's `dataset-fashion-mnist` package puts the four IDX .gz files here.
# A module constant so tests can point it at a folder of their own.
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"

# The four IDX files of an MNIST-style folder, by the key they fill.
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")

# Seconds a socket may stall during Keras's download before it gives up:
# without it an unreachable mirror can hang the trainer for minutes.
DOWNLOAD_TIMEOUT_S = 30

# The held-out test split is drawn with this fixed seed, independent of the
# training seed, so that runs with different seeds are scored on the same data.
SPLIT_SEED = 0

_IDX_MAGIC_LABELS = 0x00000801  # unsigned bytes, 1 dimension
_IDX_MAGIC_IMAGES = 0x00000803  # unsigned bytes, 3 dimensions
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"

_CACHE_SIZE = 4  # a 60k-image set is ~190 MB as float32: keep only a few


class DataError(Exception):
    """A data set can't be had.

    ``str()`` is ONE line: it names the data set, where it looked (absolute
    paths) and, for missing data, the offline alternatives.

    Attributes:
        dataset: the data set's name (``spec.dataset``).
        where: the file, folder or cache it looked at, if any.
    """

    def __init__(self, message: str, *, dataset: str | None = None, where: str | None = None):
        # One line, whatever the wrapped exception's text looked like.
        message = " ".join(str(message).split("\n"))
        self.dataset = dataset
        self.where = where
        super().__init__(message)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded, preprocessed data set.

    The arrays are read-only: the same object is handed out again from the
    in-process cache, so nobody may change it in place.

    Attributes:
        name: the data set, e.g. ``"digits"``, ``"mnist"``, ``"npz"``.
        source: where it came from, e.g. ``"scikit-learn"`` or an absolute path.
        x_train: float32 features, preprocessed.
        y_train: int64 class labels ``0..num_classes-1``.
        x_test: float32 features, preprocessed like ``x_train``.
        y_test: int64 class labels.
        num_classes: number of classes.
        input_shape: per-sample shape, e.g. ``(784,)``, or ``(28, 28)`` unflattened.
        scale_range: the training split's ``(min, max)`` used for min-max
            scaling, ``None`` if not scaled.
    """

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    input_shape: tuple[int, ...]
    scale_range: Optional[tuple[float, float]]

    def describe(self) -> str:
        """One line for logs and the UI, e.g. ``mnist (…): 60000 train / 10000 test, input (784,), 10 classes``."""
        scaled = (
            f", scaled from {self.scale_range[0]:g}..{self.scale_range[1]:g}" if self.scale_range is not None else ""
        )
        return (
            f"{self.name} ({self.source}): {len(self.x_train)} train / {len(self.x_test)} test, "
            f"input {self.input_shape}, {self.num_classes} classes{scaled}"
        )

    def __repr__(self) -> str:  # the default would print whole arrays
        return f"Dataset({self.describe()})"


# --- public entry point ----------------------------------------------------------------------------

_cache: "OrderedDict[Hashable, Dataset]" = OrderedDict()
_cache_lock = threading.Lock()


def load_dataset(spec: DataSpec) -> Dataset:
    """Load and preprocess the data set a spec describes.

    The result is cached in-process, keyed by the fields that change it and
    the modification time of its file(s), so a UI that trains again and again
    does not reload 60 000 images; the same :class:`Dataset` object comes back.

    Args:
        spec: which data set, where, and how to preprocess it.

    Returns:
        The data set, float32 features and int64 labels.

    Raises:
        DataError: the data can't be found, read or understood (one line).
    """
    key = _cache_key(spec)
    # One lock for the whole load: two threads asking for the same data set
    # wait for one load instead of doing it twice.
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
        dataset = _load_uncached(spec)
        _cache[key] = dataset
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return dataset


def clear_cache() -> None:
    """Forget every cached data set (frees their memory once nobody holds them)."""
    with _cache_lock:
        _cache.clear()


# --- cache key -------------------------------------------------------------------------------------


def _abspath(path: str | os.PathLike[str]) -> Path:
    # Absolute but not resolved: messages show the path the user gave, made absolute.
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def _fingerprint(path: Path) -> Hashable:
    """mtime and size of a file, or of every entry of a folder; None if absent."""
    try:
        if path.is_dir():
            entries = []
            for child in sorted(path.iterdir()):
                st = child.stat()
                entries.append((child.name, st.st_mtime_ns, st.st_size))
            return tuple(entries)
        st = path.stat()
        return (st.st_mtime_ns, st.st_size)
    except OSError:
        return None


def _cache_key(spec: DataSpec) -> Hashable:
    # digits ignores path: don't let a stray --data-path make a second copy.
    path = _abspath(spec.path) if spec.path and spec.dataset != "digits" else None
    where: Hashable = (str(path), _fingerprint(path)) if path is not None else None
    if path is None and spec.dataset == "fashion_mnist":
        debian = _abspath(DEBIAN_FASHION_MNIST)
        where = ("debian", str(debian), _fingerprint(debian))
    splits_itself = spec.dataset in ("digits", "npz", "csv")  # mnist files bring their own test split
    return (
        spec.dataset,
        where,
        spec.flatten,
        spec.scale,
        spec.test_split if splits_itself else None,
        spec.label_column if spec.dataset == "csv" else None,
    )


# --- loading ---------------------------------------------------------------------------------------


@dataclass
class _Raw:
    """Arrays as read, before preprocessing; ``origin`` names each key's file (and key) for messages."""

    arrays: dict[str, np.ndarray]
    origin: dict[str, str]
    source: str
    num_classes: int


def _fail(name: str, where: str | os.PathLike[str] | None, what: str, hint: str = "") -> DataError:
    head = f"Data set '{name}'" + (f" ({where})" if where else "")
    text = f"{head}: {what}"
    if hint:
        text += " " + hint
    return DataError(text, dataset=name, where=str(where) if where else None)


def _offline_hint(name: str) -> str:
    if name == "mnist":
        return (
            "Offline: pass --data-path (data.path in a preset) to an mnist.npz file or a folder of the four "
            "IDX .gz files, or use the built-in 'digits' data set."
        )
    if name == "fashion_mnist":
        return (
            "Offline: `apt-get install dataset-fashion-mnist` "
            f"(no IDX files found in {_abspath(DEBIAN_FASHION_MNIST)}), pass "
            "--data-path (data.path in a preset) to a fashion-mnist .npz file or a folder of the four IDX .gz files, "
            "or use the built-in 'digits' data set."
        )
    return "Check the path (--data-path, or data.path in a preset), or use the built-in 'digits' data set."


def _load_uncached(spec: DataSpec) -> Dataset:
    name = spec.dataset
    if name == "digits":
        raw = _load_digits(spec)
    elif name in ("mnist", "fashion_mnist"):
        raw = _load_mnist_like(spec)
    elif name in ("npz", "csv"):
        raw = _load_user(spec)
    else:  # pragma: no cover - the spec's Literal keeps this out
        raise _fail(name, None, "unknown data set; choose digits, mnist, fashion_mnist, npz or csv.")
    return _preprocess(name, raw, spec)


def _split(
    name: str, where: str, x: np.ndarray, y: np.ndarray, test_split: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out ``test_split`` of the samples with a fixed permutation (``SPLIT_SEED``)."""
    n = len(x)
    if n < 2:
        plural = "s" if n != 1 else ""
        raise _fail(name, where, f"has {n} sample{plural}; at least 2 are needed to hold out a test split.")
    n_test = min(max(int(round(n * test_split)), 1), n - 1)
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def _load_digits(spec: DataSpec) -> _Raw:
    from sklearn.datasets import load_digits  # lazily: scikit-learn takes a moment to import

    try:
        digits = load_digits()
    except Exception as exc:  # a broken scikit-learn install, not bad data: still one line
        raise _fail("digits", "scikit-learn", f"could not be loaded ({_short(exc)}).") from None
    # images is (N, 8, 8): flattening stays the lesson's reshape, as for MNIST.
    x = np.asarray(digits.images)
    y = _check_labels("digits", "scikit-learn", np.asarray(digits.target), len(x), num_classes=10)
    x_train, y_train, x_test, y_test = _split("digits", "scikit-learn", x, y, spec.test_split)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    return _Raw(arrays, {k: "scikit-learn" for k in arrays}, "scikit-learn", 10)


def _load_mnist_like(spec: DataSpec) -> _Raw:
    name = spec.dataset
    if spec.path:
        path = _abspath(spec.path)
        if path.is_dir():
            arrays, origin = _read_idx_folder(name, path)
        elif path.is_file():
            arrays, origin = _read_npz(name, path, (MNIST_KEYS,))
        else:
            raise _fail(name, path, "no such file or folder.", _offline_hint(name))
        source = str(path)
    elif name == "fashion_mnist" and _has_idx_files(_abspath(DEBIAN_FASHION_MNIST)):
        folder = _abspath(DEBIAN_FASHION_MNIST)
        arrays, origin = _read_idx_folder(name, folder)
        source = str(folder)
    else:
        arrays, origin, source = _load_from_keras(name)

    for key in ("x_train", "x_test"):
        arrays[key] = _check_mnist_images(name, origin[key], arrays[key])
    for xk, yk in (("x_train", "y_train"), ("x_test", "y_test")):
        arrays[yk] = _check_labels(name, origin[yk], arrays[yk], len(arrays[xk]), num_classes=10)
    return _Raw(arrays, origin, source, 10)


def _check_mnist_images(name: str, where: str, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 2 and x.shape[1] == 28 * 28:
        # Some exports store flat rows: make them 28x28 so flatten=False means the same everywhere.
        x = x.reshape(len(x), 28, 28)
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise _fail(name, where, f"images have shape {x.shape}; expected (N, 28, 28) or (N, 784).")
    if x.dtype.kind not in "biuf":
        raise _fail(name, where, f"images have dtype {x.dtype}; expected numbers (uint8 pixels).")
    if len(x) == 0:
        raise _fail(name, where, "has no images.")
    return x


def _load_user(spec: DataSpec) -> _Raw:
    name = spec.dataset
    assert spec.path  # DataSpec requires it for npz and csv
    path = _abspath(spec.path)
    if not path.exists():
        raise _fail(name, path, "no such file.", _offline_hint(name))
    if path.is_dir():
        raise _fail(name, path, f"is a folder; expected a .{name} file.", _offline_hint(name))

    if name == "npz":
        arrays, origin = _read_npz(name, path, (MNIST_KEYS, ("x", "y")))
        if "x" in arrays:
            x = _check_features(name, origin["x"], arrays["x"])
            y = _check_labels(name, origin["y"], arrays["y"], len(x))
            arrays = dict(zip(MNIST_KEYS, _split(name, str(path), x, y, spec.test_split)))
            origin = {"x_train": origin["x"], "x_test": origin["x"], "y_train": origin["y"], "y_test": origin["y"]}
        else:
            for xk, yk in (("x_train", "y_train"), ("x_test", "y_test")):
                arrays[xk] = _check_features(name, origin[xk], arrays[xk])
                arrays[yk] = _check_labels(name, origin[yk], arrays[yk], len(arrays[xk]))
            if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
                raise _fail(
                    name,
                    path,
                    f"x_test samples have shape {arrays['x_test'].shape[1:]} but x_train samples have shape "
                    f"{arrays['x_train'].shape[1:]}; they must match.",
                )
    else:
        x, y = _read_csv(name, path, spec.label_column)
        where = f"{path}, column '{spec.label_column}'"
        y = _check_labels(name, where, y, len(x), locate=lambda i: f"in data row {i + 1}")
        arrays = dict(zip(MNIST_KEYS, _split(name, str(path), x, y, spec.test_split)))
        origin = {"x_train": str(path), "x_test": str(path), "y_train": where, "y_test": where}

    # For user data the classes are whatever labels occur: 0..max.
    num_classes = int(max(arrays["y_train"].max(initial=0), arrays["y_test"].max(initial=0))) + 1
    return _Raw(arrays, origin, str(path), num_classes)


def _check_features(name: str, where: str, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 0:
        raise _fail(name, where, "is a single number; expected an array with one row per sample.")
    if x.dtype.kind not in "biuf":
        raise _fail(name, where, f"has dtype {x.dtype}; expected numbers.")
    if len(x) == 0:
        raise _fail(name, where, "has no samples.")
    if x.ndim == 1:
        # One number per sample: give it a feature axis so the model has an input shape.
        x = x.reshape(-1, 1)
    return x


def _check_labels(
    name: str,
    where: str,
    y: np.ndarray,
    n: int,
    num_classes: int | None = None,
    locate: Callable[[int], str] | None = None,
) -> np.ndarray:
    """Validate class labels and return them as int64.

    Labels must be one per sample, integer-valued (``3.0`` is fine) and
    ``>= 0``; with ``num_classes`` also ``< num_classes``. A ``(N, 1)`` column
    is accepted as ``(N,)``.
    """
    locate = locate or (lambda i: f"at index {i}")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        hint = " (one-hot? store the class number, e.g. y.argmax(axis=1))" if y.ndim == 2 and len(y) == n else ""
        raise _fail(name, where, f"labels have shape {y.shape}; expected ({n},), one class number per sample{hint}.")
    if len(y) != n:
        raise _fail(name, where, f"has {len(y)} labels for {n} samples; expected one label per sample.")
    if y.dtype.kind not in "iuf":
        raise _fail(name, where, f"labels have dtype {y.dtype}; expected integer class numbers.")
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
        if bad.size:
            i = int(bad[0])
            value = float(y[i])
            raise _fail(name, where, f"label {value:g} {locate(i)} is not a whole number; labels are class numbers.")
    valid = "0.." + str(num_classes - 1) if num_classes else ">= 0"
    out_of_range = y < 0
    if num_classes:
        out_of_range |= y >= num_classes
    bad = np.flatnonzero(out_of_range)
    if bad.size:
        i = int(bad[0])
        value = int(y[i])
        raise _fail(name, where, f"label {value} {locate(i)} is out of range; labels must be {valid}.")
    return y.astype(np.int64)


# --- npz -------------------------------------------------------------------------------------------


def _read_npz(
    name: str, path: Path, key_sets: tuple[tuple[str, ...], ...]
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read the first of ``key_sets`` that an .npz archive holds in full."""
    expected = " or ".join(", ".join(keys) for keys in key_sets)
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError as exc:
        raise _fail(name, path, f"can't be read ({_short(exc)}).") from None
    # np.load would try unpickling anything that is not a zip or .npy: say what it is instead.
    if head.startswith(_NPY_MAGIC):
        raise _fail(name, path, f"is a single .npy array, not an .npz archive with keys {expected} (np.savez).")
    if not head.startswith(_ZIP_MAGICS):
        raise _fail(name, path, f"is not an .npz archive; expected one with keys {expected} (np.savez).")
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = list(archive.files)
            keys = next((ks for ks in key_sets if all(k in found for k in ks)), None)
            if keys is None:
                raise _fail(
                    name, path, f"has keys {', '.join(found) or '(none)'}; expected {expected}."
                )
            arrays = {k: archive[k] for k in keys}
    except DataError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "object" in str(exc).lower():
            what = "holds object (pickled) arrays, which are not loaded for safety; save plain number arrays."
            raise _fail(name, path, what) from None
        raise _fail(name, path, f"is not a readable .npz archive ({_short(exc)}).") from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, pickle.UnpicklingError) as exc:
        raise _fail(name, path, f"is not a readable .npz archive ({_short(exc)}).") from None
    return arrays, {k: f"{path}, key '{k}'" for k in arrays}


# --- IDX -------------------------------------------------------------------------------------------


def _find_idx_files(folder: Path) -> dict[str, Path]:
    """The IDX files of a folder by key, matched by name prefix, .gz or not."""
    try:
        files = sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: (len(p.name), p.name))
    except OSError:
        return {}
    found: dict[str, Path] = {}
    for key, stem in IDX_FILES.items():
        for p in files:
            # 'train-images.idx3-ubyte' (another common spelling) matches too.
            if p.name.replace(".", "-").startswith(stem):
                found[key] = p
                break
    return found


def _has_idx_files(folder: Path) -> bool:
    return folder.is_dir() and len(_find_idx_files(folder)) == len(IDX_FILES)


def _read_idx_folder(name: str, folder: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    found = _find_idx_files(folder)
    missing = [IDX_FILES[k] for k in IDX_FILES if k not in found]
    if missing:
        raise _fail(
            name,
            folder,
            f"missing {', '.join(m + '[.gz]' for m in missing)}; an IDX folder needs "
            f"{', '.join(IDX_FILES.values())} (each .gz or not).",
            _offline_hint(name),
        )
    arrays = {
        key: _read_idx(name, path, _IDX_MAGIC_IMAGES if key.startswith("x") else _IDX_MAGIC_LABELS)
        for key, path in found.items()
    }
    return arrays, {k: str(p) for k, p in found.items()}


def _read_idx(name: str, path: Path, magic: int) -> np.ndarray:
    """Read one IDX file (.gz or not) of unsigned bytes; check its magic number and size."""
    kind = "images" if magic == _IDX_MAGIC_IMAGES else "labels"
    try:
        with open(path, "rb") as f:
            raw = f.read()
        # Decide by content, not by name: a .gz file renamed still works.
        if raw.startswith(_GZIP_MAGIC):
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        # A truncated .gz ends in EOFError ("Compressed file ended before ...").
        raise _fail(name, path, f"can't be read as an IDX {kind} file ({_short(exc)}).") from None
    if len(raw) < 4:
        raise _fail(name, path, f"is {len(raw)} bytes long; too short to be an IDX {kind} file.")
    (found,) = struct.unpack(">I", raw[:4])
    if found != magic:
        raise _fail(
            name, path, f"is not an IDX {kind} file: magic number 0x{found:08x}, expected 0x{magic:08x}."
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise _fail(name, path, f"is truncated: {len(raw)} bytes, shorter than its {header}-byte header.")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    need = math.prod(dims)
    have = len(raw) - header
    if have != need:
        what = "truncated" if have < need else "longer than its header says"
        raise _fail(
            name, path, f"is {what}: {have} data bytes, but its header's shape {tuple(dims)} needs {need}."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


# --- Keras download --------------------------------------------------------------------------------


def _keras_cache_dir() -> Path:
    """Where keras.datasets caches downloads: $KERAS_HOME/datasets, else ~/.keras/datasets."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        # Keras falls back to /tmp when the home folder is read-only; so do we, to name the same place.
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return _abspath(home) / "datasets"


def _keras_load(name: str) -> Any:
    """``keras.datasets.<name>.load_data()``, with a socket timeout so a dead network can't hang us.

    A seam of its own so tests can replace it: tests never download.
    """
    # TensorFlow's C++ logging writes to fd 2, where a TUI draws: quiet it before the import.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras  # lazily: importing TensorFlow takes seconds

    module = keras.datasets.mnist if name == "mnist" else keras.datasets.fashion_mnist
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        return module.load_data()
    finally:
        socket.setdefaulttimeout(previous)


def _load_from_keras(name: str) -> tuple[dict[str, np.ndarray], dict[str, str], str]:
    cache = _keras_cache_dir()
    cached = cache / ("mnist.npz" if name == "mnist" else "fashion-mnist")
    try:
        (x_train, y_train), (x_test, y_test) = _keras_load(name)
    except Exception as exc:  # whatever the download raised: the user needs one line and a way out
        if cached.exists():
            what = f"is not available: the cached copy {cached} could not be loaded ({_short(exc)})."
        else:
            what = f"is not available: no cached copy in {cache} and the download failed ({_short(exc)})."
        raise DataError(f"Data set '{name}' {what} {_offline_hint(name)}", dataset=name, where=str(cache)) from None
    source = f"keras cache {cached}"
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    return arrays, {k: f"{source}, {k}" for k in arrays}, source


# --- csv -------------------------------------------------------------------------------------------


def _read_csv(name: str, path: Path, label_column: str) -> tuple[np.ndarray, np.ndarray]:
    """Read a comma-separated file with a header row; return (features, labels)."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: tolerate the BOM spreadsheets write
    except UnicodeDecodeError:
        raise _fail(name, path, "is not UTF-8 text; expected a comma-separated file with a header row.") from None
    except OSError as exc:
        raise _fail(name, path, f"can't be read ({_short(exc)}).") from None
    if not text.strip():
        raise _fail(name, path, "is empty; expected a header row and then one row of numbers per sample.")

    try:
        header = [h.strip() for h in next(csv.reader(io.StringIO(text)))]
    except csv.Error as exc:
        raise _fail(name, path, f"has an unreadable header row ({_short(exc)}).") from None
    if label_column not in header:
        raise _fail(
            name,
            path,
            f"has no label column '{label_column}'; columns found: {', '.join(header)} "
            "(set data.label_column to the one holding the class).",
        )
    if header.count(label_column) > 1:
        raise _fail(name, path, f"has {header.count(label_column)} columns named '{label_column}'; expected one.")
    if len(header) < 2:
        raise _fail(name, path, f"has only the label column '{label_column}'; expected feature columns too.")

    # Fast path in C; only when it fails do we walk the rows to say where.
    data: np.ndarray | None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data" for a header-only file
            data = np.loadtxt(
                io.StringIO(text),
                delimiter=",",
                skiprows=1,
                ndmin=2,
                dtype=np.float64,
                comments=None,
                quotechar='"',
            )
    except ValueError:
        data = None
    if data is not None and data.shape[0] == 0:
        raise _fail(name, path, "has a header row but no data rows.")
    if data is None or data.shape[1] != len(header) or not np.isfinite(data).all():
        _raise_bad_cell(name, path, text, header)
        raise _fail(name, path, "could not be read as numbers.")  # pragma: no cover - the walk finds it

    li = header.index(label_column)
    return np.delete(data, li, axis=1), data[:, li]


def _raise_bad_cell(name: str, path: Path, text: str, header: list[str]) -> None:
    """Find the first cell np.loadtxt choked on and raise a DataError naming its line and column."""
    reader = csv.reader(io.StringIO(text))
    try:
        next(reader)
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue  # blank lines are skipped by loadtxt too
            line = reader.line_num
            if len(row) != len(header):
                raise _fail(name, path, f"line {line} has {len(row)} cells; the header has {len(header)}.")
            for column, cell in zip(header, row):
                try:
                    value = float(cell)
                except ValueError:
                    what = f"line {line}, column '{column}': {cell.strip()!r} is not a number."
                    raise _fail(name, path, what) from None
                if not math.isfinite(value):
                    raise _fail(name, path, f"line {line}, column '{column}': {cell.strip()!r} is not a finite number.")
    except csv.Error as exc:
        raise _fail(name, path, f"line {reader.line_num} is not valid CSV ({_short(exc)}).") from None


# --- preprocessing ---------------------------------------------------------------------------------


def _preprocess(name: str, raw: _Raw, spec: DataSpec) -> Dataset:
    """The lesson's preprocessing: reshape to vectors, then min-max scale with the training range."""
    x_train, x_test = raw.arrays["x_train"], raw.arrays["x_test"]
    if spec.flatten:
        x_train = x_train.reshape(len(x_train), -1)
        x_test = x_test.reshape(len(x_test), -1)
    # astype copies, so the in-place arithmetic below never touches the source arrays.
    x_train = x_train.astype(np.float32)
    x_test = x_test.astype(np.float32)
    for key, x in (("x_train", x_train), ("x_test", x_test)):
        if not np.isfinite(x).all():
            raise _fail(name, raw.origin[key], "holds NaN or infinite values (or numbers too large for float32).")

    scale_range: tuple[float, float] | None = None
    if spec.scale:
        # One global min and max from the training split, not per feature: an always-black
        # pixel would be a 0/0 per feature. The test split uses the same range (no peeking).
        lo, hi = float(x_train.min()), float(x_train.max())
        x_train -= np.float32(lo)
        x_test -= np.float32(lo)
        if hi > lo:
            x_train /= np.float32(hi - lo)
            x_test /= np.float32(hi - lo)
        scale_range = (lo, hi)

    y_train, y_test = raw.arrays["y_train"], raw.arrays["y_test"]
    for arr in (x_train, x_test, y_train, y_test):
        arr.flags.writeable = False  # shared through the cache: nobody may edit it in place
    return Dataset(
        name=name,
        source=raw.source,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        num_classes=raw.num_classes,
        input_shape=tuple(int(d) for d in x_train.shape[1:]),
        scale_range=scale_range,
    )


def _short(exc: BaseException, limit: int = 160) -> str:
    """A wrapped exception as a short one-line reason, e.g. ``BadZipFile: File is not a zip file``."""
    message = " ".join(str(exc).split())
    kind = type(exc).__name__
    if not message:
        text = kind
    elif kind == "Exception":  # keras wraps download failures in a bare Exception: its name adds nothing
        text = message
    else:
        text = f"{kind}: {message}"
    return text if len(text) <= limit else text[: limit - 1] + "…"
