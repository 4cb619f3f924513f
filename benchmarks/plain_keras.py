"""The baseline for bench_training: the same model trained by a minimal plain Keras script.

python -m benchmarks.plain_keras --start 2011-01-01 --window 20 --units 32 --epochs 5
--backend and --steps-per-execution serve bench_next_step; the last line printed is JSON:
each epoch's seconds and the last epoch's loss and validation loss.
"""

import argparse
import json
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("--start", default=None)
parser.add_argument("--window", type=int, default=60)
parser.add_argument("--units", type=int, default=64)
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--steps-per-execution", type=int, default=1)
parser.add_argument("--backend", default=None)
args = parser.parse_args()
if args.backend:
    os.environ["KERAS_BACKEND"] = args.backend

import keras  # noqa: E402  (after the backend is chosen)

from core.data import load_sample  # noqa: E402

started = time.monotonic()
keras.utils.set_random_seed(0)
close = load_sample("AAPL").loc[args.start :, "close"].to_numpy()
n_train, n_val = int(round(len(close) * 0.7)), int(round(len(close) * 0.15))
mean, std = close[:n_train].mean(), close[:n_train].std()
x = ((close - mean) / std).astype("float32")[:, None]


def windows(start, end, shuffle):
    ds = keras.utils.timeseries_dataset_from_array(
        x[start - args.window : end],
        None,
        sequence_length=args.window + 1,
        batch_size=args.batch_size,
        shuffle=shuffle,
        seed=0,
    )
    return ds.map(lambda s: (s[:, :-1, :], s[:, -1:, 0]))


class EpochClock(keras.callbacks.Callback):
    seconds: list = []

    def on_epoch_begin(self, epoch, logs=None):
        self.began = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.monotonic() - self.began)


inputs = keras.Input((args.window, 1))
outputs = keras.layers.Dense(1)(keras.layers.LSTM(args.units)(inputs))
model = keras.Model(inputs, outputs)
model.compile(
    optimizer=keras.optimizers.Adam(1e-3),
    loss="mse",
    steps_per_execution=args.steps_per_execution,
)
history = model.fit(
    windows(args.window, n_train, True),
    validation_data=windows(n_train, n_train + n_val, False),
    epochs=args.epochs,
    verbose=0,
    callbacks=[EpochClock()],
)
pred = model.predict(windows(n_train + n_val, len(x), False), verbose=0)
model.save("/tmp/laglens-plain-bench.keras")
last = {k: float(v[-1]) for k, v in history.history.items()}
print(f"plain keras: {len(pred)} test predictions, {time.monotonic() - started:.2f} s in-script")
print(json.dumps({"epoch_seconds": EpochClock.seconds, **last}))
