"""Keras's own download of MNIST and Fashion-MNIST, the one place keras is imported for data.

Tests replace :func:`keras_load` (``monkeypatch.setattr(download, "keras_load", ...)``):
tests never download.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from ..tfenv import quiet_tensorflow_env
from .base import DataError, abspath, short

# Seconds a socket may stall during Keras's download before it gives up:
# without it an unreachable mirror can hang the trainer for minutes.
DOWNLOAD_TIMEOUT_S = 30

# The file or folder each data set is cached as in keras_cache_dir().
CACHED_AS = {"mnist": "mnist.npz", "fashion_mnist": "fashion-mnist"}


def keras_cache_dir() -> Path:
    """Where keras.datasets caches downloads: $KERAS_HOME/datasets, else ~/.keras/datasets."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        # Keras falls back to /tmp when the home folder is read-only; so do we, to name the same place.
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return abspath(home) / "datasets"


def keras_load(name: str) -> Any:
    """``keras.datasets.<name>.load_data()``, with a socket timeout so a dead network can't hang us.

    A seam of its own so tests can replace it: tests never download.
    """
    quiet_tensorflow_env()  # TensorFlow's C++ logging writes to fd 2, where a TUI draws: before the import
    import keras  # lazily: importing TensorFlow takes seconds

    module = keras.datasets.mnist if name == "mnist" else keras.datasets.fashion_mnist
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        return module.load_data()
    finally:
        socket.setdefaulttimeout(previous)


def load_from_keras(name: str, hint: str) -> tuple[dict[str, Any], dict[str, str], str]:
    """Load through :func:`keras_load`; any failure is one line naming the cache and ``hint``.

    Returns:
        ``(arrays by key, origin by key, source)``.
    """
    cache = keras_cache_dir()
    cached = cache / CACHED_AS[name]
    try:
        (x_train, y_train), (x_test, y_test) = keras_load(name)
    except Exception as exc:  # whatever the download raised: the user needs one line and a way out
        if cached.exists():
            what = f"is not available: the cached copy {cached} could not be loaded ({short(exc)})."
        else:
            what = f"is not available: no cached copy in {cache} and the download failed ({short(exc)})."
        raise DataError(f"Data set '{name}' {what} {hint}", dataset=name, where=str(cache)) from None
    source = f"keras cache {cached}"
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    return arrays, {k: f"{source}, {k}" for k in arrays}, source
