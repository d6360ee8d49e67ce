"""Readers shared by sources: .npz archives and MNIST-style IDX files (gzip or not)."""

from __future__ import annotations

import gzip
import math
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .base import DataError, fail, short

# The four IDX files of an MNIST-style folder, by the key they fill.
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

_IDX_MAGIC_LABELS = 0x00000801  # unsigned bytes, 1 dimension
_IDX_MAGIC_IMAGES = 0x00000803  # unsigned bytes, 3 dimensions
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"


# --- npz -------------------------------------------------------------------------------------------


def read_npz(
    name: str, path: Path, key_sets: tuple[tuple[str, ...], ...]
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read the first of ``key_sets`` that an .npz archive holds in full.

    Returns:
        ``(arrays by key, origin by key)``, origin naming the file and key for messages.
    """
    expected = " or ".join(", ".join(keys) for keys in key_sets)
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError as exc:
        raise fail(name, path, f"can't be read ({short(exc)}).") from None
    # np.load would try unpickling anything that is not a zip or .npy: say what it is instead.
    if head.startswith(_NPY_MAGIC):
        raise fail(name, path, f"is a single .npy array, not an .npz archive with keys {expected} (np.savez).")
    if not head.startswith(_ZIP_MAGICS):
        raise fail(name, path, f"is not an .npz archive; expected one with keys {expected} (np.savez).")
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = list(archive.files)
            keys = next((ks for ks in key_sets if all(k in found for k in ks)), None)
            if keys is None:
                raise fail(name, path, f"has keys {', '.join(found) or '(none)'}; expected {expected}.")
            arrays = {k: archive[k] for k in keys}
    except DataError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "object" in str(exc).lower():
            what = "holds object (pickled) arrays, which are not loaded for safety; save plain number arrays."
            raise fail(name, path, what) from None
        raise fail(name, path, f"is not a readable .npz archive ({short(exc)}).") from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, pickle.UnpicklingError) as exc:
        raise fail(name, path, f"is not a readable .npz archive ({short(exc)}).") from None
    return arrays, {k: f"{path}, key '{k}'" for k in arrays}


# --- IDX -------------------------------------------------------------------------------------------


def find_idx_files(folder: Path) -> dict[str, Path]:
    """The IDX files of a folder by key, matched by name prefix, .gz or not."""
    try:
        files = sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: (len(p.name), p.name))
    except OSError:
        return {}
    found: dict[str, Path] = {}
    for key, stem in IDX_FILES.items():
        for p in files:
            # 'train-images.idx3-ubyte' (another common spelling) matches too.
            if p.name.replace(".", "-").startswith(stem):
                found[key] = p
                break
    return found


def has_idx_files(folder: Path) -> bool:
    """Whether a folder holds all four IDX files."""
    return folder.is_dir() and len(find_idx_files(folder)) == len(IDX_FILES)


def read_idx_folder(name: str, folder: Path, hint: str = "") -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read the four IDX files of a folder; ``hint`` is appended when one is missing."""
    found = find_idx_files(folder)
    missing = [IDX_FILES[k] for k in IDX_FILES if k not in found]
    if missing:
        raise fail(
            name,
            folder,
            f"missing {', '.join(m + '[.gz]' for m in missing)}; an IDX folder needs "
            f"{', '.join(IDX_FILES.values())} (each .gz or not).",
            hint,
        )
    arrays = {
        key: read_idx(name, path, _IDX_MAGIC_IMAGES if key.startswith("x") else _IDX_MAGIC_LABELS)
        for key, path in found.items()
    }
    return arrays, {k: str(p) for k, p in found.items()}


def read_idx(name: str, path: Path, magic: int) -> np.ndarray:
    """Read one IDX file (.gz or not) of unsigned bytes; check its magic number and size."""
    kind = "images" if magic == _IDX_MAGIC_IMAGES else "labels"
    try:
        with open(path, "rb") as f:
            raw = f.read()
        # Decide by content, not by name: a .gz file renamed still works.
        if raw.startswith(_GZIP_MAGIC):
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        # A truncated .gz ends in EOFError ("Compressed file ended before ...").
        raise fail(name, path, f"can't be read as an IDX {kind} file ({short(exc)}).") from None
    if len(raw) < 4:
        raise fail(name, path, f"is {len(raw)} bytes long; too short to be an IDX {kind} file.")
    (found,) = struct.unpack(">I", raw[:4])
    if found != magic:
        raise fail(name, path, f"is not an IDX {kind} file: magic number 0x{found:08x}, expected 0x{magic:08x}.")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise fail(name, path, f"is truncated: {len(raw)} bytes, shorter than its {header}-byte header.")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    need = math.prod(dims)
    have = len(raw) - header
    if have != need:
        what = "truncated" if have < need else "longer than its header says"
        raise fail(name, path, f"is {what}: {have} data bytes, but its header's shape {tuple(dims)} needs {need}.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)
