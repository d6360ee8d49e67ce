"""A metric that is not a scalar: ``F1Score(average=None)``, one value per class."""
import keras

from corpus_facts import X, Y, callbacks, record

model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
model.compile("adam", "categorical_crossentropy", metrics=[keras.metrics.F1Score(average=None), "accuracy"])
es = keras.callbacks.EarlyStopping(patience=1, min_delta=10.0, restore_best_weights=True)
model.fit(X, keras.utils.to_categorical(Y % 3, 3), epochs=4, batch_size=16, validation_split=0.25, verbose=0,
          callbacks=callbacks(es))
record(__file__, es)
