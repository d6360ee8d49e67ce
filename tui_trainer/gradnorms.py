"""The gradient lens's step: each kernel's gradient norm on one fixed batch, per backend.

Built once per run by :func:`tui_trainer.callback._gradient_norms_fn` (which says what it measures
and why); each backend's tracing is here. TensorFlow or JAX is imported inside its functions only.
"""

from __future__ import annotations

from typing import Callable

# The backends whose gradients the lens can take (see _gradient_norms_fn); the engine refuses the others.
GRADIENT_BACKENDS = ("tensorflow", "jax")


def tf_kernel_grad_norms(model, layers: list, x, y) -> Callable:
    import tensorflow as tf

    kernels = [layer.kernel for layer in layers]
    x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            y_pred = model(x, training=False)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
        grads = tape.gradient(loss, kernels)
        return tf.stack([tf.norm(tf.cast(g, tf.float32)) for g in grads])

    return step


def jax_kernel_grad_norms(model, layers: list, x, y) -> Callable:
    import jax
    import jax.numpy as jnp

    trainable = model.trainable_variables
    where = [next(i for i, v in enumerate(trainable) if v is layer.kernel) for layer in layers]
    x, y = jnp.asarray(x), jnp.asarray(y)

    @jax.jit
    def step_of(trainable_values, non_trainable_values, metrics_values):
        def loss_of(values):  # the JAX trainer's own stateless loss (Keras's guide to a JAX train_step)
            loss, _ = model.compute_loss_and_updates(values, non_trainable_values, metrics_values, x, y, None,
                                                     training=False)
            return loss

        grads = jax.grad(loss_of)(trainable_values)
        return jnp.stack([jnp.linalg.norm(grads[i].astype(jnp.float32)) for i in where])

    def step():  # the variables' values now (the weights at the end of this epoch)
        return step_of([v.value for v in model.trainable_variables],
                       [v.value for v in model.non_trainable_variables],
                       [v.value for v in model.metrics_variables])

    return step
