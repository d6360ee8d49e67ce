"""Images in any terminal: two pixels per character cell with the upper half block.

``▀`` painted with the upper pixel as its foreground and the lower one as its
background shows two rows of pixels in one row of text, in every terminal with
24-bit colour (and in Textual's SVG screenshots). Grayscale images (test samples)
go from black to white; weights go through a diverging map, negative blue, zero
black, positive red, so a learned feature reads at a glance.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text

UPPER = "▀"

__all__ = ["UPPER", "half_blocks", "to_rgb", "gray_rgb", "diverging_rgb", "robust_vmax", "FEATURE_GAMMA",
           "upscale_for", "shrink", "fit"]


def gray_rgb(img: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, C) values in 0..1 (or uint8 0..255) as (H, W, 3) uint8 colours."""
    a = np.asarray(img)
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
    a = np.clip(np.nan_to_num(a.astype(np.float32)), 0.0, 1.0)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.shape[2] != 3:
        a = np.repeat(a.mean(axis=2)[:, :, None], 3, axis=2)
    return (a * 255).round().astype(np.uint8)


def diverging_rgb(weights: np.ndarray, vmax: Optional[float] = None, gamma: float = 1.0) -> np.ndarray:
    """(H, W) weights as colours: negative blue, zero black, positive red, scaled by ``vmax`` (default max |w|).

    Args:
        gamma: below 1 brightens the small weights (``|w / vmax| ** gamma``): most of a layer's weights
            are a fraction of its largest, and drawn linearly they are near black.
    """
    w = np.nan_to_num(np.asarray(weights, dtype=np.float32))
    vmax = float(vmax if vmax is not None else np.abs(w).max()) or 1.0
    t = np.clip(w / vmax, -1.0, 1.0)
    if gamma != 1.0:
        t = np.sign(t) * np.abs(t) ** gamma
    pos, neg = np.clip(t, 0, 1), np.clip(-t, 0, 1)
    rgb = np.stack([255 * pos + 40 * neg, 60 * pos + 110 * neg, 30 * pos + 255 * neg], axis=2)
    return rgb.round().clip(0, 255).astype(np.uint8)


to_rgb = gray_rgb

FEATURE_GAMMA = 0.6
"""How the features view lifts small weights (see :func:`diverging_rgb`)."""


def robust_vmax(arrays, percentile: float = 99.0) -> float:
    """The scale for a set of weight images: the ``percentile`` of their |w| (one outlier weight scaled by
    its own max would leave every other weight near black), 1.0 when all are zero."""
    values = [np.abs(np.nan_to_num(np.asarray(a, dtype=np.float32))).ravel() for a in arrays]
    if not values:
        return 1.0
    return float(np.percentile(np.concatenate(values), percentile)) or 1.0


def upscale_for(height: int, width: int, max_width: int = 28) -> int:
    """The whole-number scale that makes a small image (digits' 8x8) big enough to read, within ``max_width``."""
    return max(1, min(4, max_width // max(1, width)))


def shrink(img: np.ndarray, factor: int) -> np.ndarray:
    """Average ``factor`` x ``factor`` blocks of pixels: a 28x28 image at factor 2 is 14x14 (edges cropped)."""
    if factor <= 1:
        return img
    a = np.asarray(img, dtype=np.float32)
    h, w = (a.shape[0] // factor) * factor, (a.shape[1] // factor) * factor
    a = a[:h, :w]
    return a.reshape(h // factor, factor, w // factor, factor, *a.shape[2:]).mean(axis=(1, 3))


def fit(img: np.ndarray, max_width: int) -> tuple[np.ndarray, int]:
    """The image and the scale to draw it with so it is at most ``max_width`` cells wide (bigger when small)."""
    width = img.shape[1]
    if width > max_width:
        factor = -(-width // max(1, max_width))
        return shrink(img, factor), 1
    return img, upscale_for(img.shape[0], width, max_width)


def half_blocks(rgb: np.ndarray, scale: int = 1) -> Text:
    """Draw an (H, W, 3) uint8 image as text, two pixel rows per line, ``scale`` times larger.

    Args:
        rgb: the colours (see :func:`gray_rgb` and :func:`diverging_rgb`).
        scale: each pixel becomes ``scale`` x ``scale`` pixels (nearest neighbour).

    Returns:
        ``ceil(H * scale / 2)`` lines of ``W * scale`` cells, joined by newlines. An odd last pixel
        row has the terminal's own background as its lower half.
    """
    a = np.asarray(rgb, dtype=np.uint8)
    if scale > 1:
        a = np.repeat(np.repeat(a, scale, axis=0), scale, axis=1)
    h, w = a.shape[:2]
    text = Text(no_wrap=True, overflow="crop")
    cache: dict[tuple, Style] = {}
    for r in range(0, h, 2):
        if r:
            text.append("\n")
        top = a[r]
        bottom = a[r + 1] if r + 1 < h else None
        for c in range(w):
            key = (tuple(top[c]), tuple(bottom[c]) if bottom is not None else None)
            style = cache.get(key)
            if style is None:
                style = Style(color=Color.from_rgb(*map(int, key[0])),
                              bgcolor=Color.from_rgb(*map(int, key[1])) if key[1] is not None else None)
                cache[key] = style
            text.append(UPPER, style)
    return text
