"""``digits``: scikit-learn's 1797 handwritten digits, 8x8 pixels of 0..16; always offline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import DataSource, Raw, fail, image_shape, needs_module, numbered_classes, short

if TYPE_CHECKING:  # pragma: no cover
    from tui_trainer.spec import DataSpec

NAME = "digits"
WHERE = "scikit-learn"


def load(spec: "DataSpec") -> Raw:
    """The 8x8 images and their labels, split into train and test by ``spec.test_split``."""
    import numpy as np

    from .arrays import check_labels, split_raw

    try:
        from sklearn.datasets import load_digits  # lazily: scikit-learn takes a moment to import

        digits = load_digits()
    except Exception as exc:  # a broken scikit-learn install, not bad data: still one line
        raise fail(NAME, WHERE, f"could not be loaded ({short(exc)}).") from None
    # images is (N, 8, 8): flattening stays the lesson's reshape, as for MNIST.
    x = np.asarray(digits.images)
    y = check_labels(NAME, WHERE, np.asarray(digits.target), len(x), num_classes=10)
    arrays = split_raw(NAME, WHERE, x, y, spec.test_split)
    return Raw(arrays, {k: WHERE for k in arrays}, WHERE, 10)


offline = needs_module("sklearn", "available offline (ships with scikit-learn)",
                       "scikit-learn is missing: pip install scikit-learn")


SOURCE = DataSource(
    name=NAME,
    help="8x8 handwritten digits from scikit-learn (1797 images, always offline)",
    load=load,
    options=("flatten", "scale", "test_split"),
    offline=offline,
    samples="digits",
    shape=image_shape(8, 8),
    class_names=numbered_classes(10),
    where=lambda spec: None,  # no file: a stray --data-path must not make a second cached copy
    images=True,  # the results view draws its samples and first-layer weights as pictures
)
