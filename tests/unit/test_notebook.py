"""``Monitor()`` in a notebook, executed by a real Jupyter kernel (nbclient + ipykernel).

The run is named after the notebook where Jupyter tells it (``JPY_SESSION_NAME``,
which Jupyter Server sets for each kernel; ipykernel turns it into ``__session__``),
else ``notebook``; it keeps the cells executed so far instead of the kernel's
launcher; the cell shows one line, where the run is recorded; and ``watch``
reads the fit.
"""

from __future__ import annotations

import json
import os

import pytest

from tui_trainer.runlog import slug

nbformat = pytest.importorskip("nbformat", reason="the test extra brings nbformat, nbclient and ipykernel")
nbclient = pytest.importorskip("nbclient", reason="the test extra brings nbformat, nbclient and ipykernel")
pytest.importorskip("ipykernel", reason="the test extra brings nbformat, nbclient and ipykernel")

CELLS = [
    "import os\nos.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')\nimport numpy as np\nimport keras\n"
    "from tui_trainer import Monitor",
    "x = np.random.default_rng(0).random((64, 4)).astype('float32')\ny = (x.sum(1) > 2).astype('int32')\n"
    "model = keras.Sequential([keras.layers.Dense(4, activation='relu'), keras.layers.Dense(2, activation='softmax')])\n"
    "model.compile('adam', 'sparse_categorical_crossentropy')",
    "es = keras.callbacks.EarlyStopping(patience=1, min_delta=10.0, restore_best_weights=True)\n"
    "history = model.fit(x, y, validation_split=0.25, epochs=4, verbose=0, callbacks=[es, Monitor(runs_dir={runs!r})])",
    "print(es.stopped_epoch, es.best_epoch)",
]


def execute(tmp_path, session_name):
    runs = tmp_path / "runs"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(cell.replace("{runs!r}", repr(str(runs)))) for cell in CELLS]
    env = {k: v for k, v in os.environ.items() if k != "JPY_SESSION_NAME"}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "tensorflow"))
    if session_name:
        env["JPY_SESSION_NAME"] = session_name
    client = nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)
    return nb, runs


def stream_text(cell, name=None) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream"
                   and (name is None or o.get("name") == name))


def test_a_notebook_fit_is_named_after_the_notebook_and_keeps_its_cells(tmp_path):
    nb, runs = execute(tmp_path, str(tmp_path / "Lesson 3 - early stopping.ipynb"))
    (run_dir,) = list(runs.iterdir())
    assert run_dir.name.endswith(slug("Lesson 3 - early stopping"))
    fit_cell = nb.cells[2]
    assert stream_text(fit_cell, "stdout").strip().splitlines() == [
        f"tui-trainer: recording this fit in {run_dir} (follow it: tui-trainer watch {run_dir})"]
    script = (run_dir / "script.py").read_text()
    for i, cell in enumerate(CELLS[:3], start=1):  # the cells run so far, the fit's own included
        assert f"# %% In[{i}]" in script
        assert cell.splitlines()[-1].split("(")[0] in script
    assert "ipykernel" not in script
    source = json.loads((run_dir / "source.json").read_text())
    assert source["notebook"].endswith("Lesson 3 - early stopping.ipynb")
    assert source["script"] is None
    stopped, best = map(int, stream_text(nb.cells[3]).split())
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    result = next(e for e in events if e["event"] == "early_stopping")
    assert (result["stopped_epoch"], result["best_epoch"]) == (stopped + 1, best + 1) == (2, 1)
    assert events[0]["preset_name"] == "Lesson 3 - early stopping"


def test_a_notebook_that_does_not_say_its_name_is_called_notebook(tmp_path):
    _, runs = execute(tmp_path, None)
    (run_dir,) = list(runs.iterdir())
    assert run_dir.name.endswith("-notebook")
    assert "# %% In[3]" in (run_dir / "script.py").read_text()
