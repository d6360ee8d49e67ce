"""Every data source, by name: the one list the spec, the builder, ``doctor`` and the loader iterate.

Adding a source = one module with a ``SOURCE`` (a :class:`~.base.DataSource`),
listed in ``_MODULES``, and its tests: ``spec.DatasetName`` (what ``data.dataset``
accepts) is read from here.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from . import csv, digits, fashion_mnist, image_folder, mnist, npz
from .base import DataSource

_MODULES = (digits, mnist, fashion_mnist, npz, csv, image_folder)

SOURCES: dict[str, DataSource] = {m.SOURCE.name: m.SOURCE for m in _MODULES}
"""Every data source by its ``data.dataset`` name, in the order the builder lists them."""


def source_names() -> tuple[str, ...]:
    """The allowed ``data.dataset`` values, in display order."""
    return tuple(SOURCES)


def get_source(name: str) -> DataSource:
    """The source called ``name``.

    Raises:
        KeyError: no such source (the spec's validation keeps unknown names out).
    """
    return SOURCES[name]


def known_input_shape(data: Mapping[str, Any]) -> Optional[tuple[int, ...]]:
    """The model's input shape for a preset's ``data`` table, when known without loading.

    ``(64,)`` for flattened digits, ``(28, 28, 1)`` for unflattened MNIST;
    ``None`` for the user's own files (only reading them tells) or an unknown name.
    """
    source = SOURCES.get(str(data.get("dataset")))
    return source.input_shape(data) if source is not None else None
