"""A class on one server: N people each queue K jobs (compare sets of two) within a minute.

The real queue runs them: the app's job manager (one slot, the sides of a set on a core each,
warm workers), its job table, fair share and caps, real workers training a tiny model on
the bundled AAPL sample. With --kill-worker one running worker is killed with SIGKILL once
a third of the jobs have started; the manager queues its job again from its last epoch.
With --address HOST:PORT the jobs train on that Ray cluster instead (core/jobs/onray.py),
and the same job is timed whole here and there (`overhead`); with --kill-node, a loopback
cluster's node that runs a job (not the server's own) is killed once a third have started.

Measured, from the job table and the saved runs:
- each person's wait from their first submission to their first job's start (p50, p95),
  against job_seconds, a job's mean time from start to end;
- each person's CPU-seconds over the busy period (the moments when every person has a job
  waiting or running: everyone wants the CPU), as a ratio to a fair share of that period's
  CPU-seconds (min and max); and lead, the most sets one person had started beyond another
  at any busy moment (1 is round robin);
- overtaken: jobs that were not their person's first set yet started while someone waited
  for their first (fair share makes it 0; first come, first served does not);
- jobs lost (submitted, never saved as a run) and jobs started twice.

`python -m benchmarks.bench_class [--people 30] [--jobs 6] [--within 60] [--kill-worker]
[--address HOST:PORT | --loopback] [--kill-node]`
prints a table per person and, last, one JSON line. Results: docs/measurements.md,
`## bench_class`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from core.config import ONE_THREAD_ENV, CompareConfig, TrainConfig
from core.data import load_dataset
from core.experiments.compare_sets import submit_pair_set
from core.jobs.manager import JobManager
from core.jobs.table import TABLE, JobTable
from core.store.people import Person
from core.store.runs import RunStore
from core.workspace import read_json


def schedule(people: int, jobs: int, within: float, seed: int) -> list[tuple[float, str]]:
    """(seconds from the start, person) of each set's submission: each person's sets at
    random moments of the first `within` seconds."""
    rng = random.Random(seed)
    times = []
    for p in range(people):
        person = f"student{p:02d}@example.com"
        times += [(rng.uniform(0, within), person) for _ in range(max(jobs // 2, 1))]
    return sorted(times)


def kill_one_worker(manager: JobManager, after_starts: int, killed: list) -> None:
    """SIGKILL the worker of one running job once `after_starts` jobs have started."""
    table = manager.table
    while not killed:
        started = [r for r in table.rows() if r.started is not None]
        running = [r for r in started if r.status == "running"]
        if len(started) >= after_starts and running:
            pid = (read_json(manager.jobs_dir / running[0].id / "worker.pid") or {}).get("pid")
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(running[0].id)
                except ProcessLookupError:
                    pass
        time.sleep(0.2)


def kill_one_node(manager: JobManager, after_starts: int, killed: list) -> None:
    """SIGKILL a loopback cluster's node that runs a job, not the server's own: its raylet
    (found by the node id on its command line) and the workers below it."""
    from core.experiments.sweeps import descendants

    while not killed:
        started = [r for r in manager.table.rows() if r.started is not None]
        running = [r for r in started if r.status == "running"]
        nodes = {
            (read_json(manager.jobs_dir / r.id / "worker.pid") or {}).get("node") for r in running
        }
        nodes -= {None, "", manager.cluster.node}
        if len(started) >= after_starts and nodes:
            node = sorted(nodes)[0]
            for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
                try:
                    cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
                except OSError:
                    continue
                if f"--node_id={node}".encode() in cmdline:
                    for each in [pid, *descendants(pid)]:
                        try:
                            os.kill(each, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    killed.append(node)
        time.sleep(0.2)


def overhead(address: str, data, config: TrainConfig, repeats: int = 3) -> dict:
    """The same job timed whole (submit to saved run) on the cluster and here, on a warm
    worker as the app runs it: with the machine's cores (its baselines fitted alongside on a
    second core), and on one core, one thread, as a cluster task has it. The median of
    `repeats` after one warm-up each, and the cluster's time as a ratio to each."""
    places = {
        "here": ({"warm_worker": True}, None),
        "here_one_core": ({"warm_worker": True}, {min(os.sched_getaffinity(0))}),
        "cluster": ({"address": address}, None),
    }
    times, saved = {}, (dict(os.environ), os.sched_getaffinity(0))
    for where, (options, cores) in places.items():
        if cores:  # the workers inherit this process's core and threads
            os.environ.update(ONE_THREAD_ENV)
            os.sched_setaffinity(0, cores)
        manager = JobManager(tempfile.mkdtemp(prefix=f"bench_class_{where}_"), **options)
        took = []
        for _ in range(repeats + 1):
            started = time.perf_counter()
            job = manager.submit("forecast", data.frame, data.describe(), config, "timed")
            assert manager.wait(job.id, timeout=600).status == "finished"
            took.append(time.perf_counter() - started)
        manager.close()
        os.environ.clear()
        os.environ.update(saved[0])
        os.sched_setaffinity(0, saved[1])
        times[where] = statistics.median(took[1:])
    return {
        **{f"{where}_s": round(t, 2) for where, t in times.items()},
        "ratio": round(times["cluster"] / times["here"], 2),
        "ratio_one_core": round(times["cluster"] / times["here_one_core"], 2),
    }


def busy_grid(rows, step: float = 0.1):
    """The moments (a `step` grid) when every person had a job waiting or running."""
    grid = np.arange(min(r.created for r in rows), max(r.ended for r in rows), step)
    busy = np.ones_like(grid, dtype=bool)
    for person in {r.person for r in rows}:
        pending = np.zeros_like(busy)
        for r in rows:
            if r.person == person:
                pending |= (grid >= r.created) & (grid < r.ended)
        busy &= pending
    return grid, busy, step


def busy_shares(rows, grid, busy, step) -> dict[str, float]:
    """Each person's CPU-seconds over the busy period, as a ratio to a fair share of it."""
    used = dict.fromkeys({r.person for r in rows}, 0.0)
    for r in rows:
        if r.started is not None:
            ran = (grid >= r.started) & (grid < r.ended) & busy
            used[r.person] += ran.sum() * step * max(r.cores, 1)
    fair = sum(used.values()) / len(used)
    return {p: (u / fair if fair else 0.0) for p, u in used.items()}


def lead(rows, grid, busy) -> int:
    """The most sets one person had started beyond another, at any busy moment (1: round
    robin; a set started once, however often it was retried)."""
    starts: dict[str, dict[str, float]] = {}
    for r in rows:
        if r.started is not None:
            sets = starts.setdefault(r.person, {})
            sets[r.group] = min(sets.get(r.group, r.started), r.started)
    counts = np.array(
        [
            np.searchsorted(np.sort(list(sets.values())), grid[busy], side="right")
            for sets in starts.values()
        ]
    )
    return int((counts.max(axis=0) - counts.min(axis=0)).max()) if busy.any() else 0


def resumed_from(root: Path, job_id: str) -> str:
    """The job this one resumes ('' for a job as submitted)."""
    spec = read_json(root / "jobs" / job_id / "job.json") or {}
    return (spec.get("resume") or {}).get("from", "")


def lost_and_twice(rows, root: Path, submitted: int) -> tuple[int, int]:
    """Jobs submitted that no saved run stands for (a retried job stands for the jobs it
    resumed); and rows claimed more than once plus jobs saved as more than one run."""
    finished = [r for r in rows if r.status == "finished"]
    stood_for: dict[str, int] = {}
    for r in finished:  # a finished row stands for itself and every job it resumed
        job_id = r.id
        while job_id:
            stood_for[job_id] = stood_for.get(job_id, 0) + 1
            job_id = resumed_from(root, job_id)
    originals = [r for r in rows if not resumed_from(root, r.id)]
    if len(originals) != submitted:
        raise SystemExit(f"{submitted} jobs submitted, {len(originals)} in the table")
    lost = sum(r.id not in stood_for for r in originals)
    twice = sum(r.attempts > 1 for r in rows) + sum(n > 1 for n in stood_for.values())
    twice += len(RunStore(root).runs()) - len(finished)  # a run saved by no finished job
    return lost, twice


def overtaken(rows, firsts: dict[str, float], first_start: dict[str, float]) -> int:
    """Jobs that were not their person's first set and yet started while someone waited for
    their own first job: what fair share is for (0: nobody's first waited behind another's
    second)."""
    first_set = {}
    for r in sorted(rows, key=lambda r: r.created):
        first_set.setdefault(r.person, r.group)
    return sum(
        1
        for p, t in firsts.items()
        for r in rows
        if r.person != p
        and r.started is not None
        and t < r.started < t + first_start[p]
        and r.group != first_set[r.person]
    )


def main(
    people: int = 30,
    jobs: int = 6,
    within: float = 60.0,
    kill_worker: bool = False,
    seed: int = 7,
    workspace: str | None = None,
    address: str | None = None,
    kill_node: bool = False,
) -> dict:
    root = Path(workspace or tempfile.mkdtemp(prefix="bench_class_"))
    data = load_dataset("sample", "AAPL", "2011-06-01", "2012-12-31", ["MSFT"])
    config = TrainConfig(
        features=["close", "MSFT_close"], window=10, epochs=1, units=4, early_stopping=False
    )
    cost = overhead(address, data, config) if address else None
    # as the app runs it (ui.job_manager)
    manager = JobManager(root, warm_worker=True, address=address)
    plan = schedule(people, jobs, within, seed)
    firsts: dict[str, float] = {}
    killed: list[str] = []
    if kill_worker:
        threading.Thread(
            target=kill_one_worker,
            args=(manager, max(len(plan) * 2 // 3, 1), killed),
            daemon=True,
        ).start()
    if kill_node:
        threading.Thread(
            target=kill_one_node,
            args=(manager, max(len(plan) * 2 // 3, 1), killed),
            daemon=True,
        ).start()
    began = time.time()
    for at, person in plan:
        time.sleep(max(0.0, began + at - time.time()))
        firsts.setdefault(person, time.time())
        submit_pair_set(
            manager, data.frame, data.describe(), config, CompareConfig(n_seeds=1), Person(person)
        )
    table = JobTable(root / "jobs" / TABLE)
    while any(r.status in ("queued", "running", "taken over") for r in table.rows()):
        time.sleep(0.5)
    rows = table.rows()
    manager.close()
    first_start = {
        p: min(r.started for r in rows if r.person == p and r.started) - t
        for p, t in firsts.items()
    }
    ran = [r.ended - r.started for r in rows if r.status == "finished"]
    grid, busy, step = busy_grid(rows)
    shares = busy_shares(rows, grid, busy, step)
    lost, twice = lost_and_twice(rows, root, len(plan) * 2)
    waits = sorted(first_start.values())
    p95 = waits[min(len(waits) - 1, max(0, round(0.95 * len(waits)) - 1))]
    print(f"{'person':28} {'first start wait s':>18} {'jobs':>5} {'busy share':>10}")
    for p in sorted(firsts):
        n = sum(r.person == p and r.status == "finished" for r in rows)
        print(f"{p:28} {first_start[p]:18.1f} {n:5d} {shares[p]:10.2f}")
    job_seconds = statistics.mean(ran) if ran else 0.0
    result = {
        "people": people,
        "jobs_per_person": len(plan) * 2 // people,
        "first_start_wait_s": {
            "p50": round(statistics.median(waits), 1),
            "p95": round(p95, 1),
        },
        "job_seconds": round(job_seconds, 1),
        "p95_wait_in_jobs": round(p95 / job_seconds, 2) if job_seconds else None,
        "overtaken": overtaken(rows, firsts, first_start),
        "lead": lead(rows, grid, busy),
        "busy_s": round(float(busy.sum() * step), 1),
        "share": {"min": round(min(shares.values()), 2), "max": round(max(shares.values()), 2)},
        "lost": lost,
        "twice": twice,
        "where": address or "here",
        "worker_killed": len(killed) if kill_worker else 0,
        "node_killed": len(killed) if kill_node else 0,
        "retried": sum(bool(resumed_from(root, r.id)) for r in rows),
        "overhead": cost,
    }
    print(json.dumps(result))
    return result


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=6, help="jobs per person (compare sets of 2)")
    parser.add_argument("--within", type=float, default=60.0, help="seconds the submissions span")
    parser.add_argument("--kill-worker", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--address", default=None, help="train on this Ray cluster")
    parser.add_argument(
        "--loopback", action="store_true", help="start a 2-node cluster on 127.0.0.1 for it"
    )
    parser.add_argument(
        "--kill-node", action="store_true", help="kill one node of a cluster on this machine"
    )
    args = parser.parse_args()
    if args.kill_node and not (args.address or args.loopback):
        parser.error("--kill-node needs --address or --loopback (a cluster on this machine)")
    cluster = None
    if args.loopback:  # every node on 127.0.0.1; stopped below, with every process it started
        cluster = subprocess.Popen(
            [sys.executable, "-m", "core.experiments.raycluster", "--nodes", "2", "--cpus", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        args.address = cluster.stdout.readline().split()[1]
    try:
        main(
            args.people,
            args.jobs,
            args.within,
            args.kill_worker,
            args.seed,
            address=args.address,
            kill_node=args.kill_node,
        )
    finally:
        if cluster is not None:
            import ray

            ray.shutdown()
            cluster.send_signal(signal.SIGTERM)
            cluster.wait(timeout=60)


if __name__ == "__main__":
    cli()
