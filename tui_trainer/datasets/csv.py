"""``csv``: the user's own table, a header row, one row per sample, one label column.

Features are the other columns, numbers. A test split is held out.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from .base import DataSource, OfflineCheck, Raw, fail, short, user_file

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from tui_trainer.spec import DataSpec

NAME = "csv"


def load(spec: "DataSpec") -> Raw:
    """Read the table at ``spec.path``; the label column is ``spec.label_column``."""
    from .arrays import check_labels, count_classes, split_raw

    path = user_file(NAME, spec.path)
    x, y = read_csv(NAME, path, spec.label_column)
    where = f"{path}, column '{spec.label_column}'"
    y = check_labels(NAME, where, y, len(x), locate=lambda i: f"in data row {i + 1}")
    arrays = split_raw(NAME, str(path), x, y, spec.test_split)
    origin = {"x_train": str(path), "x_test": str(path), "y_train": where, "y_test": where}
    return Raw(arrays, origin, str(path), count_classes(arrays))


def read_csv(name: str, path: Path, label_column: str) -> tuple["np.ndarray", "np.ndarray"]:
    """Read a comma-separated file with a header row; return (features, labels)."""
    import numpy as np

    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: tolerate the BOM spreadsheets write
    except UnicodeDecodeError:
        raise fail(name, path, "is not UTF-8 text; expected a comma-separated file with a header row.") from None
    except OSError as exc:
        raise fail(name, path, f"can't be read ({short(exc)}).") from None
    if not text.strip():
        raise fail(name, path, "is empty; expected a header row and then one row of numbers per sample.")

    try:
        header = [h.strip() for h in next(csv.reader(io.StringIO(text)))]
    except csv.Error as exc:
        raise fail(name, path, f"has an unreadable header row ({short(exc)}).") from None
    if label_column not in header:
        raise fail(
            name,
            path,
            f"has no label column '{label_column}'; columns found: {', '.join(header)} "
            "(set data.label_column to the one holding the class).",
        )
    if header.count(label_column) > 1:
        raise fail(name, path, f"has {header.count(label_column)} columns named '{label_column}'; expected one.")
    if len(header) < 2:
        raise fail(name, path, f"has only the label column '{label_column}'; expected feature columns too.")

    # Fast path in C; only when it fails do we walk the rows to say where.
    data: np.ndarray | None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data" for a header-only file
            data = np.loadtxt(
                io.StringIO(text),
                delimiter=",",
                skiprows=1,
                ndmin=2,
                dtype=np.float64,
                comments=None,
                quotechar='"',
            )
    except ValueError:
        data = None
    if data is not None and data.shape[0] == 0:
        raise fail(name, path, "has a header row but no data rows.")
    if data is None or data.shape[1] != len(header) or not np.isfinite(data).all():
        _raise_bad_cell(name, path, text, header)
        raise fail(name, path, "could not be read as numbers.")  # pragma: no cover - the walk finds it

    li = header.index(label_column)
    return np.delete(data, li, axis=1), data[:, li]


def _raise_bad_cell(name: str, path: Path, text: str, header: list[str]) -> None:
    """Find the first cell np.loadtxt choked on and raise a DataError naming its line and column."""
    reader = csv.reader(io.StringIO(text))
    try:
        next(reader)
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue  # blank lines are skipped by loadtxt too
            line = reader.line_num
            if len(row) != len(header):
                raise fail(name, path, f"line {line} has {len(row)} cells; the header has {len(header)}.")
            for column, cell in zip(header, row):
                try:
                    value = float(cell)
                except ValueError:
                    what = f"line {line}, column '{column}': {cell.strip()!r} is not a number."
                    raise fail(name, path, what) from None
                if not math.isfinite(value):
                    raise fail(name, path, f"line {line}, column '{column}': {cell.strip()!r} is not a finite number.")
    except csv.Error as exc:
        raise fail(name, path, f"line {reader.line_num} is not valid CSV ({short(exc)}).") from None


def offline() -> OfflineCheck:
    """The user's own file: nothing to download."""
    return OfflineCheck(True, "your own .csv file (data.path): a header row, number columns and a label column")


SOURCE = DataSource(
    name=NAME,
    help="your own table: a header row, number columns, and a label column (data.label_column)",
    load=load,
    options=("path", "scale", "test_split", "label_column"),
    offline=offline,
    needs_path=True,
)
