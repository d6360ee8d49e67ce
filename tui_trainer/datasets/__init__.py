"""Data sources: one module per source, a registry the rest iterates, one loader.

``load_dataset(spec)`` turns a :class:`~tui_trainer.spec.DataSpec` into a
:class:`Dataset` of float32 features and int64 labels, whatever the source
(see :data:`SOURCES`): ``digits``, ``mnist``, ``fashion_mnist``, ``npz``, ``csv``,
``image_folder``.

Every failure is a :class:`DataError` whose ``str()`` is one line naming the
data set, the absolute path it looked at and, when the data is missing, what to
do offline. Importing this package imports neither numpy nor keras: the builder
and ``doctor`` read the registry for free; loading imports numpy, and keras
only in the one branch that downloads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import DataError, Dataset, DataSource, OfflineCheck
from .registry import SOURCES, get_source, known_input_shape, source_names

if TYPE_CHECKING:  # pragma: no cover
    from tui_trainer.spec import DataSpec

__all__ = [
    "DataError",
    "DataSource",
    "Dataset",
    "OfflineCheck",
    "SOURCES",
    "clear_cache",
    "get_source",
    "known_input_shape",
    "load_dataset",
    "source_names",
]


def load_dataset(spec: "DataSpec") -> Dataset:
    """Load, preprocess and cache a data set; see :func:`tui_trainer.datasets.loading.load_dataset`."""
    from .loading import load_dataset as load

    return load(spec)


def clear_cache() -> None:
    """Forget every cached data set."""
    from .loading import clear_cache as clear

    clear()
