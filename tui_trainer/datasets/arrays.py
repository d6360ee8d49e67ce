"""Checks and preprocessing shared by every source: labels, features, the test split, scaling.

The lesson's preprocessing: reshape images to vectors (``flatten``) and min-max
scale to 0..1 with the training split's range. With ``flatten = false`` images
keep their (H, W, C) shape; grayscale images get their channel axis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from .base import Dataset, Raw, fail, numbered_classes

if TYPE_CHECKING:  # pragma: no cover
    from tui_trainer.spec import DataSpec

# The held-out test split is drawn with this fixed seed, independent of the
# training seed, so that runs with different seeds are scored on the same data.
SPLIT_SEED = 0

MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")


def stratified_split(
    name: str, where: str, x: np.ndarray, y: np.ndarray, test_split: float, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out ``test_split`` of the samples, every class in proportion.

    The test split has ``round(n * test_split)`` samples (at least 1, at most
    ``n - 1``); each class gives its share, the remainders going to the classes
    with the largest fractions (largest-remainder rounding), so a class of 10 in
    100 samples gives 2 of a 20-sample test split. Both splits come out in a
    random order (fixed by ``seed``): Keras's ``validation_split`` takes the last
    samples of the training split, which must not be one class.

    Args:
        name: the data set, for messages.
        where: the file, for messages.
        x: features, one row per sample.
        y: int labels.
        test_split: fraction held out, 0 < test_split < 1.
        seed: the permutation's seed; the same seed gives the same split.

    Returns:
        ``(x_train, y_train, x_test, y_test)``.
    """
    n = len(x)
    if n < 2:
        plural = "s" if n != 1 else ""
        raise fail(name, where, f"has {n} sample{plural}; at least 2 are needed to hold out a test split.")
    n_test = min(max(int(round(n * test_split)), 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    classes, counts = np.unique(y, return_counts=True)
    quota = counts * (n_test / n)
    take = np.floor(quota).astype(np.int64)
    short_by = n_test - int(take.sum())
    if short_by > 0:
        # Largest remainders first; ties go to the larger class, then the lower class number.
        rank = np.lexsort((classes, -counts, -(quota - take)))
        take[rank[:short_by]] += 1
    is_test = np.zeros(n, dtype=bool)
    y_in_order = y[order]
    for c, k in zip(classes, take):
        if k:
            is_test[order[np.flatnonzero(y_in_order == c)[:k]]] = True
    test = order[is_test[order]]
    train = order[~is_test[order]]
    return x[train], y[train], x[test], y[test]


def check_features(name: str, where: str, x: np.ndarray) -> np.ndarray:
    """Features of the user's own data: numbers, one row per sample; 1-D gets a feature axis."""
    x = np.asarray(x)
    if x.ndim == 0:
        raise fail(name, where, "is a single number; expected an array with one row per sample.")
    if x.dtype.kind not in "biuf":
        raise fail(name, where, f"has dtype {x.dtype}; expected numbers.")
    if len(x) == 0:
        raise fail(name, where, "has no samples.")
    if x.ndim == 1:
        # One number per sample: give it a feature axis so the model has an input shape.
        x = x.reshape(-1, 1)
    return x


def check_mnist_images(name: str, where: str, x: np.ndarray) -> np.ndarray:
    """MNIST-style images: (N, 28, 28), or (N, 784) rows made (N, 28, 28)."""
    x = np.asarray(x)
    if x.ndim == 2 and x.shape[1] == 28 * 28:
        # Some exports store flat rows: make them 28x28 so flatten=False means the same everywhere.
        x = x.reshape(len(x), 28, 28)
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise fail(name, where, f"images have shape {x.shape}; expected (N, 28, 28) or (N, 784).")
    if x.dtype.kind not in "biuf":
        raise fail(name, where, f"images have dtype {x.dtype}; expected numbers (uint8 pixels).")
    if len(x) == 0:
        raise fail(name, where, "has no images.")
    return x


def check_labels(
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
        raise fail(name, where, f"labels have shape {y.shape}; expected ({n},), one class number per sample{hint}.")
    if len(y) != n:
        raise fail(name, where, f"has {len(y)} labels for {n} samples; expected one label per sample.")
    if y.dtype.kind not in "iuf":
        raise fail(name, where, f"labels have dtype {y.dtype}; expected integer class numbers.")
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
        if bad.size:
            i = int(bad[0])
            value = float(y[i])
            raise fail(name, where, f"label {value:g} {locate(i)} is not a whole number; labels are class numbers.")
    valid = "0.." + str(num_classes - 1) if num_classes else ">= 0"
    out_of_range = y < 0
    if num_classes:
        out_of_range |= y >= num_classes
    bad = np.flatnonzero(out_of_range)
    if bad.size:
        i = int(bad[0])
        value = int(y[i])
        raise fail(name, where, f"label {value} {locate(i)} is out of range; labels must be {valid}.")
    return y.astype(np.int64)


def split_raw(name: str, where: str, x: np.ndarray, y: np.ndarray, test_split: float) -> dict[str, np.ndarray]:
    """:func:`stratified_split` as the four arrays by key."""
    return dict(zip(MNIST_KEYS, stratified_split(name, where, x, y, test_split)))


def count_classes(arrays: dict[str, np.ndarray]) -> int:
    """For numbered labels without a known count: whatever labels occur, 0..max."""
    return int(max(arrays["y_train"].max(initial=0), arrays["y_test"].max(initial=0))) + 1


def preprocess(name: str, raw: Raw, spec: "DataSpec") -> Dataset:
    """The lesson's preprocessing: reshape to vectors, then min-max scale with the training range.

    With ``spec.flatten`` false, samples keep their shape, and 2-D samples
    (grayscale images, ``(N, H, W)``) get a channel axis: ``(N, H, W, 1)``,
    the channels-last layout Keras's Conv2D expects.
    """
    x_train, x_test = raw.arrays["x_train"], raw.arrays["x_test"]
    if spec.flatten:
        x_train = x_train.reshape(len(x_train), -1)
        x_test = x_test.reshape(len(x_test), -1)
    elif x_train.ndim == 3:
        x_train = x_train[..., np.newaxis]
        x_test = x_test[..., np.newaxis]
    # astype copies, so the in-place arithmetic below never touches the source arrays.
    x_train = x_train.astype(np.float32)
    x_test = x_test.astype(np.float32)
    for key, x in (("x_train", x_train), ("x_test", x_test)):
        if not np.isfinite(x).all():
            raise fail(name, raw.origin[key], "holds NaN or infinite values (or numbers too large for float32).")

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
        class_names=raw.class_names or numbered_classes(raw.num_classes),
    )
