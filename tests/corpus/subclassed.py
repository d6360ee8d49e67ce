"""A subclassed ``keras.Model`` (built by its first call), logits with ``from_logits=True``."""
import keras

from corpus_facts import X, Y, callbacks, record


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(6, activation="relu")
        self.out = keras.layers.Dense(2)

    def call(self, x):
        return self.out(self.hidden(x))


model = Net()
model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
es = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
model.fit(X, Y, epochs=4, batch_size=16, validation_split=0.25, verbose=0, callbacks=callbacks(es))
record(__file__, es)
