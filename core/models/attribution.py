"""What the predicted move depends on: integrated gradients over the window's days and the
inputs, averaged over the test windows.

The model's first output step is what it predicts for the next day in its own units: for
window-relative scaling and for differenced transforms, that is the predicted move. Its
integrated gradients (Sundararajan et al. 2017) against an all-zero window (every input at
the window's last value, or at the training mean for a fitted scaler: "no news") split it
exactly into one part per (window day, input): x times the mean gradient along the straight
path from the zero window to x. The shares are the absolute parts' means over the test
windows, normalised to 1. Gradients come from the backend the model runs on (TensorFlow's
GradientTape or jax.grad), so a saved model gives the same answer on either. Runs in the
worker process (Keras is imported inside the functions).
"""

from __future__ import annotations

import numpy as np

IG_STEPS = 12  # points on the path from the zero window to x (a midpoint Riemann sum)
MAX_WINDOWS = 128  # test windows averaged (evenly spaced over the test part)


def _first_step_sum(outputs):
    """The sum over windows of the first output step, averaged over a seed set's members."""
    import keras

    members = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return keras.ops.sum(sum(m[:, 0] for m in members)) / len(members)


def gradient_function(model):
    """x (n, W, F) -> d(first output step) / dx, compiled once on the model's backend
    (jax.jit of jax.grad, or a tf.function around a GradientTape)."""
    import keras

    if keras.config.backend() == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        fixed = [v.value for v in model.non_trainable_variables]

        def total(inputs, trainable, fixed):
            outputs, _ = model.stateless_call(trainable, fixed, inputs, training=False)
            return _first_step_sum(outputs)

        # The weights are arguments, not constants baked into the program: every model of
        # the same shapes compiles to the same program, which the workspace's compilation
        # cache then holds (tests/test_backends.py; before, every run compiled it: 0.4 s).
        compiled = jax.jit(jax.grad(total))
        return lambda x: np.asarray(compiled(x, trainable, fixed))
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def gradient(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            total = _first_step_sum(model(inputs, training=False))
        return tape.gradient(total, inputs)

    return lambda x: gradient(tf.convert_to_tensor(x)).numpy()


def input_gradients(model, x: np.ndarray) -> np.ndarray:
    """d(first output step) / d(inputs) for every window of x (n, W, F), on the backend the
    model runs on."""
    return gradient_function(model)(np.asarray(x, "float32"))


def integrated_gradients(model, x: np.ndarray, steps: int = IG_STEPS) -> np.ndarray:
    """Per window, day and input, the part of the first output step (minus its value on the
    zero window) owed to that input on that day: x times the path-averaged gradient. Every
    point of every window's path goes through the model in one batch."""
    x = np.asarray(x, "float32")
    alphas = ((np.arange(steps) + 0.5) / steps).astype("float32")
    path = (alphas[:, None, None, None] * x[None]).reshape(-1, *x.shape[1:])
    grads = input_gradients(model, path).reshape(steps, *x.shape)
    return x * grads.mean(axis=0)


def attribution_shares(model, x: np.ndarray) -> np.ndarray:
    """(W, F): each window day's and input's share of the predicted move's attribution,
    mean absolute part over the windows, summing to 1 (zeros when nothing is attributed)."""
    x = np.asarray(x, "float32")
    if len(x) > MAX_WINDOWS:
        x = x[np.linspace(0, len(x) - 1, MAX_WINDOWS).round().astype(int)]
    parts = np.abs(integrated_gradients(model, x)).mean(axis=0)
    total = parts.sum()
    return parts / total if total > 0 else parts


def summarize(shares: np.ndarray, inputs: list[str]) -> dict:
    """The largest parts: each input's share, and the input with the most, with the fewest
    most recent days that hold at least half of it."""
    shares = np.asarray(shares, float)
    window = shares.shape[0]
    by_input = {name: float(shares[:, i].sum()) for i, name in enumerate(inputs)}
    top = max(by_input, key=by_input.get)
    column = shares[:, inputs.index(top)]
    recent = np.cumsum(column[::-1])
    days = int(np.searchsorted(recent, 0.5 * column.sum()) + 1) if column.sum() > 0 else window
    cells = np.argsort(shares, axis=None)[::-1][:5]
    largest = [
        {"input": inputs[f], "day": f"t-{window - t}", "share": float(shares[t, f])}
        for t, f in zip(*np.unravel_index(cells, shares.shape), strict=True)
    ]
    return {
        "top": largest,  # the five largest (day, input) parts
        "inputs": by_input,
        "top_input": top,
        "top_days": min(days, window),
        "top_share": float(recent[min(days, window) - 1]) if column.sum() > 0 else 0.0,
    }
