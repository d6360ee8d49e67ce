"""The vanishing-gradients lesson, end to end on tiny epochs."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from tui_trainer.cli import app
from tui_trainer.compare import load_runs
from tui_trainer.lesson import LESSONS, reading


def test_lesson_trains_the_five_presets_and_reads_the_numbers(tmp_path):
    runs = tmp_path / "runs"
    r = CliRunner().invoke(app, ["lesson", "vanishing-gradients", "--epochs", "1", "--no-ui", "--runs-dir", str(runs)])
    assert r.exit_code == 0, r.output
    folders = sorted(runs.iterdir())
    assert [f.name.split("-", 2)[2] for f in folders] == list(LESSONS["vanishing-gradients"])
    out = r.output
    assert "grad first/last, start" in out and "sigmoid x8" in out and "relu x8" in out
    ratio = re.search(r"the first of 8 sigmoid layers got (\S+) of the output layer's gradient", out)
    assert ratio and float(ratio.group(1)) < 1e-3
    assert "vanishing gradient" in out and "recommends ReLU" in out
    text = reading(load_runs(folders))
    assert text in out


def test_unknown_lesson_is_one_line_exit_2():
    r = CliRunner().invoke(app, ["lesson", "nope"])
    assert r.exit_code == 2 and "no such lesson; choose one of vanishing-gradients" in r.output
