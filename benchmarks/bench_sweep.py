"""Sweep throughput on Ray, 1 worker against 2 on the same grid (goal: ratio >= 1.6).

Trials per minute and their ratio, medians of alternating rounds. Each trial is one CPU
thread (core/experiments/sweeps.py). The first run pins Ray to one core, to tell Ray's
scaling from what a lone trial borrows. Grid: AAPL and MSFT samples x uni/multi x seeds
0, 1: 8 trials, LSTM(32), window 30, 6 epochs, 2004-2013, on the default backend (JAX); then
the same grid with the default settings, in fresh workspaces and in one that has run it
before. All timings include starting Ray and its workers (Keras's import). With 2 workers
each holds a core of its own; a JAX trial of 6 epochs is so short that what every worker
pays once (Ray's start, Keras's import, the first compilation of each model's programs)
weighs on the ratio; the default settings' longer trials show less of it, and a workspace
that has compiled the grid's programs before shows none of the compilation.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import replace

from core.experiments.sweep_answers import sweep_summary
from core.experiments.sweeps import SweepSpec, run_sweep

SPEC = SweepSpec(
    datasets=["sample:AAPL", "sample:MSFT"],
    inputs=["uni", "multi"],
    seeds=[0, 1],
    settings={"epochs": 6, "window": 30, "units": 32, "early_stopping": False},
    start="2004-01-01",
)


def timed(
    workers: int, cores: set[int] | None = None, spec: SweepSpec = SPEC, root: str | None = None
) -> tuple[float, dict, float, float]:
    """Wall time of the whole sweep (Ray's start included), the sweep, the mean time a
    trial spent inside its task, and its CPU time per second of that (1.0 = one core).
    `cores` pins this process, and so Ray's processes it starts, to those CPUs. In a fresh
    workspace, or in `root`'s (a new sweep there: its caches as earlier sweeps left them)."""
    everything = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores or everything)
    try:
        with tempfile.TemporaryDirectory() as fresh:
            started = time.perf_counter()
            sweep = run_sweep(spec, root or fresh, workers=workers)
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


DEFAULTS = replace(SPEC, settings={}, start=None)  # the settings a sweep has by default
ROUNDS = 3  # 1 worker and 2 alternating: this machine drifts by 10-20 % from minute to minute


def alternating(spec: SweepSpec, rounds: int, root: str | None = None) -> tuple[dict, float, dict]:
    """Trials per minute with 1 and 2 workers (median of alternating rounds), the cores a
    lone trial uses (the median over the 1-worker rounds) and the last 2-worker sweep. Each
    sweep in a fresh workspace, or all in `root`'s."""
    trials = len(spec.trials())
    rates: dict[int, list[float]] = {1: [], 2: []}
    lone = []
    for _ in range(rounds):
        for workers in (1, 2):
            seconds, sweep, per_trial, cores = timed(workers, spec=spec, root=root)
            rates[workers].append(trials / seconds * 60)
            if workers == 1:
                lone.append(cores)
            print(
                f"  {workers} worker(s): {trials} trials in {seconds:.1f} s = "
                f"{rates[workers][-1]:.2f} trials/min; a trial inside its task {per_trial:.2f} s, "
                f"using {cores:.2f} cores"
            )
    return {w: statistics.median(r) for w, r in rates.items()}, statistics.median(lone), sweep


def main() -> None:
    print(__doc__.strip().splitlines()[0])
    trials = len(SPEC.trials())
    seconds, sweep, per_trial, cores = timed(1, {0})
    pinned = trials / seconds * 60
    print(
        f"1 worker pinned to 1 core: {trials} trials in {seconds:.1f} s = {pinned:.2f} trials/min;"
        f" a trial inside its task {per_trial:.2f} s, using {cores:.2f} cores"
    )
    with tempfile.TemporaryDirectory() as warm:
        grids = (
            ("the 6-epoch grid, fresh workspaces", SPEC, ROUNDS, None),
            ("the same grid with the default settings (LSTM(64), window 60, up to 20 epochs "
             "with early stopping, every date), fresh workspaces", DEFAULTS, 2, None),
            ("the default settings again, all in one workspace after one sweep of the grid "
             "there (its compiled programs and baselines cached)", DEFAULTS, 2, warm),
        )  # fmt: skip
        measured = []
        for name, spec, rounds, root in grids:
            print(f"{name}, {rounds} alternating rounds:")
            if root:
                run_sweep(spec, root, workers=2)  # the earlier sweep
            rates, lone, two = alternating(spec, rounds, root)
            measured.append((rates, two))
            ratio = rates[2] / rates[1]
            print(
                f"  medians: 1 worker {rates[1]:.2f}, 2 workers {rates[2]:.2f} trials/min: 2 "
                f"workers / 1 worker = {ratio:.2f} (goal >= 1.6) "
                f"{'ok' if ratio >= 1.6 else 'MISSED'}; a lone trial uses {lone:.2f} cores, so 2 "
                f"workers can give at most {len(os.sched_getaffinity(0)) / lone:.2f} x before "
                "Ray's start"
            )
    six, sweep = measured[0]  # the 6-epoch grid
    print(f"  2 workers / 1 worker pinned to 1 core (the 6-epoch grid) = {six[2] / pinned:.2f}")
    held = sorted({(t["pid"], t["core"]) for t in sweep["trials"].values()})
    print(f"2 workers: (worker pid, its core) {held}")
    print(warm_workers(list(sweep["trials"].values())))
    summary = sweep_summary(sweep)
    answer = summary["questions"].get("multi_vs_uni", {})
    print("multi_vs_uni (the 6-epoch grid):", answer.get("sentence", "-"))
    on_tf = replace(SPEC, settings={**SPEC.settings, "backend": "tensorflow"})
    seconds, sweep, per_trial, _ = timed(2, spec=on_tf)
    tf = trials / seconds * 60
    print(
        f"2 workers on TensorFlow (the 6-epoch grid): {tf:.2f} trials/min "
        f"({sweep_summary(sweep)['finished']} finished), "
        f"JAX / TensorFlow = {six[2] / tf:.2f}; a TensorFlow trial inside its task {per_trial:.2f} s"
        " (on JAX, in a fresh workspace, the first trial of each model shape compiles it, the "
        "others load its programs from the workspace's jax-cache)"
    )


if __name__ == "__main__":
    main()
