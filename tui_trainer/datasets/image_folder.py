"""``image_folder``: the user's own images, one subfolder per class (``cats/``, ``dogs/``).

Like Keras's ``image_dataset_from_directory``, but into NumPy arrays like every
other source: the class names are the subfolder names, sorted; images are
decoded with Pillow, converted to ``color_mode`` and, with ``image_size``,
resized (bilinear). Without ``image_size`` every image must have one size. A
test split is held out, stratified; the lesson's min-max scaling follows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Hashable, Mapping, Optional

from .base import DataSource, PATH_HINT, Raw, abspath, fail, needs_module, short

if TYPE_CHECKING:  # pragma: no cover
    from tui_trainer.spec import DataSpec

NAME = "image_folder"

# What Keras's image_dataset_from_directory reads; other files (notes, .DS_Store) are skipped.
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
_CHANNELS = {"grayscale": 1, "rgb": 3}
_PIL_MODE = {"grayscale": "L", "rgb": "RGB"}


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def class_folders(root: Path) -> list[Path]:
    """The class subfolders of ``root``, sorted by name; hidden ones skipped."""
    return sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)


def image_files(folder: Path) -> list[Path]:
    """The images of one class folder (and its subfolders), sorted; by extension, any case."""
    return sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file() and _visible(p, folder)
    )


def load(spec: "DataSpec") -> Raw:
    """Decode every image under ``spec.path``; labels are the class folders' positions, sorted by name."""
    import numpy as np

    from .arrays import split_raw

    root = _root(spec.path)
    classes = _classes(root)
    files = [(label, f) for label, folder in enumerate(classes) for f in image_files(folder)]
    images = _decode_all(root, [f for _, f in files], spec)
    x = np.stack(images)
    y = np.array([label for label, _ in files], dtype=np.int64)
    arrays = split_raw(NAME, str(root), x, y, spec.test_split)
    return Raw(arrays, {k: str(root) for k in arrays}, str(root), len(classes), tuple(c.name for c in classes))


def _root(path: Optional[str]) -> Path:
    assert path  # DataSpec requires it
    root = abspath(path)
    if not root.exists():
        raise fail(NAME, root, "no such folder.", PATH_HINT)
    if not root.is_dir():
        raise fail(NAME, root, "is a file; expected a folder with one subfolder of images per class.")
    return root


def _classes(root: Path) -> list[Path]:
    """The class folders, checked: at least two, none empty."""
    try:
        classes = class_folders(root)
    except OSError as exc:
        raise fail(NAME, root, f"can't be read ({short(exc)}).") from None
    example = "one subfolder per class (e.g. cats/ and dogs/), each holding its .png/.jpg images"
    if not classes:
        loose = sum(1 for p in root.iterdir() if p.suffix.lower() in EXTENSIONS)
        found = f" ({loose} images lie directly in it: move them into class subfolders)" if loose else ""
        raise fail(NAME, root, f"has no class subfolders{found}; expected {example}.")
    if len(classes) == 1:
        raise fail(NAME, root, f"has one class folder ('{classes[0].name}'); a classifier needs at least 2: "
                               f"expected {example}.")
    for folder in classes:
        if not image_files(folder):
            raise fail(NAME, folder, f"class folder '{folder.name}' has no images ({', '.join(EXTENSIONS)}); "
                                     "add some, or remove the folder.")
    return classes


def _decode_all(root: Path, files: list[Path], spec: "DataSpec") -> list[Any]:
    """Every image as a uint8 array of one shape: (H, W) grayscale, (H, W, 3) rgb."""
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise fail(NAME, root, "needs Pillow to read images: pip install pillow.") from None
    from .files import ImageError, NotAnImage, decode_image

    mode = _PIL_MODE[spec.color_mode]
    size = tuple(spec.image_size) if spec.image_size is not None else None
    images = []
    first: Optional[tuple[Path, tuple[int, int]]] = None
    for f in files:
        try:
            pixels = decode_image(f, mode, size)  # decodes the whole file: a truncated one fails here
        except ImageError as exc:
            why = "not a PNG, JPEG, BMP or GIF file" if isinstance(exc, NotAnImage) else str(exc)  # what it reads
            raise fail(NAME, f, f"can't be decoded as an image ({why}); replace or remove the file.") from None
        if first is None:
            first = (f, pixels.shape[:2])
        elif pixels.shape[:2] != first[1]:
            (h, w), (fh, fw) = pixels.shape[:2], first[1]
            raise fail(NAME, f, f"is {h}x{w} pixels (height x width) but {first[0]} is {fh}x{fw}; images must "
                                "all have one size, or set data.image_size = [height, width] to resize them.")
        images.append(pixels)
    return images


def shape(data: Mapping[str, Any]) -> Optional[tuple[int, ...]]:
    """``(height, width, channels)`` when ``image_size`` is set; else only the images tell."""
    size, channels = data.get("image_size"), _CHANNELS.get(data.get("color_mode", "rgb"))
    if (
        channels is None
        or not isinstance(size, (list, tuple))
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        return None
    return (size[0], size[1], channels)


def where(spec: "DataSpec") -> Hashable:
    """Every file under the folder with its mtime and size: adding, removing or editing an image reloads."""
    root = abspath(spec.path or "")
    entries: Optional[list[tuple[str, int, int]]] = []
    try:
        for p in sorted(root.rglob("*")):
            if _visible(p, root):
                st = p.stat()
                entries.append((str(p.relative_to(root)), st.st_mtime_ns, st.st_size))
    except OSError:
        entries = None
    return (str(root), tuple(entries) if entries is not None else None)


offline = needs_module("PIL", "your own images (data.path): one subfolder of .png/.jpg images per class",
                       "needs Pillow to decode images: pip install pillow")


SOURCE = DataSource(
    name=NAME,
    help="your own images: a folder with one subfolder of .png/.jpg images per class (the class names)",
    load=load,
    options=("path", "image_size", "color_mode", "flatten", "scale", "test_split"),
    offline=offline,
    needs_path=True,
    samples="images",
    shape=shape,
    where=where,
    images=True,  # the results view draws its samples and first-layer weights as pictures
)
