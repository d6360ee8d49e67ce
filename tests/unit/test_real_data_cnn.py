"""One check on real data: the fashion-cnn preset learns Fashion-MNIST past 0.90 test accuracy."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tui_trainer.datasets import fashion_mnist as data_module
from tui_trainer import presets
from tui_trainer.engine import train

pytestmark = pytest.mark.skipif(
    not Path(data_module.DEBIAN_FASHION_MNIST).is_dir(),
    reason="Debian's dataset-fashion-mnist is not installed (apt-get install -y dataset-fashion-mnist)",
)

# Capped to keep the suite short: measured on 2 shared CPU cores, the preset's test accuracy reads
# 0.872, 0.891, 0.897, 0.901, 0.905 after epochs 1-5 (its val_accuracy is about 0.6 points higher).
# Through the engine (seeded, deterministic ops) 5 epochs gave 0.9040 in 242 s with the 2 cores shared
# by four busy sessions (load average 7.5); the plain conv-pool-conv-pool-flatten-dropout-dense stack
# needed about 8 epochs for 0.90 (0.899 after 6).
EPOCHS = 5


@pytest.mark.timeout(600)  # the suite's 300 s is too close on a loaded machine
def test_fashion_cnn_reaches_090_test_accuracy(tmp_path, capsys):
    preset, _ = presets.load("fashion-cnn")
    start = time.perf_counter()
    result = train(preset.with_overrides(epochs=EPOCHS), runs_dir=tmp_path)
    wall = time.perf_counter() - start
    with capsys.disabled():
        print(f"\nfashion-cnn, {EPOCHS} epochs: test accuracy {result.test_metrics.get('accuracy', 0):.4f} "
              f"in {wall:.0f} s")
    assert result.status in ("completed", "early_stopped")
    assert result.summary.epochs_run == EPOCHS
    assert result.test_metrics["accuracy"] >= 0.90
