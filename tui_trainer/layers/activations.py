"""Activations and weight options shared by the kinds that have weights (dense, conv2d).

The activation functions that take a parameter get their own Keras layer, so the
parameter is explicit and the model saves and loads without custom objects.
Keras's LeakyReLU defaults to negative_slope=0.3; the lesson's is 0.01 and comes
from the spec, always passed.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, Optional, get_args

from pydantic import Field

from .base import EditorField

Activation = Literal["relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "linear"]
ACTIVATIONS: tuple[str, ...] = get_args(Activation)

Initializer = Literal[
    "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "orthogonal"
]
INITIALIZERS: tuple[str, ...] = get_args(Initializer)


class ActivationHelp(NamedTuple):
    """What the builder says about one activation function."""

    formula: str
    note: str


# The lesson's claims, one line each; the monitor and other screens reuse them.
ACTIVATION_HELP: dict[str, ActivationHelp] = {
    "relu": ActivationHelp(
        "max(0, x)",
        "Passes positive inputs unchanged, so gradients don't shrink through deep stacks; "
        "the lesson's default for hidden layers.",
    ),
    "leaky_relu": ActivationHelp("max(0.01x, x)", "Negative inputs still pass a small gradient, so units can't die."),
    "elu": ActivationHelp(
        "x if x > 0 else alpha*(exp(x)-1)", "Smooth for negatives, mean activations closer to zero."
    ),
    "sigmoid": ActivationHelp(
        "1 / (1 + exp(-x))", "Saturates at 0 and 1; stacked deep, gradients vanish toward the input."
    ),
    "tanh": ActivationHelp(
        "(exp(x) - exp(-x)) / (exp(x) + exp(-x))",
        "Zero-centred but also saturates; deep stacks can make gradients vanish.",
    ),
    "softmax": ActivationHelp(
        "exp(x_i) / sum_j exp(x_j)", "Turns the output layer into class probabilities; use it on the last layer."
    ),
    "linear": ActivationHelp("x", "No non-linearity; on the output layer it yields logits (the loss is told so)."),
}


def activation_formula(activation: str, *, negative_slope: float = 0.01, alpha: float = 1.0) -> str:
    """The formula of an activation with the layer's own parameter filled in, e.g. ``max(0.3x, x)``."""
    if activation == "leaky_relu":
        return f"max({negative_slope:g}x, x)"
    if activation == "elu":
        return f"x if x > 0 else {alpha:g}*(exp(x)-1)"
    return ACTIVATION_HELP[activation].formula


# --- fields, declared by each kind (so each module lists its keys in its own order) -------------------


def activation_field() -> Any:
    return Field("relu", description="Activation function applied to the output.")


def negative_slope_field() -> Any:
    return Field(
        0.01,
        ge=0,
        lt=1,
        description="leaky_relu only: f(x) = max(negative_slope * x, x). The lesson uses 0.01 "
        "(Keras's own default is 0.3, so it is always passed explicitly).",
    )


def alpha_field() -> Any:
    return Field(1.0, gt=0, description="elu only: f(x) = alpha * (exp(x) - 1) for x < 0.")


def initializer_field() -> Any:
    return Field(
        "glorot_uniform",
        description="How the kernel's weights start: glorot_uniform (Keras's default), he_normal or he_uniform "
        "(made for ReLU: the other half of the vanishing-gradient fix), lecun_normal, ...",
    )


def l1_field() -> Any:
    return Field(0.0, ge=0, description="L1 penalty on the kernel's weights, added to the loss (0: none).")


def l2_field() -> Any:
    return Field(0.0, ge=0, description="L2 penalty on the kernel's weights (weight decay), added to the loss (0: none).")


ACTIVATION_FIELDS: tuple[EditorField, ...] = (
    EditorField("activation", "activation", ACTIVATIONS),
    EditorField("negative_slope", "float", when=("activation", "leaky_relu")),
    EditorField("alpha", "float", when=("activation", "elu")),
)
WEIGHT_FIELDS: tuple[EditorField, ...] = (
    EditorField("initializer", "choice", INITIALIZERS),
    EditorField("l1", "float"),
    EditorField("l2", "float"),
)


# --- what dense and conv2d share ----------------------------------------------------------------------


def activation_details(spec: Any) -> str:
    """``relu``, ``leaky_relu 0.1`` or ``elu 1``, plus the weight options that differ from defaults."""
    text = spec.activation
    if spec.activation == "leaky_relu":
        text += f" slope {spec.negative_slope:g}"
    elif spec.activation == "elu":
        text += f" alpha {spec.alpha:g}"
    if spec.initializer != "glorot_uniform":
        text += f" · {spec.initializer}"
    if spec.l1:
        text += f" · l1 {spec.l1:g}"
    if spec.l2:
        text += f" · l2 {spec.l2:g}"
    return text


def describe_activation(spec: Any) -> str:
    """The activation's formula with the layer's parameter, and the lesson's note on it."""
    formula = activation_formula(spec.activation, negative_slope=spec.negative_slope, alpha=spec.alpha)
    return f"[b]{spec.activation}[/b]: {formula} — {ACTIVATION_HELP[spec.activation].note}"


def weight_options(spec: Any) -> dict[str, Any]:
    """Keras keyword arguments for the kernel: initializer and, if any, the L1/L2 penalty."""
    import keras

    out: dict[str, Any] = {"kernel_initializer": spec.initializer}
    if spec.l1 or spec.l2:
        out["kernel_regularizer"] = keras.regularizers.L1L2(l1=spec.l1, l2=spec.l2)
    return out


def with_activation(spec: Any, make, number: int, output_dtype: Optional[str]) -> list:
    """``make(activation, **dtype)`` plus, for leaky_relu/elu, their own activation layer after it."""
    import keras

    out = {"dtype": output_dtype} if output_dtype else {}
    if spec.activation == "leaky_relu":
        return [make(None, **out), keras.layers.LeakyReLU(negative_slope=spec.negative_slope,
                                                          name=f"leaky_relu_{number}", **out)]
    if spec.activation == "elu":
        return [make(None, **out), keras.layers.ELU(alpha=spec.alpha, name=f"elu_{number}", **out)]
    return [make(spec.activation, **out)]
