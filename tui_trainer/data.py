"""Compatibility: the data sources moved to :mod:`tui_trainer.datasets` (one module per source).

``from tui_trainer.data import DataError, Dataset, load_dataset`` keeps working for
code written before the move; new code imports from ``tui_trainer.datasets``.
"""

from tui_trainer.datasets import DataError, Dataset, clear_cache, load_dataset

__all__ = ["DataError", "Dataset", "clear_cache", "load_dataset"]
