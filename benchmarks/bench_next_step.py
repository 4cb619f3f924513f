"""The next step after the backend, measured on both backends in one run: batch size
(throughput against accuracy), steps_per_execution, and threads for a sweep's one-core trial.

1. Batch size: the default job (`core.cli train --sample AAPL`, LSTM(64), window 60,
   EPOCHS epochs, no early stopping) at batch 32, 128 and 512, with the default learning
   rate and with it scaled by sqrt(batch / 32). Seconds per later epoch, windows per second,
   test rel. MAE.
2. steps_per_execution 1, 8 and 32 (Keras runs that many batches per call; batch callbacks
   then come every that many batches): the plain Keras script, batch 32. Seconds per later
   epoch, and the last losses (the same updates, so they should agree).
3. Threads for a sweep's trial: the default job pinned to one core, with the sweep's
   one-thread settings (core.experiments.raycluster.THREAD_ENV) and with the libraries' defaults; then two
   such jobs at once on the two cores, as a 2-worker sweep runs them. As in a trial, the
   one-thread settings also fit the baselines in place (LAGLENS_ONE_THREAD), not in a
   process of their own.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks.bench_backends import BACKENDS, one_job
from core.config import TrainConfig
from core.data import load_dataset
from core.experiments.raycluster import THREAD_ENV
from core.pipeline.prepare import prepare_forecast

EPOCHS = 6
BATCHES = (32, 128, 512)
STEPS = (1, 8, 32)
SHORT = {"tensorflow": "TF", "jax": "JAX"}
ROUNDS = 2  # this VM's speed drifts by up to 1.7x between minutes: alternate, take medians
PINNED_ROUNDS = 3


def train_windows() -> int:
    """The default job's training windows (full AAPL sample, window 60)."""
    dataset = load_dataset("sample", "AAPL")
    return len(prepare_forecast(dataset.frame, TrainConfig()).target_rows("train"))


def medians(jobs: list[dict]) -> dict:
    return {key: statistics.median(job[key] for job in jobs) for key in jobs[0]}


def batch_sizes(workspace: str) -> None:
    windows = train_windows()
    print(
        f"1. batch size ({EPOCHS} epochs of the default job, {windows} training windows; "
        f"median of {ROUNDS} alternating rounds)"
    )
    print(f"{'':<6}{'batch':>6}{'lr':>9}{'s/epoch':>9}{'windows/s':>11}{'rel. MAE':>10}")
    settings = [
        (batch, rate)
        for batch in BATCHES
        for rate in ((1e-3,) if batch == 32 else (1e-3, 1e-3 * math.sqrt(batch / 32)))
    ]
    for backend in BACKENDS:
        runs: dict[tuple, list[dict]] = {setting: [] for setting in settings}
        for _ in range(ROUNDS):
            for batch, rate in settings:
                extra = ("--batch-size", str(batch), "--learning-rate", f"{rate:g}")
                runs[batch, rate].append(one_job(backend, workspace, extra, epochs=EPOCHS))
        base = medians(runs[settings[0]])["later"]
        for (batch, rate), jobs in runs.items():
            job = medians(jobs)
            print(
                f"{SHORT[backend]:<6}{batch:>6}{rate:>9.4f}{job['later']:>7.2f} s"
                f"{windows / job['later']:>11.0f}{job['rel_mae']:>10.4f}"
                f"   epoch x{job['later'] / base:.2f} of batch 32"
            )


def plain(backend: str, steps: int) -> dict:
    args = ["--epochs", str(EPOCHS), "--backend", backend, "--steps-per-execution", str(steps)]
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.plain_keras", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    run = json.loads(out.strip().splitlines()[-1])
    return {"later": statistics.median(run["epoch_seconds"][1:]), **run}


def steps_per_execution() -> None:
    print(
        f"2. steps_per_execution (plain Keras script, batch 32, {EPOCHS} epochs; median of "
        f"{ROUNDS} alternating rounds)"
    )
    print(f"{'':<6}{'steps':>6}{'s/epoch':>9}{'loss':>10}{'val_loss':>10}")
    for backend in BACKENDS:
        runs: dict[int, list[dict]] = {steps: [] for steps in STEPS}
        for _ in range(ROUNDS):
            for steps in STEPS:
                runs[steps].append(plain(backend, steps))
        base = statistics.median(run["later"] for run in runs[STEPS[0]])
        for steps, jobs in runs.items():
            later = statistics.median(run["later"] for run in jobs)
            print(
                f"{SHORT[backend]:<6}{steps:>6}{later:>7.2f} s{jobs[0]['loss']:>10.5f}"
                f"{jobs[0]['val_loss']:>10.5f}   epoch x{later / base:.2f} of 1 step"
            )


def pair(backend: str, workspace: str, env: dict) -> float:
    """Two default jobs at once on the two cores: trials per minute."""
    began = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        for job in [pool.submit(one_job, backend, workspace, env=env) for _ in range(2)]:
            job.result()
    return 2 / (time.monotonic() - began) * 60


def threads(workspace: str) -> None:
    print(
        f"3. threads for a sweep's trial (default job; medians of {PINNED_ROUNDS} alternating "
        f"pinned runs and {ROUNDS} alternating pairs)"
    )
    print(f"{'':<6}{'threads':<22}{'pinned, s/epoch':>16}{'two at once, trials/min':>25}")
    options = {"sweep's one-thread": THREAD_ENV, "library defaults": {}}
    for backend in BACKENDS:
        alone: dict[str, list[float]] = {label: [] for label in options}
        pairs: dict[str, list[float]] = {label: [] for label in options}
        for _ in range(PINNED_ROUNDS):
            for label, env in options.items():
                alone[label].append(one_job(backend, workspace, env=env, cpus={0})["later"])
        for _ in range(ROUNDS):
            for label, env in options.items():
                pairs[label].append(pair(backend, workspace, env))
        for label in options:
            print(
                f"{SHORT[backend]:<6}{label:<22}{statistics.median(alone[label]):>14.2f} s"
                f"{statistics.median(pairs[label]):>25.2f}"
            )


def main() -> None:
    print(__doc__.strip().splitlines()[0])
    with tempfile.TemporaryDirectory() as workspace:
        batch_sizes(workspace)
        steps_per_execution()
        threads(workspace)


if __name__ == "__main__":
    main()
