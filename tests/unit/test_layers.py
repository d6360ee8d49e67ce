"""Layer kinds: their specs (good and bad values), shapes and parameter counts against Keras's own."""

from __future__ import annotations

import pytest

from tui_trainer.layers import KINDS, LayerSpec, kind, layer_rows, summary_lines
from tui_trainer.spec import SpecError, check_shapes, dumps_preset, loads_preset, output_shapes, parse_preset, validate_layer

OUT = {"type": "dense", "units": 3, "activation": "softmax"}

# --- specs: good and bad values, per kind ----------------------------------------------------------

GOOD = [
    {"type": "dense", "units": 4, "activation": "elu", "alpha": 0.5, "initializer": "he_normal", "l2": 1e-4},
    {"type": "dropout", "rate": 0.25},
    {"type": "conv2d", "filters": 8},
    {"type": "conv2d", "filters": 8, "kernel_size": [3, 5], "strides": 2, "padding": "same",
     "activation": "leaky_relu", "negative_slope": 0.1, "initializer": "he_uniform", "l1": 1e-5},
    {"type": "max_pool2d"},
    {"type": "max_pool2d", "pool_size": [2, 3], "strides": 1, "padding": "same"},
    {"type": "avg_pool2d", "pool_size": 3},
    {"type": "global_avg_pool2d"},
    {"type": "flatten"},
    {"type": "batch_norm", "momentum": 0.9, "epsilon": 1e-5},
]


@pytest.mark.parametrize("raw", GOOD, ids=lambda r: r["type"])
def test_good_layers_validate_and_round_trip_through_toml(raw):
    layer, errors = validate_layer(raw)
    assert errors == [] and isinstance(layer, kind(raw["type"]))
    preset = parse_preset({"name": "x", "layers": [raw, OUT]})
    assert loads_preset(dumps_preset(preset)) == preset


BAD = [
    ({"type": "dense", "units": 0}, "units", "greater than 0"),
    ({"type": "dense", "units": 4, "initializer": "he"}, "initializer", "'he_normal'"),
    ({"type": "dense", "units": 4, "l2": -1}, "l2", "greater than or equal to 0"),
    ({"type": "conv2d"}, "filters", "Field required"),
    ({"type": "conv2d", "filters": 8, "kernel_size": 0}, "kernel_size", "positive integer or two of them"),
    ({"type": "conv2d", "filters": 8, "kernel_size": [3, 3, 3]}, "kernel_size", "[height, width]"),
    ({"type": "conv2d", "filters": 8, "strides": "2"}, "strides", "positive integer"),
    ({"type": "conv2d", "filters": 8, "padding": "full"}, "padding", "'valid' or 'same'"),
    ({"type": "conv2d", "filters": 8, "activation": "gelu"}, "activation", "'relu', 'leaky_relu'"),
    ({"type": "conv2d", "filters": 8, "units": 3}, "units", "unknown key"),
    ({"type": "max_pool2d", "pool_size": -2}, "pool_size", "positive integer"),
    ({"type": "avg_pool2d", "strides": [0, 1]}, "strides", "positive integer"),
    ({"type": "global_avg_pool2d", "pool_size": 2}, "pool_size", "unknown key"),
    ({"type": "flatten", "rate": 0.5}, "rate", "unknown key"),
    ({"type": "batch_norm", "momentum": 1.0}, "momentum", "less than 1"),
    ({"type": "dropout", "rate": 1.0}, "rate", "less than 1"),
    ({"type": "conv"}, "type", "unknown layer type 'conv'; choose one of dense, dropout, conv2d"),
]


@pytest.mark.parametrize("raw,field,fragment", BAD, ids=[f"{b[0]['type']}-{b[1]}" for b in BAD])
def test_bad_layer_values_name_the_field(raw, field, fragment):
    layer, errors = validate_layer(raw)
    assert layer is None
    assert errors[0].field == field and fragment in errors[0].message
    if raw["type"] in KINDS:  # the same error in a preset file names the layer's number and the file
        with pytest.raises(SpecError) as info:
            loads_preset(f'name = "x"\n{_toml_layer(raw)}\n{_toml_layer(OUT)}', source="p.toml")
        assert str(info.value).startswith(f"p.toml: layers[1].{field}: ")


def _toml_layer(raw: dict) -> str:
    import tomli_w

    return "[[layers]]\n" + tomli_w.dumps(raw)


def test_an_unknown_kind_is_an_error_never_dropout():
    with pytest.raises(KeyError, match="unknown layer type 'conv'; choose one of dense, dropout, conv2d"):
        kind("conv")
    with pytest.raises(SpecError, match=r"layers\[1\]: unknown layer type; choose one of dense.*\(got 'conv'\)"):
        parse_preset({"name": "x", "layers": [{"type": "conv", "filters": 3}, OUT]})


def test_every_kind_is_complete():
    for name, cls in KINDS.items():
        assert issubclass(cls, LayerSpec) and cls.KIND == name and cls.TITLE and len(cls.HELP) > 20, name
        assert all(f.name in cls.model_fields for f in cls.FIELDS), name
        assert cls.new([]).type == name


# --- shapes: errors name the layer and the fix -------------------------------------------------------


def preset(*layers: dict, **data) -> object:
    return parse_preset({"name": "shapes", "layers": [*layers, OUT], "data": data or {}})


CONV = {"type": "conv2d", "filters": 4}
POOL = {"type": "max_pool2d"}
FLAT = {"type": "flatten"}
DENSE = {"type": "dense", "units": 8}


@pytest.mark.parametrize(
    "layers,input_shape,field,fragments",
    [
        ((CONV, FLAT), (784,), "layers[1]", ("conv2d needs an image", "vector of 784", "data.flatten = false")),
        ((FLAT, CONV, FLAT), (28, 28, 1), "layers[2]", ("conv2d needs an image", "vector of 784")),
        ((CONV, POOL), (28, 28, 1), "layers[3]", ("dense needs a vector", "(None, 13, 13, 4)", "add a flatten")),
        ((CONV, POOL, {**CONV, "kernel_size": 5}, FLAT), (8, 8, 1), "layers[3].kernel_size",
         ("5x5 kernel is larger than its 3x3 input", "smaller kernel_size", "padding = 'same'")),
        ((POOL, {**POOL, "pool_size": 5}, FLAT), (8, 8), "layers[2].pool_size", ("5x5 pool window", "4x4 input")),
    ],
)
def test_layers_that_do_not_fit_are_one_line_naming_layer_and_fix(layers, input_shape, field, fragments):
    p = preset(*layers)
    with pytest.raises(SpecError) as info:
        check_shapes(p, input_shape, source="cnn.toml")
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"cnn.toml: {field}: ")
    assert info.value.field == field
    for fragment in fragments:
        assert fragment in msg


def test_same_padding_lets_a_kernel_be_larger_than_its_input():
    rows = output_shapes(preset({**CONV, "kernel_size": 5, "padding": "same"}, FLAT), (3, 3, 2))
    assert rows[0].output_shape == (3, 3, 4)


def test_input_adapters_flatten_for_dense_and_add_a_channel_for_conv():
    dense_first = output_shapes(preset(DENSE), (8, 8))
    assert (dense_first[0].number, dense_first[0].kind, dense_first[0].output_shape) == (0, "flatten", (64,))
    conv_first = output_shapes(preset(CONV, FLAT), (8, 8))
    assert (conv_first[0].kind, conv_first[0].output_shape) == ("reshape", (8, 8, 1))
    assert [r.number for r in output_shapes(preset(CONV, FLAT), (8, 8, 1))] == [1, 2, 3]  # no adapter needed


def test_unknown_input_shape_still_counts_what_does_not_depend_on_it():
    p = preset(DENSE, {"type": "dropout"}, DENSE)
    rows, error = layer_rows(p.layers, None)
    assert error is None
    assert [r.params for r in rows] == [None, 0, 72, 27]
    assert [r.shape_text for r in rows] == ["(None, 8)", "(None, 8)", "(None, 8)", "(None, 3)"]  # dense: its units


def test_summary_lines_read_like_keras():
    lines = summary_lines(output_shapes(preset(CONV, {"type": "batch_norm"}, POOL, FLAT), (6, 6)))
    assert lines[0].split() == ["#", "layer", "type", "output", "shape", "params"]
    assert lines[1].split()[:3] == ["-", "channels", "(reshape"]
    assert "conv2d_1" in lines[2] and "(None, 4, 4, 4)" in lines[2] and lines[2].endswith("40")
    assert "batch_norm_2" in lines[3] and lines[3].endswith("16")
    assert lines[-1] == "Total params: 107 (trainable 99, non-trainable 8)"  # 40 + 16 + 0 + 0 + (16*3 + 3)


# --- shapes and counts against Keras -----------------------------------------------------------------

KERAS_CASES = [
    (DENSE, (64,)),
    ({**DENSE, "activation": "leaky_relu", "l2": 0.01, "initializer": "he_normal"}, (10,)),
    ({"type": "dropout", "rate": 0.3}, (6, 6, 3)),
    (CONV, (28, 28, 1)),
    ({**CONV, "kernel_size": [3, 5], "strides": 2, "padding": "same"}, (28, 28)),
    ({**CONV, "kernel_size": 5, "strides": [2, 1], "activation": "elu", "l1": 0.001}, (9, 9, 3)),
    ({**CONV, "kernel_size": 4, "strides": 3}, (10, 11, 2)),
    (POOL, (28, 28, 4)),
    ({**POOL, "pool_size": 3, "strides": 2, "padding": "same"}, (7, 7, 2)),
    ({**POOL, "pool_size": [2, 3]}, (5, 7, 1)),
    ({"type": "avg_pool2d"}, (6, 6, 3)),
    ({"type": "avg_pool2d", "pool_size": 3, "padding": "same"}, (7, 8, 1)),
    ({"type": "global_avg_pool2d"}, (5, 5, 7)),
    ({"type": "global_avg_pool2d"}, (8, 8)),
    (FLAT, (4, 5, 6)),
    (FLAT, (10,)),
    ({"type": "batch_norm"}, (10,)),
    ({"type": "batch_norm"}, (6, 6, 3)),
]


def _keras_rows(model, n_layers: int) -> dict[int, tuple]:
    """Per preset layer number (0: the input adapter): (output shape, count_params, trainable) from Keras."""
    import numpy as np

    out: dict[int, tuple] = {}
    for layer in model.layers:
        number = 0 if layer.name in ("flatten", "channels") else int(layer.name.rsplit("_", 1)[1])
        params = layer.count_params()
        trainable = int(sum(np.prod(w.shape) for w in layer.trainable_weights))
        shape, p0, t0 = out.get(number, (None, 0, 0))
        out[number] = (tuple(layer.output.shape[1:]), p0 + params, t0 + trainable)  # the group's last layer's shape
    return out


@pytest.mark.parametrize("layer,input_shape", KERAS_CASES,
                         ids=[f"{c[0]['type']}-{'x'.join(map(str, c[1]))}-{i}" for i, c in enumerate(KERAS_CASES)])
def test_shapes_and_counts_equal_keras(layer, input_shape):
    import keras

    from tui_trainer.model import build_model

    # the kind under test, then what it takes to reach a dense output layer
    after = [] if layer["type"] in ("dense", "global_avg_pool2d") else [FLAT]
    p = preset(layer, *after)
    rows = output_shapes(p, input_shape)
    keras.backend.clear_session()
    model = build_model(p, input_shape, 3)
    theirs = _keras_rows(model, len(p.layers))
    ours = {r.number: (r.output_shape, r.params, r.trainable) for r in rows}
    assert ours == theirs
    assert sum(r.params for r in rows) == model.count_params()
    if layer.get("l1") or layer.get("l2"):
        assert model.layers[0].kernel_regularizer is not None
    if "initializer" in layer:
        assert type(model.get_layer(f"{layer['type']}_1").kernel_initializer).__name__.lower().replace("_", "") == \
            layer["initializer"].replace("_", "")


def test_the_cnn_presets_match_keras_and_round_trip():
    import keras

    from tui_trainer import presets
    from tui_trainer.model import build_model

    cnn = ["conv2d", "max_pool2d", "conv2d", "max_pool2d", "flatten", "dropout", "dense"]
    # mnist-cnn is Keras's mnist_convnet example (34,826 parameters); fashion-cnn adds a hidden dense layer
    for name, kinds, total in (("mnist-cnn", cnn, 34_826), ("fashion-cnn", [*cnn, "dense"], 225_034)):
        p, path = presets.load(name)
        assert p.data.flatten is False and p.early_stopping.monitor == "val_loss"
        assert [l.type for l in p.layers] == kinds
        assert loads_preset(dumps_preset(p)) == p
        for shape in ((28, 28), (28, 28, 1)):  # today's data (H, W), and (H, W, C) once images keep a channel axis
            rows = output_shapes(p, shape)
            keras.backend.clear_session()
            model = build_model(p, shape, 10)
            assert sum(r.params for r in rows) == model.count_params() == total
            assert rows[-1].output_shape == tuple(model.layers[-1].output.shape[1:]) == (10,)


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_declares_whether_it_has_a_kernel_as_keras_builds_it(name):
    # the gradients panel and the results view find kernels by the weight (model.has_kernel); a kind that
    # declares HAS_KERNEL must build a layer they find, and one that doesn't must build none
    import keras

    from tui_trainer.model import build_model, has_kernel

    cls = KINDS[name]
    layer = cls.new([]).model_dump(mode="json")
    after = [] if name in ("dense", "global_avg_pool2d") else [FLAT]
    p = preset(layer, *after)
    keras.backend.clear_session()
    model = build_model(p, (10,) if cls.INPUT_RANK == 1 else (6, 6, 3), 3)
    own = [k for k in model.layers if k.name.rsplit("_", 1)[-1] == "1"]
    assert own, [k.name for k in model.layers]
    assert any(has_kernel(k) for k in own) is cls.HAS_KERNEL
    if cls.HAS_KERNEL:  # a frozen kernel has no gradient to measure, but is still there to draw
        own[0].trainable = False
        assert not has_kernel(own[0]) and has_kernel(own[0], trainable=False)
