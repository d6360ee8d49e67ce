"""A Keras script of your own, watched by tui-trainer: a small functional CNN on images it makes itself.

Two lines make it a tui-trainer run: the import, and ``Monitor()`` in ``callbacks``.
Run it as it is (``python examples/own_script_cnn.py``) and look at the run with
``tui-trainer replay runs/<id>``; or leave the Monitor out and run it with
``tui-trainer run examples/own_script_cnn.py`` to watch it live.

The data: 16x16 grayscale images holding a horizontal bar, a vertical bar or a
diagonal one, with noise; no download needed.
"""

import argparse

import numpy as np
import keras
import tensorflow as tf

from tui_trainer import Monitor  # (1) the import


def make_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy 16x16 images of a bar (0 horizontal, 1 vertical, 2 diagonal) and their labels."""
    x = rng.normal(0.0, 0.3, size=(n, 16, 16, 1)).astype("float32")
    y = rng.integers(0, 3, size=n)
    for i, label in enumerate(y):
        at = rng.integers(2, 14)
        if label == 0:
            x[i, at, 2:14, 0] += 1.0
        elif label == 1:
            x[i, 2:14, at, 0] += 1.0
        else:
            idx = np.arange(2, 14)
            x[i, idx, idx, 0] += 1.0
    return x, y.astype("int64")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--samples", type=int, default=1200)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    x, y = make_images(args.samples, rng)
    x_val, y_val = make_images(args.samples // 5, rng)
    # One-hot labels and a tf.data pipeline, as many real scripts have them.
    train = tf.data.Dataset.from_tensor_slices((x, keras.utils.to_categorical(y, 3))).shuffle(512, seed=0).batch(32)
    val = tf.data.Dataset.from_tensor_slices((x_val, keras.utils.to_categorical(y_val, 3))).batch(128)

    inputs = keras.Input((16, 16, 1))
    h = keras.layers.Conv2D(8, 3, activation="relu")(inputs)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(16, 3, activation="relu")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    outputs = keras.layers.Dense(3, activation="softmax")(h)
    model = keras.Model(inputs, outputs, name="bars_cnn")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"])

    early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    model.fit(train, validation_data=val, epochs=args.epochs, callbacks=[early, Monitor()], verbose=2)  # (2)
    loss, accuracy = model.evaluate(val, verbose=0)
    print(f"validation accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
