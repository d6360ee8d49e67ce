"""The headless core pulls in neither the UI toolkit nor TensorFlow until training starts."""

from __future__ import annotations

import subprocess
import sys

CORE = ["tui_trainer.cli", "tui_trainer.launch", "tui_trainer.spec", "tui_trainer.presets", "tui_trainer.events",
        "tui_trainer.runlog", "tui_trainer.runstate", "tui_trainer.runs", "tui_trainer.compare", "tui_trainer.lesson",
        "tui_trainer.export", "tui_trainer.distribute", "tui_trainer.doctor", "tui_trainer.engine", "tui_trainer.data",
        "tui_trainer.decimate", "tui_trainer.console", "tui_trainer.verdict", "tui_trainer",
        "tui_trainer.scriptrun", "tui_trainer.autolog", "tui_trainer.results", "tui_trainer.predict",
        "tui_trainer.lessons"]


def loaded_after_import(modules):
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_core_imports_no_ui_and_no_tensorflow():
    loaded = loaded_after_import(CORE)
    for heavy in ("textual", "plotext", "textual_plotext", "tensorflow", "keras"):
        assert heavy not in loaded, heavy


def test_the_app_paints_without_tensorflow():
    # TensorFlow is imported by the training worker, not by the app: the first frame comes at once.
    loaded = loaded_after_import(["tui_trainer.ui.app", "tui_trainer.ui.script_app"])
    for heavy in ("tensorflow", "keras", "sklearn"):
        assert heavy not in loaded, heavy
