"""Min-max decimation: shrink a long series to what a terminal chart can show.

Why min-max: a chart ``columns`` cells wide cannot show more than about two
values per column anyway (the lowest and the highest it touches), and
plotext's build time grows with the number of points it is handed (about
0.5 s for 100 k points and 5 s for 1 M at 100x25), so handing it a whole run
makes every redraw slow. Keeping the minimum and the maximum of each column's
bucket, instead of averaging or sampling every k-th point, draws the same
envelope as the full series: a single diverging batch (a loss spike) is a
bucket's maximum and so always survives, where a mean would flatten it and a
stride would usually skip it.

Headless: numpy only, no textual or plotext, so it is tested and benchmarked
without a terminal.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["minmax_decimate"]


def minmax_decimate(y: ArrayLike, columns: int, x: Optional[ArrayLike] = None) -> tuple[np.ndarray, np.ndarray]:
    """Keep the minimum and the maximum of each of ``columns`` contiguous buckets.

    Args:
        y: The values, in order (any 1-D array-like of numbers).
        columns: How many buckets (plot columns) to reduce to; the result has
            at most ``2 * columns`` points.
        x: The x position of each value; defaults to ``1..len(y)``.

    Returns:
        ``(x, y)`` as float arrays. When ``len(y) <= 2 * columns`` the input is
        returned unchanged (as arrays). Otherwise each bucket contributes its
        minimum and its maximum, in their original order and with their own x
        positions (one point when they coincide), so the output's x keeps the
        input's order. NaNs are ignored; a bucket holding only NaNs is dropped.

    Raises:
        ValueError: ``columns`` < 1, ``y`` not 1-D, or ``x`` of another length.
    """
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    ys = np.asarray(y, dtype=float)
    if ys.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {ys.shape}")
    n = ys.shape[0]
    if x is None:
        xs = None  # 1..n, made only for the points kept: a million-point arange is 8 MB for nothing
    else:
        xs = np.asarray(x, dtype=float)
        if xs.shape != ys.shape:
            raise ValueError(f"x has shape {xs.shape} but y has {ys.shape}")
    if n <= 2 * columns:
        return (np.arange(1, n + 1, dtype=float) if xs is None else xs), ys

    # Equal buckets of `size` points, one row each: ceil(n / size) <= columns rows. The full
    # rows are a view of the input (no copy); a shorter last bucket is reduced on its own.
    size = -(-n // columns)
    full = n // size
    rows = -(-n // size)
    has_nan = bool(np.isnan(ys).any())

    def extremes(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if has_nan:
            # NaN would win argmin/argmax: make it lose both instead.
            nan = np.isnan(grid)
            return np.where(nan, np.inf, grid).argmin(axis=1), np.where(nan, -np.inf, grid).argmax(axis=1)
        return grid.argmin(axis=1), grid.argmax(axis=1)

    imin, imax = extremes(ys[: full * size].reshape(full, size))
    if rows > full:
        tmin, tmax = extremes(ys[full * size:].reshape(1, -1))
        imin, imax = np.concatenate([imin, tmin]), np.concatenate([imax, tmax])

    offsets = np.arange(rows) * size
    first = np.minimum(imin, imax) + offsets
    second = np.maximum(imin, imax) + offsets
    idx = np.stack([first, second], axis=1)  # (rows, 2): row-major ravel keeps x order

    keep = np.ones((rows, 2), dtype=bool)
    keep[:, 1] = imin != imax  # a flat bucket (or one value) gives one point, not two copies
    idx = idx[keep]
    if has_nan:
        # An all-NaN bucket (or one whose only numbers are infinities of the filler's sign)
        # lands argmin/argmax on a NaN: drop those picks.
        idx = idx[~np.isnan(ys[idx])]
    return (idx + 1.0 if xs is None else xs[idx]), ys[idx]
