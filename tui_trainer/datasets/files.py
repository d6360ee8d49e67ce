"""Readers shared by sources: .npz archives and MNIST-style IDX files (gzip or not)."""

from __future__ import annotations

import gzip
import math
import pickle
import re
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


# --- images ----------------------------------------------------------------------------------------

MAX_IMAGE_PIXELS = 50_000_000
"""The largest image decoded (50 megapixels, e.g. 7071x7071): a bigger one is refused, not decoded.

A small PNG can claim 30000x30000 pixels and take gigabytes to decode (a decompression bomb); no
image a model here takes needs more than a few megapixels before it is shrunk.
"""

# Modes Pillow turns into 8-bit L or RGB as they are: no scale to guess. Alpha is dropped, as
# Keras's image_dataset_from_directory drops it (P with a transparent colour goes through RGBA first).
_PLAIN_MODES = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "RGBa", "La", "CMYK", "YCbCr"})


class ImageError(ValueError):
    """An image that can't be decoded; ``str()`` says why in a few words (the caller names the file)."""


class NotAnImage(ImageError):
    """No image format Pillow knows (the caller says which kinds it takes)."""


def decode_image(path: Path, mode: str, size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode one image file to uint8 pixels, the one decoder of image folders and ``predict``.

    Args:
        path: the image file (PNG, JPEG, BMP, GIF, WebP, TIFF).
        mode: ``"L"`` (grayscale, (H, W)) or ``"RGB"`` ((H, W, 3)).
        size: ``(height, width)`` to resize to (bilinear), or None to keep the image's size.

    Returns:
        The pixels as uint8, 0..255. 16-bit images (modes I;16, I) keep their high byte (0..65535
        onto 0..255, as Keras's own folder loader decodes them), float images (F) are scaled from
        0..1 (or kept when already 0..255); never clipped.

    Raises:
        ImageError: not an image, truncated, over :data:`MAX_IMAGE_PIXELS`, or a mode that can't be converted.
    """
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow warns about big images and odd palettes on stderr; we say what matters ourselves.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_IMAGE_PIXELS:
                    raise ImageError(_too_big(w * h, f"{w}x{h}"))
                im = _to_mode(im, mode)
                if size is not None and im.size != (size[1], size[0]):
                    im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)  # PIL sizes are (w, h)
                return np.asarray(im, dtype=np.uint8)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses before the size is known to us; its message holds the pixel count.
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        raise ImageError(_too_big(int(pixels.group(1)) if pixels else None)) from None
    except UnidentifiedImageError:
        raise NotAnImage("not a PNG, JPEG, BMP, GIF, WebP or TIFF file") from None
    except MemoryError:
        raise ImageError("too large to decode in memory") from None
    except Exception as exc:  # PIL raises many kinds (OSError, SyntaxError, struct.error, ...)
        raise ImageError(short(exc)) from None


def _too_big(pixels: int | None, size: str = "") -> str:
    amount = "its size" if not pixels else f"{pixels / 1e6:.0f} megapixels" if pixels >= 1e6 else f"{pixels} pixels"
    what = f"{size} pixels, {amount}," if size else amount
    return (f"{what} is over the {MAX_IMAGE_PIXELS / 1e6:g}-megapixel cap for one image, a guard against "
            "decompression bombs; shrink it first")


def _to_mode(im, mode: str):
    """``im`` as an 8-bit ``mode`` image; wide and float modes scaled, not clipped."""
    from PIL import Image

    if im.mode in _PLAIN_MODES:
        if im.mode in ("P", "PA") and ("transparency" in im.info or im.mode == "PA"):
            im = im.convert("RGBA")
        return im.convert(mode)
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        x = np.asarray(im)
        eight = _scale_to_8bit(x, im.mode)
        return Image.fromarray(eight, "L").convert(mode)
    raise ImageError(f"image mode {im.mode} is not supported; save it as 8- or 16-bit grayscale or RGB")


def _scale_to_8bit(x: np.ndarray, pil_mode: str) -> np.ndarray:
    """16-bit (0..65535) or float (0..1, or 0..255) pixels as uint8; anything else is refused."""
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        raise ImageError(f"image mode {pil_mode} holds NaN or infinite pixels")
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    if pil_mode == "F":
        if lo >= 0 and hi <= 1:
            full = 1.0
        elif lo >= 0 and hi <= 255:
            full = 255.0
        else:
            raise ImageError(f"float image (mode F) with pixels from {lo:g} to {hi:g}; expected 0..1 or 0..255")
    elif lo >= 0 and hi <= 65535:
        # 16-bit, as PNG stores it (mode I is how some files hold it): the high byte, as TensorFlow's
        # decode_image does for Keras's image_dataset_from_directory, so both loaders see one picture.
        return (x.astype(np.uint16) >> 8).astype(np.uint8)
    else:
        raise ImageError(f"32-bit image (mode {pil_mode}) with pixels from {lo:g} to {hi:g}; expected 0..65535")
    return np.rint(x * (255.0 / full)).astype(np.uint8)
