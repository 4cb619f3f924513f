"""Sweep throughput on Ray, 1 worker against 2 on the same grid (goal: ratio >= 1.6).

Trials per minute and their ratio. Each trial is one CPU thread (core/experiments/sweeps.py).
The first run pins Ray to one core, to tell Ray's scaling from what a lone trial borrows.
Grid: AAPL and MSFT samples x uni/multi x seeds 0, 1: 8 trials, LSTM(32), window 30,
6 epochs, 2004-2013, on the default backend (JAX). All timings include starting Ray and its
workers (Keras's import). With 2 workers each holds a core of its own
(core/experiments/sweeps.py); a JAX trial of 6 epochs is so short that Ray's start weighs
on the ratio, so the same grid is also timed with 30 epochs a trial.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import replace

from core.experiments.paired import sweep_summary
from core.experiments.sweeps import SweepSpec, run_sweep

SPEC = SweepSpec(
    datasets=["sample:AAPL", "sample:MSFT"],
    inputs=["uni", "multi"],
    seeds=[0, 1],
    settings={"epochs": 6, "window": 30, "units": 32, "early_stopping": False},
    start="2004-01-01",
)


def timed(
    workers: int, cores: set[int] | None = None, spec: SweepSpec = SPEC
) -> tuple[float, dict, float, float]:
    """Wall time of the whole sweep (Ray's start included), the sweep, the mean time a
    trial spent inside its task, and its CPU time per second of that (1.0 = one core).
    `cores` pins this process, and so Ray's processes it starts, to those CPUs."""
    everything = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores or everything)
    try:
        with tempfile.TemporaryDirectory() as root:
            started = time.perf_counter()
            sweep = run_sweep(spec, root, workers=workers)
            seconds = time.perf_counter() - started
    finally:
        os.sched_setaffinity(0, everything)
    inside = [t["seconds"] for t in sweep["trials"].values()]
    cpu = [t["cpu_seconds"] for t in sweep["trials"].values()]
    return seconds, sweep, sum(inside) / len(inside), sum(cpu) / sum(inside)


def warm_workers(trials: list[dict]) -> str:
    """Does a trial pay Keras' import (the CLI's fixed cost)? Only a worker's first does."""
    by_worker: dict[int, list[float]] = {}
    for trial in trials:
        by_worker.setdefault(trial["pid"], []).append(trial["import_seconds"])
    first = [max(imports) for imports in by_worker.values()]
    rest = [s for imports in by_worker.values() for s in sorted(imports)[:-1]]
    return (
        f"{len(trials)} trials ran in {len(by_worker)} Ray worker processes; each worker's "
        f"first trial spent {sum(first) / len(first):.2f} s importing (Keras and its backend), "
        f"its later trials {max(rest, default=0):.2f} s at most: the workers stay warm"
    )


LONGER = replace(SPEC, settings={**SPEC.settings, "epochs": 30})


def main() -> None:
    print(__doc__.strip().splitlines()[0])
    trials = len(SPEC.trials())
    rows = {}
    for label, workers, pinned in (("1c", 1, {0}), (1, 1, None), (2, 2, None)):
        seconds, sweep, per_trial, cores = timed(workers, pinned)
        if workers == 2:
            held = sorted({(t["pid"], t["core"]) for t in sweep["trials"].values()})
            print(f"2 workers: (worker pid, its core) {held}")
        summary = sweep_summary(sweep)
        rows[label] = trials / seconds * 60
        where = "pinned to 1 core" if pinned else f"on {os.cpu_count()} cores"
        print(
            f"{workers} worker(s) {where}: {trials} trials in {seconds:.1f} s = {rows[label]:.2f} "
            f"trials/min ({summary['finished']} finished, {summary['failed']} failed); "
            f"a trial inside its task: {per_trial:.2f} s on average, using {cores:.2f} cores"
        )
    print(warm_workers(list(sweep["trials"].values())))
    ratio = rows[2] / rows[1]
    print(f"2 workers / 1 worker = {ratio:.2f} (goal >= 1.6) {'ok' if ratio >= 1.6 else 'MISSED'}")
    print(
        f"2 workers / 1 worker pinned to 1 core = {rows[2] / rows['1c']:.2f} (how Ray scales "
        "per core; a lone trial also borrows part of the second core, see its 'cores used')"
    )
    answer = summary["questions"].get("multi_vs_uni", {})
    print("multi_vs_uni:", answer.get("sentence", "-"))
    longer = {}
    for workers in (1, 2):
        seconds, sweep, per_trial, cores = timed(workers, spec=LONGER)
        longer[workers] = trials / seconds * 60
        print(
            f"30 epochs a trial, {workers} worker(s): {trials} trials in {seconds:.1f} s = "
            f"{longer[workers]:.2f} trials/min; a trial inside its task {per_trial:.2f} s, "
            f"using {cores:.2f} cores"
        )
    ratio = longer[2] / longer[1]
    print(f"30 epochs: 2 workers / 1 worker = {ratio:.2f} (goal >= 1.6)")
    on_tf = replace(SPEC, settings={**SPEC.settings, "backend": "tensorflow"})
    seconds, sweep, per_trial, _ = timed(2, spec=on_tf)
    summary = sweep_summary(sweep)
    tf = trials / seconds * 60
    print(
        f"2 workers on TensorFlow: {tf:.2f} trials/min ({summary['finished']} finished), "
        f"JAX / TensorFlow = {rows[2] / tf:.2f}; a TensorFlow trial inside its task "
        f"{per_trial:.2f} s (on JAX, in a fresh workspace, the first trial of each model shape "
        "compiles it, the others load its programs from the workspace's jax-cache)"
    )


if __name__ == "__main__":
    main()
