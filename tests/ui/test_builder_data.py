"""The builder's data form reads the data-source registry: which fields show, the input it reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tui_trainer.datasets import SOURCES

from .test_builder import field, field_error, rows, run, text, type_into


def shown(app, path: str) -> bool:
    return app.screen.query_one("#r-" + path.replace(".", "-").replace("_", "-")).display


def write_pngs(root: Path, size=(8, 8)) -> Path:
    from PIL import Image

    for k, name in enumerate(("cat", "dog")):
        (root / name).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(np.full((*size, 3), 60 * k + i, dtype=np.uint8)).save(root / name / f"{i}.png")
    return root


DATA_OPTIONS = ("path", "flatten", "image_size", "color_mode", "label_column")


def test_the_form_shows_the_options_the_chosen_source_reads():
    async def test(app, pilot):
        for name, source in SOURCES.items():
            field(app, "data.dataset").value = name
            await pilot.pause()
            for option in DATA_OPTIONS:
                assert shown(app, f"data.{option}") == (option in source.options), (name, option)
            assert shown(app, "data.dataset") and shown(app, "data.validation_split")

    run(test)


def test_flatten_off_keeps_the_images_whole():
    async def test(app, pilot):
        assert "input: 64 features (8x8 digits, flattened)" in text(app, "#info")
        field(app, "data.flatten").value = False
        await pilot.pause()
        assert "input: 8x8x1 digits (not flattened; a Flatten layer feeds the first dense layer)" in text(app, "#info")
        assert app.screen.current_preset().data.flatten is False

    run(test)


def test_image_folder_with_image_size_knows_its_input_at_once(tmp_path):
    folder = write_pngs(tmp_path / "pets")

    async def test(app, pilot):
        field(app, "data.dataset").value = "image_folder"
        await pilot.pause()
        assert "data.path" in app.screen.errors
        await type_into(pilot, field(app, "data.path"), str(folder))
        await type_into(pilot, field(app, "data.image_size"), "16x16")
        field(app, "data.color_mode").value = "grayscale"
        await pilot.pause()
        preset = app.screen.current_preset()
        assert preset is not None and preset.data.image_size == (16, 16) and preset.data.color_mode == "grayscale"
        assert "input: 256 features (16x16 images, flattened)" in text(app, "#info")
        assert rows(app)[0][3] == "32,896"  # 256*128 + 128

        await type_into(pilot, field(app, "data.image_size"), "0x16")
        assert field(app, "data.image_size").has_class("-invalid")
        assert "two whole numbers from 1 to 4096" in str(field_error(app, "data.image_size").render())
        assert app.screen.current_preset() is None

    run(test)


def test_image_folder_without_image_size_is_read_for_its_shape_and_classes(tmp_path):
    folder = write_pngs(tmp_path / "pets", size=(6, 5))

    async def test(app, pilot):
        field(app, "data.dataset").value = "image_folder"
        await pilot.pause()
        await type_into(pilot, field(app, "data.path"), str(folder))
        for _ in range(60):  # the folder is read in a worker
            await pilot.pause(0.05)
            if "reading" not in text(app, "#info"):
                break
        info = text(app, "#info")
        assert "input: 90 features (from the file)" in info and "2 classes" in info, info

    run(test)


def test_judge_names_the_field_and_the_layer_that_does_not_fit_without_textual():
    """The builder's validation is a pure function of the fields as read: no widget needed to test it."""
    from tui_trainer import presets
    from tui_trainer.ui.screens.builder_form import judge

    digits, _ = presets.load("digits")
    raw = digits.model_dump(mode="json")
    preset, errors = judge(raw, (64,))
    assert preset == digits and errors == {}

    raw["training"]["epochs"] = 0
    raw["data"]["dataset"] = "no-such-set"
    preset, errors = judge(raw, None)
    assert preset is None
    assert "greater than 0" in errors["training.epochs"] and "data.dataset" in errors

    raw = digits.model_dump(mode="json")
    raw["layers"].insert(0, {"type": "conv2d", "filters": 4, "kernel_size": [3, 3], "activation": "relu"})
    preset, errors = judge(raw, (64,))  # a flat input: conv2d can't take it
    assert preset is None and set(errors) == {"layers"} and errors["layers"].startswith("layers[1]: conv2d needs an image")  # counted from 1
