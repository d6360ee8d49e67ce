#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU: install, `tui-trainer doctor`, then train seed-mnist-shaped
# synthetic data (60000 + 10000 random 28x28 uint8 images, no download) for 2 epochs with and without
# mixed precision, and print the devices each run saw and its epoch times.
#
#   bash bench/gpu_check.sh            # from the repository root
#   SKIP_INSTALL=1 bash bench/gpu_check.sh   # already installed
#   BATCH=256 bash bench/gpu_check.sh        # another global batch (the preset's is 32)
#
# Not part of the test run. Exit status: 0 when every step ran (the numbers are for reading), else the failing one's.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tui-trainer-gpu-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RUNS="$WORK/runs"

echo "== install"
if [[ -z "${SKIP_INSTALL:-}" ]]; then
    "$PYTHON" -m pip install -q -e ".[gpu]"
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv

echo "== tui-trainer doctor"
tui-trainer doctor --runs-dir "$RUNS"

echo "== synthetic seed-mnist data and presets in $WORK"
"$PYTHON" - "$WORK" "${BATCH:-}" <<'EOF'
import sys
from pathlib import Path

import numpy as np

from tui_trainer import presets
from tui_trainer.spec import save_preset_file

work, batch = Path(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
np.savez(
    work / "mnist.npz",
    x_train=rng.integers(0, 256, size=(60000, 28, 28), dtype=np.uint8),
    y_train=rng.integers(0, 10, size=60000, dtype=np.uint8),
    x_test=rng.integers(0, 256, size=(10000, 28, 28), dtype=np.uint8),
    y_test=rng.integers(0, 10, size=10000, dtype=np.uint8),
)
spec, _ = presets.load("seed-mnist")  # dataset "mnist": the npz comes in through --data-path
for mixed in (False, True):
    raw = spec.model_dump(mode="json")
    raw["name"] = "gpu-check-mixed" if mixed else "gpu-check-float32"
    raw["training"]["mixed_precision"] = mixed
    if batch:
        raw["training"]["batch_size"] = int(batch)
    save_preset_file(spec.model_validate(raw), work / f"{raw['name']}.toml")
print("wrote", work / "mnist.npz", "and two presets")
EOF

for name in gpu-check-float32 gpu-check-mixed; do
    echo "== tui-trainer train $name (2 epochs)"
    tui-trainer train "$WORK/$name.toml" --epochs 2 --data-path "$WORK/mnist.npz" --runs-dir "$RUNS"
done

echo "== summary"
"$PYTHON" - "$RUNS" <<'EOF'
import sys
from pathlib import Path

from tui_trainer.events import EpochEnded, Telemetry
from tui_trainer.runlog import load_run
from tui_trainer.telemetry import describe, driver_cuda_version, load_nvml

nvml = load_nvml()
print(f"NVML: {'loaded' if nvml else 'NOT loaded (pip install nvidia-ml-py)'}; driver CUDA {driver_cuda_version(nvml)}")

for run_dir in sorted(Path(sys.argv[1]).iterdir()):
    run = load_run(run_dir)
    started = run.started
    times = [f"{e.duration_s:.2f}s" for e in run.events if isinstance(e, EpochEnded)]
    mixed = started.preset["training"].get("mixed_precision", False)
    print(f"{started.preset_name:<18} mixed_precision={str(mixed):<5} batch={started.batch_size:<5} "
          f"device: {started.device}")
    print(f"{'':<18} epoch times: {', '.join(times)}  status: {run.summary['status']}")
    samples = [e for e in run.events if isinstance(e, Telemetry)]
    busiest = max(samples, key=lambda t: max((g["util"] for g in t.gpus), default=-1), default=None)
    print(f"{'':<18} telemetry: {len(samples)} samples; busiest: {describe(busiest)}; last: {describe(samples[-1]) if samples else '-'}")
EOF
