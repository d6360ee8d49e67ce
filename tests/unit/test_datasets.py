"""The data-source registry, and what the data sources added in issue 11 load: tiny files in tmp_path."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tui_trainer import doctor
from tui_trainer.datasets import SOURCES, DataSource, clear_cache, known_input_shape, load_dataset, source_names
from tui_trainer.datasets.arrays import stratified_split
from tui_trainer.spec import DATASETS, DataSpec, tomllib  # tomllib, or tomli before Python 3.11


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


# --- the registry --------------------------------------------------------------------------------


def test_every_allowed_dataset_has_its_own_module_in_the_registry():
    assert source_names() == DATASETS  # spec's Literal and the registry agree, in order
    for name in DATASETS:
        module = importlib.import_module(f"tui_trainer.datasets.{name}")
        assert module.SOURCE is SOURCES[name] and isinstance(module.SOURCE, DataSource)
        assert module.SOURCE.name == name and module.SOURCE.help
        assert "validation_split" not in module.SOURCE.options  # the trainer applies it, not the loader
        assert set(module.SOURCE.options) <= set(DataSpec.model_fields)


def test_sources_that_need_a_path_are_refused_without_one():
    for name, source in SOURCES.items():
        if source.needs_path:
            with pytest.raises(ValueError, match=f"data.path is required when data.dataset is '{name}'"):
                DataSpec(dataset=name)
        else:
            DataSpec(dataset=name)


def test_known_input_shapes_without_loading():
    assert known_input_shape({"dataset": "digits"}) == (64,)
    assert known_input_shape({"dataset": "mnist", "flatten": False}) == (28, 28, 1)
    assert known_input_shape({"dataset": "fashion_mnist", "flatten": True}) == (784,)
    assert known_input_shape({"dataset": "csv", "path": "x.csv"}) is None
    assert known_input_shape({"dataset": "nonsense"}) is None


def test_class_names_known_without_loading():
    assert SOURCES["digits"].class_names == tuple("0123456789")
    assert SOURCES["fashion_mnist"].class_names[0] == "T-shirt/top"
    assert SOURCES["fashion_mnist"].class_names[9] == "Ankle boot"


def test_doctor_names_every_data_source(tmp_path):
    rows = {r.check: r for r in doctor.run_checks(tmp_path / "runs", tensorflow=False)}
    for name in DATASETS:
        assert name in rows, name
        assert rows[name].status in ("ok", "warn") and rows[name].value


def test_doctor_command_exits_0_and_names_the_sources(tmp_path):
    code = "import sys; from tui_trainer.cli import app; sys.argv = ['tui-trainer', 'doctor']; app()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240,
                          cwd=Path(__file__).parents[2], env=_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    names = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    assert set(DATASETS) <= names, done.stdout


def test_the_registry_imports_no_numpy():
    code = "import sys, tui_trainer.datasets, tui_trainer.spec; print('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parents[2])
    assert done.stdout.strip() == "False"


def _env(tmp_path):
    env = dict(os.environ)
    env["KERAS_HOME"] = str(tmp_path / "keras")
    env["TUI_TRAINER_RUNS"] = str(tmp_path / "runs")
    return env


# --- images keep their shape; the stratified test split ------------------------------------------


def test_digits_unflattened_are_8x8x1_images_and_flattened_are_vectors():
    whole = load_dataset(DataSpec(dataset="digits", flatten=False))
    assert whole.input_shape == (8, 8, 1) and whole.x_train.shape[1:] == (8, 8, 1)
    flat = load_dataset(DataSpec(dataset="digits"))
    assert flat.input_shape == (64,)
    # the same pixels, only reshaped
    np.testing.assert_array_equal(whole.x_train.reshape(len(whole.x_train), -1), flat.x_train)
    assert known_input_shape({"dataset": "digits", "flatten": False}) == whole.input_shape


def test_npz_shapes_flatten_false(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "gray.npz", x=rng.integers(0, 255, (20, 6, 5)), y=np.arange(20) % 2)
    np.savez(tmp_path / "rgb.npz", x=rng.integers(0, 255, (20, 6, 5, 3)), y=np.arange(20) % 2)
    np.savez(tmp_path / "vec.npz", x=rng.normal(size=(20, 7)), y=np.arange(20) % 2)
    shapes = {
        f: load_dataset(DataSpec(dataset="npz", path=str(tmp_path / f"{f}.npz"), flatten=False)).input_shape
        for f in ("gray", "rgb", "vec")
    }
    assert shapes == {"gray": (6, 5, 1), "rgb": (6, 5, 3), "vec": (7,)}
    assert load_dataset(DataSpec(dataset="npz", path=str(tmp_path / "rgb.npz"))).input_shape == (90,)


def test_digits_test_split_keeps_every_class_in_proportion():
    ds = load_dataset(DataSpec(dataset="digits", test_split=0.2))
    y = np.concatenate([ds.y_train, ds.y_test])
    assert len(ds.y_test) == round(len(y) * 0.2)
    expected = np.bincount(y) * 0.2
    assert np.all(np.abs(np.bincount(ds.y_test, minlength=10) - expected) < 1)


def test_split_of_imbalanced_classes_is_stratified_deterministic_and_mixed():
    y = np.array([0] * 90 + [1] * 10 + [2] * 5)
    x = np.arange(len(y), dtype=float)[:, None]
    x_train, y_train, x_test, y_test = stratified_split("npz", "f.npz", x, y, 0.2)
    assert np.bincount(y_test).tolist() == [18, 2, 1]  # 21 in all: 18 + 2 + 1
    assert np.bincount(y_train).tolist() == [72, 8, 4]
    assert sorted(np.concatenate([x_train, x_test])[:, 0].tolist()) == list(range(len(y)))  # each sample once
    again = stratified_split("npz", "f.npz", x, y, 0.2)
    np.testing.assert_array_equal(again[0], x_train)
    np.testing.assert_array_equal(again[2], x_test)
    other = stratified_split("npz", "f.npz", x, y, 0.2, seed=1)
    assert not np.array_equal(other[2], x_test)
    # Keras's validation_split takes the tail of the training split: it must not be one class
    assert len(set(y_train[-20:].tolist())) > 1


def test_csv_test_split_is_stratified(tmp_path):
    labels = [0] * 40 + [1] * 10
    rows = ["f,label"] + [f"{i},{c}" for i, c in enumerate(labels)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset(DataSpec(dataset="csv", path=str(tmp_path / "d.csv"), test_split=0.2))
    assert np.bincount(ds.y_test).tolist() == [8, 2]


# --- image_folder --------------------------------------------------------------------------------


def write_png(path: Path, pixels: np.ndarray) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(path)
    return path


def image_folder(root: Path, classes=("cat", "dog"), per_class: int = 5, size=(8, 8), rgb: bool = False) -> Path:
    """``per_class`` PNGs per class; class k's images are all of brightness 40 * (k + 1), so labels can be checked."""
    for k, name in enumerate(classes):
        for i in range(per_class):
            shape = (*size, 3) if rgb else size
            pixels = np.full(shape, 40 * (k + 1), dtype=np.uint8)
            pixels[0, 0] = 0 if i == 0 else 255  # every class spans 0..255: min-max scaling is exactly /255
            write_png(root / name / f"{i}.png", pixels)
    return root


def folder_spec(root: Path, **options) -> DataSpec:
    return DataSpec(dataset="image_folder", path=str(root), **options)


def test_image_folder_grayscale_keeps_its_shape_and_names_the_classes(tmp_path):
    root = image_folder(tmp_path / "pets", classes=("dog", "cat", "emu"), per_class=5)
    ds = load_dataset(folder_spec(root, flatten=False, color_mode="grayscale", test_split=0.2))
    assert ds.class_names == ("cat", "dog", "emu")  # sorted subfolder names
    assert ds.num_classes == 3 and ds.input_shape == (8, 8, 1)
    assert ds.x_train.shape == (12, 8, 8, 1) and ds.x_test.shape == (3, 8, 8, 1)
    assert np.bincount(ds.y_test).tolist() == [1, 1, 1]  # stratified
    assert ds.x_train.dtype == np.float32 and ds.scale_range == (0.0, 255.0)
    # each image's brightness says which folder it came from: labels follow the sorted names
    written = {"dog": 40, "cat": 80, "emu": 120}
    brightness = np.round(ds.x_train[:, 4, 4, 0] * 255).astype(int)
    assert brightness.tolist() == [written[ds.class_names[y]] for y in ds.y_train]
    assert known_input_shape({"dataset": "image_folder", "path": str(root)}) is None  # only the images tell


def test_image_folder_rgb_flattened_and_resized(tmp_path):
    root = image_folder(tmp_path / "pets", per_class=4, rgb=True)
    ds = load_dataset(folder_spec(root, flatten=False))  # rgb is the default, as in Keras
    assert ds.input_shape == (8, 8, 3)
    flat = load_dataset(folder_spec(root))
    assert flat.input_shape == (192,)
    small = load_dataset(folder_spec(root, image_size=[4, 6], color_mode="grayscale", flatten=False))
    assert small.input_shape == (4, 6, 1)
    data = {"dataset": "image_folder", "path": str(root), "image_size": [4, 6], "color_mode": "grayscale"}
    assert known_input_shape({**data, "flatten": False}) == (4, 6, 1)
    assert known_input_shape(data) == (24,)


def test_image_folder_resizes_images_of_different_sizes(tmp_path):
    root = image_folder(tmp_path / "pets", per_class=3)
    write_png(root / "dog" / "big.png", np.zeros((16, 12)))
    ds = load_dataset(folder_spec(root, image_size=[8, 8], color_mode="grayscale"))
    assert ds.input_shape == (64,) and len(ds.x_train) + len(ds.x_test) == 7


def test_image_folder_skips_other_files_and_hidden_folders_and_reads_jpg(tmp_path):
    from PIL import Image

    root = image_folder(tmp_path / "pets", per_class=3)
    (root / "cat" / "notes.txt").write_text("not an image")
    write_png(root / ".thumbnails" / "x.png", np.zeros((3, 3)))
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(root / "cat" / "photo.JPG", format="JPEG")
    ds = load_dataset(folder_spec(root, color_mode="grayscale"))
    assert ds.class_names == ("cat", "dog") and len(ds.x_train) + len(ds.x_test) == 7


def test_image_folder_cache_notices_a_new_image(tmp_path):
    root = image_folder(tmp_path / "pets", per_class=3)
    first = load_dataset(folder_spec(root))
    assert load_dataset(folder_spec(root)) is first
    write_png(root / "cat" / "new.png", np.zeros((8, 8)))
    again = load_dataset(folder_spec(root))
    assert len(again.x_train) + len(again.x_test) == 7


def _undecodable(root: Path):
    image_folder(root)
    bad = root / "dog" / "2.png"
    bad.write_bytes(b"this is not a png")
    return bad, ("can't be decoded as an image (not a PNG, JPEG, BMP or GIF file)",)


def _truncated(root: Path):
    image_folder(root, size=(32, 32))
    bad = root / "cat" / "3.png"
    bad.write_bytes(bad.read_bytes()[:60])
    return bad, ("can't be decoded as an image",)


def _one_class(root: Path):
    image_folder(root, classes=("cat",))
    return root, ("one class folder ('cat')", "at least 2")


def _no_class(root: Path):
    write_png(root / "a.png", np.zeros((8, 8)))
    write_png(root / "b.png", np.zeros((8, 8)))
    return root, ("no class subfolders", "2 images lie directly in it")


def _empty_class(root: Path):
    image_folder(root)
    (root / "emu").mkdir()
    (root / "emu" / "readme.txt").write_text("todo")
    return root / "emu", ("class folder 'emu' has no images", ".png")


def _mismatched(root: Path):
    image_folder(root)
    bad = write_png(root / "dog" / "wide.png", np.zeros((8, 10)))
    return bad, ("8x10 pixels", str(root / "cat" / "0.png"), "is 8x8", "data.image_size = [height, width]")


def _a_file(root: Path):
    write_png(root.with_suffix(".png"), np.zeros((8, 8)))
    return root.with_suffix(".png"), ("is a file", "one subfolder of images per class")


def _missing(root: Path):
    return root, ("no such folder",)


BAD_FOLDERS = {
    "undecodable image": _undecodable,
    "truncated image": _truncated,
    "one class": _one_class,
    "no class folders": _no_class,
    "empty class folder": _empty_class,
    "mismatched sizes": _mismatched,
    "path is a file": _a_file,
    "no such folder": _missing,
}


@pytest.mark.parametrize("case", list(BAD_FOLDERS), ids=list(BAD_FOLDERS))
def test_bad_image_folders_get_one_line_naming_the_file(tmp_path, case):
    from tui_trainer.datasets import DataError

    where, facts = BAD_FOLDERS[case](tmp_path / "pets")
    with pytest.raises(DataError) as info:
        load_dataset(folder_spec(tmp_path / "pets" if case != "path is a file" else where))
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"Data set 'image_folder' ({where}): "), msg
    for fact in facts:
        assert fact in msg, f"{fact!r} not in {msg!r}"


def test_train_on_a_one_class_folder_exits_2_with_one_line(tmp_path):
    from typer.testing import CliRunner

    from tui_trainer.cli import app

    from ..conftest import tiny_preset_toml

    root = image_folder(tmp_path / "pets", classes=("cat",))
    preset = tmp_path / "p.toml"
    toml = tiny_preset_toml(root).replace('dataset = "csv"', 'dataset = "image_folder"')
    preset.write_text(toml)
    result = CliRunner().invoke(app, ["train", str(preset), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "one class folder ('cat')" in lines[0], result.output
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


# --- csv class names -----------------------------------------------------------------------------


def test_csv_string_labels_become_sorted_classes(tmp_path):
    labels = ["dog", "cat", "emu", "cat"] * 5
    rows = ["w,h,label"] + [f"{i},{i * 2}, {lab}" for i, lab in enumerate(labels)]  # a space before the name
    (tmp_path / "pets.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset(DataSpec(dataset="csv", path=str(tmp_path / "pets.csv"), test_split=0.2, scale=False))
    assert ds.class_names == ("cat", "dog", "emu") and ds.num_classes == 3
    assert ds.input_shape == (2,)
    # every row's label is the index of its name: row i is labels[i], w == i
    for x, y in zip(np.concatenate([ds.x_train, ds.x_test]), np.concatenate([ds.y_train, ds.y_test])):
        assert ds.class_names[y] == labels[int(x[0])]
    assert np.bincount(ds.y_test).tolist() == [2, 1, 1]  # 10 cats, 5 dogs, 5 emus: stratified


def test_csv_numeric_labels_get_numbered_class_names(tmp_path):
    (tmp_path / "d.csv").write_text("a,label\n1,0\n2,1\n3,2\n4,0\n5,1\n")
    ds = load_dataset(DataSpec(dataset="csv", path=str(tmp_path / "d.csv")))
    assert ds.class_names == ("0", "1", "2")


@pytest.mark.parametrize(
    "text, facts",
    [
        ("a,label\n1,cat\n2,\n3,dog\n", ("line 3, column 'label' is empty",)),
        ("a,label\n1,cat\n2,1\n3,dog\n", ("mixes class numbers and names", "line 3: '1'", "line 2: 'cat'")),
        ("a,b,label\n1,x,cat\n2,3,dog\n", ("line 2, column 'b'", "'x' is not a number")),
        ("a,label\n1,cat\n2,dog,3\n", ("line 3 has 3 cells; the header has 2",)),
    ],
    ids=["empty label", "mixed labels", "text feature", "ragged row"],
)
def test_csv_string_label_errors_name_the_line(tmp_path, text, facts):
    from tui_trainer.datasets import DataError

    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        load_dataset(DataSpec(dataset="csv", path=str(path)))
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"Data set 'csv' ({path}): "), msg
    for fact in facts:
        assert fact in msg, f"{fact!r} not in {msg!r}"


# --- DataSpec: image_size and color_mode ---------------------------------------------------------


def test_image_options_round_trip_through_toml():
    from tui_trainer.spec import dumps_preset, loads_preset

    text = """
name = "pets"
[data]
dataset = "image_folder"
path = "pets"
image_size = [32, 24]
color_mode = "grayscale"
flatten = false

[[layers]]
type = "dense"
units = 2
activation = "softmax"
"""
    preset = loads_preset(text)
    assert preset.data.image_size == (32, 24) and preset.data.color_mode == "grayscale"
    out = dumps_preset(preset)
    assert tomllib.loads(out)["data"]["image_size"] == [32, 24]
    assert 'color_mode = "grayscale"' in out
    assert loads_preset(out) == preset
    plain = dumps_preset(loads_preset(text.replace('color_mode = "grayscale"\n', "").replace("image_size = [32, 24]\n", "")))
    assert "image_size" not in plain and "color_mode" not in plain  # defaults are omitted


@pytest.mark.parametrize(
    "value, fact",
    [
        ("[0, 8]", "data.image_size must be [height, width], two whole numbers from 1 to 4096 (got [0, 8])"),
        ("[8]", "two whole numbers"),
        ("[8, 8, 3]", "two whole numbers"),
        ("[8.5, 8]", "two whole numbers"),
        ('"28x28"', "(got '28x28')"),
    ],
)
def test_bad_image_size_is_one_line_naming_the_field(value, fact):
    from tui_trainer.spec import SpecError, loads_preset

    text = f'name = "p"\n[data]\ndataset = "image_folder"\npath = "x"\nimage_size = {value}\n' \
           '[[layers]]\ntype = "dense"\nunits = 2\n'
    with pytest.raises(SpecError) as info:
        loads_preset(text, source="p.toml")
    msg = str(info.value)
    assert msg.startswith("p.toml: data.image_size: ") and fact in msg and "\n" not in msg, msg


def test_bad_color_mode_names_the_allowed_values():
    from tui_trainer.spec import SpecError, loads_preset

    text = 'name = "p"\n[data]\ncolor_mode = "cmyk"\n[[layers]]\ntype = "dense"\nunits = 2\n'
    with pytest.raises(SpecError) as info:
        loads_preset(text, source="p.toml")
    msg = str(info.value)
    assert msg.startswith("p.toml: data.color_mode: ") and "'grayscale' or 'rgb'" in msg and "cmyk" in msg, msg


def test_a_source_says_whether_it_holds_images_and_the_results_view_follows(monkeypatch):
    # results draws flattened samples as pictures only for sources that declare images (no hand-kept list)
    import dataclasses
    import math

    from tui_trainer.results import image_shape_for

    drawn = {}
    for name, source in SOURCES.items():
        data = {"dataset": name, "image_size": [8, 8]}
        shape = source.shape({**data, "flatten": False})
        if shape is not None:
            drawn[name] = image_shape_for(data, (math.prod(shape),))
    assert drawn == {"digits": (8, 8, 1), "mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1),
                     "image_folder": (8, 8, 3)}
    monkeypatch.setitem(SOURCES, "digits", dataclasses.replace(SOURCES["digits"], images=False))
    assert image_shape_for({"dataset": "digits"}, (64,)) is None
