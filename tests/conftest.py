"""Shared fixtures: small data, quiet TensorFlow, isolated run and preset folders."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Runs and user presets go to the test's own folder; nothing reaches ~/.keras downloads."""
    monkeypatch.setenv("TUI_TRAINER_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("TUI_TRAINER_PRESETS", str(tmp_path / "user-presets"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))


def blobs(n: int = 240, features: int = 6, classes: int = 3, seed: int = 0):
    """A small, learnable classification problem: Gaussian blobs."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(classes, features))
    y = rng.integers(0, classes, size=n)
    x = centers[y] + rng.normal(0, 1.0, size=(n, features))
    return x.astype("float32"), y.astype("int64")


@pytest.fixture
def blobs_csv(tmp_path):
    """A csv file with a header and a `label` column, 240 rows, 3 classes."""
    x, y = blobs()
    path = tmp_path / "blobs.csv"
    header = ",".join([f"f{i}" for i in range(x.shape[1])] + ["label"])
    rows = [",".join([f"{v:.5f}" for v in xi] + [str(int(yi))]) for xi, yi in zip(x, y)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def tiny_preset_toml(data_path, *, epochs: int = 3, patience: int = 5, extra: str = "", units: int = 3) -> str:
    """A preset that trains in about a second on ``blobs_csv``."""
    return f"""
name = "tiny"
description = "test preset"
seed = 7
{extra}
[data]
dataset = "csv"
path = "{data_path}"
validation_split = 0.2

[training]
batch_size = 16
epochs = {epochs}
learning_rate = 0.05

[early_stopping]
patience = {patience}

[[layers]]
type = "dense"
units = 8
activation = "relu"

[[layers]]
type = "dense"
units = {units}
activation = "softmax"
"""


@pytest.fixture
def tiny_preset_file(tmp_path, blobs_csv):
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_preset_toml(blobs_csv))
    return path


def disk_full_at(marker: str):
    """An ``open`` to monkeypatch into a module: a file it opens for appending takes writes until one holds
    ``marker``; that write puts a part of its line on the disk, as a filling disk does, then raises ENOSPC."""
    import builtins
    import errno

    real_open = builtins.open

    class FillsUp:
        def __init__(self, path, *args, **kwargs):
            self.fh = real_open(path, *args, **kwargs)

        def write(self, text):
            if marker in text:
                self.fh.write(text[:10])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.fh.write(text)

        def __getattr__(self, name):
            return getattr(self.fh, name)

    def fake_open(path, mode="r", *args, **kwargs):
        return FillsUp(path, mode, *args, **kwargs) if mode == "a" else real_open(path, mode, *args, **kwargs)

    return fake_open
