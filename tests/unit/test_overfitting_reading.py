"""The overfitting lesson's reading says which side of loss val_loss ended on (issue 20: "-0.07 above loss")."""

from __future__ import annotations

import json
from pathlib import Path

from tui_trainer.compare import load_runs
from tui_trainer.lessons import gap_series, overfitting_reading
from tui_trainer.verdict import num

RECORDING = Path(__file__).parent.parent / "recordings" / "early_stopped.jsonl"


def _first_epochs(tmp_path: Path, last: int, name: str = "no-remedy") -> Path:
    """A run folder holding the recorded run's first ``last`` epochs (its first 3: val_loss under loss)."""
    d = tmp_path / "runs" / f"20260101-000000-{name}"
    d.mkdir(parents=True)
    kept = []
    for line in RECORDING.read_text().splitlines():
        event = json.loads(line)
        if event["event"] in ("epoch", "batches") and event["epoch"] > last:
            continue
        if event["event"] == "early_stopping":
            continue
        kept.append(line)
    (d / "events.jsonl").write_text("\n".join(kept) + "\n")
    return d


def _compared(tmp_path: Path, last: int):
    """The lesson's "no remedy" run cut at epoch ``last``, beside a whole one (compare needs two)."""
    runs = load_runs([_first_epochs(tmp_path, last), _first_epochs(tmp_path, 33, "dropout")])
    runs[0].label, runs[1].label = "no remedy", "dropout 0.5"
    return runs


def test_a_negative_gap_reads_below_loss(tmp_path):
    runs = _compared(tmp_path, 2)
    _, gaps = gap_series(runs[0])
    assert gaps[-1] < 0  # the recording's epoch 2: val_loss under loss
    text = overfitting_reading(runs)
    assert f"val_loss {num(abs(gaps[-1]))} below loss" in text
    assert "above loss" not in text and f"val_loss {num(gaps[-1])}" not in text


def test_a_positive_gap_reads_above_loss(tmp_path):
    runs = _compared(tmp_path, 33)
    _, gaps = gap_series(runs[0])
    assert gaps[-1] > 0
    assert f"val_loss {num(gaps[-1])} above loss" in overfitting_reading(runs)
