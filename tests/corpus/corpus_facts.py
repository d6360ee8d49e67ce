"""What each corpus script reports about its own fits, for tests/unit/test_script_corpus.py.

Not part of the shapes: a corpus script calls :func:`callbacks` (a Monitor of its own only when the
test asks for one, ``CORPUS_MONITOR=1``) and :func:`record` after each fit, which appends the
EarlyStopping instance's own attributes as one JSON line to ``$CORPUS_FACTS``.
"""

import json
import os

import numpy as np

RNG = np.random.default_rng(0)
X = RNG.random((96, 8)).astype("float32")
Y = (X[:, :4].sum(1) > X[:, 4:].sum(1)).astype("int32")
_monitors = []


def callbacks(*others):
    """The script's callbacks, plus a Monitor when the test runs it under ``Monitor()``."""
    found = list(others)
    if os.environ.get("CORPUS_MONITOR"):
        from tui_trainer import Monitor

        _monitors.append(Monitor())
        found.append(_monitors[-1])
    return found


def record(script, es, model=None):
    """One line of facts about the fit that just ended."""
    facts = {"script": script, "stopped": int(es.stopped_epoch), "best": int(es.best_epoch),
             "best_value": None if es.best is None else float(es.best),
             "restored": es.best_weights is not None,
             "run_dir": str(_monitors[-1].run_dir) if _monitors else None}
    with open(os.environ["CORPUS_FACTS"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(facts) + "\n")
