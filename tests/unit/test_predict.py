"""`tui-trainer predict RUN INPUT`: the run's own preprocessing, the model's classes, bad input in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from tui_trainer.cli import app
from tui_trainer.predict import predict

from .test_results import tiny_run  # noqa: F401  (a module-scoped real run)

runner = CliRunner()


def _model(run_dir):
    import keras

    return keras.models.load_model(run_dir / "model.keras")


def test_predict_on_an_npz_gives_the_models_classes(tiny_run, tmp_path):  # noqa: F811
    from tests.conftest import blobs

    x, _ = blobs(n=12, seed=5)  # raw features, as the csv held them
    path = tmp_path / "new.npz"
    np.savez(path, x=x)
    prep = json.loads((tiny_run / "preprocessing.json").read_text())
    lo, hi = prep["raw_range"]
    expected = _model(tiny_run).predict((x - lo) / (hi - lo), verbose=0).argmax(axis=1)
    preds = predict(tiny_run, path)
    assert [p.label for p in preds] == [str(k) for k in expected]
    r = runner.invoke(app, ["predict", str(tiny_run), str(path), "--top", "2"])
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 12 and lines[0].startswith(f"sample  1: {expected[0]}  (") and lines[0].count("%") == 2


def test_predict_on_a_csv_with_a_header(tiny_run, tmp_path):  # noqa: F811
    x = np.array([[0.5, -1, 2, 0, 1, 3], [1, 1, 1, 1, 1, 1]], np.float32)
    path = tmp_path / "new.csv"
    path.write_text("a,b,c,d,e,f\n" + "\n".join(",".join(str(v) for v in row) for row in x) + "\n")
    npz = tmp_path / "same.npz"
    np.savez(npz, x=x)
    assert [p.label for p in predict(tiny_run, path)] == [p.label for p in predict(tiny_run, npz)]


@pytest.mark.parametrize("name,content,message", [
    ("missing.npz", None, "missing.npz: no such file"),
    ("wrong.npz", {"x": np.zeros((3, 5))}, "samples of shape (5,) (5 values); this run's model takes 6 values"),
    ("nox.npz", {"y": np.zeros(3)}, "no x array in it (found: y)"),
    ("bad.npz", b"not a zip", "can't read it as an .npz file"),
    ("bad.csv", "1,2,3,4,5,six\n", "sample 1 holds 'six', not a number"),
    ("short.csv", "1,2,3,4,5,6\n1,2\n", "sample 2 has 2 values, the first has 6"),
    ("notes.txt", "hello", "unknown kind of file"),
    ("pic.png", b"\x89PNG not really", "not images; give an .npz or .csv file"),
])
def test_bad_input_is_one_line_exit_2(tiny_run, tmp_path, name, content, message):  # noqa: F811
    path = tmp_path / name
    if isinstance(content, dict):
        np.savez(path, **content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    r = runner.invoke(app, ["predict", str(tiny_run), str(path)])
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}") and message in lines[0], lines


def test_predict_needs_a_run_with_a_model(tmp_path):
    r = runner.invoke(app, ["predict", str(tmp_path), str(tmp_path / "x.npz")])
    assert r.exit_code == 2 and "no model.keras in it" in r.output


def test_an_image_file_is_prepared_like_the_training_images(tmp_path):
    """A digits run: an 8x8 png of 0..255 pixels is read on the training range 0..16, then scaled."""
    from PIL import Image

    from tui_trainer import presets
    from tui_trainer.datasets import load_dataset
    from tui_trainer.engine import train

    digits, _ = presets.load("digits")
    run = train(digits.with_overrides(epochs=1), runs_dir=tmp_path / "runs").run_dir
    data = load_dataset(digits.data)
    pixels = (data.x_test[:3].reshape(3, 8, 8) * 255).round().astype(np.uint8)
    paths = []
    for i, p in enumerate(pixels):
        paths.append(tmp_path / f"d{i}.png")
        Image.fromarray(p, mode="L").save(paths[-1])
    expected = _model(run).predict(pixels.reshape(3, 64) / 255.0, verbose=0).argmax(axis=1)
    assert [predict(run, p)[0].label for p in paths] == [str(k) for k in expected]
    big = tmp_path / "big.png"
    Image.fromarray(np.kron(pixels[0], np.ones((4, 4), np.uint8)), mode="L").save(big)  # 32x32: resized to 8x8
    assert predict(run, big)[0].label in [str(k) for k in range(10)]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    r = runner.invoke(app, ["predict", str(run), str(broken)])
    assert r.exit_code == 2 and "can't read it as an image" in r.output
