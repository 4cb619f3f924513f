"""Sweep throughput on Ray: the same grid with 1 worker and with 2, trials per minute and
their ratio (goal >= 1.6 on 2 cores). Each trial is one CPU thread (core/sweeps.py).
Grid: AAPL and MSFT samples x uni/multi x seeds 0, 1: 8 trials, LSTM(32), window 30,
6 epochs, 2004-2013. Both timings include starting Ray and its workers (TensorFlow's import).
"""

from __future__ import annotations

import tempfile
import time

from core.paired import sweep_summary
from core.sweeps import SweepSpec, run_sweep

SPEC = SweepSpec(
    datasets=["sample:AAPL", "sample:MSFT"],
    inputs=["uni", "multi"],
    seeds=[0, 1],
    settings={"epochs": 6, "window": 30, "units": 32, "early_stopping": False},
    start="2004-01-01",
)


def timed(workers: int) -> tuple[float, dict, float, float]:
    """Wall time of the whole sweep (Ray's start included), its summary, the mean time a
    trial spent inside its task, and its CPU time per second of that (1.0 = one core)."""
    with tempfile.TemporaryDirectory() as root:
        started = time.perf_counter()
        sweep = run_sweep(SPEC, root, workers=workers)
        seconds = time.perf_counter() - started
        inside = [t["seconds"] for t in sweep["trials"].values()]
        cpu = [t["cpu_seconds"] for t in sweep["trials"].values()]
        return seconds, sweep_summary(sweep), sum(inside) / len(inside), sum(cpu) / sum(inside)


def main() -> None:
    print(__doc__.strip().splitlines()[0])
    trials = len(SPEC.trials())
    rows = {}
    for workers in (1, 2):
        seconds, summary, per_trial, cores = timed(workers)
        rows[workers] = trials / seconds * 60
        print(
            f"{workers} worker(s): {trials} trials in {seconds:.1f} s = {rows[workers]:.2f} "
            f"trials/min ({summary['finished']} finished, {summary['failed']} failed); "
            f"a trial inside its task: {per_trial:.2f} s on average, using {cores:.2f} cores"
        )
    ratio = rows[2] / rows[1]
    print(f"2 workers / 1 worker = {ratio:.2f} (goal >= 1.6) {'ok' if ratio >= 1.6 else 'MISSED'}")
    answer = summary["questions"].get("multi_vs_uni", {})
    print("multi_vs_uni:", answer.get("sentence", "-"))


if __name__ == "__main__":
    main()
