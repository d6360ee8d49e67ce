"""A small plot of an activation function and its derivative over [-5, 5]."""

from __future__ import annotations

import numpy as np
from textual_plotext import PlotextPlot

X = np.linspace(-5, 5, 201)


def curves(activation: str, negative_slope: float = 0.01, alpha: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and f'(x) on X. Softmax is shown for one logit against a second one fixed at 0."""
    x = X
    if activation == "relu":
        return np.maximum(0, x), (x > 0).astype(float)
    if activation == "leaky_relu":
        return np.where(x > 0, x, negative_slope * x), np.where(x > 0, 1.0, negative_slope)
    if activation == "elu":
        return np.where(x > 0, x, alpha * (np.exp(x) - 1)), np.where(x > 0, 1.0, alpha * np.exp(x))
    if activation in ("sigmoid", "softmax"):
        s = 1 / (1 + np.exp(-x))
        return s, s * (1 - s)
    if activation == "tanh":
        t = np.tanh(x)
        return t, 1 - t * t
    return x, np.ones_like(x)  # linear


class ActivationPlot(PlotextPlot):
    """f(x) and its derivative: where the derivative is near 0, gradients vanish."""

    DEFAULT_CSS = "ActivationPlot { width: 1fr; height: 11; }"

    def show(self, activation: str, negative_slope: float = 0.01, alpha: float = 1.0) -> None:
        y, dy = curves(activation, negative_slope, alpha)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"{activation}: f and f'")
        plt.plot(X.tolist(), y.tolist(), marker="braille", label="f(x)", color=(80, 160, 255))
        plt.plot(X.tolist(), dy.tolist(), marker="braille", label="f'(x)", color=(255, 170, 40))
        plt.xticks([-5, 0, 5])
        self.refresh()
