"""``csv``: the user's own table, a header row, one row per sample, one label column.

Features are the other columns, numbers. Labels are class numbers 0..n-1, or
class names ("cat", "dog") mapped to numbers in sorted order (the names become
:attr:`Dataset.class_names`). A test split is held out, stratified.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from .base import DataSource, OfflineCheck, Raw, fail, short, user_file

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from tui_trainer.spec import DataSpec

NAME = "csv"


def load(spec: "DataSpec") -> Raw:
    """Read the table at ``spec.path``; the label column is ``spec.label_column``."""
    from .arrays import check_labels, count_classes, split_raw

    path = user_file(NAME, spec.path)
    x, y, class_names = read_csv(NAME, path, spec.label_column)
    where = f"{path}, column '{spec.label_column}'"
    if class_names is None:
        y = check_labels(NAME, where, y, len(x), locate=lambda i: f"in data row {i + 1}")
    arrays = split_raw(NAME, str(path), x, y, spec.test_split)
    origin = {"x_train": str(path), "x_test": str(path), "y_train": where, "y_test": where}
    num_classes = len(class_names) if class_names is not None else count_classes(arrays)
    return Raw(arrays, origin, str(path), num_classes, class_names)


def read_csv(
    name: str, path: Path, label_column: str
) -> tuple["np.ndarray", "np.ndarray", Optional[tuple[str, ...]]]:
    """Read a comma-separated file with a header row.

    Returns:
        ``(features, labels, class_names)``: with class numbers, float labels
        (checked by the caller) and ``None``; with class names, int64 labels
        indexing the sorted ``class_names``.
    """
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
    li = header.index(label_column)

    # Fast path in C, all numbers; only when it fails do we walk the rows to say where, or find class names.
    data = _numbers(text)
    if data is not None and data.shape[0] == 0:
        raise fail(name, path, "has a header row but no data rows.")
    if data is not None and data.shape[1] == len(header) and np.isfinite(data).all():
        return np.delete(data, li, axis=1), data[:, li], None

    rows = _rows(name, path, text, header)
    labels = [row[li].strip() for _, row in rows]
    numeric = [is_number(label) for label in labels]
    if all(numeric):  # the labels are class numbers: a feature cell (or a label like 'inf') is bad
        _raise_bad_cell(name, path, text, header)
        raise fail(name, path, "could not be read as numbers.")  # pragma: no cover - the walk finds it
    for (line, _), label in zip(rows, labels):
        if not label:
            raise fail(name, path, f"line {line}, column '{label_column}' is empty; every row needs a class.")
    if any(numeric):
        (n_line, _), n_label = next((r, lab) for r, lab, num in zip(rows, labels, numeric) if num)
        (t_line, _), t_label = next((r, lab) for r, lab, num in zip(rows, labels, numeric) if not num)
        raise fail(name, path, f"column '{label_column}' mixes class numbers and names (line {n_line}: "
                               f"{n_label!r}, line {t_line}: {t_label!r}); use one or the other throughout.")

    features = _numbers(text, usecols=[i for i in range(len(header)) if i != li])
    if features is None or len(features) != len(rows) or not np.isfinite(features).all():
        _raise_bad_cell(name, path, text, header, skip=li)
        raise fail(name, path, "could not be read as numbers.")  # pragma: no cover - the walk finds it
    class_names = tuple(sorted(set(labels)))
    index = {c: i for i, c in enumerate(class_names)}
    return features, np.array([index[label] for label in labels], dtype=np.int64), class_names


def _numbers(text: str, usecols: Optional[list[int]] = None) -> Optional["np.ndarray"]:
    """The table below the header as float64 (np.loadtxt, in C), or ``None`` if a cell is not a number."""
    import numpy as np

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data" for a header-only file
            return np.loadtxt(
                io.StringIO(text),
                delimiter=",",
                skiprows=1,
                ndmin=2,
                dtype=np.float64,
                comments=None,
                quotechar='"',
                usecols=usecols,
            )
    except ValueError:
        return None


def is_number(cell: str) -> bool:
    """Whether a CSV cell reads as a number (``float()`` takes it: ``1``, ``-2.5e3``, ``nan``)."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _rows(name: str, path: Path, text: str, header: list[str]) -> list[tuple[int, list[str]]]:
    """The data rows with their line numbers, blank lines skipped; a row of the wrong length is an error."""
    reader = csv.reader(io.StringIO(text))
    rows = []
    try:
        next(reader)
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue  # blank lines are skipped by loadtxt too
            if len(row) != len(header):
                raise fail(name, path, f"line {reader.line_num} has {len(row)} cells; the header has {len(header)}.")
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise fail(name, path, f"line {reader.line_num} is not valid CSV ({short(exc)}).") from None
    if not rows:
        raise fail(name, path, "has a header row but no data rows.")
    return rows


def _raise_bad_cell(name: str, path: Path, text: str, header: list[str], skip: Optional[int] = None) -> None:
    """Find the first cell np.loadtxt choked on and raise a DataError naming its line and column.

    ``skip``: a column not to check (the label column, when it holds class names).
    """
    reader = csv.reader(io.StringIO(text))
    try:
        next(reader)
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue  # blank lines are skipped by loadtxt too
            line = reader.line_num
            if len(row) != len(header):
                raise fail(name, path, f"line {line} has {len(row)} cells; the header has {len(header)}.")
            for i, (column, cell) in enumerate(zip(header, row)):
                if i == skip:
                    continue
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
    return OfflineCheck(True, "your own .csv file (data.path): a header row, number columns and a label column "
                              "(class numbers or names)")


SOURCE = DataSource(
    name=NAME,
    help="your own table: a header row, number columns, and a label column (data.label_column) of class "
    "numbers or names",
    load=load,
    options=("path", "scale", "test_split", "label_column"),
    offline=offline,
    needs_path=True,
)
