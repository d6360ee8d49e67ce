"""Min-max decimation: short series pass through, long ones keep every bucket's extremes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tui_trainer.decimate import minmax_decimate


def test_short_series_come_back_unchanged():
    y = [3.0, 1.0, 2.0, 5.0]
    x, out = minmax_decimate(y, columns=2)  # 4 <= 2 * 2
    assert out.tolist() == y
    assert x.tolist() == [1.0, 2.0, 3.0, 4.0]  # x defaults to 1..n


def test_short_series_keep_the_given_x():
    x, y = minmax_decimate([1, 2, 3], columns=5, x=[0.5, 0.75, 1.0])
    assert x.tolist() == [0.5, 0.75, 1.0]
    assert y.tolist() == [1.0, 2.0, 3.0]
    assert x.dtype == float and y.dtype == float


def test_a_million_points_become_at_most_two_per_column():
    rng = np.random.default_rng(0)
    y = rng.normal(size=1_000_000)
    for columns in (1, 7, 100, 333):
        x, out = minmax_decimate(y, columns)
        assert len(out) <= 2 * columns
        assert len(x) == len(out)


def test_a_single_spike_survives():
    rng = np.random.default_rng(1)
    y = rng.normal(size=1_000_000)
    y[654_321] = 1e6
    y[123] = -1e6
    x, out = minmax_decimate(y, 100)
    assert out.max() == 1e6 and x[out.argmax()] == 654_322.0  # 1-based default x
    assert out.min() == -1e6 and x[out.argmin()] == 124.0


def test_every_bucket_keeps_its_min_and_max_in_order():
    rng = np.random.default_rng(2)
    n, columns = 1000, 10  # buckets of 100
    y = rng.normal(size=n)
    x, out = minmax_decimate(y, columns)
    assert len(out) == 2 * columns
    for b in range(columns):
        bucket = y[b * 100 : (b + 1) * 100]
        i_min, i_max = int(bucket.argmin()), int(bucket.argmax())
        pair = out[2 * b : 2 * b + 2].tolist()
        expected = [bucket[i_min], bucket[i_max]] if i_min < i_max else [bucket[i_max], bucket[i_min]]
        assert pair == expected
        assert x[2 * b : 2 * b + 2].tolist() == sorted([b * 100 + i_min + 1.0, b * 100 + i_max + 1.0])


def test_uneven_lengths_are_bucketed_without_inventing_points():
    rng = np.random.default_rng(3)
    y = rng.normal(size=10_007)
    x, out = minmax_decimate(y, 64)
    assert len(out) <= 128
    idx = x.astype(int) - 1
    assert (y[idx] == out).all()  # every kept point is a real point at its own x
    assert out.max() == y.max() and out.min() == y.min()
    assert x[-1] <= len(y)


def test_x_positions_are_preserved_and_monotonic():
    n = 50_000
    x_in = np.linspace(0.0, 33.0, n)  # e.g. fractional epochs
    y = np.sin(x_in * 7) + np.random.default_rng(4).normal(scale=0.1, size=n)
    x, out = minmax_decimate(y, 80, x=x_in)
    assert np.all(np.diff(x) > 0)
    positions = np.searchsorted(x_in, x)
    assert np.allclose(x_in[positions], x)
    assert np.array_equal(y[positions], out)


def test_nans_are_ignored_and_all_nan_buckets_dropped():
    y = np.arange(1000, dtype=float)
    y[::3] = np.nan  # scattered NaNs
    y[500:600] = np.nan  # one whole bucket (columns=10 gives buckets of 100)
    x, out = minmax_decimate(y, 10)
    assert not np.isnan(out).any()
    assert len(out) == 2 * 9  # the all-NaN bucket contributed nothing
    assert not ((x > 500) & (x <= 600)).any()
    assert out.min() == 1.0 and out.max() == 998.0


def test_all_nan_input_gives_nothing():
    x, out = minmax_decimate(np.full(1000, np.nan), 10)
    assert len(x) == len(out) == 0


def test_a_flat_bucket_gives_one_point():
    x, out = minmax_decimate(np.ones(100), 10)
    assert out.tolist() == [1.0] * 10
    assert x.tolist() == [1.0 + 10 * b for b in range(10)]


def test_bad_arguments():
    with pytest.raises(ValueError):
        minmax_decimate([1.0, 2.0], 0)
    with pytest.raises(ValueError):
        minmax_decimate([1.0, 2.0, 3.0], 1, x=[1.0, 2.0])
    with pytest.raises(ValueError):
        minmax_decimate(np.zeros((3, 3)), 1)


def test_imports_neither_textual_nor_plotext():
    code = (
        "import sys, tui_trainer.decimate; "
        "bad = [m for m in ('textual', 'plotext', 'textual_plotext') if m in sys.modules]; "
        "sys.exit(', '.join(bad) or None)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
