"""Preset validation, error messages and the TOML round-trip."""

from __future__ import annotations

import pytest

from tui_trainer import presets
from tui_trainer.spec import DenseLayer, SpecError, dumps_preset, load_preset_file, loads_preset, param_counts
from ..conftest import tiny_preset_toml

GOOD = """
name = "ok"
[[layers]]
type = "dense"
units = 32
activation = "leaky_relu"
[[layers]]
type = "dropout"
rate = 0.2
[[layers]]
type = "dense"
units = 10
activation = "softmax"
"""


def test_builtin_presets_are_valid_and_teach_something():
    names = {e.name for e in presets.available()}
    assert {"seed-mnist", "digits", "fashion-mnist"} <= names
    for entry in presets.available():
        preset = load_preset_file(entry.path)
        assert len(preset.description) > 40, entry.name


def test_seed_mnist_is_the_lesson_as_written():
    p, _ = presets.load("seed-mnist")
    es = p.early_stopping
    assert (es.monitor, es.min_delta, es.patience, es.restore_best_weights) == ("val_loss", 0.0, 5, True)
    assert p.data.validation_split == 0.1 and p.training.epochs == 50
    assert p.data.dataset == "mnist" and p.data.flatten and p.data.scale
    assert [(l.type, l.activation) for l in p.layers] == [("dense", "relu"), ("dense", "softmax")]


def test_defaults_match_the_lesson():
    p = loads_preset(GOOD)
    assert p.layers[0].negative_slope == 0.01  # the lesson's Leaky ReLU, not Keras's 0.3
    assert p.layers[0].alpha == 1.0
    assert p.early_stopping.patience == 5 and p.data.validation_split == 0.1 and p.training.epochs == 50


@pytest.mark.parametrize("entry", presets.available(), ids=lambda e: e.name)
def test_round_trip_is_identity(entry):
    p = load_preset_file(entry.path)
    assert loads_preset(dumps_preset(p)) == p


def test_saving_omits_defaults():
    text = dumps_preset(loads_preset(GOOD))
    assert "patience" not in text and "negative_slope" not in text and "[early_stopping]" not in text
    assert text.count("[[layers]]") == 3 and 'type = "dropout"' in text
    custom = loads_preset(GOOD.replace('activation = "leaky_relu"', 'activation = "leaky_relu"\nnegative_slope = 0.2'))
    assert "negative_slope = 0.2" in dumps_preset(custom)


BAD = [
    ('name = "x"\n[[layers]]\ntype = "dense"\nunits = 10\nactivation = "sigmoidd"', "layers[1].activation",
     "'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh', 'softmax' or 'linear'"),
    ('name = "x"\n[[layers]]\ntype = "dense"\nunits = 0', "layers[1].units", "greater than 0"),
    ('name = "x"\n[[layers]]\ntype = "conv"\nunits = 3', "layers[1]", "unknown layer type; choose one of dense, dropout"),
    ('name = "x"\n[[layers]]\nrate = 0.3', "layers[1]", "each layer needs a type: one of dense, dropout"),
    ('name = "x"\n[[layers]]\ntype = "dense"\nunits = 4\n[[layers]]\ntype = "dropout"\nrate = 1.5', "layers[2].rate",
     "less than 1"),
    ('name = "x"\n[[layers]]\ntype = "dense"\nunits = 4\n[[layers]]\ntype = "dropout"', "layers[2]",
     "last layer must be a dense output layer, not dropout"),
    ('name = "x"\n[training]\nepoch = 3\n[[layers]]\ntype = "dense"\nunits = 4', "training.epoch", "unknown key"),
    ('name = "x"\n[training]\noptimizer = "adamm"\n[[layers]]\ntype = "dense"\nunits = 4', "training.optimizer",
     "'adam', 'sgd'"),
    ('name = "x"\n[data]\nvalidation_split = 0\n[[layers]]\ntype = "dense"\nunits = 4', "early_stopping.monitor",
     "needs validation data"),
    ('name = "x"\n[early_stopping]\nmonitor = "val_acc"\n[[layers]]\ntype = "dense"\nunits = 4', "early_stopping.monitor",
     "choose one of accuracy, loss, val_accuracy, val_loss"),
    ('name = "x"\n[data]\ndataset = "csv"\n[[layers]]\ntype = "dense"\nunits = 4', "data.path", "data.path is required"),
    ('name = "x"\n[data]\ndataset = "imagenet"\n[[layers]]\ntype = "dense"\nunits = 4', "data.dataset",
     "'digits', 'mnist', 'fashion_mnist', 'npz', 'csv' or 'image_folder'"),
    ('name = "x"\nlayers = []', "layers", "at least 1"),
    ('[[layers]]\ntype = "dense"\nunits = 4', "name", "Field required"),
    ('name = "x"\n[[layers]\n', "", "not valid TOML"),
]


@pytest.mark.parametrize("text,field,fragment", BAD, ids=[b[2][:30] for b in BAD])
def test_bad_presets_get_one_line_naming_file_and_field(tmp_path, text, field, fragment):
    f = tmp_path / "my.toml"
    f.write_text(text)
    with pytest.raises(SpecError) as info:
        load_preset_file(f)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"{f}: ")
    if field:
        assert f": {field}: " in msg
    assert fragment in msg


def test_missing_file_is_named(tmp_path):
    with pytest.raises(SpecError, match="nope.toml: no such file"):
        load_preset_file(tmp_path / "nope.toml")


def test_overrides_are_validated():
    p = loads_preset(GOOD)
    q = p.with_overrides(epochs=3, seed=9, data_path="/x.npz")
    assert (q.training.epochs, q.seed, q.data.path) == (3, 9, "/x.npz")
    with pytest.raises(SpecError, match="training.epochs"):
        p.with_overrides(epochs=0)


def test_param_counts_from_spec_alone():
    p = loads_preset(GOOD)
    assert param_counts(p, 64) == [64 * 32 + 32, 0, 32 * 10 + 10]
    assert isinstance(p.layers[0], DenseLayer)


def test_resolve_by_name_path_and_user_folder(tmp_path, monkeypatch):
    user = tmp_path / "user-presets"
    user.mkdir(exist_ok=True)
    (user / "mine.toml").write_text(GOOD)
    assert presets.resolve("mine") == user / "mine.toml"
    assert presets.resolve(str(user / "mine.toml")) == user / "mine.toml"
    assert presets.resolve(None).stem == "digits"  # the default
    with pytest.raises(SpecError, match="choose one of .*digits"):
        presets.resolve("nonesuch")
    with pytest.raises(SpecError, match="no such preset file"):
        presets.resolve("nope/x.toml")


def test_every_section_survives_a_save_and_load():
    from tui_trainer.spec import Preset, dumps_preset, loads_preset

    text = tiny_preset_toml("/tmp/x.csv", extra="[logging]\ntensorboard = true\nbatch_stride = 0\n")
    preset = loads_preset(text)
    again = loads_preset(dumps_preset(preset))
    assert again == preset and again.logging.batch_stride == 0 and again.logging.tensorboard
    assert set(Preset.model_fields) - {"layers"} <= set(preset.model_dump())
