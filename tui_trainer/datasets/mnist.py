"""``mnist``: 70 000 handwritten digits, 28x28; from a local file or folder, else Keras's download.

:func:`load_mnist_like` serves Fashion-MNIST too: the same files, other pictures.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

from .base import DataSource, OfflineCheck, Raw, abspath, check_regular, fail, image_shape, numbered_classes

if TYPE_CHECKING:  # pragma: no cover
    from tui_trainer.spec import DataSpec

NAME = "mnist"
HINT = (
    "Offline: pass --data-path (data.path in a preset) to an mnist.npz file or a folder of the four "
    "IDX .gz files, or use the built-in 'digits' data set."
)


def load_mnist_like(spec: "DataSpec", hint: str, folder: Optional[Path] = None) -> Raw:
    """An mnist.npz-style file or an IDX folder at ``spec.path``; else ``folder`` if it holds
    the IDX files; else Keras's download (cached in ``~/.keras/datasets``).

    Args:
        spec: the data spec (``dataset`` names the set).
        hint: what to do offline, appended to messages about missing data.
        folder: a system folder of IDX files to use when no path is given.
    """
    from . import download
    from .arrays import MNIST_KEYS, check_labels, check_mnist_images
    from .files import has_idx_files, read_idx_folder, read_npz

    name = spec.dataset
    if spec.path:
        path = abspath(spec.path)
        if path.is_dir():
            arrays, origin = read_idx_folder(name, path, hint)
        elif path.exists():
            check_regular(name, path, "an mnist.npz file or a folder of IDX files")
            arrays, origin = read_npz(name, path, (MNIST_KEYS,))
        else:
            raise fail(name, path, "no such file or folder.", hint)
        source = str(path)
    elif folder is not None and has_idx_files(folder):
        arrays, origin = read_idx_folder(name, folder, hint)
        source = str(folder)
    else:
        arrays, origin, source = download.load_from_keras(name, hint)

    for key in ("x_train", "x_test"):
        arrays[key] = check_mnist_images(name, origin[key], arrays[key])
    for xk, yk in (("x_train", "y_train"), ("x_test", "y_test")):
        arrays[yk] = check_labels(name, origin[yk], arrays[yk], len(arrays[xk]), num_classes=10)
    return Raw(arrays, origin, source, 10)


def load(spec: "DataSpec") -> Raw:
    """MNIST from ``spec.path``, else through Keras (which downloads once, then caches)."""
    return load_mnist_like(spec, HINT)


def offline() -> OfflineCheck:
    """Available offline when Keras's cache holds mnist.npz."""
    from .download import CACHED_AS, keras_cache_dir

    cached = keras_cache_dir() / CACHED_AS[NAME]
    if cached.is_file():
        return OfflineCheck(True, f"available offline (cached: {cached})")
    return OfflineCheck(False, f"not cached ({cached} missing): a first run downloads it; offline, pass "
                               "--data-path to an mnist.npz or a folder of the four IDX files")


SOURCE = DataSource(
    name=NAME,
    help="28x28 handwritten digits (60 000 train / 10 000 test): a local file or folder, else Keras downloads it",
    load=load,
    options=("path", "flatten", "scale"),
    offline=offline,
    samples="mnist images",
    shape=image_shape(28, 28),
    class_names=numbered_classes(10),
    images=True,  # the results view draws its samples and first-layer weights as pictures
)
