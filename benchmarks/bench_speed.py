"""Speed of asking many times (issue 31), every ratio measured in this run, whole CLI
processes on fresh workspaces, medians of alternating runs:

1. The default pair set (AAPL with MSFT and ^GSPC, univariate and multivariate, 3 seeds a
   side: `core.cli compare`) against one default single run (`core.cli train`), on the
   default backend and on TensorFlow. Goal <= 2.5. Both train a fixed number of epochs
   (early stopping off), so both do the same epochs.
2. The whole CLI job on JAX against TensorFlow (goal for the faster: <= 0.8).
3. An epoch of the default model on each backend against its floor: the job's FLOPs (an
   LSTM step's multiply-adds, forward and backward, over the training windows) divided by
   this machine's float32 matrix-multiply rate, measured here with NumPy before and after
   the runs (the best reading: on this virtual machine it has read 96 to 199 GFLOP/s, and a
   slow reading would flatter the epoch). Goal <= 4.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 2
EPOCHS = ["--epochs", "8", "--no-early-stopping"]
PAIR = ["--sample", "AAPL", "--with", "MSFT,^GSPC"]


def cli(*args: str) -> tuple[float, dict, str]:
    with tempfile.TemporaryDirectory() as ws:
        began = time.monotonic()
        out = subprocess.run(
            [sys.executable, "-m", "core.cli", *args, "--workspace", ws],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        seconds = time.monotonic() - began
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    return seconds, json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


def epoch_seconds(stderr: str) -> list[float]:
    """The epochs' own times the CLI prints, "(1.23 s)", the first (it compiles) left out."""
    times = [float(line.rsplit("(", 1)[1].split(" s)")[0]) for line in stderr.splitlines()
             if line.startswith("epoch ") and line.endswith(" s)")]  # fmt: skip
    return times[1:]


def matmul_rate() -> float:
    """float32 FLOP/s of a 1024 x 1024 matrix product with NumPy's BLAS on every core."""
    a = np.random.default_rng(0).standard_normal((1024, 1024), dtype=np.float32)
    a @ a
    runs = []
    for _ in range(5):
        began = time.perf_counter()
        for _ in range(10):
            a @ a
        runs.append(time.perf_counter() - began)
    return 10 * 2 * 1024**3 / min(runs)


def epoch_flops(windows: int, window: int = 60, features: int = 1, units: int = 64) -> float:
    """One epoch of LSTM(units) over `windows` windows: per step the input and recurrent
    matrix products (4 gates), 2 FLOPs a multiply-add, backward twice the forward."""
    per_step = 2 * 4 * units * (features + units)
    return 3 * per_step * window * windows


def main() -> None:
    print(__doc__.strip().splitlines()[0])
    rates = [matmul_rate()]  # again at the end: the best reading is the machine's rate
    pair, tf, jax, tf_pair = [], [], [], []
    tf_epochs, jax_epochs, rel = [], [], {}
    for _ in range(REPEATS):  # alternating, so the machine's drift falls on every row alike
        for backend, single, pairs, epochs in (("jax", jax, pair, jax_epochs),
                                               ("tensorflow", tf, tf_pair, tf_epochs)):  # fmt: skip
            on = ["--backend", backend]
            seconds, summary, err = cli("train", "--sample", "AAPL", *EPOCHS, *on)
            single.append(seconds)
            epochs += epoch_seconds(err)
            rel[f"single, {backend}"] = round(summary["metrics"]["rel_mae"], 4)
            seconds, summary, _ = cli("compare", *PAIR, "--n-seeds", "3", *EPOCHS, *on)
            pairs.append(seconds)
            rel[f"pair set (uni, multi), {backend}"] = [
                round(r["metrics"]["rel_mae"], 4) for r in summary["runs"]
            ]
    med = statistics.median
    for name, single, pairs in (("JAX (default)", jax, pair), ("TensorFlow", tf, tf_pair)):
        print(
            f"1. {name}: pair set (2 sides x 3 seeds) {med(pairs):.1f} s, one single run "
            f"{med(single):.1f} s: pair / single = {med(pairs) / med(single):.2f} (goal <= 2.5)"
        )
    print(
        f"2. whole CLI job: TensorFlow {med(tf):.1f} s, JAX {med(jax):.1f} s: "
        f"JAX / TensorFlow = {med(jax) / med(tf):.2f} (goal for the faster <= 0.8)"
    )
    from core.config import TrainConfig
    from core.data import load_dataset
    from core.pipeline.prepare import prepare_forecast

    data = prepare_forecast(load_dataset("sample", "AAPL").frame, TrainConfig())
    windows = len(data.target_rows("train"))
    rates.append(matmul_rate())
    flops, rate = epoch_flops(windows), max(rates)
    floor = flops / rate
    print(
        f"3. default epoch: {flops / 1e9:.1f} GFLOP over {windows} windows; this machine's "
        f"float32 matmul {rate / 1e9:.0f} GFLOP/s (the best of its readings before and after: "
        f"{', '.join(f'{r / 1e9:.0f}' for r in rates)}), floor {floor:.3f} s; an epoch (median, "
        f"validation included) TensorFlow {med(tf_epochs):.2f} s = {med(tf_epochs) / floor:.1f}"
        f" x floor, JAX {med(jax_epochs):.2f} s = {med(jax_epochs) / floor:.1f} x floor "
        "(goal <= 4 for the default backend)"
    )
    print("relative MAE of each row (the last repeat):", rel)


if __name__ == "__main__":
    main()
