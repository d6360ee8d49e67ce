"""TensorFlow first, Keras through it (the style of most tutorials)."""
import tensorflow as tf
from tensorflow import keras

from corpus_facts import X, Y, callbacks, record

model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(6, activation="relu"),
                          keras.layers.Dense(2, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
es = keras.callbacks.EarlyStopping(patience=1, min_delta=10.0, restore_best_weights=True)
model.fit(X, Y, epochs=4, batch_size=16, validation_split=0.25, verbose=0, callbacks=callbacks(es))
record(__file__, es)
print("Test accuracy", float(model.evaluate(X, Y, verbose=0)[1]) >= 0)
