"""Shell completion (presets, run folders), -h, and --runs-dir from $TUI_TRAINER_RUNS."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tui_trainer.cli import app

runner = CliRunner()


def complete(line: str, env: dict[str, str] | None = None) -> list[str]:
    """What bash would offer after ``line`` (the last word is the one being completed), as typer answers it."""
    words = line.split(" ")
    r = runner.invoke(app, [], prog_name="tui-trainer", env={
        "_TUI_TRAINER_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1),
        **(env or {})})
    assert r.exit_code == 0, r.output
    return r.output.split()


def make_runs(root, *names):
    for name in names:
        d = root / name
        d.mkdir(parents=True)
        (d / "events.jsonl").write_text("")
    (root / "not-a-run").mkdir()


def test_preset_names_complete():
    assert complete("tui-trainer train seed") == ["seed-mnist"]
    assert complete("tui-trainer presets show deep-") == [
        "deep-elu", "deep-leaky-relu", "deep-relu", "deep-sigmoid", "deep-tanh"]
    assert "digits" in complete("tui-trainer ui ")
    assert complete("tui-trainer serve fash") == ["fashion-cnn", "fashion-mnist"]


def test_run_folders_complete_by_path_or_id(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    make_runs(runs, "20260101-120000-digits", "20260102-090000-seed-mnist")
    monkeypatch.setenv("TUI_TRAINER_RUNS", str(runs))
    assert complete("tui-trainer replay 20260102") == ["20260102-090000-seed-mnist"]
    assert complete(f"tui-trainer export {runs}/2026") == [
        str(runs / "20260101-120000-digits"), str(runs / "20260102-090000-seed-mnist")]
    assert complete("tui-trainer compare 2026") == complete("tui-trainer watch ")
    assert complete("tui-trainer watch ") == ["20260101-120000-digits", "20260102-090000-seed-mnist"]


def test_a_run_id_names_its_folder_in_the_runs_dir(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    d = runs / "20260101-120000-tiny"
    d.mkdir(parents=True)
    (d / "events.jsonl").write_text("")
    (d / "summary.json").write_text(json.dumps({"run_id": d.name, "status": "completed"}))
    monkeypatch.setenv("TUI_TRAINER_RUNS", str(runs))
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["export", "20260101-120000-tiny", "--json"])
    assert r.exit_code == 0 and '"status": "completed"' in r.output
    r = runner.invoke(app, ["export", "20990101-000000-nope"])
    assert r.exit_code == 2 and r.output.strip() == "error: 20990101-000000-nope: no such run folder"


def test_install_completion_is_offered():
    r = runner.invoke(app, ["--help"])
    assert "--install-completion" in r.output and "--show-completion" in r.output


def test_short_help_everywhere():
    for args in ([], ["train"], ["runs"], ["runs", "list"], ["presets", "show"], ["serve"]):
        r = runner.invoke(app, [*args, "-h"])
        assert r.exit_code == 0, (args, r.output)
        assert "Usage:" in r.output and r.output == runner.invoke(app, [*args, "--help"]).output


def test_runs_dir_reads_the_environment(tmp_path, monkeypatch):
    runs = tmp_path / "elsewhere"
    d = runs / "20260101-120000-tiny"
    d.mkdir(parents=True)
    (d / "events.jsonl").write_text("")
    (d / "summary.json").write_text(json.dumps({"run_id": d.name, "preset": "tiny", "status": "completed",
                                                "epochs_run": 3}))
    monkeypatch.setenv("TUI_TRAINER_RUNS", str(runs))
    r = runner.invoke(app, ["runs", "list"])
    assert r.exit_code == 0 and "20260101-120000-tiny  completed  3" in r.output and r.output.rstrip().endswith("tiny")
    r = runner.invoke(app, ["runs", "list", "--help"])
    assert "TUI_TRAINER_RUNS" in r.output
