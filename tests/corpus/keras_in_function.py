"""Keras imported inside a function, after TensorFlow was imported at the top."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # a setting made before Keras is imported
import tensorflow  # noqa: E402,F401

from corpus_facts import X, Y, callbacks, record  # noqa: E402


def train():
    import keras

    model = keras.Sequential([keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    es = keras.callbacks.EarlyStopping(patience=1, min_delta=10.0)
    model.fit(X, Y, epochs=4, batch_size=32, validation_split=0.25, verbose=0, callbacks=callbacks(es))
    record(__file__, es)


if __name__ == "__main__":
    train()
