"""``import tensorflow as tf`` and every Keras name spelled ``tf.keras.``."""
import tensorflow as tf

from corpus_facts import X, Y, callbacks, record

model = tf.keras.Sequential([tf.keras.layers.Dense(6, activation="relu"), tf.keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
es = tf.keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True)
model.fit(X, Y, epochs=5, batch_size=16, validation_split=0.25, verbose=2, callbacks=callbacks(es))
record(__file__, es)
