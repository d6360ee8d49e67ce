"""TensorBoard logs in (written by tensorboardX as PyTorch writes them, by Keras's TensorBoard callback,
by our own writer) and runs out to TensorBoard, read back with TensorBoard's own reader."""

from __future__ import annotations

import math
import shutil
import struct
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui_trainer.cli import app
from tui_trainer.runlog import RunLogError
from tui_trainer.runstate import RunState
from tui_trainer.sources import canonical, discover, load
from tui_trainer.tbread import EventFileReader, TBFormatError, event_files
from tui_trainer.tbwrite import EventWriter
from tui_trainer.whatif import what_if

RECORDINGS = Path(__file__).parent.parent / "recordings"
runner = CliRunner()


def fold(loaded) -> RunState:
    state = RunState(live=False)
    for e in loaded.events:
        state.apply(e)
    return state


def u_curve(epoch: int, best: int = 9) -> float:
    """A val_loss with its one minimum at ``best`` (epochs from 1)."""
    return 0.2 + (epoch - best) ** 2 / 100


def pytorch_log(folder: Path, epochs: int = 20, steps: int = 10) -> None:
    """What a PyTorch loop with torch.utils.tensorboard.SummaryWriter writes (tensorboardX is the same writer)."""
    tbx = pytest.importorskip("tensorboardX", reason="tensorboardX (PyTorch's SummaryWriter format) not installed")
    w = tbx.SummaryWriter(str(folder))
    for e in range(1, epochs + 1):
        for b in range(steps):
            w.add_scalar("Loss/train", 1 / e + b * 1e-3, (e - 1) * steps + b)
        w.add_scalar("Loss/val", u_curve(e), e * steps - 1)
        w.add_scalar("Accuracy/val", 0.5 + e / 100, e * steps - 1)
    w.close()


# --- reading ------------------------------------------------------------------------------------


def test_tag_names_map_to_our_metrics():
    assert canonical("epoch_loss", "val") == ("val_loss", True)
    assert canonical("epoch_accuracy", "train") == ("accuracy", True)
    for tag in ("train/loss", "loss/train", "train_loss", "Loss/train", "loss"):
        assert canonical(tag)[0] == "loss", tag
    for tag in ("val/loss", "loss/val", "validation/loss", "val_loss", "eval/loss", "Loss/valid"):
        assert canonical(tag)[0] == "val_loss", tag
    assert canonical("val/acc")[0] == "val_accuracy"
    assert canonical("train/learning_rate")[0] == "learning_rate"
    assert canonical("gpu/mem_used")[0] == "gpu/mem_used"  # anything else keeps its own name


def test_pytorch_log_reads_as_epochs_and_batches_with_a_what_if_verdict(tmp_path):
    pytorch_log(tmp_path / "run1")
    state = fold(load(tmp_path / "run1"))
    assert len(state.epochs) == 20
    assert state.epochs[8].metrics["val_loss"] == pytest.approx(0.2)
    assert state.epochs[0].metrics["loss"] == pytest.approx(1 + 4.5e-3, rel=1e-5)  # the epoch's mean batch loss
    assert len(state.batch_losses) == 200
    assert (state.best_epoch, state.stopped_epoch, state.restored_epoch) == (9, 14, 9)
    assert state.verdict() == ("What-if: EarlyStopping (val_loss, patience 5, min_delta 0) would have stopped at "
                               "epoch 14 and restored epoch 9 (val_loss 0.2); the 6 epochs after it would not have run.")


def test_patience_moves_the_marks(tmp_path):
    pytorch_log(tmp_path / "run1")
    state = fold(load(tmp_path / "run1", patience=2))
    assert (state.best_epoch, state.stopped_epoch) == (9, 11)


def test_keras_tensorboard_callback_log_is_one_run(tmp_path):
    keras = pytest.importorskip("keras", reason="keras not installed")
    import numpy as np

    pytest.importorskip("tensorflow", reason="Keras's TensorBoard callback writes through tf.summary")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    x = np.random.default_rng(0).random((64, 4)).astype("float32")
    hist = model.fit(x, x.sum(1), epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                     callbacks=[keras.callbacks.TensorBoard(str(tmp_path / "logs" / "fit"), update_freq="batch")])
    assert discover(tmp_path / "logs") == [tmp_path / "logs" / "fit"]  # train/ + validation/: one run
    state = fold(load(tmp_path / "logs" / "fit"))
    assert [e.metrics["val_loss"] for e in state.epochs] == pytest.approx(hist.history["val_loss"], rel=1e-6)
    assert [e.metrics["loss"] for e in state.epochs] == pytest.approx(hist.history["loss"], rel=1e-6)
    assert len(state.batch_losses) == 9  # 3 batches an epoch, in the batch chart
    assert state.verdict().startswith("What-if: EarlyStopping (val_loss, patience 5")


def test_what_if_follows_keras_rule_on_a_known_minimum():
    values = [u_curve(e, best=6) for e in range(1, 31)]
    es, states = what_if(values)
    assert (es.best_epoch, es.stopped_epoch, es.restored_epoch, es.whatif) == (6, 11, 6, True)
    assert [s.wait for s in states[5:11]] == [0, 1, 2, 3, 4, 5]
    es, _ = what_if([0.5, 0.4, 0.39, 0.385], min_delta=0.02, patience=2)  # smaller gains don't count
    assert (es.best_epoch, es.stopped_epoch) == (2, 4)
    es, _ = what_if([0.5, 0.6, 0.7, 0.8, 0.9], monitor="val_accuracy")  # mode max by the metric's name
    assert es.best_epoch == 5 and not es.triggered
    es, _ = what_if([0.5, math.nan, math.nan, 0.4], patience=2)  # NaN never improves
    assert (es.best_epoch, es.stopped_epoch) == (1, 3)
    es, _ = what_if([math.nan, 0.5, 0.4, 0.45])  # a NaN first epoch isn't best either (Keras starts at inf)
    assert (es.best_epoch, es.best_value) == (3, 0.4)


def test_nan_values_are_read_and_never_best(tmp_path):
    with EventWriter(tmp_path / "r") as w:
        for e, v in enumerate([0.5, float("nan"), 0.3, 0.4]):
            w.scalar("val_loss", v, e)
    state = fold(load(tmp_path / "r"))
    assert math.isnan(state.epochs[1].metrics["val_loss"])
    assert (state.best_epoch, state.best_value) == (3, pytest.approx(0.3))


def test_garbage_and_empty_event_files_exit_2_with_one_line(tmp_path):
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "events.out.tfevents.1.host").write_bytes(b"this is not a TFRecord file at all")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "events.out.tfevents.1.host").write_bytes(b"")
    for name, words in (("garbage", "not a TensorBoard event file"), ("empty", "without scalars")):
        result = runner.invoke(app, ["export", str(tmp_path / name)])
        assert result.exit_code == 2, result.output
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_record_cut_mid_write_waits_and_a_bad_one_mid_file_is_noted(tmp_path):
    with EventWriter(tmp_path / "r", flush_every=1) as w:
        w.scalar("loss", 1.0, 0)
    f = event_files(tmp_path / "r")[0]
    whole = f.read_bytes()
    reader = EventFileReader(f)
    f.write_bytes(whole + b"\x30\x00")  # the next record's first bytes
    assert [s.value for s in reader.read()] == [1.0]
    f.write_bytes(whole + b"\xff" * 16)
    assert reader.read() == [] and "bad record header" in reader.problems[0]
    f.write_bytes(b"\x01" * 40)
    with pytest.raises(TBFormatError, match="not a TensorBoard event file"):
        EventFileReader(f).read()


def test_commands_that_need_our_run_refuse_a_tensorboard_log(tmp_path):
    pytorch_log(tmp_path / "run1")
    for args in (["results", str(tmp_path / "run1")], ["predict", str(tmp_path / "run1"), "x.npz"],
                 ["train", "--resume", str(tmp_path / "run1")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "is a TensorBoard log, not a tui-trainer run" in result.stderr, args


def test_runs_list_discovers_tensorboard_runs_beside_ours(tmp_path):
    runs = tmp_path / "runs"
    ours = runs / "20260101-120000-digits"
    ours.mkdir(parents=True)
    shutil.copy(RECORDINGS / "early_stopped.jsonl", ours / "events.jsonl")
    pytorch_log(runs / "pt" / "run1")
    result = runner.invoke(app, ["runs", "list", "--runs-dir", str(runs)])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("pt/run1"))
    assert row.split()[:5] == ["pt/run1", "tensorboard", "20", "14", "9"]
    assert "20260101-120000-digits" in result.output


def test_a_parent_of_several_runs_names_them(tmp_path):
    pytorch_log(tmp_path / "logs" / "a")
    pytorch_log(tmp_path / "logs" / "b")
    with pytest.raises(RunLogError, match="holds 2 TensorBoard runs; name one: a, b"):
        load(tmp_path / "logs")


def test_compare_a_tensorboard_log_with_our_run(tmp_path):
    ours = tmp_path / "ours"
    ours.mkdir()
    shutil.copy(RECORDINGS / "early_stopped.jsonl", ours / "events.jsonl")
    pytorch_log(tmp_path / "run1")
    result = runner.invoke(app, ["compare", str(ours), str(tmp_path / "run1"), "--no-ui"])
    assert result.exit_code == 0, result.output
    stopped = next(line for line in result.output.splitlines() if line.startswith("stopped epoch"))
    assert stopped.split()[-1] == "14"


# --- a long log ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_log(tmp_path_factory) -> Path:
    """100,000 steps of train loss and one val_loss every 1,000 steps (minimum at epoch 30)."""
    d = tmp_path_factory.mktemp("long") / "run"
    with EventWriter(d, flush_every=10000) as w:
        for i in range(100_000):
            w.scalar("train/loss", 1 / (1 + i / 1000), i)
            if (i + 1) % 1000 == 0:
                w.scalar("val/loss", u_curve((i + 1) // 1000, best=30), i)
    return d


def test_a_100000_step_log_replays_to_its_verdict_and_exports(long_log):
    state = fold(load(long_log, compact=True))
    assert len(state.batch_losses) == 100_000 and len(state.epochs) == 100
    assert (state.best_epoch, state.stopped_epoch) == (30, 35)
    result = runner.invoke(app, ["export", str(long_log)])
    assert result.exit_code == 0
    assert len(result.output.splitlines()) == 101


# --- out to TensorBoard -------------------------------------------------------------------------


def test_export_to_tensorboard_reads_back_equal_in_tensorboard(tmp_path):
    run = tmp_path / "20260101-120000-digits"
    run.mkdir()
    shutil.copy(RECORDINGS / "early_stopped.jsonl", run / "events.jsonl")
    result = runner.invoke(app, ["export", str(run), "--tensorboard", str(tmp_path / "tb")])
    assert result.exit_code == 0, result.output
    ours = fold(load(run))
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator",
                                 reason="tensorboard not installed: no reader of its own to check against")
    for sub, prefix in (("train", ""), ("validation", "val_")):
        acc = ea_mod.EventAccumulator(str(tmp_path / "tb" / run.name / sub), size_guidance={"scalars": 0})
        acc.Reload()
        got = [(s.step + 1, s.value) for s in acc.Scalars("epoch_loss")]
        want = [(e.epoch, struct.unpack("<f", struct.pack("<f", e.metrics[prefix + "loss"]))[0]) for e in ours.epochs]
        assert got == want
    acc = ea_mod.EventAccumulator(str(tmp_path / "tb" / run.name / "train"), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    assert len(acc.Scalars("batch_loss")) == len(ours.batch_losses)
    text = acc.Tensors("early_stopping")[0].tensor_proto.string_val[0].decode()
    assert ours.verdict() in text and f"| stopped at epoch | {ours.stopped_epoch} |" in text
    # and our own reader takes the export back as the same run
    back = fold(load(tmp_path / "tb" / run.name))
    assert [e.metrics["val_loss"] for e in back.epochs] == pytest.approx([e.metrics["val_loss"] for e in ours.epochs])
    again = runner.invoke(app, ["export", str(run), "--tensorboard", str(tmp_path / "tb")])
    assert again.exit_code == 2 and "exists already" in again.stderr  # never overwritten


def test_reader_imports_no_tensorflow(tmp_path):
    import subprocess
    import sys

    with EventWriter(tmp_path / "r") as w:
        w.scalar("loss", 0.5, 0)
    code = ("import sys; from pathlib import Path; from tui_trainer.sources import load; "
            f"load(Path({str(tmp_path / 'r')!r})); "
            "print(sorted(m for m in ('tensorflow', 'tensorboard', 'torch', 'textual') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- shapes other tools write (found in their public code; written here with our own writer) ------


def test_hugging_face_trainer_shape(tmp_path):
    """transformers' TensorBoardCallback: ``loss`` -> ``train/loss`` every logging_steps, ``eval_loss`` ->
    ``eval/loss`` every eval_steps, plus ``train/learning_rate`` and ``train/epoch`` (a fraction)."""
    with EventWriter(tmp_path / "hf") as w:
        for step in range(10, 501, 10):
            w.scalar("train/loss", 2 / step, step)
            w.scalar("train/learning_rate", 5e-5, step)
            w.scalar("train/epoch", step / 100, step)
            if step % 50 == 0:
                w.scalar("eval/loss", u_curve(step // 50, best=4), step)
                w.scalar("eval/accuracy", 0.5 + step / 2000, step)
    state = fold(load(tmp_path / "hf"))
    assert len(state.epochs) == 10 and state.early_stopping.monitor == "val_loss"
    assert set(state.epochs[0].metrics) >= {"loss", "val_loss", "val_accuracy", "learning_rate"}
    assert (state.best_epoch, state.stopped_epoch) == (4, 9)
    assert len(state.batch_losses) == 50  # five logged train losses an evaluation: the batch chart's


def test_ultralytics_shape_has_no_plain_loss(tmp_path):
    """Ultralytics' YOLO callback: per epoch (step = epoch + 1) ``train/box_loss``..., ``val/box_loss``...,
    ``metrics/mAP50(B)`` and ``lr/pg0``; no tag is a plain loss, so the what-if watches a validation loss
    and says which."""
    with EventWriter(tmp_path / "yolo") as w:
        for epoch in range(12):
            for part in ("box", "cls"):
                w.scalar(f"train/{part}_loss", 1 / (epoch + 1), epoch + 1)
                w.scalar(f"val/{part}_loss", u_curve(epoch + 1, best=5), epoch + 1)
            w.scalar("metrics/mAP50(B)", 0.1 * epoch, epoch + 1)
            w.scalar("lr/pg0", 0.01, epoch + 1)
    state = fold(load(tmp_path / "yolo"))
    assert len(state.epochs) == 12 and state.epochs[0].metrics["metrics/mAP50(B)"] == 0
    assert state.early_stopping.monitor == "val_box_loss" and state.stopped_epoch == 10
    assert "EarlyStopping (val_box_loss, patience 5" in state.verdict()


def test_monitor_writes_tensorboard_live(tmp_path):
    keras = pytest.importorskip("keras", reason="keras not installed")
    import numpy as np

    from tui_trainer import Monitor

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    x = np.random.default_rng(0).random((64, 4)).astype("float32")
    monitor = Monitor(name="tb", runs_dir=tmp_path / "runs", save_model=False, tensorboard=tmp_path / "tb")
    hist = model.fit(x, x.sum(1), epochs=3, batch_size=16, validation_split=0.25, verbose=0, callbacks=[monitor])
    tb_run = tmp_path / "tb" / monitor.run_dir.name
    state = fold(load(tb_run))
    assert [e.metrics["val_loss"] for e in state.epochs] == pytest.approx(hist.history["val_loss"], rel=1e-6)
    assert len(state.batch_losses) == 9


def test_preset_logging_tensorboard_writes_the_run_live(blobs_csv, tmp_path):
    from tests.conftest import tiny_preset_toml
    from tui_trainer.engine import train
    from tui_trainer.spec import loads_preset

    preset = loads_preset(tiny_preset_toml(blobs_csv, epochs=3) + "\n[logging]\ntensorboard = true\n")
    result = train(preset, runs_dir=tmp_path / "runs")
    ours = fold(load(result.run_dir))
    theirs = fold(load(result.run_dir / "tensorboard"))
    assert [e.metrics["val_loss"] for e in theirs.epochs] == pytest.approx(
        [e.metrics["val_loss"] for e in ours.epochs], rel=1e-6)
    assert len(theirs.batch_losses) == len(ours.batch_losses)
    listed = runner.invoke(app, ["runs", "list", "--runs-dir", str(tmp_path / "runs")])
    assert listed.output.count("tensorboard") == 0  # a run's own tensorboard/ is not a second run


def test_replay_and_watch_on_a_parent_of_several_runs_exit_2_naming_them(tmp_path):
    for name in ("a", "b"):
        with EventWriter(tmp_path / "logs" / name) as w:
            w.scalar("val_loss", 0.5, 0)
    for cmd, words in (("replay", "holds 2 TensorBoard runs; name one: a, b"), ("watch", "holds several TensorBoard runs")):
        result = runner.invoke(app, [cmd, str(tmp_path / "logs")])
        assert result.exit_code == 2, result.output
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
