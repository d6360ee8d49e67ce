"""What every data source shares: the error, the loaded data set, the source descriptor.

Nothing here imports numpy (or anything heavy): the registry of sources is read
by the builder screen and by ``doctor``, which must not pay for numpy to list
data set names. The loaders import numpy when they run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Hashable, Mapping, Optional

from ..text import one_line

if TYPE_CHECKING:  # pragma: no cover - annotations only
    import numpy as np

    from tui_trainer.spec import DataSpec


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
        input_shape: per-sample shape, the model's input: ``(784,)`` flattened,
            ``(28, 28, 1)`` for images kept whole (``flatten = false``).
        scale_range: the training split's ``(min, max)`` used for min-max
            scaling, ``None`` if not scaled.
        class_names: the name of each class number, ``class_names[y]``: the
            sorted subfolder names of an image folder, the sorted label strings
            of a CSV file, ``"0".."9"`` for digits and MNIST, the clothing names
            for Fashion-MNIST.
    """

    name: str
    source: str
    x_train: "np.ndarray"
    y_train: "np.ndarray"
    x_test: "np.ndarray"
    y_test: "np.ndarray"
    num_classes: int
    input_shape: tuple[int, ...]
    scale_range: Optional[tuple[float, float]]
    class_names: tuple[str, ...] = ()

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


@dataclass
class Raw:
    """Arrays as a source read them, before the shared preprocessing.

    Attributes:
        arrays: ``x_train``, ``y_train``, ``x_test``, ``y_test``.
        origin: each key's file (and key) for messages.
        source: where the data came from, for :attr:`Dataset.source`.
        num_classes: number of classes.
        class_names: names of the classes; ``"0".."n-1"`` when not given.
    """

    arrays: dict[str, "np.ndarray"]
    origin: dict[str, str]
    source: str
    num_classes: int
    class_names: Optional[tuple[str, ...]] = None


@dataclass(frozen=True)
class OfflineCheck:
    """What ``doctor`` says about a source: whether it can be had offline, and how."""

    ok: bool
    text: str


def needs_module(module: str, ok: str, missing: str) -> Callable[[], OfflineCheck]:
    """An ``offline`` check that holds when ``module`` can be imported (found, not imported)."""

    def check() -> OfflineCheck:
        import importlib.util

        if importlib.util.find_spec(module) is not None:
            return OfflineCheck(True, ok)
        return OfflineCheck(False, missing)

    return check


@dataclass(frozen=True)
class DataSource:
    """One data source: its name, its options, how to load it, what it needs offline.

    Attributes:
        name: the ``data.dataset`` value, e.g. ``"mnist"``.
        help: one line for the builder and the README, e.g. "28x28 handwritten digits".
        samples: what one sample is, for the builder's info line, e.g. "mnist images".
        load: reads the data described by a spec into a :class:`Raw` (raises
            :class:`DataError`); called by :func:`tui_trainer.datasets.load_dataset`,
            which preprocesses and caches the result.
        options: the ``DataSpec`` fields besides ``dataset`` that change what is
            loaded (they key the cache; the builder shows them).
            ``validation_split`` is never one: the trainer applies it.
        needs_path: ``data.path`` is required (the user's own data).
        offline: what ``doctor`` reports; reads the disk, downloads nothing.
        shape: the per-sample shape before flattening, ``(H, W, C)`` for images,
            known without loading; given the ``data`` table as a mapping
            (possibly not yet valid). ``None``: only loading tells.
        class_names: the classes when known without loading.
        where: what on disk the loaded data depends on (for the cache key);
            by default the ``path`` file or folder with its mtime and size.
        images: every sample is an image (also when flattened to a vector): the results view shows
            misclassified samples and first-layer weights as pictures.
    """

    name: str
    help: str
    load: Callable[["DataSpec"], Raw]
    options: tuple[str, ...]
    offline: Callable[[], OfflineCheck]
    needs_path: bool = False
    samples: str = "samples"
    shape: Callable[[Mapping[str, Any]], Optional[tuple[int, ...]]] = field(default=lambda data: None)
    class_names: Optional[tuple[str, ...]] = None
    where: Optional[Callable[["DataSpec"], Hashable]] = None
    images: bool = False

    def input_shape(self, data: Mapping[str, Any]) -> Optional[tuple[int, ...]]:
        """The model's input shape for a ``data`` table, when known without loading.

        Args:
            data: the preset's ``data`` table (a dict, or ``DataSpec.model_dump()``).

        Returns:
            ``(H * W * C,)`` when ``flatten`` (the default), else the sample
            shape, e.g. ``(28, 28, 1)``; ``None`` if only loading can tell.
        """
        shape = self.shape(data)
        if shape is None:
            return None
        if data.get("flatten", True):
            size = 1
            for d in shape:
                size *= d
            return (size,)
        return shape


# --- helpers for messages and paths (no numpy) -----------------------------------------------------

# What to do when the user's own file is missing.
PATH_HINT = "Check the path (--data-path, or data.path in a preset), or use the built-in 'digits' data set."


def abspath(path: str | os.PathLike[str]) -> Path:
    """Absolute but not resolved: messages show the path the user gave, made absolute."""
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def fingerprint(path: Path) -> Hashable:
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


def fail(name: str, where: str | os.PathLike[str] | None, what: str, hint: str = "") -> DataError:
    """A one-line :class:`DataError`: ``Data set 'NAME' (WHERE): WHAT HINT``."""
    head = f"Data set '{name}'" + (f" ({where})" if where else "")
    text = f"{head}: {what}"
    if hint:
        text += " " + hint
    return DataError(text, dataset=name, where=str(where) if where else None)


def short(exc: BaseException, limit: int = 160) -> str:
    """A wrapped exception as a short one-line reason, e.g. ``BadZipFile: File is not a zip file``.

    :func:`tui_trainer.text.one_line`, less the type of a bare ``Exception`` (keras wraps download
    failures in one: its name adds nothing), cut to ``limit`` characters with an ellipsis.
    """
    text = one_line(exc, limit=limit)
    if type(exc) is Exception and text != "Exception":
        text = text.removeprefix("Exception: ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def numbered_classes(n: int) -> tuple[str, ...]:
    """``("0", "1", ..., str(n - 1))``: the class names of numbered labels."""
    return tuple(str(i) for i in range(n))


def image_shape(height: int, width: int, channels: int = 1) -> Callable[[Mapping[str, Any]], tuple[int, ...]]:
    """A :attr:`DataSource.shape` for images of a fixed size."""
    return lambda data: (height, width, channels)


def user_file(name: str, path: Optional[str]) -> Path:
    """The user's own data file at ``path``, absolute; one-line errors when it is missing or a folder."""
    assert path  # DataSpec requires it for the user's own data
    p = abspath(path)
    if not p.exists():
        raise fail(name, p, "no such file.", PATH_HINT)
    if p.is_dir():
        raise fail(name, p, f"is a folder; expected a .{name} file.", PATH_HINT)
    check_regular(name, p, f"a .{name} file")
    return p


def check_regular(name: str, path: Path, expected: str) -> None:
    """Refuse a device, FIFO or socket by name before anything opens it (``/dev/zero`` would be read forever).

    Raises:
        DataError: ``Data set 'csv' (/dev/zero): not a regular file (a character device); expected a .csv file.``
    """
    from ..inputs import file_problem

    problem = file_problem(path, what=expected)
    if problem:
        raise fail(name, path, problem + ".")
