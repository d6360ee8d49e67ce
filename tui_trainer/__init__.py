"""tui_trainer: build, train and watch a Keras model from a terminal."""

__version__ = "0.1.0"
