"""The script's own callback ends the fit (``model.stop_training = True``), not EarlyStopping."""
import keras

from corpus_facts import X, Y, callbacks, record


class StopAfterTwo(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            self.model.stop_training = True


model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy")
es = keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)
model.fit(X, Y, epochs=6, batch_size=16, validation_split=0.25, verbose=0, callbacks=callbacks(StopAfterTwo(), es))
record(__file__, es)
