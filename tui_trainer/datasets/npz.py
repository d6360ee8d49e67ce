"""``npz``: the user's own arrays, saved with ``np.savez``.

Either ``x`` and ``y`` (a test split is held out, stratified) or ``x_train``,
``y_train``, ``x_test``, ``y_test``. Labels are class numbers 0..n-1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import DataSource, OfflineCheck, Raw, fail, user_file

if TYPE_CHECKING:  # pragma: no cover
    from tui_trainer.spec import DataSpec

NAME = "npz"


def load(spec: "DataSpec") -> Raw:
    """Read and check the archive at ``spec.path``."""
    from .arrays import MNIST_KEYS, check_features, check_labels, count_classes, split_raw
    from .files import read_npz

    path = user_file(NAME, spec.path)
    arrays, origin = read_npz(NAME, path, (MNIST_KEYS, ("x", "y")))
    if "x" in arrays:
        x = check_features(NAME, origin["x"], arrays["x"])
        y = check_labels(NAME, origin["y"], arrays["y"], len(x))
        arrays = split_raw(NAME, str(path), x, y, spec.test_split)
        origin = {"x_train": origin["x"], "x_test": origin["x"], "y_train": origin["y"], "y_test": origin["y"]}
    else:
        for xk, yk in (("x_train", "y_train"), ("x_test", "y_test")):
            arrays[xk] = check_features(NAME, origin[xk], arrays[xk])
            arrays[yk] = check_labels(NAME, origin[yk], arrays[yk], len(arrays[xk]))
        if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
            raise fail(
                NAME,
                path,
                f"x_test samples have shape {arrays['x_test'].shape[1:]} but x_train samples have shape "
                f"{arrays['x_train'].shape[1:]}; they must match.",
            )
    # The classes are whatever labels occur: 0..max.
    return Raw(arrays, origin, str(path), count_classes(arrays))


def offline() -> OfflineCheck:
    """The user's own file: nothing to download."""
    return OfflineCheck(True, "your own .npz file (data.path): keys x, y or x_train, y_train, x_test, y_test")


SOURCE = DataSource(
    name=NAME,
    help="your own arrays saved with np.savez: x, y (a test split is held out) or x_train, y_train, x_test, y_test",
    load=load,
    options=("path", "flatten", "scale", "test_split"),
    offline=offline,
    needs_path=True,
)
