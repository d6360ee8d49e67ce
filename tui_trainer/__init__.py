"""tui_trainer: build, train and watch a Keras model from a terminal.

``from tui_trainer import Monitor`` gives the callback that records any Keras ``fit``;
it is imported on first use, so ``import tui_trainer`` stays free of TensorFlow.
"""

__version__ = "0.1.0"
__all__ = ["Monitor", "__version__"]


def __getattr__(name: str):
    if name == "Monitor":
        from .monitor import Monitor

        return Monitor
    raise AttributeError(f"module 'tui_trainer' has no attribute {name!r}")
