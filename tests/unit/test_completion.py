"""Shell completion as the installed scripts ask for it: ``tui-trainer`` run with typer's environment.

Each case runs the console script's entry point (``launch.main``) in a subprocess with no arguments and
the variables bash, zsh or fish set on Tab, exactly as the scripts from ``--install-completion`` do,
and reads the candidates back the way that shell would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tui_trainer.presets import builtin_dir

# argv[0] is what click names the completion variable after: the console script's name.
DRIVER = """
import atexit, sys
sys.argv[0] = "tui-trainer"
heavy = ("tensorflow", "keras", "textual", "jax", "torch")
atexit.register(lambda: sys.stderr.write("HEAVY=" + ",".join(m for m in heavy if m in sys.modules) + "\\n"))
from tui_trainer.launch import main
main()
"""

SHELLS = ("bash", "zsh", "fish")


def shell_env(shell: str, words: list[str]) -> dict[str, str]:
    """The variables that shell's installed completion script sets for the line ``words`` (last: being typed)."""
    line = " ".join(["tui-trainer", *words])
    if shell == "bash":
        return {"_TUI_TRAINER_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words))}
    if shell == "zsh":
        return {"_TUI_TRAINER_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": line}
    return {"_TUI_TRAINER_COMPLETE": "complete_fish", "_TYPER_COMPLETE_ARGS": line,
            "_TYPER_COMPLETE_FISH_ACTION": "get-args"}


def candidates(shell: str, out: str) -> list[str]:
    """The words the shell would offer, read from the program's answer."""
    if shell == "bash":
        return [line for line in out.splitlines() if line]
    if shell == "zsh":  # _arguments '*: :(("train":"help" NEWLINE "tune":"help"))'
        return re.findall(r'(?:\(\(|\n)"((?:[^"\\]|\\.)*)"', out)
    return [line.split("\t", 1)[0] for line in out.splitlines() if line]  # fish: word TAB help


def complete(shell: str, words: list[str], cwd: Path, **extra: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_COMPLETE") and k != "TUI_TRAINER_RUNS"}
    env.update(shell_env(shell, words), **extra)
    r = subprocess.run([sys.executable, "-c", DRIVER], env=env, cwd=cwd, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "needs a terminal" not in r.stderr and "error" not in r.stdout
    heavy = r.stderr.rsplit("HEAVY=", 1)[1].strip()
    assert heavy == "", f"completion imported {heavy}"  # Tab must answer at once
    return candidates(shell, r.stdout)


def make_run(root: Path, name: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "events.jsonl").write_text("")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A working folder with ./runs holding two runs and a stray folder that is no run; a user preset."""
    make_run(tmp_path / "runs", "20260101-120000-digits")
    make_run(tmp_path / "runs", "20260102-080000-tiny")
    (tmp_path / "runs" / "2026-notes").mkdir()
    presets = tmp_path / "presets"
    presets.mkdir()
    shutil.copy(builtin_dir() / "digits.toml", presets / "mine-small.toml")
    monkeypatch.setenv("TUI_TRAINER_PRESETS", str(presets))
    return tmp_path


@pytest.mark.parametrize("shell", SHELLS)
def test_commands_and_options_complete(shell, home):
    assert complete(shell, ["tr"], home) == ["train"]
    assert set(complete(shell, ["re"], home)) >= {"replay", "results"}
    options = complete(shell, ["train", "--ep"], home)
    assert options == ["--epochs"]


@pytest.mark.parametrize("shell", SHELLS)
def test_preset_names_complete(shell, home):
    assert "digits" in complete(shell, ["train", "dig"], home)
    assert complete(shell, ["train", "mine"], home) == ["mine-small"]  # the user's own presets too
    assert "digits" in complete(shell, ["presets", "show", "d"], home)


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("command", ["replay", "watch", "compare", "export", "results"])
def test_run_ids_complete_from_dot_runs(shell, command, home):
    got = complete(shell, [command, "2026"], home)
    assert got == ["20260101-120000-digits", "20260102-080000-tiny"]  # no "2026-notes": not a run


def test_run_ids_follow_env_and_runs_dir_option(home, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("other")
    make_run(elsewhere, "20251231-235900-seed-mnist")
    assert complete("bash", ["export", "2025"], home, TUI_TRAINER_RUNS=str(elsewhere)) == \
        ["20251231-235900-seed-mnist"]
    assert complete("bash", ["watch", "--runs-dir", str(elsewhere), "2025"], home) == \
        ["20251231-235900-seed-mnist"]
    assert complete("bash", ["export", "runs/20260102"], home) == ["runs/20260102-080000-tiny"]


def test_completed_id_is_accepted_by_results(home):
    """What completion offers for results must be an argument results takes (it took only paths)."""
    r = subprocess.run([sys.executable, "-m", "tui_trainer", "results", "20260101-120000-digits"], cwd=home,
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
                       env={k: v for k, v in os.environ.items() if k != "TUI_TRAINER_RUNS"})
    assert r.returncode == 2
    assert "no such run folder" not in r.stderr and "no run_started event" in r.stderr
