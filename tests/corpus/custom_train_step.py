"""A custom ``train_step`` (TensorFlow's GradientTape) that reports its own metrics."""
import tensorflow as tf
import keras

from corpus_facts import X, Y, callbacks, record


class Custom(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


inputs = keras.Input((8,))
model = Custom(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Dense(6, activation="relu")(inputs)))
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
es = keras.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=10.0)
model.fit(X, Y, epochs=4, batch_size=16, verbose=0, callbacks=callbacks(es))
record(__file__, es)
