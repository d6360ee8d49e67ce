"""Tests for tui_trainer.datasets: every source from small files in tmp_path, never the network."""

from __future__ import annotations

import gzip
import io
import os
import socket
import struct
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from tui_trainer.datasets import DataError, Dataset, clear_cache, download, fashion_mnist, load_dataset
from tui_trainer.spec import DataSpec

REAL_FASHION = Path("/usr/share/datasets/fashion-mnist")
REAL_KERAS_LOAD = download.keras_load  # kept before the autouse fixture swaps it out


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """A fresh cache per test; keras can never be reached; no Debian folder unless a test sets one."""
    clear_cache()

    def no_keras(name):
        raise AssertionError(f"test tried to load {name!r} through keras.datasets")

    monkeypatch.setattr(download, "keras_load", no_keras)
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FASHION_MNIST", str(tmp_path / "no-debian-folder"))
    yield
    clear_cache()


# --- helpers -------------------------------------------------------------------------------------


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write a uint8 array as an IDX file (gzip-compressed when the name ends in .gz)."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.tobytes()
    path.write_bytes(gzip.compress(payload) if path.name.endswith(".gz") else payload)
    return path


def mnist_arrays(n_train=50, n_test=20, seed=1):
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8)
    x_train[0, 0, 0], x_train[0, 0, 1] = 0, 255  # the training range is exactly 0..255
    y_train = rng.integers(0, 10, size=n_train).astype(np.uint8)
    y_test = rng.integers(0, 10, size=n_test).astype(np.uint8)
    return x_train, y_train, x_test, y_test


def write_mnist_npz(path: Path, **overrides) -> Path:
    x_train, y_train, x_test, y_test = mnist_arrays()
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    arrays.update(overrides)
    np.savez(path, **arrays)
    return path


def write_idx_folder(folder: Path, gz: bool = True, skip: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    x_train, y_train, x_test, y_test = mnist_arrays()
    suffix = ".gz" if gz else ""
    files = {
        "train-images-idx3-ubyte": x_train,
        "train-labels-idx1-ubyte": y_train,
        "t10k-images-idx3-ubyte": x_test,
        "t10k-labels-idx1-ubyte": y_test,
    }
    for stem, arr in files.items():
        if stem != skip:
            write_idx(folder / (stem + suffix), arr)
    return folder


def savez(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


def write_bytes(path: Path, payload: bytes) -> Path:
    path.write_bytes(payload)
    return path


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def assert_one_line(err: DataError, *facts: str) -> str:
    msg = str(err)
    assert "\n" not in msg, msg
    assert msg.startswith("Data set '"), msg
    for fact in facts:
        assert fact in msg, f"{fact!r} not in {msg!r}"
    return msg


# --- digits --------------------------------------------------------------------------------------


def test_digits_offline_flattened_and_scaled():
    ds = load_dataset(DataSpec(dataset="digits", test_split=0.25))
    assert isinstance(ds, Dataset)
    assert ds.name == "digits" and "scikit-learn" in ds.source
    n = len(ds.x_train) + len(ds.x_test)
    assert n == 1797
    assert len(ds.x_test) == round(1797 * 0.25)
    assert ds.x_train.shape == (len(ds.x_train), 64) and ds.input_shape == (64,)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert ds.scale_range == (0.0, 16.0)
    assert ds.num_classes == 10 and set(np.unique(ds.y_train)) == set(range(10))


def test_digits_split_is_deterministic_and_independent_of_cache():
    a = load_dataset(DataSpec(dataset="digits"))
    clear_cache()
    b = load_dataset(DataSpec(dataset="digits"))
    assert a is not b
    np.testing.assert_array_equal(a.x_test, b.x_test)
    np.testing.assert_array_equal(a.y_train, b.y_train)


def test_digits_unflattened_unscaled():
    ds = load_dataset(DataSpec(dataset="digits", flatten=False, scale=False))
    assert ds.input_shape == (8, 8, 1) and ds.x_train.shape[1:] == (8, 8, 1)  # grayscale gets its channel axis
    assert ds.scale_range is None and ds.x_train.max() == 16.0


# --- cache ---------------------------------------------------------------------------------------


def test_cache_returns_same_object_and_tracks_file_changes(tmp_path):
    path = write_mnist_npz(tmp_path / "m.npz")
    spec = DataSpec(dataset="mnist", path=str(path))
    first = load_dataset(spec)
    assert load_dataset(spec) is first
    # validation_split is applied by the trainer, not here: it must not defeat the cache
    assert load_dataset(spec.model_copy(update={"validation_split": 0.3})) is first
    assert load_dataset(spec.model_copy(update={"flatten": False})) is not first

    x_train, y_train, x_test, y_test = mnist_arrays(n_train=30)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    os.utime(path, ns=(1, 1))  # a different mtime whatever the file system's clock resolution
    assert len(load_dataset(spec).x_train) == 30


def test_cached_arrays_are_read_only():
    ds = load_dataset(DataSpec(dataset="digits"))
    with pytest.raises(ValueError):
        ds.x_train[0, 0] = 5.0


# --- mnist / fashion_mnist -----------------------------------------------------------------------


def test_mnist_from_npz_flattened_and_scaled(tmp_path):
    path = write_mnist_npz(tmp_path / "mnist.npz")
    ds = load_dataset(DataSpec(dataset="mnist", path=str(path)))
    assert ds.source == str(path)
    assert ds.x_train.shape == (50, 784) and ds.x_test.shape == (20, 784)
    assert ds.input_shape == (784,) and ds.num_classes == 10
    assert ds.x_train.dtype == np.float32
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert ds.scale_range == (0.0, 255.0)
    x_train, y_train, _, _ = mnist_arrays()
    np.testing.assert_allclose(ds.x_train[3], x_train[3].reshape(-1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(ds.y_train, y_train)


def test_mnist_from_npz_unflattened(tmp_path):
    path = write_mnist_npz(tmp_path / "mnist.npz")
    ds = load_dataset(DataSpec(dataset="mnist", path=str(path), flatten=False))
    assert ds.x_train.shape == (50, 28, 28, 1) and ds.input_shape == (28, 28, 1)


def test_mnist_npz_with_flat_rows_and_tilde_path(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    x_train, y_train, x_test, y_test = mnist_arrays()
    np.savez(
        tmp_path / "flat.npz",
        x_train=x_train.reshape(50, 784),
        y_train=y_train.astype(np.float64),  # 3.0 is a fine label
        x_test=x_test.reshape(20, 784),
        y_test=y_test,
    )
    ds = load_dataset(DataSpec(dataset="mnist", path="~/flat.npz", flatten=False))
    assert ds.x_train.shape == (50, 28, 28, 1)
    assert ds.source == str(tmp_path / "flat.npz")
    assert ds.y_train.dtype == np.int64


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_idx_folder(tmp_path, name, gz):
    folder = write_idx_folder(tmp_path / "idx", gz=gz)
    ds = load_dataset(DataSpec(dataset=name, path=str(folder)))
    assert ds.name == name and ds.source == str(folder)
    assert ds.x_train.shape == (50, 784) and ds.x_test.shape == (20, 784)
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() == 1.0
    x_train, y_train, x_test, y_test = mnist_arrays()
    np.testing.assert_array_equal(ds.y_test, y_test)
    np.testing.assert_allclose(ds.x_test * 255.0, x_test.reshape(20, -1), atol=1e-3)


def test_fashion_mnist_found_in_debian_folder(tmp_path, monkeypatch):
    folder = write_idx_folder(tmp_path / "debian-fashion")
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FASHION_MNIST", str(folder))
    ds = load_dataset(DataSpec(dataset="fashion_mnist"))
    assert ds.source == str(folder)
    assert ds.x_train.shape == (50, 784)


def test_mnist_without_path_does_not_use_debian_fashion_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FASHION_MNIST", str(write_idx_folder(tmp_path / "debian-fashion")))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    calls = []

    def fake_keras(name):
        calls.append(name)
        raise OSError("network is unreachable")

    monkeypatch.setattr(download, "keras_load", fake_keras)
    with pytest.raises(DataError):
        load_dataset(DataSpec(dataset="mnist"))
    assert calls == ["mnist"]


def test_keras_result_is_validated_and_preprocessed(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    x_train, y_train, x_test, y_test = mnist_arrays()
    monkeypatch.setattr(download, "keras_load", lambda name: ((x_train, y_train), (x_test, y_test)))
    ds = load_dataset(DataSpec(dataset="mnist"))
    assert ds.source.startswith("keras cache ") and str(tmp_path / "kh" / "datasets") in ds.source
    assert ds.x_train.shape == (50, 784) and ds.x_train.max() == 1.0


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_offline_without_cache_says_what_to_do(tmp_path, monkeypatch, name):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))

    def offline(_name):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(download, "keras_load", offline)
    with pytest.raises(DataError) as info:
        load_dataset(DataSpec(dataset=name))
    msg = assert_one_line(
        info.value, f"Data set '{name}'", "--data-path", "digits", str(tmp_path / "kh" / "datasets"), "name resolution"
    )
    assert "no cached copy" in msg
    if name == "fashion_mnist":
        assert "apt-get install dataset-fashion-mnist" in msg and fashion_mnist.DEBIAN_FASHION_MNIST in msg


def test_keras_seam_sets_quiet_tf_defaults_and_restores_timeout(monkeypatch):
    """_keras_load's own wrapping, with a stand-in keras module: the real one is never imported."""
    seen = {}

    def load_data():
        seen["timeout"] = socket.getdefaulttimeout()
        raise OSError("offline")

    loader = types.SimpleNamespace(load_data=load_data)
    fake_keras = types.SimpleNamespace(datasets=types.SimpleNamespace(mnist=loader, fashion_mnist=loader))
    monkeypatch.setitem(sys.modules, "keras", fake_keras)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    before = socket.getdefaulttimeout()
    with pytest.raises(OSError):
        REAL_KERAS_LOAD("mnist")
    assert seen["timeout"] == download.DOWNLOAD_TIMEOUT_S
    assert socket.getdefaulttimeout() == before
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2" and os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"


# --- user data: npz and csv ----------------------------------------------------------------------


def test_npz_with_x_y_splits_test(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 3, 2)) * 10
    y = np.arange(40) % 4
    np.savez(tmp_path / "xy.npz", x=x, y=y)
    ds = load_dataset(DataSpec(dataset="npz", path=str(tmp_path / "xy.npz"), test_split=0.25))
    assert len(ds.x_test) == 10 and len(ds.x_train) == 30
    assert ds.x_train.shape == (30, 6) and ds.input_shape == (6,)
    assert ds.num_classes == 4
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == pytest.approx(1.0)
    # stratified: 10 of each class, so the test split has 10 / 4 = 2.5 of each, rounded to 2 or 3
    assert sorted(np.bincount(ds.y_test)) == [2, 2, 3, 3]
    # the same split for every run
    clear_cache()
    again = load_dataset(DataSpec(dataset="npz", path=str(tmp_path / "xy.npz"), test_split=0.25))
    np.testing.assert_array_equal(again.y_test, ds.y_test)
    np.testing.assert_array_equal(again.x_train, ds.x_train)

    unflat = load_dataset(DataSpec(dataset="npz", path=str(tmp_path / "xy.npz"), flatten=False))
    assert unflat.input_shape == (3, 2, 1)  # 2-D samples are grayscale images: they get a channel axis


def test_npz_with_train_test_keys_counts_classes_over_both(tmp_path):
    np.savez(
        tmp_path / "tt.npz",
        x_train=np.arange(12.0).reshape(6, 2),
        y_train=[0, 1, 2, 0, 1, 2],
        x_test=np.array([[100.0, 100.0]]),
        y_test=[5],
    )
    ds = load_dataset(DataSpec(dataset="npz", path=str(tmp_path / "tt.npz")))
    assert ds.num_classes == 6
    # min-max from the training split only: the test point lands outside 0..1
    assert ds.scale_range == (0.0, 11.0)
    np.testing.assert_allclose(ds.x_test, [[100.0 / 11.0, 100.0 / 11.0]], rtol=1e-6)


def test_csv_with_label_column(tmp_path):
    rows = ["a,label,b"] + [f"{i},{i % 3},{2 * i}" for i in range(20)]
    path = write_csv(tmp_path / "d.csv", "\n".join(rows) + "\n")
    ds = load_dataset(DataSpec(dataset="csv", path=str(path), test_split=0.2))
    assert ds.x_train.shape == (16, 2) and ds.x_test.shape == (4, 2)
    assert ds.num_classes == 3
    assert ds.scale_range is not None and ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    # features are the other columns, in order: b == 2 * a survives scaling by the global range
    raw = ds.x_train * (ds.scale_range[1] - ds.scale_range[0]) + ds.scale_range[0]
    np.testing.assert_allclose(raw[:, 1], 2 * raw[:, 0], atol=1e-4)
    np.testing.assert_array_equal(ds.y_train, np.round(raw[:, 0]).astype(int) % 3)


def test_csv_with_custom_label_column_and_float_labels(tmp_path):
    path = write_csv(tmp_path / "d.csv", "x1,x2,klass\n1,2,1.0\n3,4,0.0\n5,6,1\n7,8,2\n")
    ds = load_dataset(DataSpec(dataset="csv", path=str(path), label_column="klass", test_split=0.25))
    assert ds.input_shape == (2,) and ds.num_classes == 3 and len(ds.x_test) == 1


def test_constant_features_do_not_divide_by_zero(tmp_path):
    np.savez(tmp_path / "c.npz", x=np.full((10, 3), 7.0), y=np.zeros(10, dtype=int))
    ds = load_dataset(DataSpec(dataset="npz", path=str(tmp_path / "c.npz")))
    assert ds.scale_range == (7.0, 7.0)
    assert np.all(ds.x_train == 0.0) and np.all(np.isfinite(ds.x_test))


# --- errors --------------------------------------------------------------------------------------


def _bad_npz_shape(tmp_path):
    x_train, *_ = mnist_arrays()
    path = write_mnist_npz(tmp_path / "bad.npz", x_train=x_train[:, :27, :27])
    return path, ("x_train", "(50, 27, 27)", "(N, 28, 28)")


def _mnist_label_12(tmp_path):
    _, y_train, *_ = mnist_arrays()
    y_train = y_train.copy()
    y_train[7] = 12
    return write_mnist_npz(tmp_path / "lab.npz", y_train=y_train), ("y_train", "12", "0..9")


def _truncated_idx(tmp_path):
    folder = write_idx_folder(tmp_path / "idx", gz=False)
    f = folder / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-100])
    return folder, ("train-images-idx3-ubyte", "truncated")


def _truncated_idx_gz(tmp_path):
    folder = write_idx_folder(tmp_path / "idx", gz=True)
    f = folder / "t10k-labels-idx1-ubyte.gz"
    f.write_bytes(f.read_bytes()[:-8])
    return folder, ("t10k-labels-idx1-ubyte.gz",)


def _wrong_idx_magic(tmp_path):
    folder = write_idx_folder(tmp_path / "idx", gz=True)
    # labels where images belong
    (folder / "train-images-idx3-ubyte.gz").write_bytes((folder / "train-labels-idx1-ubyte.gz").read_bytes())
    return folder, ("train-images-idx3-ubyte.gz", "magic", "0x00000801")


def _npy_bytes() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    return buf.getvalue()


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


ERROR_CASES = {
    "missing mnist path": (
        "mnist",
        lambda t: (t / "nowhere.npz", ("nowhere.npz", "no such file", "digits")),
        {},
    ),
    "missing csv path": ("csv", lambda t: (t / "nope.csv", ("nope.csv", "no such file")), {}),
    "idx folder missing a file": (
        "mnist",
        lambda t: (
            write_idx_folder(t / "idx", skip="t10k-labels-idx1-ubyte"),
            ("t10k-labels-idx1-ubyte", "missing", "--data-path"),
        ),
        {},
    ),
    "wrong image shape in npz": ("mnist", _bad_npz_shape, {}),
    "mnist label 12": ("mnist", _mnist_label_12, {}),
    "npz missing keys": (
        "mnist",
        lambda t: (savez(t / "k.npz", a=np.zeros(3)), ("k.npz", "has keys a", "x_train")),
        {},
    ),
    "not an npz": ("mnist", lambda t: (write_csv(t / "x.npz", "hello, world\n"), ("x.npz", "not an .npz")), {}),
    "npz is a single npy": (
        "npz",
        lambda t: (write_bytes(t / "a.npy", _npy_bytes()), ("a.npy", ".npy")),
        {},
    ),
    "corrupt zip": (
        "npz",
        lambda t: (write_bytes(t / "c.npz", b"PK\x03\x04garbage"), ("c.npz", "not a readable")),
        {},
    ),
    "object array in npz": (
        "npz",
        lambda t: (
            savez(t / "o.npz", x=np.array([{"a": 1}] * 4, dtype=object), y=np.zeros(4)),
            ("o.npz", "object"),
        ),
        {},
    ),
    "npz label length": (
        "npz",
        lambda t: (savez(t / "l.npz", x=np.zeros((5, 2)), y=np.zeros(4)), ("l.npz", "4 labels for 5")),
        {},
    ),
    "one-hot labels": (
        "npz",
        lambda t: (savez(t / "h.npz", x=np.zeros((5, 2)), y=np.eye(5)), ("h.npz", "(5, 5)", "argmax")),
        {},
    ),
    "fractional label": (
        "npz",
        lambda t: (savez(t / "f.npz", x=np.zeros((4, 2)), y=[0, 1.5, 1, 0]), ("f.npz", "1.5")),
        {},
    ),
    "nan feature": (
        "npz",
        lambda t: (savez(t / "n.npz", x=[[0.0], [np.nan], [1.0], [2.0]], y=[0, 1, 0, 1]), ("n.npz", "NaN")),
        {},
    ),
    "truncated idx": ("mnist", _truncated_idx, {}),
    "truncated idx gz": ("fashion_mnist", _truncated_idx_gz, {}),
    "wrong idx magic": ("mnist", _wrong_idx_magic, {}),
    "csv label -1": (
        "csv",
        lambda t: (write_csv(t / "neg.csv", "a,label\n1,0\n2,-1\n3,1\n"), ("neg.csv", "-1", ">= 0", "column 'label'")),
        {},
    ),
    "csv non-numeric cell": (
        "csv",
        lambda t: (
            write_csv(t / "txt.csv", "a,b,label\n1,2,0\n3,abc,1\n"),
            ("txt.csv", "line 3", "column 'b'", "'abc'"),
        ),
        {},
    ),
    "csv empty cell": (
        "csv",
        lambda t: (write_csv(t / "e.csv", "a,b,label\n1,,0\n"), ("e.csv", "line 2", "column 'b'")),
        {},
    ),
    "csv ragged row": (
        "csv",
        lambda t: (write_csv(t / "r.csv", "a,b,label\n1,2,0\n1,2\n"), ("r.csv", "line 3", "2 cells")),
        {},
    ),
    "csv missing label column": (
        "csv",
        lambda t: (write_csv(t / "nol.csv", "a,b,target\n1,2,0\n"), ("nol.csv", "'label'", "a, b, target")),
        {},
    ),
    "csv custom label column missing": (
        "csv",
        lambda t: (write_csv(t / "nol2.csv", "a,label\n1,0\n"), ("nol2.csv", "'klass'", "a, label")),
        {"label_column": "klass"},
    ),
    "csv empty file": ("csv", lambda t: (write_csv(t / "empty.csv", ""), ("empty.csv", "empty")), {}),
    "csv header only": ("csv", lambda t: (write_csv(t / "h.csv", "a,label\n"), ("h.csv", "no data rows")), {}),
    "csv is a folder": ("csv", lambda t: (_mkdir(t / "dir.csv"), ("dir.csv", "folder")), {}),
}


@pytest.mark.parametrize("case", list(ERROR_CASES), ids=list(ERROR_CASES))
def test_errors_are_one_line_and_name_the_fact(tmp_path, case):
    dataset, make, extra = ERROR_CASES[case]
    path, facts = make(tmp_path)
    with pytest.raises(DataError) as info:
        load_dataset(DataSpec(dataset=dataset, path=str(path), **extra))
    assert_one_line(info.value, f"Data set '{dataset}'", str(tmp_path), *facts)
    assert info.value.dataset == dataset


def test_failed_load_is_not_cached(tmp_path):
    path = tmp_path / "later.npz"
    spec = DataSpec(dataset="mnist", path=str(path))
    with pytest.raises(DataError):
        load_dataset(spec)
    write_mnist_npz(path)
    assert load_dataset(spec).x_train.shape == (50, 784)


# --- hygiene and real data -----------------------------------------------------------------------


def test_module_imports_no_ui_and_no_tensorflow():
    code = (
        "import sys, tui_trainer.data, tui_trainer.datasets.loading; "
        "bad = [m for m in ('textual', 'plotext', 'tensorflow', 'keras') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(not REAL_FASHION.is_dir(), reason=f"{REAL_FASHION} absent (apt-get install dataset-fashion-mnist)")
def test_real_debian_fashion_mnist(monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FASHION_MNIST", str(REAL_FASHION))
    ds = load_dataset(DataSpec(dataset="fashion_mnist"))
    assert ds.source == str(REAL_FASHION)
    assert ds.x_train.shape == (60000, 784) and ds.x_test.shape == (10000, 784)
    assert ds.input_shape == (784,) and ds.x_train.dtype == np.float32
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert 0.0 <= ds.x_test.min() and ds.x_test.max() <= 1.0
    assert ds.num_classes == 10 and set(np.unique(ds.y_test)) == set(range(10))
