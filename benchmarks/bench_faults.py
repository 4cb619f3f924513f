"""Faults, measured: checkpoints, a killed worker, a killed server, damage checks, limits.

What a checkpoint per epoch costs, what a killed worker loses and what resuming costs, how
fast a worker notices its server is gone, what damage checks add to listing runs, and how
fast an oversized CSV is refused. Ratios come from one run.

Job: AAPL sample 2004-2013, LSTM(64), window 60, 20 epochs, early stopping off.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from core.config import TrainConfig
from core.data import load_dataset
from core.data.csvfile import read_price_csv
from core.errors import UserError
from core.jobs.manager import JobManager
from core.jobs.state import pid_alive
from core.pipeline.forecast import train_forecaster
from core.store.checkpoint import Checkpointer
from core.store.runs import RunStore
from core.workspace import read_json

ROOT = Path(__file__).resolve().parents[1]
DATA = load_dataset("sample", "AAPL", "2004-01-01", "2013-12-31", [])
CONFIG = TrainConfig(epochs=20, early_stopping=False, seed=0)
KILL_AT = 8


def wait_for(condition, step=0.05):
    while not (value := condition()):
        time.sleep(step)
    return value


def kept(job_dir: Path) -> int:
    return len((read_json(job_dir / "checkpoint.json") or {}).get("history", []))


def checkpoint_cost(root: Path) -> tuple[float, float]:
    """Seconds to train in this process without and with a checkpoint every epoch."""
    short = TrainConfig(epochs=10, early_stopping=False, seed=0)
    times = {False: [], True: []}
    for with_checkpoint in (False, True, False, True):
        folder = Path(tempfile.mkdtemp(dir=root))
        checkpoint = Checkpointer(folder, short.epochs) if with_checkpoint else None
        started = time.perf_counter()
        train_forecaster(DATA.frame, DATA.describe(), short, RunStore(root), checkpoint=checkpoint)
        times[with_checkpoint].append(time.perf_counter() - started)
    return min(times[False]), min(times[True])


def killed_and_resumed(root: Path) -> dict:
    manager = JobManager(root)
    started = time.perf_counter()
    whole = manager.wait(
        manager.submit("forecast", DATA.frame, DATA.describe(), CONFIG, "whole").id
    )
    uninterrupted = time.perf_counter() - started

    started = time.perf_counter()
    job = manager.submit("forecast", DATA.frame, DATA.describe(), CONFIG, "killed")
    job_dir = manager.jobs_dir / job.id
    wait_for(lambda: kept(job_dir) >= KILL_AT)
    os.kill(read_json(job_dir / "worker.pid")["pid"], signal.SIGKILL)
    ended = manager.wait(job.id)
    resumed = manager.wait(manager.resume(job.id).id)
    interrupted = time.perf_counter() - started
    return {
        "whole": whole,
        "ended": ended,
        "resumed": resumed,
        "uninterrupted": uninterrupted,
        "interrupted": interrupted,
    }


SERVER = """
import sys, time
from core.jobs.manager import JobManager
from benchmarks.bench_faults import DATA, CONFIG
job = JobManager(sys.argv[1]).submit("forecast", DATA.frame, DATA.describe(), CONFIG, "s")
print(job.id, flush=True)
time.sleep(600)
"""


def server_gone(root: Path) -> tuple[float, dict]:
    """Seconds from SIGKILL of the server to its worker's exit; the job's outcome."""
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(root)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    job_dir = root / "jobs" / server.stdout.readline().strip()
    wait_for(lambda: kept(job_dir) >= 2)
    worker = read_json(job_dir / "worker.pid")["pid"]
    started = time.perf_counter()
    server.kill()
    server.wait()
    wait_for(lambda: not pid_alive(worker, "core.jobs.worker"), step=0.01)
    return time.perf_counter() - started, read_json(job_dir / "outcome.json")


def listing_cost(root: Path, runs: int = 60) -> tuple[float, float]:
    """Seconds to list `runs` saved runs with and without the damage checks."""
    import core.store.runs

    source = RunStore(root).runs()[0].path
    store = RunStore(root / "many")
    for i in range(runs):
        shutil.copytree(source, store.dir / f"20260101-0000{i:02d}-abcdef")
    timings = {}
    for label, check in (("without", lambda path: ""), ("with", core.store.runs.run_damage)):
        original, core.store.runs.run_damage = core.store.runs.run_damage, check
        try:
            started = time.perf_counter()
            for _ in range(5):
                assert len(store.runs()) == runs
            timings[label] = (time.perf_counter() - started) / 5
        finally:
            core.store.runs.run_damage = original
    return timings["without"], timings["with"]


def csv_limits(root: Path) -> tuple[float, float]:
    """Seconds to refuse a 1,000,000-row CSV and to load a 5,000-row one."""
    huge = pd.DataFrame({"Date": pd.date_range("1900-01-01", periods=1_000_000, freq="h")})
    huge["Close"] = 1.0
    huge.to_csv(root / "huge.csv", index=False)
    started = time.perf_counter()
    try:
        read_price_csv(root / "huge.csv")
    except UserError as exc:
        print(f"  1,000,000 rows: {exc}")
    refused = time.perf_counter() - started
    DATA.frame.iloc[:5000].to_csv(root / "normal.csv")
    started = time.perf_counter()
    read_price_csv(root / "normal.csv")
    return refused, time.perf_counter() - started


def stop_latency(root: Path) -> dict:
    """Stop clicked in the middle of epoch 3: seconds from the click until training ended
    (the worker's "stopping" event) and until the run was saved, beside a batch's and an
    epoch's time of the same job."""
    manager = JobManager(root)
    job = manager.submit("forecast", DATA.frame, DATA.describe(), CONFIG, "stopped")

    def mid_epoch_three():
        now = manager.get(job.id)
        return now if len(now.history) == 2 and now.batch >= now.batches // 2 else None

    at = wait_for(mid_epoch_three, step=0.01)
    clicked = time.perf_counter()
    manager.stop(job.id)
    trained = wait_for(lambda: manager.get(job.id).stopped_at, step=0.005)
    training_ended = time.perf_counter() - clicked
    ended = manager.wait(job.id)
    saved = time.perf_counter() - clicked
    epoch = ended.epoch_times[-1]  # a whole epoch after the first (which also compiles)
    return {
        "clicked_at": f"epoch 3, batch {at.batch}/{at.batches}",
        "stopped_at": trained,
        "training_ended": training_ended,
        "saved": saved,
        "epoch": epoch,
        "batch": epoch / ended.batches,
        "kept": len(ended.history),
        "status": ended.status,
    }


def hostile_files(root: Path) -> dict:
    """A 200 MB gzip bomb and a 1,000,000-row CR-only file, each refused: seconds and the
    memory the reading process grew by, beside reading a normal 5,000-row file."""
    import gzip
    import tracemalloc

    bomb = root / "bomb.csv.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        fh.write(b"Date,Open,High,Low,Close,Volume\n")
        for _ in range(200):
            fh.write(b"0" * (1 << 20))
    cr = root / "cr_only.csv"
    days = pd.date_range("1700-01-01", periods=1_000_000).strftime("%Y-%m-%d")
    cr.write_text("Date,Close\r" + "".join(f"{d},1\r" for d in days), newline="")
    out = {"bomb_kb": bomb.stat().st_size // 1024}
    for name, path in (("bomb", bomb), ("cr", cr), ("normal", root / "normal.csv")):
        tracemalloc.start()
        started = time.perf_counter()
        try:
            read_price_csv(path)
            message = "read"
        except UserError as exc:
            message = str(exc)
        out[name] = (time.perf_counter() - started, message)
        out[f"{name}_mb"] = tracemalloc.get_traced_memory()[1] / 2**20  # the peak
        tracemalloc.stop()
    return out


def main() -> None:
    print(__doc__.strip().splitlines()[0])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        plain, checked = checkpoint_cost(root)
        print(
            f"checkpoint every epoch: {checked:.1f} s against {plain:.1f} s without = {checked / plain:.3f}"
        )
        r = killed_and_resumed(root)
        ended, resumed = r["ended"], r["resumed"]
        print(
            f"SIGKILL at epoch {KILL_AT} of {CONFIG.epochs}: kept {len(ended.history)} epochs, "
            f"status {ended.status}; resumed to {len(resumed.history)} epochs, {resumed.status}"
        )
        print(f"  message: {ended.error}")
        print(
            f"  killed + resumed {r['interrupted']:.1f} s against uninterrupted "
            f"{r['uninterrupted']:.1f} s = {r['interrupted'] / r['uninterrupted']:.2f}; "
            f"rel. MAE {resumed.result['metrics']['rel_mae']:.3f} against "
            f"{r['whole'].result['metrics']['rel_mae']:.3f}"
        )
        seconds, outcome = server_gone(root)
        print(f"server SIGKILL -> its worker gone: {seconds:.2f} s; job {outcome['status']}")
        plain, checked = listing_cost(root)
        print(
            f"listing 60 runs: {checked * 1000:.0f} ms with damage checks, "
            f"{plain * 1000:.0f} ms without = {checked / plain:.2f}"
        )
        refused, loaded = csv_limits(root)
        print(
            f"1,000,000-row CSV refused in {refused:.2f} s; a 5,000-row CSV loads in "
            f"{loaded:.2f} s = {refused / loaded:.1f}x"
        )
        h = hostile_files(root)
        for name, what in (
            ("bomb", f"{h['bomb_kb']} KB gzip of 200 MB"),
            ("cr", "1,000,000 CR-only rows"),
        ):
            seconds, message = h[name]
            print(
                f"{what}: refused in {seconds:.2f} s = {seconds / h['normal'][0]:.1f}x a 5,000-row "
                f"read; peak memory {h[name + '_mb']:.0f} MB against {h['normal_mb']:.0f} MB "
                f"({message[:60]}...)"
            )
        s = stop_latency(root)
        print(
            f"Stop clicked at {s['clicked_at']}: training ended at {s['stopped_at']} after "
            f"{s['training_ended']:.2f} s = {s['training_ended'] / s['batch']:.1f} batches' time; "
            f"run saved after {s['saved']:.2f} s = {s['saved'] / s['epoch']:.2f} epochs' time; "
            f"kept {s['kept']} whole epochs, status {s['status']}"
        )


if __name__ == "__main__":
    main()
