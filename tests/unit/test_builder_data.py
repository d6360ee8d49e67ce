"""The builder's data line and output-layer hint, from the registry or from a read of the user's file."""

from __future__ import annotations

from tui_trainer.layers import DenseLayer
from tui_trainer.ui.screens.builder_data import DataView, probe_key

OUT10 = [DenseLayer(units=32, activation="relu"), DenseLayer(units=10, activation="softmax")]


def test_a_registry_data_set_needs_no_read():
    view = DataView.of({"dataset": "digits", "flatten": True}, {})
    assert view.key is None and view.input_shape == (64,) and view.num_classes == 10
    assert view.info_text(OUT10) == "data: digits · input: 64 features (8x8 digits, flattened) · 10 classes"
    assert view.output_note(OUT10) == ""
    assert view.output_note(OUT10[:1] + [DenseLayer(units=3, activation="softmax")]) == (
        "! The output layer has 3 units but the data has 10 classes: training will fail.")


def test_a_users_file_is_read_once_per_key_and_said_so():
    data = {"dataset": "csv", "path": "x.csv", "label_column": "label"}
    key = probe_key(data)
    assert key is not None and key[:2] == ("csv", "x.csv")
    waiting = DataView.of(data, {})
    assert waiting.input_shape is None and waiting.info_text(OUT10) == "data: csv (x.csv) · input: from file (reading it...)"
    read = DataView.of(data, {key: ((6,), 3, None)})
    assert read.input_shape == (6,) and read.num_classes == 3
    assert read.info_text(OUT10) == "data: csv (x.csv) · input: 6 features (from the file) · 3 classes"
    assert read.output_note(OUT10) == "! The output layer has 10 units; the data has 3 classes."
    broken = DataView.of(data, {key: (None, None, "x.csv: no such file")})
    assert broken.info_text(OUT10) == "data: csv (x.csv) · input: from file (can't read it: x.csv: no such file)"
    assert probe_key({**data, "label_column": "y"}) != key  # another column is another read
