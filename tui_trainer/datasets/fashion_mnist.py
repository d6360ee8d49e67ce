"""``fashion_mnist``: 70 000 28x28 pictures of clothes in ten classes.

Read from ``data.path``, else Debian's ``dataset-fashion-mnist`` folder, else
Keras's download.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Hashable

from .base import DataSource, OfflineCheck, Raw, abspath, fingerprint, image_shape

if TYPE_CHECKING:  # pragma: no cover
    from tui_trainer.spec import DataSpec

NAME = "fashion_mnist"

# Debian's `dataset-fashion-mnist` package puts the four IDX .gz files here.
# A module constant so tests can point it at a folder of their own.
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"

# Zalando's names of the ten classes, by label.
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot")


def hint() -> str:
    """What to do offline; names the Debian folder (read at call time: tests move it)."""
    return (
        "Offline: `apt-get install dataset-fashion-mnist` "
        f"(no IDX files found in {abspath(DEBIAN_FASHION_MNIST)}), pass "
        "--data-path (data.path in a preset) to a fashion-mnist .npz file or a folder of the four IDX .gz files, "
        "or use the built-in 'digits' data set."
    )


def load(spec: "DataSpec") -> Raw:
    """Fashion-MNIST from ``spec.path``, Debian's folder or Keras, in that order."""
    from .mnist import load_mnist_like

    raw = load_mnist_like(spec, hint(), folder=abspath(DEBIAN_FASHION_MNIST))
    raw.class_names = CLASS_NAMES
    return raw


def where(spec: "DataSpec") -> Hashable:
    """The cache key's files: the path, else Debian's folder."""
    if spec.path:
        path = abspath(spec.path)
        return (str(path), fingerprint(path))
    debian = abspath(DEBIAN_FASHION_MNIST)
    return ("debian", str(debian), fingerprint(debian))


def offline() -> OfflineCheck:
    """Available offline from Debian's package or Keras's cache."""
    from pathlib import Path

    from .download import CACHED_AS, keras_cache_dir
    from .files import has_idx_files

    debian = Path(DEBIAN_FASHION_MNIST)
    cached = keras_cache_dir() / CACHED_AS[NAME]
    if has_idx_files(debian):
        return OfflineCheck(True, f"available offline (Debian package: {debian})")
    if has_idx_files(cached):
        return OfflineCheck(True, f"available offline (cached: {cached})")
    return OfflineCheck(False, f"not available offline (not in {debian} or {cached}): "
                               "apt-get install dataset-fashion-mnist, or pass --data-path")


SOURCE = DataSource(
    name=NAME,
    help="28x28 pictures of clothes in 10 classes: a local file or folder, Debian's dataset-fashion-mnist, "
    "else Keras downloads it",
    load=load,
    options=("path", "flatten", "scale"),
    offline=offline,
    samples="fashion_mnist images",
    shape=image_shape(28, 28),
    class_names=CLASS_NAMES,
    where=where,
    images=True,  # the results view draws its samples and first-layer weights as pictures
)
