"""`summary`, shape errors and multi-error presets as a user meets them in the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from tui_trainer.cli import app

runner = CliRunner()

CNN = """
name = "tiny-cnn"
description = "test"
seed = 3
[data]
dataset = "npz"
path = "{path}"
flatten = {flatten}
validation_split = 0.2
[training]
epochs = 2
batch_size = 16
[[layers]]
type = "conv2d"
filters = 4
kernel_size = {kernel}
[[layers]]
type = "max_pool2d"
[[layers]]
type = "batch_norm"
[[layers]]
type = "flatten"
[[layers]]
units = 3
activation = "softmax"
"""


@pytest.fixture
def images(tmp_path):
    """60 8x8 grayscale images in 3 classes that a conv layer can tell apart (a bright row's position)."""
    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    x = rng.integers(0, 40, size=(60, 8, 8)).astype("uint8")
    for i, label in enumerate(y):
        x[i, 2 * label + 1, :] = 255
    path = tmp_path / "images.npz"
    np.savez(path, x=x, y=y)
    return path


def write(tmp_path, images, *, flatten="false", kernel=3) -> str:
    p = tmp_path / "cnn.toml"
    p.write_text(CNN.format(path=images, flatten=flatten, kernel=kernel))
    return str(p)


def test_summary_prints_the_keras_table_without_training(tmp_path, images):
    r = runner.invoke(app, ["summary", write(tmp_path, images)])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    # 2-D images get their channel axis from the data side: (8, 8, 1), no adapter layer needed
    assert lines[0] == "Model: tiny-cnn  (input (None, 8, 8, 1): npz, 3 classes)"
    assert lines[1].split() == ["#", "layer", "type", "output", "shape", "params"]
    table = [line.split(None, 3) for line in lines[2:-1]]
    assert [row[1] for row in table] == ["conv2d_1", "max_pool2d_2", "batch_norm_3", "flatten_4", "dense_5"]
    assert "(None, 6, 6, 4)" in lines[2] and lines[2].endswith(" 40")  # 3*3*1*4 + 4
    assert "(None, 3, 3, 4)" in lines[3] and "(None, 36)" in lines[5] and lines[6].endswith(" 111")  # 36*3 + 3
    assert lines[-1] == "Total params: 167 (trainable 159, non-trainable 8)"
    assert not (tmp_path / "runs").exists()


def test_summary_bad_input_is_one_line_exit_2(tmp_path, images):
    r = runner.invoke(app, ["summary", write(tmp_path, images), "--data-path", str(tmp_path / "missing.npz")])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1 and "missing.npz" in r.output
    r = runner.invoke(app, ["summary", "no-such-preset"])
    assert r.exit_code == 2 and r.output.startswith("error: no-such-preset: no preset of that name")


@pytest.mark.parametrize(
    "flatten,kernel,field,fix",
    [
        ("true", 3, "layers[1]", "conv2d needs an image (height, width, channels) but gets a vector of 64: "
                                 "set data.flatten = false"),
        ("false", 9, "layers[1].kernel_size", "the 9x9 kernel is larger than its 8x8 input: use a smaller kernel_size"),
    ],
)
def test_a_layer_that_does_not_fit_exits_2_naming_it_before_any_run_folder(tmp_path, images, flatten, kernel,
                                                                           field, fix):
    preset = write(tmp_path, images, flatten=flatten, kernel=kernel)
    for command in (["summary", preset], ["train", preset, "--runs-dir", str(tmp_path / "runs")]):
        r = runner.invoke(app, command)
        assert r.exit_code == 2, r.output
        (line,) = r.output.strip().splitlines()
        assert line.startswith(f"error: {preset}: {field}: {fix}")
    assert not (tmp_path / "runs").exists()


def test_a_small_cnn_trains_on_2d_images(tmp_path, images):
    r = runner.invoke(app, ["train", write(tmp_path, images), "--runs-dir", str(tmp_path / "runs")])
    assert r.exit_code == 0, r.output
    assert "Epoch 2/2" in r.output and "Test (" in r.output


def test_every_preset_error_is_printed_one_line_each(tmp_path):
    bad = tmp_path / "bad.toml"
    layers = "".join(f'[[layers]]\ntype = "dense"\nunits = 0\n' for _ in range(11))
    bad.write_text(f'name = "bad"\n[training]\nepoch = 3\noptimizer = "adamm"\n{layers}')
    r = runner.invoke(app, ["presets", "validate", str(bad)])
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 11
    assert all(line.startswith(f"error: {bad}: ") for line in lines)
    assert lines[0] == f"error: {bad}: layers[1].units: Input should be greater than 0 (got 0)"
    assert lines[9].startswith(f"error: {bad}: layers[10].units: ")
    assert lines[10] == f"error: {bad}: and 3 more errors"  # layers[11], training.epoch, training.optimizer

    fewer = tmp_path / "fewer.toml"
    fewer.write_text('name = "x"\n[training]\nepoch = 3\noptimizer = "adamm"\n[[layers]]\nunits = 3\nactivaton = "relu"')
    r = runner.invoke(app, ["train", str(fewer)])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        f"error: {fewer}: layers[1].activaton: unknown key (check the spelling; see `tui-trainer presets show digits` "
        "for a full preset) (got 'relu')",
        f"error: {fewer}: training.optimizer: Input should be 'adam', 'sgd', 'rmsprop', 'adamw', 'nadam' or 'adagrad' "
        "(got 'adamm')",
        f"error: {fewer}: training.epoch: unknown key (check the spelling; see `tui-trainer presets show digits` for a "
        "full preset) (got 3)",
    ]


def test_a_layer_with_units_and_no_type_is_dense(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text('name = "x"\n[[layers]]\nunits = 16\n[[layers]]\nunits = 10\nactivation = "softmax"\n')
    r = runner.invoke(app, ["presets", "validate", str(p)])
    assert r.exit_code == 0 and "ok (x, 2 layers)" in r.output
    r = runner.invoke(app, ["summary", str(p)])  # digits: 64 features
    assert r.exit_code == 0, r.output
    assert "dense_1" in r.output and "1,040" in r.output  # 64*16 + 16
