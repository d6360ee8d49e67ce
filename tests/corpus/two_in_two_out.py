"""Two inputs, two outputs, a loss per output (the functional-API guide's shape)."""
import keras

from corpus_facts import X, Y, callbacks, record

a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
h = keras.layers.Dense(6, activation="relu")(keras.layers.concatenate([a, b]))
size = keras.layers.Dense(1, name="size")(h)
kind = keras.layers.Dense(3, activation="softmax", name="kind")(h)
model = keras.Model(inputs=[a, b], outputs=[size, kind])
model.compile("adam", loss={"size": "mse", "kind": "sparse_categorical_crossentropy"},
              loss_weights={"size": 1.0, "kind": 0.2}, metrics={"kind": ["accuracy"]})
es = keras.callbacks.EarlyStopping(monitor="val_kind_loss", mode="min", patience=1, min_delta=10.0, restore_best_weights=True)
model.fit({"a": X[:, :4], "b": X[:, 4:]}, {"size": X.sum(1), "kind": Y}, epochs=4, batch_size=16,
          validation_split=0.25, verbose=1, callbacks=callbacks(es))
record(__file__, es)
