"""Hostile input is data: malformed logs, hostile names, control characters, devices, size caps, NaN.

Nothing here trains: every case is refused or read before TensorFlow would start.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.unit.test_runs_cli import fingerprint, make_run
from tui_trainer.cli import app
from tui_trainer.events import EarlyStoppingResult, EpochEnded, RunFinished, from_dict
from tui_trainer.export import summary_json
from tui_trainer.runlog import load_run, now_iso, write_summary
from tui_trainer.runs import find_runs
from tui_trainer.runstate import RunState, Summary
from tui_trainer.text import printable
from tui_trainer.verdict import verdict

runner = CliRunner()

# One line per event kind: valid JSON, wrong types. Each must be skipped with a warning naming its line.
MALFORMED = {
    "run_started layers as an object": '{"event":"run_started","run_id":"x","run_dir":"x","preset_name":"p",'
    '"preset":{},"seed":1,"device":"","dataset":"d","data_source":"","n_train":1,"n_val":1,"n_test":1,'
    '"input_shape":[4],"num_classes":2,"layers":{"a":1},"params_total":1,"epochs":3,"batch_size":1,'
    '"steps_per_epoch":1,"monitor":"val_loss","patience":5,"started_at":""}',
    "batches with a string loss": '{"event":"batches","epoch":1,"first_step":1,"losses":[0.5,"x"],"steps_per_epoch":3}',
    "epoch as a string": '{"event":"epoch","epoch":"3","metrics":{"loss":0.1},"duration_s":1.0,"elapsed_s":1.0}',
    "metrics as a list": '{"event":"epoch","epoch":3,"metrics":[1,2],"duration_s":1.0,"elapsed_s":1.0}',
    "a metric as a string": '{"event":"epoch","epoch":3,"metrics":{"loss":"low"},"duration_s":1.0,"elapsed_s":1.0}',
    "NaN duration": '{"event":"epoch","epoch":3,"metrics":{"loss":0.1},"duration_s":NaN,"elapsed_s":1.0}',
    "infinite best value": '{"event":"epoch","epoch":3,"metrics":{},"duration_s":1,"elapsed_s":1,"best_value":Infinity}',
    "gradient norms as a string": '{"event":"gradient_norms","epoch":0,"norms":"big","layers":["a"]}',
    "early stopping epoch as a list": '{"event":"early_stopping","monitor":"val_loss","mode":"min","patience":5,'
    '"min_delta":0,"baseline":null,"start_from_epoch":0,"restore_best_weights":true,"triggered":true,'
    '"stopped_epoch":[9],"best_epoch":4,"best_value":0.1,"restored":true,"restored_epoch":4}',
    "note as a number": '{"event":"note","message":42}',
    "run_failed error as an object": '{"event":"run_failed","error":{"a":1}}',
    "run_finished status unknown": '{"event":"run_finished","status":"exploded","epochs_run":1,"test_metrics":{},'
    '"wall_time_s":1}',
    "run_finished test_metrics as a list": '{"event":"run_finished","status":"completed","epochs_run":1,'
    '"test_metrics":[],"wall_time_s":1}',
    "a list, not an object": "[1, 2, 3]",
    "a bare string": '"hello"',
    "event kind as a list": '{"event":["epoch"]}',
}


def _with_bad_line(run: Path, line: str, at: int = 3) -> None:
    lines = (run / "events.jsonl").read_text().splitlines(keepends=True)
    lines.insert(at, line + "\n")
    (run / "events.jsonl").write_text("".join(lines))


@pytest.mark.parametrize("line", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_wrongly_typed_line_is_skipped_with_a_warning_naming_it(line):
    with pytest.raises(ValueError):
        from_dict(json.loads(line))


@pytest.mark.parametrize("line", MALFORMED.values(), ids=MALFORMED.keys())
def test_no_command_crashes_on_one_malformed_line(tmp_path, line):
    runs = tmp_path / "runs"
    bad = make_run(runs, "early_stopped", "20260101-000000-digits", summary=False)
    good = make_run(runs, "completed", "20260101-000100-digits")
    _with_bad_line(bad, line)
    r = runner.invoke(app, ["runs", "list", "--runs-dir", str(runs)])
    assert r.exit_code == 0 and "Traceback" not in r.output
    assert "20260101-000000-digits" in r.output and "20260101-000100-digits" in r.output
    assert [i.id for i in find_runs(runs)] == [bad.name, good.name]  # what the app's runs screen lists
    for args in (["export", str(bad)], ["export", str(bad), "--json"],
                 ["compare", "--no-ui", str(bad), str(good)], ["replay", str(bad)]):
        r = runner.invoke(app, args)
        assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.output)
        assert "Traceback" not in r.output
        assert "line 4 skipped" in r.output, (args, r.output)  # the warning names the line
    r = runner.invoke(app, ["export", str(bad), "--json"])
    assert json.loads(r.stdout)["status"] == "early_stopped"  # the rest of the log still reads


def test_a_malformed_summary_is_ignored_and_rebuilt(tmp_path):
    runs = tmp_path / "runs"
    run = make_run(runs, "early_stopped", "20260101-000000-digits")
    data = json.loads((run / "summary.json").read_text())
    data["best_value"] = "lots"
    (run / "summary.json").write_text(json.dumps(data))
    r = runner.invoke(app, ["runs", "list", "--runs-dir", str(runs)])
    assert r.exit_code == 0 and "early_stopped" in r.output
    assert "summary.json: ignored, rebuilt from the events" in runner.invoke(app, ["export", str(run)]).output
    (run / "summary.json").write_text("[1]")
    assert runner.invoke(app, ["runs", "list", "--runs-dir", str(runs)]).exit_code == 0


# --- empty logs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b'{"event":"run_sta'], ids=["0 bytes", "a cut line only"])
def test_an_empty_log_gets_the_same_answer_everywhere(tmp_path, content):
    runs = tmp_path / "runs"
    good = make_run(runs, "completed", "20260101-000000-digits")
    empty = runs / "20260101-000100-digits"
    empty.mkdir()
    (empty / "events.jsonl").write_bytes(content)
    r = runner.invoke(app, ["runs", "list", "--runs-dir", str(runs)])
    row = r.output.splitlines()[2].split()
    assert row[:2] == [empty.name, "empty"] and row[-1] == "?"  # the status, and no preset known
    for args in (["export", str(empty)], ["export", str(empty), "--json"], ["replay", str(empty)],
                 ["compare", "--no-ui", str(good), str(empty)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2, args
        assert r.output.strip() == f"error: {empty}: empty: the run never started (events.jsonl holds no " \
                                   f"run_started event; if it is starting right now, follow it with " \
                                   f"`tui-trainer watch {empty}`)", args


# --- export -----------------------------------------------------------------------------------------


def test_export_refuses_to_write_into_the_run_folder(tmp_path):
    run = make_run(tmp_path / "runs", "early_stopped", "20260101-000000-digits")
    (tmp_path / "link").symlink_to(run)
    os.link(run / "summary.json", tmp_path / "hard.csv")
    before = fingerprint(run)
    for target in (run / "events.jsonl", run / "new.csv", run / ".." / run.name / "summary.json",
                   tmp_path / "link" / "events.jsonl", tmp_path / "hard.csv", run):
        r = runner.invoke(app, ["export", str(run), "--csv", str(target)])
        assert r.exit_code == 2, target
        assert r.output.startswith(f"error: {target}: inside the run folder") and len(r.output.splitlines()) == 1
    assert fingerprint(run) == before
    out = tmp_path / "out.csv"
    assert runner.invoke(app, ["export", str(run), "--csv", str(out)]).exit_code == 0
    assert out.read_text().startswith("epoch,loss,val_loss")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []


def test_summary_and_export_are_strict_json(tmp_path):
    run = make_run(tmp_path / "runs", "early_stopped", "20260101-000000-digits")
    write_summary(run, Summary(status="failed", best_value=math.nan, final_metrics={"loss": math.inf}))
    text = (run / "summary.json").read_text()
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in summary.json"))
    assert data["best_value"] is None and data["final_metrics"] == {"loss": None}
    # a hand-edited summary with a NaN in a field of its own: export --json still writes null
    raw = json.loads(text)
    raw["extra"] = [math.nan]
    (run / "summary.json").write_text(json.dumps(raw))
    r = runner.invoke(app, ["export", str(run), "--json"])
    assert json.loads(r.stdout, parse_constant=lambda c: pytest.fail(c))["extra"] == [None]
    assert summary_json(load_run(run)).count("NaN") == 0


# --- NaN is never best ------------------------------------------------------------------------------


def _nan_best_state(status: str = "early_stopped") -> RunState:
    """What the callback records when Keras took a NaN val_loss at epoch 1 as its best (it restores it too)."""
    state = RunState(live=False)
    for epoch in (1, 2, 3):
        state.apply(EpochEnded(epoch=epoch, metrics={"loss": 0.5, "val_loss": None}, duration_s=1, elapsed_s=epoch,
                               best_epoch=1, best_value=None, wait=epoch - 1))
    state.apply(EarlyStoppingResult(monitor="val_loss", mode="min", patience=2, min_delta=0, baseline=None,
                                    start_from_epoch=0, restore_best_weights=True, triggered=True,
                                    stopped_epoch=3, best_epoch=1, best_value=None, restored=True,
                                    restored_epoch=1))
    state.apply(RunFinished(status=status, epochs_run=3, test_metrics={}, wall_time_s=3))
    return state


@pytest.mark.parametrize("status", ["early_stopped", "completed", "cancelled", "failed"])
def test_a_nan_epoch_is_never_called_best(status):
    state = _nan_best_state(status)
    assert state.best_epoch is None and state.best_value is None
    summary = state.summary("x")
    assert summary.best_epoch is None and summary.restored_epoch == 1
    text = state.verdict()
    assert "whose val_loss was NaN" in text and "best epoch" not in text and "the best" not in text, text


def test_keras_takes_a_nan_first_val_loss_as_best_and_the_reading_does_not():
    keras = pytest.importorskip("keras")
    import numpy as np

    from tui_trainer.callback import StreamingCallback

    x = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    x_val = x[:8].copy()
    x_val[0, 0] = np.nan  # val_loss is NaN every epoch
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    state = RunState(live=False)
    es = keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    model.fit(x, y, validation_data=(x_val, y[:8]), epochs=4, verbose=0,
              callbacks=[es, StreamingCallback(state.apply, n_fit=40, batch_size=32)])
    assert es.best_epoch == 0 and math.isnan(es.best)  # Keras 3: the first value is the reference, NaN or not
    assert state.early_stopping.best_epoch == 1 and state.early_stopping.restored_epoch == 1
    assert state.best_epoch is None
    assert "whose val_loss was NaN" in verdict(state.early_stopping, status="early_stopped", epochs_run=2,
                                               epochs_planned=4)


# --- names, control characters, caps, devices ---------------------------------------------------------


HOSTILE_NAMES = ["-starts-with-dash", "_underscore", ".dot", "café", "名前", "a\\u001b]0;pwned\\u0007b", "tab\\there",
                 " leading-space"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_names_that_cannot_train_do_not_validate(tmp_path, name):
    f = tmp_path / "p.toml"
    f.write_text(f'name = "{name}"\n[[layers]]\ntype = "dense"\nunits = 3\n', encoding="utf-8")
    for args in (["presets", "validate", str(f)], ["train", str(f)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and "Traceback" not in r.output
        assert len(r.output.splitlines()) == 1 and "name: name must be ASCII letters" in r.output
        assert "\x1b" not in r.output and "\x07" not in r.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("name", ["digits", "0-start", "My model 2.1", "a_b.c-d"])
def test_names_that_validate_make_valid_keras_names(name):
    tf_ops = pytest.importorskip("tensorflow.python.framework.ops")
    from tui_trainer.model import _model_name
    from tui_trainer.spec import loads_preset

    preset = loads_preset(f'name = "{name}"\n[[layers]]\ntype = "dense"\nunits = 3\n')
    assert tf_ops._VALID_OP_NAME_REGEX.match(_model_name(preset.name))


def test_control_characters_never_reach_the_terminal(tmp_path, monkeypatch):
    user = tmp_path / "user-presets"
    user.mkdir()
    (user / "evil.toml").write_text('name = "evil"\ndescription = "Clears \\u001b[2J\\u001b]0;title\\u0007 the '
                                    'screen\\u009b1m."\n[[layers]]\ntype = "dense"\nunits = 3\n')
    runs = tmp_path / "runs"
    run = make_run(runs, "completed", "20260101-000000-digits", summary=False)
    text = (run / "events.jsonl").read_text().replace('"preset_name":"digits"', '"preset_name":"x\\u001b]0;t\\u0007y"')
    (run / "events.jsonl").write_text(text)
    outputs = [runner.invoke(app, args).output for args in (
        ["presets", "list"], ["presets", "show", "evil"], ["runs", "list", "--runs-dir", str(runs)],
        ["compare", "--no-ui", str(run), str(run)])]
    for out in outputs:
        assert not any(c in out for c in "\x1b\x07\x9b"), out
    assert re.search(r"^evil +Clears  the screen \[user\]$", outputs[0], re.M), outputs[0]
    assert "xy" in outputs[2]


def test_printable_strips_escapes_and_controls():
    assert printable("a\x1b[31mred\x1b[0m\x1b]0;title\x07b\rc\x00") == "aredb?c?"
    assert printable("one\ntwo\tthree") == "one two three"
    assert printable("one\ntwo", newlines=True) == "one\ntwo"
    assert printable("bidi\u202eevil") == "bidievil"


def test_size_caps(tmp_path):
    big = tmp_path / "big.toml"
    big.write_text('name = "big"\n[[layers]]\ntype = "dense"\nunits = 3\n' + "#" * 1_100_000 + "\n")
    long = tmp_path / "long.toml"
    long.write_text(f'name = "long"\ndescription = "{"x" * 10_001}"\n[[layers]]\ntype = "dense"\nunits = 3\n')
    for f, message in ((big, "too large (1.1 MB; a preset (.toml) file is at most 1.0 MB)"),
                       (long, "description: String should have at most 10000 characters")):
        for args in (["presets", "validate", str(f)], ["train", str(f)]):
            r = runner.invoke(app, args)
            assert r.exit_code == 2 and len(r.output.splitlines()) == 1 and message in r.output, r.output
            assert len(r.output) < 300


def test_too_many_parameters_is_refused_before_any_run_folder(tmp_path, monkeypatch, blobs_csv):
    from tests.conftest import tiny_preset_toml
    from tui_trainer import engine

    monkeypatch.setattr(engine, "machine_memory", lambda: 24 * 10**9)
    f = tmp_path / "huge.toml"
    f.write_text(tiny_preset_toml(blobs_csv).replace("units = 8", "units = 65536").replace(
        '[[layers]]\ntype = "dense"\nunits = 3',
        '[[layers]]\ntype = "dense"\nunits = 65536\n[[layers]]\ntype = "dense"\nunits = 3'))
    r = runner.invoke(app, ["train", str(f)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.output.strip() == (f"error: {f}: layers: the model has 4,295,688,195 parameters: about 86 GB of "
                                f"weights and optimizer state; this machine has 24 GB of memory (make the layers "
                                f"smaller)")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_devices_and_fifos_are_refused(tmp_path, tiny_preset_file):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for args, message in (
        (["presets", "validate", "/dev/zero"], "/dev/zero: not a regular file (a character device); expected a "
                                               "preset (.toml) file"),
        (["train", "/dev/zero"], "/dev/zero: not a regular file (a character device)"),
        (["train", str(fifo)], f"{fifo}: not a regular file (a FIFO (named pipe))"),
        (["train", str(tiny_preset_file), "--data-path", "/dev/zero"],
         "Data set 'csv' (/dev/zero): not a regular file (a character device); expected a .csv file."),
        (["train", str(tiny_preset_file), "--data-path", str(fifo)], "not a regular file (a FIFO (named pipe))"),
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and len(r.output.splitlines()) == 1 and message in r.output, r.output


# --- say what happened --------------------------------------------------------------------------------


def test_a_user_preset_shadowing_a_built_in_is_said(tmp_path):
    user = tmp_path / "user-presets"
    user.mkdir()
    (user / "digits.toml").write_text('name = "digits"\ndescription = "Mine."\n[[layers]]\ntype = "dense"\n'
                                      'units = 10\nactivation = "softmax"\n')
    r = runner.invoke(app, ["presets", "list"])
    line = next(l for l in r.output.splitlines() if l.startswith("digits "))
    assert "Mine [user; replaces the built-in" in line and "presets/digits.toml]" in line
    r = runner.invoke(app, ["presets", "show", "digits"])
    assert r.output.splitlines()[0] == f"# {user / 'digits.toml'}"
    assert r.output.splitlines()[1].startswith("# (your preset; it replaces the built-in one in ")


def test_data_path_that_does_not_apply_is_warned(monkeypatch):
    from tui_trainer import engine
    from tui_trainer.spec import SpecError

    def stop(*a, **k):
        raise SpecError("stopped here by the test")

    monkeypatch.setattr(engine, "train", stop)
    r = runner.invoke(app, ["train", "digits", "--data-path", "/tmp/mnist.npz"])
    assert r.output.splitlines()[0] == ("warning: --data-path /tmp/mnist.npz is ignored: the data set 'digits' "
                                        "takes no path (it applies to mnist, fashion_mnist, npz, csv, image_folder)")


def test_a_recycled_pid_does_not_keep_a_dead_run_running(tmp_path):
    runs = tmp_path / "runs"
    for run_id, started in (("20010101-000000-old", "2001-01-01T00:00:00"), ("20260101-000000-new", now_iso())):
        run = make_run(runs, "cancelled", run_id, summary=False)
        lines = (run / "events.jsonl").read_text().splitlines()
        first = json.loads(lines[0])
        first.update(pid=os.getpid(), host=socket.gethostname(), started_at=started)
        kept = [json.dumps(first)] + [l for l in lines[1:] if '"run_finished"' not in l]
        (run / "events.jsonl").write_text("\n".join(kept) + "\n")
    status = {i.id: i.status for i in find_runs(runs)}
    assert status == {"20010101-000000-old": "gone", "20260101-000000-new": "running"}


def test_reading_a_run_writes_nothing(tmp_path, monkeypatch):
    """runs list, export, compare work on a read-only disk: nothing they do writes."""
    runs = tmp_path / "runs"
    a = make_run(runs, "early_stopped", "20260101-000000-digits")
    b = make_run(runs, "completed", "20260101-000100-digits", summary=False)
    before = {d.name: fingerprint(d) for d in (a, b)}

    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    import tempfile

    for target, name in ((os, "replace"), (os, "rename"), (tempfile, "mkstemp"), (Path, "write_text"),
                         (Path, "mkdir"), (os, "mkdir")):
        monkeypatch.setattr(target, name, refuse)
    for args in (["runs", "list", "--runs-dir", str(runs)], ["export", str(a)], ["export", str(b), "--json"],
                 ["compare", "--no-ui", str(a), str(b)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0, (args, r.output)
    assert {d.name: fingerprint(d) for d in (a, b)} == before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_run(a)


def test_deeply_nested_files_are_refused_in_one_line(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    runs = tmp_path / "runs"
    run = make_run(runs, "completed", "20260101-000000-digits")
    _with_bad_line(run, deep)
    (run / "summary.json").write_text(deep)
    r = runner.invoke(app, ["runs", "list", "--runs-dir", str(runs)])
    assert r.exit_code == 0 and "completed" in r.output
    r = runner.invoke(app, ["export", str(run)])
    assert r.exit_code == 0 and "line 4 skipped: nested too deeply" in r.output
    preset = tmp_path / "deep.toml"
    preset.write_text(f"name = {deep}\n")
    r = runner.invoke(app, ["presets", "validate", str(preset)])
    assert r.exit_code == 2 and r.output == f"error: {preset}: not valid TOML: nested too deeply\n"


def test_epochs_no_run_writes_are_skipped_and_the_rest_still_reads(tmp_path):
    run = make_run(tmp_path / "runs", "early_stopped", "20260101-000000-digits", summary=False)
    lines = (run / "events.jsonl").read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if '"event":"epoch","epoch":6,' in line)
    lines[n] = lines[n].replace('"epoch":6,', '"epoch":123456789,')  # replay drew millions of points for it
    lines.insert(n + 1, lines[n].replace('"epoch":123456789,', '"epoch":0,'))
    (run / "events.jsonl").write_text("\n".join(lines) + "\n")
    loaded = load_run(run)
    assert loaded.warnings == [f"{run / 'events.jsonl'}: line {n + 1} skipped: epoch 123456789 is past the run's 50 epochs",
                               f"{run / 'events.jsonl'}: line {n + 2} skipped: epoch 0 (epochs count from 1)"]
    epochs = [e.epoch for e in loaded.events if isinstance(e, EpochEnded)]
    assert epochs == [e for e in range(1, 34) if e != 6]  # one broken line hides nothing after it
    r = runner.invoke(app, ["export", str(run)])
    assert r.exit_code == 0 and "epoch 123456789 is past the run's 50 epochs" in r.output
    first = json.loads(lines[0])
    first["epochs"] = 10**8
    lines[0] = json.dumps(first)
    lines[n] = lines[n].replace('"epoch":123456789,', '"epoch":1000007,')  # within the planned, but a jump
    (run / "events.jsonl").write_text("\n".join(lines) + "\n")
    assert load_run(run).warnings[0].endswith(f"line {n + 1} skipped: epoch 1000007 comes after epoch 6")


def test_a_run_whose_log_is_a_fifo_is_refused_not_waited_on(tmp_path):
    """`watch` and `replay` of a folder whose events.jsonl is a FIFO: one line, exit 2 (opening it would block)."""
    run = tmp_path / "runs" / "20260101-000000-fifo"
    run.mkdir(parents=True)
    os.mkfifo(run / "events.jsonl")
    expected = f"{run / 'events.jsonl'}: not a regular file (a FIFO (named pipe)); expected a run log (events.jsonl)"
    for args in (["watch", str(run)], ["replay", str(run)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and r.output.splitlines() == [f"error: {expected}"], (args, r.output)
    from tui_trainer.runlog import LogTail

    assert LogTail(run / "events.jsonl").read() == []  # returns at once


# --- images and class names (issue 19, item 7) --------------------------------------------------------


def _png(path, array, mode=None):
    from PIL import Image

    (Image.fromarray(array, mode) if mode else Image.fromarray(array)).save(path)
    return path


def _predict_run(tmp_path, shape=(4, 4, 1)):
    """A run folder that predict reads up to the input (the model is never loaded: the input fails first)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.keras").write_bytes(b"")
    (run / "preprocessing.json").write_text(json.dumps({
        "input_shape": [math.prod(shape)], "image_shape": list(shape), "raw_range": [0, 255], "scale": True,
        "class_names": ["a", "b"]}))
    return run


def test_sixteen_bit_pngs_are_scaled_not_clipped(tmp_path):
    import numpy as np

    from tui_trainer.datasets.files import decode_image

    wide = np.array([[0, 255, 256, 32896, 65535]], dtype=np.uint16)
    x = decode_image(_png(tmp_path / "w.png", wide), "L")
    # the high byte, as tf.io.decode_image gives Keras's image_dataset_from_directory (checked against
    # TensorFlow 2.21 on 9000 values); clipped, they were 0, 255, 255, 255, 255
    assert x.tolist() == [[0, 0, 1, 128, 255]]
    assert decode_image(tmp_path / "w.png", "RGB")[0, 3].tolist() == [128, 128, 128]
    floats = np.array([[0.0, 0.5, 1.0]], dtype=np.float32)
    assert decode_image(_png(tmp_path / "f.tiff", floats, "F"), "L").tolist() == [[0, 128, 255]]


def test_other_modes_convert_or_are_refused_in_one_line(tmp_path):
    import numpy as np
    from PIL import Image

    from tui_trainer.datasets.files import ImageError, decode_image

    p = Image.new("P", (2, 2), 1)
    p.putpalette([0, 0, 0, 200, 100, 50] + [0] * 762)
    p.info["transparency"] = 0
    p.save(tmp_path / "p.png", transparency=0)
    assert decode_image(tmp_path / "p.png", "RGB")[0, 0].tolist() == [200, 100, 50]
    Image.new("LA", (2, 2), (90, 10)).save(tmp_path / "la.png")
    assert decode_image(tmp_path / "la.png", "L").tolist() == [[90, 90], [90, 90]]
    Image.new("CMYK", (2, 2), (0, 0, 0, 0)).save(tmp_path / "c.tiff")
    assert decode_image(tmp_path / "c.tiff", "RGB")[0, 0].tolist() == [255, 255, 255]
    _png(tmp_path / "i32.tiff", np.array([[-1, 70000]], dtype=np.int32), "I")
    with pytest.raises(ImageError, match="mode I.*expected 0..65535"):
        decode_image(tmp_path / "i32.tiff", "L")
    _png(tmp_path / "big.tiff", np.array([[-5.0, 900.0]], dtype=np.float32), "F")
    with pytest.raises(ImageError, match="mode F.*expected 0..1 or 0..255"):
        decode_image(tmp_path / "big.tiff", "L")


def test_an_image_over_the_cap_is_refused_in_one_line_exit_2(tmp_path, monkeypatch):
    import numpy as np

    from tui_trainer.datasets import files

    monkeypatch.setattr(files, "MAX_IMAGE_PIXELS", 100)  # a 30000x30000 file would be the real case
    img = _png(tmp_path / "bomb.png", np.zeros((20, 20), dtype=np.uint8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no raw Pillow warning either
        result = CliRunner().invoke(app, ["predict", str(_predict_run(tmp_path)), str(img)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert str(img) in lines[0] and "20x20 pixels" in lines[0] and "megapixel cap" in lines[0]


def test_pillows_own_bomb_error_becomes_the_same_line(tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image

    from tui_trainer.datasets import files
    from tui_trainer.datasets.files import ImageError, decode_image

    # Pillow's own guard (warning past its limit, error past twice it) comes before ours can read the
    # size: by default past 89 megapixels, over our cap; lowered here so a small file reaches it.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)
    monkeypatch.setattr(files, "MAX_IMAGE_PIXELS", 100)
    _png(tmp_path / "b.png", np.zeros((20, 20), dtype=np.uint8))
    with pytest.raises(ImageError, match="400 pixels is over the 0.0001-megapixel cap"):
        decode_image(tmp_path / "b.png", "L")


def test_class_names_with_escape_codes_are_printed_clean(tmp_path):
    import numpy as np

    from tui_trainer.datasets.image_folder import load
    from tui_trainer.results import Results, format_results
    from tui_trainer.spec import DataSpec

    evil = ["cat\x1b]0;pwned\x07\x1b[2J", "dog\x9b31m\x9b"]
    for k, name in enumerate(evil):
        (tmp_path / "imgs" / name).mkdir(parents=True)
        for i in range(4):
            _png(tmp_path / "imgs" / name / f"{i}.png", np.full((4, 4), 60 * k + i, dtype=np.uint16) * 257)
    raw = load(DataSpec(dataset="image_folder", path=str(tmp_path / "imgs"), color_mode="grayscale", test_split=0.5))
    assert list(raw.class_names) == sorted(evil)
    res = Results(run_dir=tmp_path / "run\x9b2J", class_names=list(raw.class_names),
                  y_true=np.array([0, 1]), probs=np.array([[0.2, 0.8], [0.1, 0.9]]))
    text = format_results(res)
    assert "cat" in text and "dog" in text
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)


def test_printable_strips_eight_bit_sequences():
    assert printable("a\x9b2Jb") == "ab"  # 8-bit CSI: clear the screen
    assert printable("a\x9d0;title\x9cb") == "ab"  # 8-bit OSC: retitle the window
    assert printable("a\x9b") == "a?"  # a lone one is still shown as a control


def test_an_error_becomes_one_line_with_its_type():
    from tui_trainer.text import one_line

    assert one_line(ValueError("bad shape\n  graph dump line\n  more")) == "ValueError: bad shape"
    assert one_line(KeyError()) == "KeyError"
    assert len(one_line(RuntimeError("x" * 1000))) == len("RuntimeError: ") + 300
