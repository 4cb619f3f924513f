"""Training speed: the app's job path (JobManager -> worker process -> save run) against a
minimal plain Keras script, same model, data and epochs, measured in one run.

Both are timed as whole processes, from start to the model saved, so both pay the same
interpreter start and TensorFlow import. Goal: app / plain <= 1.10.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.data import load_dataset
from core.features import TrainConfig
from core.training import JobManager

ROOT = Path(__file__).resolve().parents[1]
CASES = [
    ("small: AAPL 2011-2013, LSTM(32), window 20, 5 epochs", "2011-01-01", 20, 32, 5),
    ("default: AAPL 2000-2013, LSTM(64), window 60, 20 epochs", None, 60, 64, 20),
]


def time_app(start, window, units, epochs, workspace) -> tuple[float, dict]:
    dataset = load_dataset("sample", "AAPL", start)
    config = TrainConfig(window=window, units=units, epochs=epochs, early_stopping=False, seed=0)
    manager = JobManager(workspace)
    began = time.monotonic()
    job = manager.submit("forecast", dataset.frame, dataset.describe(), config.to_dict(), "bench")
    job = manager.wait(job.id)
    elapsed = time.monotonic() - began
    if job.status != "finished":
        raise SystemExit(f"app job {job.status}: {job.error}")
    return elapsed, job.result


def time_plain(start, window, units, epochs) -> float:
    args = [
        sys.executable,
        "-m",
        "benchmarks.plain_keras",
        "--window",
        str(window),
        "--units",
        str(units),
        "--epochs",
        str(epochs),
    ]
    if start:
        args += ["--start", start]
    began = time.monotonic()
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
    return time.monotonic() - began


def main() -> None:
    print(__doc__.strip().splitlines()[0])
    print(f"{'case':58} {'app s':>7} {'plain s':>8} {'app/plain':>9}")
    with tempfile.TemporaryDirectory() as workspace:
        for label, start, window, units, epochs in CASES:
            plain = time_plain(start, window, units, epochs)
            app, result = time_app(start, window, units, epochs, workspace)
            ratio = app / plain
            verdict = "ok" if ratio <= 1.10 else "over the 1.10 goal"
            print(
                f"{label:58} {app:7.1f} {plain:8.1f} {ratio:9.2f}  {verdict}"
                f"  (test MASE {result['metrics']['mase']:.2f}, naive {result['naive']['mase']:.2f})"
            )


if __name__ == "__main__":
    main()
