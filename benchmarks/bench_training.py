"""Training speed: the app's job path (JobManager -> worker process -> save run) against a
minimal plain Keras script, same model, data and epochs, measured in one run.

Both are timed as whole processes, from start to the model saved, so both pay the same
interpreter start and TensorFlow import. Goal: app / plain <= 1.10.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.config import TrainConfig
from core.data import load_dataset
from core.jobs.manager import JobManager

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3  # medians of alternating runs
CLI_REPEATS = 5  # the CLI's goal is close: more runs
CASES = [
    ("small: AAPL 2011-2013, LSTM(32), window 20, 5 epochs", "2011-01-01", 20, 32, 5),
    ("default: AAPL 2000-2013, LSTM(64), window 60, 20 epochs", None, 60, 64, 20),
]


def time_app(start, window, units, epochs, workspace) -> tuple[float, dict]:
    dataset = load_dataset("sample", "AAPL", start)
    config = TrainConfig(
        window=window, units=units, epochs=epochs, early_stopping=False, seed=0,
        backend="tensorflow",  # the plain script is TensorFlow's: the same backend on both
    )  # fmt: skip
    manager = JobManager(workspace)
    began = time.monotonic()
    job = manager.submit("forecast", dataset.frame, dataset.describe(), config, "bench")
    job = manager.wait(job.id)
    elapsed = time.monotonic() - began
    if job.status != "finished":
        raise SystemExit(f"app job {job.status}: {job.error}")
    return elapsed, job.result


def run_measured(args: list[str]) -> tuple[float, float]:
    """A whole process: its wall seconds, and its CPU seconds (user + system, its own waited
    children included, as Linux's wait4 counts them)."""
    began = time.monotonic()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()  # to its end, when the process exits
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - began
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{args[2]} failed: {err[-500:]!r}")
    return wall, usage.ru_utime + usage.ru_stime


def time_plain(start, window, units, epochs) -> tuple[float, float]:
    args = ["--window", str(window), "--units", str(units), "--epochs", str(epochs)]
    if start:
        args += ["--start", start]
    return run_measured([sys.executable, "-m", "benchmarks.plain_keras", *args])


def time_cli(window, units, epochs, workspace) -> tuple[float, float]:
    """`python -m core.cli train` as a user runs it: the whole process, job run in-process
    (its baselines in a process of their own, core/pipeline/alongside.py)."""
    args = ["--sample", "AAPL", "--window", str(window), "--units", str(units)]
    args += ["--epochs", str(epochs), "--no-early-stopping", "--workspace", workspace]
    args += ["--backend", "tensorflow"]
    return run_measured([sys.executable, "-m", "core.cli", "train", *args])


def time_to_first_batch(workspace: str, warm: bool) -> float:
    """Submit to the first batch event, from a fresh manager (warm: after its standby is ready)."""
    dataset = load_dataset("sample", "AAPL", "2011-01-01")
    config = TrainConfig(window=20, units=32, epochs=2, early_stopping=False)
    manager = JobManager(workspace, warm_worker=warm)
    if warm:
        time.sleep(15)  # the standby imports TensorFlow while the user is still on the Data page
    began = time.monotonic()
    job = manager.submit("forecast", dataset.frame, dataset.describe(), config, "first batch")
    while not manager.get(job.id).batch_losses:
        time.sleep(0.02)
    elapsed = time.monotonic() - began
    manager.wait(job.id)
    deadline = time.monotonic() + 30
    while warm and manager._standby is None and time.monotonic() < deadline:
        time.sleep(0.1)  # the next standby starts once the job's worker has exited
    if warm and manager._standby is not None:
        manager._standby[0].stdin.close()  # let it exit
    return elapsed


def main() -> None:
    print(__doc__.strip().splitlines()[0])
    print(
        f"{'case (median of 3 alternating runs)':58} {'app s':>7} {'plain s':>8} {'app/plain':>9}"
    )
    with tempfile.TemporaryDirectory() as workspace:
        for label, start, window, units, epochs in CASES:
            plains, apps = [], []
            for _ in range(REPEATS):  # alternate, so drift on the machine hits both alike
                plains.append(time_plain(start, window, units, epochs)[0])
                app, result = time_app(start, window, units, epochs, workspace)
                apps.append(app)
            plain, app = statistics.median(plains), statistics.median(apps)
            ratio = app / plain
            verdict = "ok" if ratio <= 1.10 else "over the 1.10 goal"
            print(
                f"{label:58} {app:7.1f} {plain:8.1f} {ratio:9.2f}  {verdict}"
                f"  (rel. MAE {result['metrics']['rel_mae']:.3f}, {result['verdict']})"
            )
        # The job: 5 epochs of the default model, by the CLI, the app's job path and
        # the plain script, alternating.
        runs = {"plain": [], "cli": [], "app": [], "plain cpu": [], "cli cpu": []}
        for _ in range(CLI_REPEATS):
            (wall, cpu), key = time_plain(None, 60, 64, 5), "plain"
            runs[key].append(wall)
            runs[f"{key} cpu"].append(cpu)
            (wall, cpu), key = time_cli(60, 64, 5, workspace), "cli"
            runs[key].append(wall)
            runs[f"{key} cpu"].append(cpu)
            runs["app"].append(time_app(None, 60, 64, 5, workspace)[0])
        med = {k: statistics.median(v) for k, v in runs.items()}
        ratio = med["cli"] / med["plain"]
        print(
            f"5 epochs, LSTM(64), window 60, full AAPL (median of {CLI_REPEATS}): plain "
            f"{med['plain']:.1f} s; CLI whole process {med['cli']:.1f} s, CLI/plain = "
            f"{ratio:.2f} (goal <= 1.10) {'ok' if ratio <= 1.10 else 'MISSED'}; app job path "
            f"{med['app']:.1f} s, app/plain = {med['app'] / med['plain']:.2f}"
        )
        print(
            f"  CPU seconds: plain {med['plain cpu']:.1f}, CLI {med['cli cpu']:.1f} (its "
            "baselines' process runs on the core Keras leaves idle); CLI/plain per run: "
            + ", ".join(f"{c / p:.2f}" for c, p in zip(runs["cli"], runs["plain"], strict=True))
        )
        cold = time_to_first_batch(workspace, warm=False)
        warm = time_to_first_batch(workspace, warm=True)
        print(
            f"submit -> first batch loss: cold worker {cold:.2f} s, warm worker (the UI's) "
            f"{warm:.2f} s, cold/warm = {cold / warm:.1f}"
        )


if __name__ == "__main__":
    main()
