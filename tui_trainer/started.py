"""``run_started``: the one place a run's first event is made, for the engine and the Monitor alike.

Both know different things (the engine its preset and data set, the Monitor what it reads off a
user's ``fit``); what every run's first event says the same way (its id and folder, the clock, the
host and process that write it, the EarlyStopping it watches, the training setup read from the
objects that ran) is filled in here. Stdlib only, plus the event and setup modules.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any, Optional

from .events import RunStarted
from .runlog import now_iso
from .setup import describe_setup


def run_started(run_dir: Path, model: Any, *, early_stopping: Any, batch_size: int, epochs: int,
                validation_split: Optional[float], hyperparameters: Optional[dict[str, Any]] = None,
                **fields: Any) -> RunStarted:
    """The RunStarted event of a run writing into ``run_dir``, training ``model``.

    Args:
        run_dir: the run folder (its name is the run id).
        model: the Keras model about to be fitted: its setup (optimizer, loss, learning rate) is read.
        early_stopping: the fit's EarlyStopping, or None: its ``monitor`` and ``patience`` are recorded.
        batch_size: samples per step (0: unknown).
        epochs: epochs planned (0: unknown).
        validation_split: the fit's, when it has one.
        hyperparameters: a KerasTuner trial's values, for the setup.
        **fields: every other field of :class:`~tui_trainer.events.RunStarted` (preset_name, preset,
            seed, device, dataset, data_source, n_train, n_val, n_test, input_shape, num_classes,
            layers, params_total, steps_per_epoch, versions, notes, and the optional ones).
    """
    es = early_stopping
    setup = describe_setup(model, batch_size=batch_size or None, epochs=epochs or None,
                           validation_split=validation_split, validation_samples=fields.get("n_val"),
                           early_stopping=es, hyperparameters=hyperparameters)
    return RunStarted(run_id=run_dir.name, run_dir=str(run_dir), epochs=int(epochs), batch_size=int(batch_size),
                      monitor=es.monitor if es is not None else None,
                      patience=int(es.patience) if es is not None else None,
                      started_at=now_iso(), host=socket.gethostname(), pid=os.getpid(), setup=setup, **fields)
