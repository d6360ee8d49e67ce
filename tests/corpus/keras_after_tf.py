"""``import tensorflow`` then ``import keras`` (both at the top)."""
import tensorflow as tf  # noqa: F401
import keras

from corpus_facts import X, Y, callbacks, record

model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy", metrics=["accuracy"])
es = keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)
model.fit(X, Y, epochs=3, batch_size=16, validation_split=0.25, verbose=0, callbacks=callbacks(es))
record(__file__, es)
