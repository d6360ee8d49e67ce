"""diagnostics.gradient_norms: the recorded kernel-gradient norms are the real ones, and they show the lesson.

The norms in the run log are checked against a GradientTape computed here,
independently of the callback, on the same fixed batch (the first
``batch_size`` samples of the fit split) with the weights the run had at that
point: the seeded initial weights for the before-training measurement, the
saved model for the last epoch (early stopping off, so nothing is restored).
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from tui_trainer import presets
from tui_trainer.console import ConsolePrinter
from tui_trainer.datasets import load_dataset
from tui_trainer.engine import train
from tui_trainer.events import EpochEnded, GradientNorms, from_dict, grad_ratio, to_dict
from tui_trainer.runlog import MODEL, load_run
from tui_trainer.runstate import RunState
from tui_trainer.spec import dumps_preset, loads_preset

from ..conftest import tiny_preset_toml

DIAGNOSTICS = "[diagnostics]\ngradient_norms = true\n"


def tape_norms(model, x, y) -> list[float]:
    """Each Dense kernel's gradient norm, input side first, computed eagerly with a tape."""
    import keras
    import tensorflow as tf

    kernels = [layer.kernel for layer in model.layers if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D))]
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False), training=False)
    return [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]


@pytest.fixture
def with_dropout(blobs_csv):
    """The tiny preset with gradient norms on, a dropout layer in the middle and early stopping off."""
    preset = loads_preset(tiny_preset_toml(blobs_csv, epochs=2, extra=DIAGNOSTICS))
    raw = preset.model_dump(mode="json")
    raw["layers"].insert(1, {"type": "dropout", "rate": 0.5})
    raw["early_stopping"]["enabled"] = False
    return preset.model_validate(raw)


def test_logged_norms_are_a_tape_on_the_same_batch_and_weights(with_dropout, tmp_path):
    import keras

    from tui_trainer.model import build_model, compile_model

    preset = with_dropout
    result = train(preset, runs_dir=tmp_path)
    assert result.status == "completed"
    run = load_run(result.run_dir)
    first = [e for e in run.events if isinstance(e, GradientNorms)]
    epochs = [e for e in run.events if isinstance(e, EpochEnded)]
    assert len(first) == 1 and first[0].epoch == 0 and first[0].samples == preset.training.batch_size
    assert run.events.index(first[0]) == 1  # right after RunStarted, before any batch
    assert first[0].layers == ("dense_1", "dense_3")  # the dropout layer (2nd) has no kernel
    assert [len(e.grad_norms) for e in epochs] == [2, 2]

    data = load_dataset(preset.data)
    bs = preset.training.batch_size
    x, y = data.x_train[:bs], data.y_train[:bs]  # the first batch of the fit split

    # Before training: the same seed gives the same initial weights.
    keras.backend.clear_session()
    keras.utils.set_random_seed(preset.seed)
    model = build_model(preset, data.input_shape, data.num_classes)
    compile_model(model, preset)
    assert first[0].norms == pytest.approx(tape_norms(model, x, y), rel=1e-5)
    assert [layer.name for layer in model.layers if isinstance(layer, keras.layers.Dense)] == list(first[0].layers)

    # After the last epoch: the saved model holds exactly those weights (nothing restored).
    saved = keras.models.load_model(result.run_dir / MODEL)
    compile_model(saved, preset)
    assert epochs[-1].grad_norms == pytest.approx(tape_norms(saved, x, y), rel=1e-5)
    assert epochs[-1].grad_norms != pytest.approx(first[0].norms, rel=1e-3)  # training moved them

    state = RunState()
    for event in run.events:
        state.apply(event)
    assert state.grad_layer_names == ("dense_1", "dense_3")
    assert [epoch for epoch, _ in state.grad_norms_history()] == [0, 1, 2]
    xs, ratios = state.grad_ratio_series()
    assert xs == [0, 1, 2] and ratios[0] == pytest.approx(first[0].norms[0] / first[0].norms[1])

    out = io.StringIO()
    printer = ConsolePrinter(out)
    for event in run.events:
        printer(event)
    text = out.getvalue()
    assert "Kernel-gradient norms before training, on a fixed batch of 16: dense_1 (input side)" in text
    assert text.count("grad first/last ") == 2  # on each epoch's line


def test_conv_layers_get_their_gradient_norms_too(tmp_path):
    """A CNN on digits' 8x8 images: the conv kernels are measured with the dense ones, input side first."""
    import keras

    from tui_trainer.model import build_model, compile_model

    digits, _ = presets.load("digits")
    raw = digits.model_dump(mode="json")
    raw["data"]["flatten"] = False
    raw["layers"] = [{"type": "conv2d", "filters": 4, "kernel_size": 3, "activation": "relu"},
                     {"type": "max_pool2d"}, {"type": "flatten"},
                     {"type": "dense", "units": 10, "activation": "softmax"}]
    raw["training"]["epochs"] = 1
    raw["early_stopping"]["enabled"] = False
    raw["diagnostics"] = {"gradient_norms": True}
    preset = digits.model_validate(raw)
    result = train(preset, runs_dir=tmp_path)
    run = load_run(result.run_dir)
    (first,) = [e for e in run.events if isinstance(e, GradientNorms)]

    data = load_dataset(preset.data)
    bs = preset.training.batch_size
    keras.backend.clear_session()
    keras.utils.set_random_seed(preset.seed)
    model = build_model(preset, data.input_shape, data.num_classes)
    compile_model(model, preset)
    kinds = [type(layer).__name__ for layer in model.layers if layer.name in first.layers]
    assert kinds == ["Conv2D", "Dense"]
    assert first.norms == pytest.approx(tape_norms(model, data.x_train[:bs], data.y_train[:bs]), rel=1e-5)
    (epoch,) = [e for e in run.events if isinstance(e, EpochEnded)]
    assert len(epoch.grad_norms) == 2


# Measured with Glorot init on digits (issue note): sigmoid ~1e-5, the others ~1-2. tanh does not
# vanish at this depth: its slope is 1 at zero, sigmoid's at most 0.25 (0.25**8 ~ 1.5e-5).
@pytest.mark.parametrize("name,vanishes", [("deep-sigmoid", True), ("deep-tanh", False), ("deep-relu", False),
                                           ("deep-leaky-relu", False), ("deep-elu", False)])
def test_deep_presets_show_where_gradients_vanish(name, vanishes, tmp_path):
    preset, _ = presets.load(name)
    assert preset.diagnostics.gradient_norms and len(preset.layers) == 9
    state = RunState()
    train(preset.with_overrides(epochs=1), state.apply, runs_dir=tmp_path)
    assert len(state.grad_layer_names) == 9 and state.grad_layer_names[0] == "dense_1"
    epochs, ratios = state.grad_ratio_series()
    assert epochs == [0, 1]
    if vanishes:
        assert ratios[0] < 1e-3
    else:
        assert ratios[0] > 1e-1


def test_the_deep_presets_differ_only_in_the_activation():
    loaded = [presets.load(f"deep-{a}")[0] for a in ("sigmoid", "tanh", "relu", "leaky-relu", "elu")]
    same = lambda p: (p.seed, p.data, p.training, p.early_stopping, p.diagnostics, [l.units for l in p.layers])
    assert all(same(p) == same(loaded[0]) for p in loaded)
    assert [p.layers[0].activation for p in loaded] == ["sigmoid", "tanh", "relu", "leaky_relu", "elu"]


def test_spec_round_trip_with_diagnostics(blobs_csv):
    on = loads_preset(tiny_preset_toml(blobs_csv, extra=DIAGNOSTICS))
    assert on.diagnostics.gradient_norms
    text = dumps_preset(on)
    assert "[diagnostics]\ngradient_norms = true" in text
    assert loads_preset(text) == on
    off = loads_preset(tiny_preset_toml(blobs_csv))
    assert not off.diagnostics.gradient_norms and "diagnostics" not in dumps_preset(off)
    with pytest.raises(ValueError, match="diagnostics.gradient_norm: unknown key"):
        loads_preset(tiny_preset_toml(blobs_csv, extra="[diagnostics]\ngradient_norm = true\n"), source="x.toml")


def test_off_by_default_no_gradient_fields(tiny_preset_file, tmp_path):
    from tui_trainer.spec import load_preset_file

    result = train(load_preset_file(tiny_preset_file), runs_dir=tmp_path)
    events = load_run(result.run_dir).events
    assert not any(isinstance(e, GradientNorms) for e in events)
    assert all(e.grad_norms is None for e in events if isinstance(e, EpochEnded))
    assert "grad_norms" not in (result.run_dir / "events.jsonl").read_text()  # the preset dump says gradient_norms
    state = RunState()
    for event in events:
        state.apply(event)
    assert state.grad_norms_history() == [] and state.grad_layer_names == () and state.grad_ratio_series() == ([], [])


def test_events_round_trip_through_json():
    g = GradientNorms(epoch=0, norms=(1.25e-5, 0.75), layers=("dense_1", "dense_2"), samples=32)
    e = EpochEnded(epoch=3, metrics={"loss": 0.5}, duration_s=1.0, elapsed_s=3.0, grad_norms=(0.5, float("nan"), 2.0))
    assert from_dict(json.loads(json.dumps(to_dict(g)))) == g
    back = from_dict(json.loads(json.dumps(to_dict(e))))
    assert back.grad_norms == (0.5, None, 2.0)  # JSON has no NaN: null, like the metrics
    assert grad_ratio(g.norms) == pytest.approx(1.25e-5 / 0.75)
    assert grad_ratio(back.grad_norms) == 0.25 and grad_ratio((None, 1.0)) is None and grad_ratio((1.0, 0.0)) is None
    assert grad_ratio(None) is None and grad_ratio(()) is None
    assert np.isfinite(grad_ratio((3.0, 2.0)))
