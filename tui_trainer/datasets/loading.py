"""``load_dataset``: pick the source from the registry, load, preprocess, cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Hashable

from .arrays import preprocess
from .base import Dataset, abspath, fingerprint
from .registry import get_source

if TYPE_CHECKING:  # pragma: no cover
    from tui_trainer.spec import DataSpec

_CACHE_SIZE = 4  # a 60k-image set is ~190 MB as float32: keep only a few

_cache: "OrderedDict[Hashable, Dataset]" = OrderedDict()
_cache_lock = threading.Lock()


def load_dataset(spec: "DataSpec") -> Dataset:
    """Load and preprocess the data set a spec describes.

    The result is cached in-process, keyed by the options that change it and
    the modification time of its file(s), so a UI that trains again and again
    does not reload 60 000 images; the same :class:`Dataset` object comes back.

    Args:
        spec: which data set, where, and how to preprocess it.

    Returns:
        The data set, float32 features and int64 labels.

    Raises:
        DataError: the data can't be found, read or understood (one line).
    """
    key = cache_key(spec)
    # One lock for the whole load: two threads asking for the same data set
    # wait for one load instead of doing it twice.
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
        source = get_source(spec.dataset)
        dataset = preprocess(spec.dataset, source.load(spec), spec)
        _cache[key] = dataset
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return dataset


def clear_cache() -> None:
    """Forget every cached data set (frees their memory once nobody holds them)."""
    with _cache_lock:
        _cache.clear()


def cache_key(spec: "DataSpec") -> Hashable:
    """The source, what on disk it read, and the options it reads (never validation_split)."""
    source = get_source(spec.dataset)
    if source.where is not None:
        where = source.where(spec)
    elif spec.path:
        path = abspath(spec.path)
        where = (str(path), fingerprint(path))
    else:
        where = None
    options = tuple((o, _hashable(getattr(spec, o))) for o in source.options if o != "path")
    return (spec.dataset, where, options)


def _hashable(value: object) -> Hashable:
    return tuple(value) if isinstance(value, list) else value  # type: ignore[return-value]
