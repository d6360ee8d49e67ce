"""A ``Sequential`` with no ``keras.Input``: built by its first step (what most students write)."""
import keras

from corpus_facts import X, Y, callbacks, record

model = keras.Sequential([keras.layers.Dense(6, activation="relu"), keras.layers.Dense(2, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
es = keras.callbacks.EarlyStopping(patience=1, min_delta=10.0, restore_best_weights=True)
model.fit(X, Y, epochs=5, batch_size=16, validation_split=0.25, verbose=0, callbacks=callbacks(es))
record(__file__, es)
