"""Where the default epoch's time goes against its FLOP floor (issue 31's goal: <= 4 x).

The floor is bench_speed's: the default job's LSTM FLOPs over one epoch's training windows
divided by this machine's float32 matrix-multiply rate (NumPy, every core; read at the start
and again at the end, since on this virtual machine it has read 96 to 199 GFLOP/s). Measured
here in one run, each as a multiple of that floor:

1. The training steps alone, without Keras: one jitted JAX gradient step of the default
   LSTM(64), window 60, batch 32 (a `lax.scan` as Keras's JAX LSTM runs it), times the
   epoch's batches. Variants that reorganize the same arithmetic:
   - "one product": a hand-written backward whose weight gradients are one matrix product
     over every step at once, instead of one small product a step;
   - "one tanh": the 4 gate activations as one tanh over the whole gate vector;
   - "unroll 2": two steps per scan iteration.
2. Batch size: the same step at batch 16, 64 and 128, per window. A step whose cost were
   its fixed per-step overhead would get cheaper per window as the batch grows.
3. Keras's own epoch of the default model on JAX, training only and with validation.
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.bench_speed import epoch_flops, matmul_rate  # noqa: E402

WINDOW, UNITS, FEATURES = 60, 64, 1
ROUNDS = 5


def params(rng, units=UNITS):
    f32 = np.float32
    return {
        "k": jnp.asarray(rng.standard_normal((FEATURES, 4 * units)) * 0.1, f32),
        "r": jnp.asarray(rng.standard_normal((units, 4 * units)) * 0.1, f32),
        "b": jnp.zeros(4 * units, f32),
        "w": jnp.asarray(rng.standard_normal((units, 1)) * 0.1, f32),
    }


def gates(z, one_tanh: bool):
    if one_tanh:  # sigmoid(x) = (tanh(x / 2) + 1) / 2: one tanh over the 4 gates
        u = z.shape[-1] // 4
        scale = jnp.concatenate([jnp.full(2 * u, 0.5), jnp.ones(u), jnp.full(u, 0.5)])
        shift = jnp.concatenate([jnp.full(2 * u, 0.5), jnp.zeros(u), jnp.full(u, 0.5)])
        return jnp.split(jnp.tanh(z * scale) * scale + shift, 4, axis=-1)
    i, f, g, o = jnp.split(z, 4, axis=-1)
    return jax.nn.sigmoid(i), jax.nn.sigmoid(f), jnp.tanh(g), jax.nn.sigmoid(o)


def scan_lstm(x, k, r, b, one_tanh=False, unroll=1):
    """Keras's JAX LSTM loop: the input and recurrent products inside each step."""
    n, units = x.shape[0], r.shape[0]

    def step(carry, x_t):
        h, c = carry
        i, f, g, o = gates(x_t @ k + h @ r + b, one_tanh)
        c = f * c + i * g
        h = o * jnp.tanh(c)
        return (h, c), None

    zeros = jnp.zeros((n, units), x.dtype)
    (h, _), _ = jax.lax.scan(step, (zeros, zeros), jnp.swapaxes(x, 0, 1), unroll=unroll)
    return h


@jax.custom_vjp
def product_lstm(x, k, r, b):
    return _product_forward(x, k, r, b)[0]


def _product_forward(x, k, r, b):
    n, units = x.shape[0], r.shape[0]

    def step(carry, xz_t):
        h, c = carry
        i, f, g, o = gates(xz_t + h @ r, False)
        c_new = f * c + i * g
        tc = jnp.tanh(c_new)
        h_new = o * tc
        return (h_new, c_new), (h, c, jnp.concatenate([i, f, g, o], -1), tc)

    zeros = jnp.zeros((n, units), x.dtype)
    xz = jnp.swapaxes(x @ k + b, 0, 1)  # every step's input product at once
    (h, _), saved = jax.lax.scan(step, (zeros, zeros), xz)
    return h, (x, k, r, saved)


def _product_backward(saved, d_h):
    x, k, r, (h_prev, c_prev, gate_values, tcs) = saved

    def step(carry, t):
        dh, dc = carry
        gate_t, tc, c_before = t
        i, f, g, o = jnp.split(gate_t, 4, axis=-1)
        do = dh * tc
        dc = dc + dh * o * (1 - tc * tc)
        dz = jnp.concatenate(
            [dc * g * i * (1 - i), dc * c_before * f * (1 - f), dc * i * (1 - g * g),
             do * o * (1 - o)], -1,
        )  # fmt: skip
        return (dz @ r.T, dc * f), dz

    zero = jnp.zeros_like(d_h)
    _, dzs = jax.lax.scan(step, (d_h, zero), (gate_values, tcs, c_prev), reverse=True)
    rows = dzs.shape[0] * dzs.shape[1]
    dz = dzs.reshape(rows, -1)  # the weight gradients: one product over every step
    d_r = h_prev.reshape(rows, -1).T @ dz
    d_k = jnp.swapaxes(x, 0, 1).reshape(rows, -1).T @ dz
    d_x = jnp.swapaxes(dzs @ k.T, 0, 1)
    return d_x, d_k, d_r, dz.sum(0)


product_lstm.defvjp(_product_forward, _product_backward)


def grad_step(variant: str):
    def loss(p, x, y):
        if variant == "one product":
            h = product_lstm(x, p["k"], p["r"], p["b"])
        else:
            h = scan_lstm(
                x, p["k"], p["r"], p["b"], one_tanh=variant == "one tanh",
                unroll=2 if variant == "unroll 2" else 1,
            )  # fmt: skip
        return jnp.mean((h @ p["w"] - y) ** 2)

    return jax.jit(jax.value_and_grad(loss))


def steps_seconds(variant: str, batch: int, steps: int, rng) -> float:
    """Median over ROUNDS of `steps` gradient steps at `batch`, compiled beforehand."""
    p = params(rng)
    x = jnp.asarray(rng.standard_normal((batch, WINDOW, FEATURES)), jnp.float32)
    y = jnp.asarray(rng.standard_normal((batch, 1)), jnp.float32)
    step = grad_step(variant)
    jax.block_until_ready(step(p, x, y))
    rounds = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        for _ in range(steps):
            out = step(p, x, y)
        jax.block_until_ready(out)
        rounds.append(time.perf_counter() - began)
    return statistics.median(rounds)


def keras_epochs(data, config) -> tuple[float, float]:
    """Keras's epoch of the default model on JAX: (training only, with validation), medians
    of 8 epochs each (2 alternating fits of 5, the first epoch of each left out)."""
    import keras

    from core.models import build_forecaster
    from core.models.seedset import set_seed

    set_seed(0)
    model, _ = build_forecaster(config, FEATURES)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="mse")
    x, y = data.arrays("train")
    val = data.arrays("val")

    class Timer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.began = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.began)

    out, timer = {}, Timer()
    for name, extra in (("train", {}), ("with validation", {"validation_data": val})) * 2:
        model.fit(x, y, batch_size=32, epochs=5, shuffle=True, verbose=0,
                  callbacks=[timer], **extra)  # fmt: skip
        out.setdefault(name, []).extend(timer.times[1:])  # the first epoch compiles
    return statistics.median(out["train"]), statistics.median(out["with validation"])


def main() -> None:
    print(__doc__.strip().splitlines()[0])
    from core.config import TrainConfig
    from core.data import load_dataset
    from core.pipeline.prepare import prepare_forecast

    config = TrainConfig()
    data = prepare_forecast(load_dataset("sample", "AAPL").frame, config)
    windows = len(data.target_rows("train"))
    batches = -(-windows // 32)
    flops, rates = epoch_flops(windows), [matmul_rate()]
    floor = flops / rates[0]
    print(
        f"floor: {flops / 1e9:.1f} GFLOP over {windows} windows ({batches} batches of 32) at "
        f"{rates[0] / 1e9:.0f} GFLOP/s = {floor:.3f} s an epoch (the rate is read again at the end)"
    )
    rng = np.random.default_rng(0)
    print("1. the training steps alone, without Keras (batch 32, an epoch's batches):")
    for variant in ("keras's loop", "one product", "one tanh", "unroll 2"):
        seconds = steps_seconds(variant, 32, batches, rng)
        print(f"   {variant:13s} {seconds:.3f} s = {seconds / floor:.1f} x floor")
    print("2. batch size (the same step; time per epoch of windows):")
    for batch in (16, 32, 64, 128):
        steps = -(-windows // batch)
        seconds = steps_seconds("keras's loop", batch, steps, rng)
        print(f"   batch {batch:3d}: {seconds:.3f} s = {seconds / floor:.1f} x floor")
    train, with_val = keras_epochs(data, config)
    rates.append(matmul_rate())
    if max(rates) > rates[0]:  # a slow first reading would flatter every row
        floor = flops / max(rates)
        print(f"   the rate read {rates[1] / 1e9:.0f} GFLOP/s at the end: the rows above are "
              f"against {rates[0] / 1e9:.0f}; the floor is now {floor:.3f} s")  # fmt: skip
    print(
        f"3. Keras's epoch on JAX: training {train:.3f} s = {train / floor:.1f} x floor; with "
        f"validation {with_val:.3f} s = {with_val / floor:.1f} x floor (goal <= 4)"
    )


if __name__ == "__main__":
    main()
